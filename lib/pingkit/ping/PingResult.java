// What a ping run measured (ping-client's report in ping mode): the RTT and clock-skew histograms, the client's own
// time, and its text and JSON.

package pingkit.ping;

import com.google.gson.JsonObject;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import pingkit.Pingkit;
import pingkit.report.Backends;
import pingkit.report.HistogramJson;
import pingkit.report.Merge;
import pingkit.report.Overhead;
import pingkit.report.SampleHistogram;
import pingkit.report.Session;

/**
 * The measurements of one run, and what cut it short (null: nothing). Over a stream, {@code streamOpenNanos} is
 * from its first message sent to that message's echo back, the stream's setup included (-1: by calls, or
 * several runs merged). {@code backends}: the pings' RTTs by server address (with -v; empty when merged);
 * {@code runs}: where and when it ran (several when merged).
 */
public record PingResult(String target, long iterations, int payloadBytes, Duration delay, boolean overStream,
    long streamOpenNanos, SampleHistogram rttHistogram, SampleHistogram clockSkewHistogram, Overhead clientOverhead,
    Map<String, Backends.Backend> backends, List<Merge.Run> runs, Pingkit.UserError failure)
    implements Session.Report {

  /** What ping-client --merge takes for pings: results of its --json in ping mode. */
  public static final Merge.Kind<PingResult> KIND = new Merge.Kind<>(json -> json.has("clockSkewMicros"),
      json -> "pings" + (json.has("stream") && json.get("stream").getAsBoolean() ? " over a stream" : "") + " of "
          + json.get("payloadBytes").getAsInt() + " B payloads, " + json.get("delaySeconds").getAsDouble()
          + " s delay", PingResult::fromJson, PingResult::plus);

  static PingResult fromJson(JsonObject json) {
    SampleHistogram rtt = Merge.histogram(json, "rttMicros", false);
    return new PingResult(json.get("target").getAsString(), json.get("iterations").getAsLong(),
        json.get("payloadBytes").getAsInt(), Duration.ofNanos(Math.round(json.get("delaySeconds").getAsDouble()
        * 1e9)), json.get("stream").getAsBoolean(), json.has("streamOpenSeconds") ? Math.round(
        json.get("streamOpenSeconds").getAsDouble() * 1e9) : -1, rtt, Merge.histogram(json, "clockSkewMicros",
        false), Overhead.fromJson(json, false), Map.of(), Merge.Run.fromJson(json, false, rtt.count()), null);
  }

  /**
   * Both runs' pings as one run's, into this one's histograms (a merge owns what it read); a stream's opening
   * time is one stream's: merged runs have none.
   */
  PingResult plus(PingResult other) {
    return new PingResult(Merge.joined(target, other.target), iterations + other.iterations, payloadBytes, delay,
        overStream, -1, rttHistogram.add(other.rttHistogram), clockSkewHistogram.add(other.clockSkewHistogram),
        clientOverhead.plus(other.clientOverhead), Map.of(), Merge.concat(runs, other.runs), null);
  }

  @Override
  public SampleHistogram latencyHistogram() {
    return rttHistogram;
  }

  /** -v: the client-timed RTTs by backend (the server-timed one spans two calls, maybe two backends). */
  private String backendLines() {
    StringBuilder lines = new StringBuilder();
    backends.forEach((address, backend) -> lines.append(backend.line(address)));
    return lines.toString();
  }

  /** What JShell shows: the RTT and clock-skew figures a person reads first; {@link #format} has it all. */
  @Override
  public String toString() {
    return "PingResult[" + target + " " + iterations + (overStream ? " messages over a stream" : " iterations")
        + ": RTT " + rttHistogram.summary() + ", skew p50 "
        + SampleHistogram.millis(clockSkewHistogram.percentile(50, SampleHistogram.Unit.SECONDS))
        + (failure == null ? "" : ", cut short: " + failure.getMessage()) + "]";
  }

  public double averageRttSeconds() {
    return rttHistogram.avg(SampleHistogram.Unit.SECONDS);
  }

  /** Fortio's text, with the client's overhead (by phase with -v, and the RTTs by backend) before the average. */
  @Override
  public String format(List<Double> percentiles, boolean verbose) {
    SampleHistogram.Unit micros = SampleHistogram.Unit.MICROS;
    return clockSkewHistogram.format("Clock skew histogram usec", percentiles, micros)
        + rttHistogram.format("RTT histogram usec", percentiles, micros)
        + clientOverhead.format(micros, verbose, overStream ? "messages" : "calls")
        + (streamOpenNanos < 0 ? "" : String.format(Locale.ROOT, "Stream opened in %s usec (first message sent"
            + " to its echo back, the stream's setup included)%n", SampleHistogram.number(streamOpenNanos / 1e3)))
        + (verbose ? backendLines() : "")
        + String.format(Locale.ROOT, "Average RTT %s usec over %d samples (%d iterations) to %s%n",
            SampleHistogram.number(rttHistogram.avg(micros)), rttHistogram.count(), iterations, target);
  }

  @Override
  public Map<String, Object> toJson(List<Double> percentiles) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("target", target);
    json.put("iterations", iterations);
    json.put("payloadBytes", payloadBytes);
    json.put("delaySeconds", delay.toNanos() / 1e9);
    json.put("averageRttSeconds", averageRttSeconds());
    json.put("stream", overStream);
    Merge.Run.putJson(json, runs, false);
    if (streamOpenNanos >= 0) {
      json.put("streamOpenSeconds", streamOpenNanos / 1e9);
    }
    json.put("rttMicros", HistogramJson.pingkit(rttHistogram, percentiles));
    json.put("clockSkewMicros", HistogramJson.pingkit(clockSkewHistogram, percentiles));
    clientOverhead.putJson(json, percentiles);
    return json;
  }
}
