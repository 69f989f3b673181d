// What a load run measured, and its report: Fortio's text and Fortio's GRPCRunnerResults JSON, HdrHistogram's hgrm.

package pingkit.load;

import com.google.gson.JsonObject;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
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
 * What a load run measured: latencies at the wire, and at a fixed rate from each call's intended start (the
 * corrected latencies: null flat out, where there is no schedule and they are the latencies); the client's own
 * time per call, and at a fixed rate how late it put due calls on the wire (start delay) and how many were late;
 * the answers and failures by name, and the last failure in one line (null: none, or merged); what became of
 * the streams of echoes, when the calls were their messages (null: calls); the calls by backend address; the runs
 * it covers (one, or several merged: {@code startTime} is the first's start, {@code actualDuration} the time
 * covered by any); how late it started after --start-at (null: no --start-at); and what cut the run short, if
 * anything did.
 */
public record LoadResult(LoadRun.Plan plan, LoadRun.Calls calls, OffsetDateTime startTime, long warmupCalls,
    Duration actualDuration, SampleHistogram latency, SampleHistogram correctedLatency, Overhead overhead,
    SampleHistogram startDelay, long lateCalls, Map<String, Long> outcomes, long failedCalls, String lastFailure,
    LoadRun.StreamCounts streams, Map<String, Backends.Backend> backends, List<Merge.Run> runs,
    Duration startedLate, Pingkit.UserError failure)
    implements Session.Report {

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

  /** What JShell shows: the calls, their rate and latencies, the answers; {@link #format} has it all. */
  @Override
  public String toString() {
    String unit = streams == null ? "calls" : "messages";
    StringBuilder answers = new StringBuilder();
    outcomes.forEach((outcome, count) -> answers.append(", ").append(outcome).append(' ').append(count));
    return "LoadResult[" + plan.target() + " " + plan.runType() + ": " + measuredCalls() + " " + unit + " in "
        + SampleHistogram.number(actualDuration.toNanos() / 1e9) + " s, " + SampleHistogram.number(actualQps()) + " "
        + unit + "/s, latency " + latency.summary() + answers
        + (failure == null ? "" : ", cut short: " + failure.getMessage()) + "]";
  }

  /** Fortio's text, with the client's own time (its overhead by phase: -v) after the latencies. */
  @Override
  public String format(List<Double> percentiles, boolean overheadByPhase) {
    StringBuilder out = new StringBuilder();
    String unit = streams == null ? "calls" : "messages";
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
    if (backends.size() > 1) {
      backends.forEach((address, backend) -> out.append(backend.line(address)));
    }
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
    Merge.Run.putJson(json, runs, true);
    if (plan.startAt() != null) {
      json.put("StartAt", Merge.time(plan.startAt()));
      json.put("StartedLateBy", startedLate.toNanos());
    }
    json.put("WarmupCalls", warmupCalls);
    Map<String, Object> duration = HistogramJson.fortio(latency, percentiles);
    json.put("DurationHistogram", duration);
    json.put("ErrorsDurationHistogram", Map.of("Count", failedCalls));
    Map<String, Object> corrected = correctedLatency == null ? new LinkedHashMap<>(duration)
        : HistogramJson.fortio(correctedLatency, percentiles);
    if (plan.qps() == 0) {
      corrected.remove("HdrHistogram"); // flat out, there is no schedule to correct for: it is DurationHistogram
    }
    json.put("CorrectedDurationHistogram", corrected);
    overhead.putFortioJson(json, percentiles);
    if (plan.qps() > 0) {
      json.put("ClientStartDelayHistogram", HistogramJson.fortio(startDelay, percentiles));
      json.put("LateCalls", lateCalls);
    }
    json.put("Exactly", plan.exactCalls());
    json.put("RetCodes", outcomes);
    json.put("Backends", Backends.toJson(backends, percentiles, latency, duration));
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

  /** A load result read back from its JSON ({@link #toJson}); {@code callName}: "Ping" or "Health". */
  static LoadResult fromJson(JsonObject json, String callName) {
    String runType = json.get("RunType").getAsString();
    String requestedQps = json.get("RequestedQPS").getAsString();
    double qps = requestedQps.equals("max") ? 0 : Double.parseDouble(requestedQps);
    int slots = json.get("NumThreads").getAsInt();
    int streamsEach = json.get("Streams").getAsInt();
    String requested = json.get("RequestedDuration").getAsString();
    Duration duration = requested.startsWith("exactly") || requested.startsWith("until") ? Duration.ZERO
        : Pingkit.parseDuration(requested);
    var plan = new LoadRun.Plan(runType, json.get("Destination").getAsString(), slots / streamsEach, streamsEach, qps,
        duration, json.get("Exactly").getAsLong(), Duration.ZERO,
        json.has("Window") ? json.get("Window").getAsInt() : 1,
        json.has("StartAt") ? OffsetDateTime.parse(json.get("StartAt").getAsString()) : null);
    SampleHistogram latency = Merge.histogram(json, "DurationHistogram", true);
    LoadRun.StreamCounts streams = !json.has("StreamsOpened") ? null : new LoadRun.StreamCounts(
        json.get("StreamsOpened").getAsLong(), Merge.counts(json.getAsJsonObject("StreamsFailed")),
        json.get("MessagesLost").getAsLong());
    return new LoadResult(plan, new LoadRun.Calls(callName, null, "SERVING", json.get("Ping").getAsBoolean(), null,
        true),
        OffsetDateTime.parse(json.get("StartTime").getAsString()), json.get("WarmupCalls").getAsLong(),
        Duration.ofNanos(json.get("ActualDuration").getAsLong()), latency,
        qps > 0 ? Merge.histogram(json, "CorrectedDurationHistogram", true) : null,
        Overhead.fromJson(json, true),
        qps > 0 ? Merge.histogram(json, "ClientStartDelayHistogram", true) : new SampleHistogram(),
        json.has("LateCalls") ? json.get("LateCalls").getAsLong() : 0, Merge.counts(json.getAsJsonObject("RetCodes")),
        json.getAsJsonObject("ErrorsDurationHistogram").get("Count").getAsLong(), null, streams,
        Backends.fromJson(json, latency),
        Merge.Run.fromJson(json, true, latency.count()),
        json.has("StartedLateBy") ? Duration.ofNanos(json.get("StartedLateBy").getAsLong()) : null, null);
  }

  /**
   * Both results as one run's: counts summed, histograms added (into this one's: a merge owns what it read), the
   * rate over the time either covered.
   */
  LoadResult plus(LoadResult other) {
    List<Merge.Run> allRuns = Merge.concat(runs, other.runs);
    boolean sameStreams = plan.streams() == other.plan.streams();
    var merged = new LoadRun.Plan(plan.runType(), Merge.joined(plan.target(), other.plan.target()),
        sameStreams ? plan.connections() + other.plan.connections() : plan.slots() + other.plan.slots(),
        sameStreams ? plan.streams() : 1, plan.qps() + other.plan.qps(), plan.duration(),
        plan.exactCalls() + other.plan.exactCalls(), plan.warmup(), plan.window(), plan.startAt());
    LoadRun.StreamCounts streamCounts = streams == null ? null : new LoadRun.StreamCounts(
        streams.opened() + other.streams.opened(), Merge.sum(streams.failedByStatus(), other.streams.failedByStatus()),
        streams.messagesLost() + other.streams.messagesLost());
    // before this one's latencies take the other's: flat out, the corrected latencies are those (null), and so are
    // a single backend's
    SampleHistogram corrected = correctedLatency == null && other.correctedLatency == null ? null
        : (correctedLatency != null ? correctedLatency : new SampleHistogram().add(latency))
            .add(other.correctedLatency != null ? other.correctedLatency : other.latency);
    Map<String, Backends.Backend> backendsSum = Backends.sum(backends, latency, other.backends, other.latency);
    Duration late = startedLate == null ? other.startedLate : other.startedLate == null ? startedLate
        : startedLate.compareTo(other.startedLate) >= 0 ? startedLate : other.startedLate;
    return new LoadResult(merged, calls, Merge.start(allRuns), warmupCalls + other.warmupCalls,
        Merge.union(allRuns), latency.add(other.latency), corrected,
        overhead.plus(other.overhead), startDelay.add(other.startDelay), lateCalls + other.lateCalls,
        Merge.sum(outcomes, other.outcomes), failedCalls + other.failedCalls, null, streamCounts, backendsSum,
        allRuns,
        late, null);
  }

  /** What can be merged with {@code callName}'s ("Ping", "Health") load results. */
  public static Merge.Kind<LoadResult> kind(String callName, String runTypePrefix) {
    return new Merge.Kind<>(json -> json.has("RunType") && json.get("RunType").getAsString().startsWith(runTypePrefix),
        json -> "a '" + json.get("RunType").getAsString() + "' load", json -> fromJson(json, callName),
        LoadResult::plus);
  }

  @Override
  public SampleHistogram latencyHistogram() {
    return latency;
  }

  /** 3 when calls (or streams) failed, unless {@code allowErrors}; else 4 when answers were not the good one. */
  @Override
  public int exitCode(boolean allowErrors) {
    String unit = streams == null ? "calls" : "messages";
    if (failedCalls > 0 && !allowErrors) {
      throw new Pingkit.UserError(Pingkit.EXIT_RPC_FAILED, failedCalls + " of " + measuredCalls() + " " + unit
          + " failed (counted above by status" + (lastFailure == null ? "" : "; the last: " + lastFailure)
          + "; --allow-errors accepts them)");
    }
    if (streams != null && streams.failed() > 0 && !allowErrors) {
      throw new Pingkit.UserError(Pingkit.EXIT_RPC_FAILED, streams.failed() + " of " + streams.opened()
          + " streams failed (counted above by status; --allow-errors accepts them)");
    }
    if (unexpectedAnswers() > 0) {
      throw new Pingkit.UserError(Pingkit.EXIT_UNHEALTHY, unexpectedAnswers() + " of " + measuredCalls()
          + " answers were not " + calls.goodAnswer() + " (counted above by status)");
    }
    return Pingkit.EXIT_OK;
  }
}
