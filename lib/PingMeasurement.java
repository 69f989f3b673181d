// The measurement of Fortio's grpcping (ping-client.java pulls this file with //SOURCES): what an iteration of
// two pings gives, and the report the iterations add up to.

import com.google.gson.JsonObject;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import pingkit.fgrpc.PingMessage;

/**
 * Per iteration, two pings give three RTT samples and one clock-skew sample, from times taken at the socket.
 * One writer: the iterations run one after the other.
 */
final class PingMeasurement {
  private final SampleHistogram rttHistogram = new SampleHistogram();
  private final SampleHistogram clockSkewHistogram = new SampleHistogram();
  private final Overhead overhead = new Overhead();
  private final Backends backends = new Backends();
  private final OffsetDateTime startTime = OffsetDateTime.now();
  private final long startNanos = System.nanoTime();
  private long iterations;

  /** One iteration's samples, in nanoseconds. */
  record Iteration(long seq, long rtt1Nanos, long serverRttNanos, long rtt2Nanos, long clockSkewNanos) {
    /** The line ping-client prints for it with -n 0 or -v. */
    String line() {
      return String.format(Locale.ROOT, "seq %d: rtt %s usec (avg of %s, %s, %s) clock skew %s usec", seq,
          number((rtt1Nanos + rtt2Nanos + serverRttNanos) / 3e3), number(rtt1Nanos / 1e3),
          number(serverRttNanos / 1e3), number(rtt2Nanos / 1e3), number(clockSkewNanos / 1e3));
    }
  }

  /**
   * Records iteration {@code seq}: the first ping left at t1a and its answer came back at t2a (the client's
   * clock); the server stamped t1b and t2b at its two receipts ({@code ts} of its replies), and answered the first
   * one the delay its reply says it applied ({@code delayNanos}: a ping-server's is the delay clamped to its
   * --max-delay; Fortio's server echoes the delay asked for, and sleeps it when it is positive), never more than
   * that ping's round trip, which holds it (a server that clamps and echoes the delay asked for is caught so).
   */
  Iteration record(long seq, WireClock.Timed first, PingMessage firstReply, WireClock.Timed second,
      PingMessage secondReply) {
    long t1b = firstReply.getTs();
    long t2b = secondReply.getTs();
    long rtt1Nanos = first.rttNanos();
    long delayNanos = Math.max(0, Math.min(firstReply.getDelayNanos(), rtt1Nanos));
    long rtt2Nanos = second.rttNanos();
    // between its two receipts the server waited for our turnaround too: the first answer's arrival to the
    // second ping's departure is the client's own time, not the path's
    long serverRttNanos = t2b - t1b - (second.wireOutNanos() - first.wireInNanos());
    long t2a = first.wireInNanos() + Pingkit.wallClockOffsetNanos();
    // The server "saw" our t2a half the server-measured round trip (which holds the delay) plus half the delay
    // after t1b. With no delay this is Fortio's (t1b + rtR/2) - t2a.
    long clockSkewNanos = t1b + (serverRttNanos + delayNanos) / 2 - t2a;
    rttHistogram.record(rtt1Nanos);
    rttHistogram.record(rtt2Nanos);
    rttHistogram.record(serverRttNanos);
    clockSkewHistogram.record(clockSkewNanos);
    overhead.record(first);
    overhead.record(second);
    backends.record(first.backend(), rtt1Nanos, false);
    backends.record(second.backend(), rtt2Nanos, false);
    iterations = seq;
    return new Iteration(seq, rtt1Nanos, serverRttNanos, rtt2Nanos, clockSkewNanos);
  }

  /** Iterations recorded. */
  long iterations() {
    return iterations;
  }

  /** The run's result; {@code streamOpenNanos}: over one stream, the time it took to open (else -1). */
  Result result(String target, int payloadBytes, Duration delay, long streamOpenNanos, Pingkit.UserError failure) {
    Duration duration = Duration.ofNanos(System.nanoTime() - startNanos);
    return new Result(target, iterations, payloadBytes, delay, streamOpenNanos >= 0, streamOpenNanos, rttHistogram,
        clockSkewHistogram, overhead, backends.results(), List.of(new Merge.Run(Pingkit.hostName(), startTime,
            duration, rttHistogram.count())), failure);
  }

  /**
   * The measurements of one run, and what cut it short (null: nothing). Over a stream, {@code streamOpenNanos} is
   * from its first message sent to that message's echo back, the stream's setup included (-1: by calls, or
   * several runs merged). {@code backends}: the pings' RTTs by server address (with -v; empty when merged);
   * {@code runs}: where and when it ran (several when merged).
   */
  record Result(String target, long iterations, int payloadBytes, Duration delay, boolean overStream,
      long streamOpenNanos, SampleHistogram rttHistogram, SampleHistogram clockSkewHistogram, Overhead clientOverhead,
      Map<String, Backends.Backend> backends, List<Merge.Run> runs, Pingkit.UserError failure)
      implements Session.Report {

    /** What ping-client --merge takes for pings: results of its --json in ping mode. */
    static final Merge.Kind<Result> KIND = new Merge.Kind<>(json -> json.has("clockSkewMicros"),
        json -> "pings" + (json.has("stream") && json.get("stream").getAsBoolean() ? " over a stream" : "") + " of "
            + json.get("payloadBytes").getAsInt() + " B payloads, " + json.get("delaySeconds").getAsDouble()
            + " s delay", Result::fromJson, Result::plus);

    static Result fromJson(JsonObject json) {
      SampleHistogram rtt = Merge.histogram(json, "rttMicros", false);
      return new Result(json.get("target").getAsString(), json.get("iterations").getAsLong(),
          json.get("payloadBytes").getAsInt(), Duration.ofNanos(Math.round(json.get("delaySeconds").getAsDouble()
          * 1e9)), json.get("stream").getAsBoolean(), json.has("streamOpenSeconds") ? Math.round(
          json.get("streamOpenSeconds").getAsDouble() * 1e9) : -1, rtt, Merge.histogram(json, "clockSkewMicros",
          false), Overhead.fromJson(json, false), Map.of(), Merge.Run.fromJson(json, false, rtt.count()), null);
    }

    /**
     * Both runs' pings as one run's, into this one's histograms (a merge owns what it read); a stream's opening
     * time is one stream's: merged runs have none.
     */
    Result plus(Result other) {
      return new Result(Merge.joined(target, other.target), iterations + other.iterations, payloadBytes, delay,
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

    double averageRttSeconds() {
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
              + " to its echo back, the stream's setup included)%n", number(streamOpenNanos / 1e3)))
          + (verbose ? backendLines() : "")
          + String.format(Locale.ROOT, "Average RTT %s usec over %d samples (%d iterations) to %s%n",
              number(rttHistogram.avg(micros)), rttHistogram.count(), iterations, target);
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

  private static String number(double value) {
    return SampleHistogram.number(value);
  }
}
