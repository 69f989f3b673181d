// What a load run measured, and its report (ping-client.java and health-check.java pull this file with
// //SOURCES): Fortio's text and Fortio's GRPCRunnerResults JSON, HdrHistogram's hgrm.

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a load run measured: latencies at the wire (and from each call's intended start at a fixed rate); the
 * client's own time per call, and at a fixed rate how late it put due calls on the wire (start delay) and how
 * many were late; the answers and failures by name; what became of the streams of echoes, when the calls were
 * their messages (null: calls); and what cut the run short, if anything did.
 */
record LoadResult(LoadRun.Plan plan, LoadRun.Calls calls, OffsetDateTime startTime, long warmupCalls,
    Duration actualDuration, SampleHistogram latency, SampleHistogram correctedLatency, Overhead overhead,
    SampleHistogram startDelay, long lateCalls, Map<String, Long> outcomes, long failedCalls,
    LoadRun.StreamCounts streams, Pingkit.UserError failure) implements Session.Report {

  private static final SampleHistogram.Unit SECONDS = SampleHistogram.Unit.SECONDS;

  long measuredCalls() {
    return latency.count();
  }

  /** Calls answered with something else than the role's good answer (a health answer other than SERVING). */
  long unexpectedAnswers() {
    return measuredCalls() - failedCalls - outcomes.getOrDefault(calls.goodAnswer(), 0L);
  }

  double actualQps() {
    return actualDuration.isZero() ? 0 : measuredCalls() / (actualDuration.toNanos() / 1e9);
  }

  /** Fortio's text, with the client's own time (its overhead by phase: -v) after the latencies. */
  @Override
  public String format(List<Double> percentiles, boolean overheadByPhase) {
    StringBuilder out = new StringBuilder();
    String unit = calls.unit();
    String rate = streams == null ? "qps" : "messages/s";
    out.append(String.format(Locale.ROOT, "Ended after %ss : %d %s. %s=%s%n",
        SampleHistogram.number(actualDuration.toNanos() / 1e9), measuredCalls(), unit, rate,
        SampleHistogram.number(actualQps())));
    out.append(latency.format("Aggregated Function Time", percentiles, SECONDS));
    if (plan.qps() > 0) {
      out.append(correctedLatency.format("Latency from intended start (coordinated omission corrected)",
          percentiles, SECONDS));
    }
    out.append(overhead.format(SECONDS, overheadByPhase, unit));
    if (plan.qps() > 0) {
      out.append(String.format(Locale.ROOT, "Client start delay seconds : avg %s p50 %s p99 %s max %s, %d %s"
          + " late (%s)%n", SampleHistogram.number(startDelay.avg(SECONDS)),
          SampleHistogram.number(startDelay.percentile(50, SECONDS)),
          SampleHistogram.number(startDelay.percentile(99, SECONDS)), SampleHistogram.number(startDelay.max(SECONDS)),
          lateCalls, unit, streams == null ? "not in the corrected latency"
              : "in the corrected latency: an open loop"));
    }
    outcomes.forEach((outcome, count) -> out.append(calls.name()).append(' ').append(outcome).append(" : ")
        .append(count).append('\n'));
    if (streams != null) {
      out.append(String.format(Locale.ROOT, "Streams opened : %d%n", streams.opened()));
      streams.failedByStatus().forEach((status, count) -> out.append("Streams failed ").append(status).append(" : ")
          .append(count).append('\n'));
      if (streams.failed() > 0) {
        out.append(String.format(Locale.ROOT, "Messages lost in flight : %d%n", streams.messagesLost()));
      }
    }
    out.append(String.format(Locale.ROOT, "All done %d %s (plus %d warmup) %s ms avg, %s %s%n", measuredCalls(), unit,
        warmupCalls, SampleHistogram.number(latency.avg(SECONDS) * 1e3), SampleHistogram.number(actualQps()), rate));
    return out.toString();
  }

  /** Fortio's GRPCRunnerResults: its field names and types, histogram values in seconds. */
  @Override
  public Map<String, Object> toJson(List<Double> percentiles) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("RunType", plan.runType());
    json.put("Labels", "");
    json.put("StartTime", startTime.format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    json.put("RequestedQPS", plan.qps() > 0 ? SampleHistogram.number(plan.qps()) : "max");
    json.put("RequestedDuration", plan.requestedDuration());
    json.put("ActualQPS", actualQps());
    json.put("ActualDuration", actualDuration.toNanos());
    json.put("NumThreads", plan.slots());
    json.put("Version", "pingkit " + Pingkit.VERSION);
    json.put("DurationHistogram", latency.toFortioJson(percentiles));
    json.put("ErrorsDurationHistogram", Map.of("Count", failedCalls));
    json.put("CorrectedDurationHistogram", correctedLatency.toFortioJson(percentiles));
    overhead.putFortioJson(json, percentiles);
    if (plan.qps() > 0) {
      json.put("ClientStartDelayHistogram", startDelay.toFortioJson(percentiles));
      json.put("LateCalls", lateCalls);
    }
    json.put("Exactly", plan.exactCalls());
    json.put("RetCodes", outcomes);
    json.put("Destination", plan.target());
    json.put("Streams", plan.streams());
    json.put("Ping", calls.fortioPing());
    if (streams != null) {
      if (plan.qps() == 0) {
        json.put("Window", plan.window());
      }
      json.put("StreamsOpened", streams.opened());
      json.put("StreamsFailed", streams.failedByStatus());
      json.put("MessagesLost", streams.messagesLost());
    }
    return json;
  }

  /** HdrHistogram's percentile distribution of the latencies (milliseconds), as its plotting tools read it. */
  void writeHgrm(Path file) {
    try (PrintStream out = new PrintStream(Files.newOutputStream(file), true, StandardCharsets.UTF_8)) {
      latency.outputPercentileDistribution(out, 1e6);
    } catch (IOException e) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "cannot write " + file + ": " + Pingkit.oneLine(e));
    }
  }
}
