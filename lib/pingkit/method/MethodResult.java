// What a run of calls of the user's method found (ping-client --method without load flags), and its report.

package pingkit.method;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.Status;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
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
 * The calls of one method: their count by status code ("OK", "NOT_FOUND", ...), the RTT of every answer, the
 * client's own time, the calls by backend (with -v; empty when merged), the last response as compact JSON (null:
 * none, or merged) and whether the report shows it, the last error status (null: none, or merged), where and when it ran ({@code runs}: several when merged), and
 * what cut it short or failed (null: nothing).
 */
public record MethodResult(String target, String method, String requestJson, Map<String, Long> statusCounts,
    SampleHistogram rttHistogram, Overhead clientOverhead, Map<String, Backends.Backend> backends,
    String lastResponse, Status lastError, boolean showResponse, List<Merge.Run> runs, Pingkit.UserError failure)
    implements Session.Report {

  /** What ping-client --merge takes for method calls: results of its --json with --method and no load flags. */
  public static final Merge.Kind<MethodResult> KIND = new Merge.Kind<>(json -> json.has("method")
      && json.has("statuses"), json -> "calls of " + json.get("method").getAsString() + " with request "
      + json.get("request"), MethodResult::fromJson, MethodResult::plus);

  static MethodResult of(String target, String method, String requestJson, Map<String, Long> statusCounts,
      SampleHistogram rttHistogram, Overhead clientOverhead, Backends backends, String lastResponse,
      Status lastError, boolean showResponse, OffsetDateTime startTime, long startNanos, Pingkit.UserError failure) {
    var run = new Merge.Run(Host.name(), startTime, Duration.ofNanos(System.nanoTime() - startNanos),
        rttHistogram.count());
    return new MethodResult(target, method, requestJson, statusCounts, rttHistogram, clientOverhead,
        backends.results(), lastResponse, lastError, showResponse, List.of(run), failure);
  }

  /** What JShell shows: the counts by status, the RTTs and the last response; {@link #format} has it all. */
  @Override
  public String toString() {
    StringBuilder counts = new StringBuilder();
    statusCounts.forEach((status, count) -> counts.append(", ").append(status).append(' ').append(count));
    return "MethodResult[" + target + " " + method + " " + rttHistogram.count() + " calls" + counts + ", RTT "
        + rttHistogram.summary() + (lastResponse == null ? "" : ", last response " + lastResponse)
        + (failure == null ? "" : ", failed: " + failure.getMessage()) + "]";
  }

  @Override
  public SampleHistogram latencyHistogram() {
    return rttHistogram;
  }

  /** The RTT histogram, the client's overhead, the counts by status, the last response; no clock skew (said once). */
  @Override
  public String format(List<Double> percentiles, boolean verbose) {
    SampleHistogram.Unit micros = SampleHistogram.Unit.MICROS;
    StringBuilder out = new StringBuilder(rttHistogram.format("RTT histogram usec", percentiles, micros))
        .append(clientOverhead.format(micros, verbose));
    if (verbose) {
      backends.forEach((address, backend) -> out.append(backend.line(address)));
    }
    statusCounts.forEach((status, count) -> out.append(method).append(' ').append(status).append(" : ")
        .append(count).append('\n'));
    if (lastResponse != null && (showResponse || verbose)) {
      out.append("Response").append(rttHistogram.count() > 1 ? " (the last)" : "").append(":\n")
          .append(new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create()
              .toJson(JsonParser.parseString(lastResponse))).append('\n');
    }
    return out.append(String.format(Locale.ROOT, "Average RTT %s usec over %d calls to %s (no clock skew: a"
        + " method's response carries no server time)%n", SampleHistogram.number(rttHistogram.avg(micros)),
        rttHistogram.count(), target)).toString();
  }

  @Override
  public Map<String, Object> toJson(List<Double> percentiles) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("target", target);
    json.put("method", method);
    json.put("request", JsonParser.parseString(requestJson));
    Merge.Run.putJson(json, runs, false);
    json.put("calls", rttHistogram.count());
    json.put("statuses", statusCounts);
    json.put("rttMicros", HistogramJson.pingkit(rttHistogram, percentiles));
    clientOverhead.putJson(json, percentiles);
    if (lastResponse != null) {
      json.put("lastResponse", JsonParser.parseString(lastResponse));
    }
    if (lastError != null) {
      json.put("lastError", Map.of("code", lastError.getCode().name(), "message",
          String.valueOf(lastError.getDescription())));
    }
    return json;
  }

  static MethodResult fromJson(JsonObject json) {
    SampleHistogram rtt = Merge.histogram(json, "rttMicros", false);
    return new MethodResult(json.get("target").getAsString(), json.get("method").getAsString(),
        json.get("request").toString(), Merge.counts(json.getAsJsonObject("statuses")), rtt,
        Overhead.fromJson(json, false), Map.of(), null, null, false, Merge.Run.fromJson(json, false, rtt.count()),
        null);
  }

  /** Both runs' calls as one run's (into this one's histograms: a merge owns what it read). */
  MethodResult plus(MethodResult other) {
    return new MethodResult(Merge.joined(target, other.target), method, requestJson,
        Merge.sum(statusCounts, other.statusCounts), rttHistogram.add(other.rttHistogram),
        clientOverhead.plus(other.clientOverhead), Map.of(), null, null, false, Merge.concat(runs, other.runs),
        null);
  }

  /** Merged runs exit as one run would: 3 when some call failed (--allow-errors: 0). */
  @Override
  public int exitCode(boolean allowErrors) {
    boolean allOk = statusCounts.keySet().stream().allMatch("OK"::equals);
    return allOk || allowErrors ? Pingkit.EXIT_OK : Pingkit.EXIT_RPC_FAILED;
  }
}
