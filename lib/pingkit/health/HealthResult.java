// What a run of health checks found, and its report.

package pingkit.health;

import com.google.gson.JsonObject;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import pingkit.Host;
import pingkit.Pingkit;
import pingkit.report.Backends;
import pingkit.report.HistogramJson;
import pingkit.report.Merge;
import pingkit.report.Overhead;
import pingkit.report.SampleHistogram;
import pingkit.report.Session;

/**
 * The answers of a run of checks, their RTTs and the client's own time, the checks by backend (empty when
 * merged: a list for people, with -v), where and when it ran ({@code runs}:
 * several when merged), and what cut it short (null: nothing).
 */
public record HealthResult(String target, String service, Map<ServingStatus, Long> statusCounts,
    SampleHistogram rttHistogram, Overhead clientOverhead, Map<String, Backends.Backend> backends,
    List<Merge.Run> runs, Pingkit.UserError failure)
    implements Session.Report {

  /** What health-check --merge takes for checks: results of its --json in check mode. */
  public static final Merge.Kind<HealthResult> KIND = new Merge.Kind<>(json -> json.has("statuses"),
      json -> "checks of service '" + json.get("service").getAsString() + "'", HealthResult::fromJson,
      HealthResult::plus);

  /** The result of checks that started at {@code startTime} ({@code startNanos} on the monotonic clock). */
  /** What JShell shows: the counts by status and the RTTs; {@link #format} has it all. */
  @Override
  public String toString() {
    StringBuilder counts = new StringBuilder();
    statusCounts.forEach((status, count) -> counts.append(", ").append(status).append(' ').append(count));
    return "HealthResult[" + target + " service '" + service + "' " + rttHistogram.count() + " checks" + counts
        + ", RTT " + rttHistogram.summary() + (failure == null ? "" : ", cut short: " + failure.getMessage()) + "]";
  }

  public static HealthResult of(String target, String service, Map<ServingStatus, Long> statusCounts,
      SampleHistogram rttHistogram, Overhead clientOverhead, Backends backends, OffsetDateTime startTime,
      long startNanos, Pingkit.UserError failure) {
    var run = new Merge.Run(Host.name(), startTime, Duration.ofNanos(System.nanoTime() - startNanos),
        rttHistogram.count());
    return new HealthResult(target, service, statusCounts, rttHistogram, clientOverhead, backends.results(),
        List.of(run), failure);
  }

  boolean allServing() {
    return statusCounts.keySet().stream().allMatch(status -> status == ServingStatus.SERVING);
  }

  @Override
  public SampleHistogram latencyHistogram() {
    return rttHistogram;
  }

  /** grpc_health_probe's: 4 unless every answer was SERVING. */
  @Override
  public int exitCode(boolean allowErrors) {
    return allServing() ? Pingkit.EXIT_OK : Pingkit.EXIT_UNHEALTHY;
  }

  /** Fortio's text, with the client's overhead after the RTT histogram (-v: by phase, and RTTs by backend). */
  @Override
  public String format(List<Double> percentiles, boolean verbose) {
    StringBuilder out =
        new StringBuilder(rttHistogram.format("RTT histogram usec", percentiles, SampleHistogram.Unit.MICROS))
            .append(clientOverhead.format(SampleHistogram.Unit.MICROS, verbose));
    statusCounts.forEach((status, count) -> out.append("Health ").append(status).append(" : ").append(count)
        .append('\n'));
    if (verbose) { // -v
      backends.forEach((address, backend) -> out.append(backend.line(address)));
    }
    return out.toString();
  }

  @Override
  public Map<String, Object> toJson(List<Double> percentiles) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("target", target);
    json.put("service", service);
    Merge.Run.putJson(json, runs, false);
    json.put("checks", rttHistogram.count());
    Map<String, Long> statuses = new LinkedHashMap<>();
    statusCounts.forEach((status, count) -> statuses.put(status.name(), count));
    json.put("statuses", statuses);
    json.put("rttMicros", HistogramJson.pingkit(rttHistogram, percentiles));
    clientOverhead.putJson(json, percentiles);
    return json;
  }

  static HealthResult fromJson(JsonObject json) {
    Map<ServingStatus, Long> statusCounts = new EnumMap<>(ServingStatus.class);
    Merge.counts(json.getAsJsonObject("statuses")).forEach((status, count) ->
        statusCounts.put(ServingStatus.valueOf(status), count));
    SampleHistogram rtt = Merge.histogram(json, "rttMicros", false);
    return new HealthResult(json.get("target").getAsString(), json.get("service").getAsString(), statusCounts, rtt,
        Overhead.fromJson(json, false), Map.of(), Merge.Run.fromJson(json, false, rtt.count()), null);
  }

  /** Both runs' checks as one run's (into this one's histograms: a merge owns what it read). */
  HealthResult plus(HealthResult other) {
    Map<ServingStatus, Long> statuses = new EnumMap<>(statusCounts);
    other.statusCounts.forEach((status, count) -> statuses.merge(status, count, Long::sum));
    return new HealthResult(Merge.joined(target, other.target), service, statuses,
        rttHistogram.add(other.rttHistogram), clientOverhead.plus(other.clientOverhead), Map.of(),
        Merge.concat(runs, other.runs), null);
  }
}
