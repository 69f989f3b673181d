// A load run's calls by the server that took them: behind one name, several addresses (gRPC's resolver, --lb
// round_robin), each with its own view.

package pingkit.report;

import com.google.gson.JsonObject;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Latencies and errors per backend address, recorded without locks (each backend a {@link Recording}). */
public final class Backends {
  /** What calls that reached no server are counted under (no connection, say). */
  static final String NONE = "none";

  private final ConcurrentHashMap<Object, Calls> byAddress = new ConcurrentHashMap<>();

  private static final class Calls {
    final Recording latency = new Recording();
    final LongAdder errors = new LongAdder();
  }

  /** One call that went to {@code address} (null: to none). */
  public void record(SocketAddress address, long latencyNanos, boolean failed) {
    Object key = address == null ? NONE : address;
    Calls calls = byAddress.get(key);
    if (calls == null) {
      calls = byAddress.computeIfAbsent(key, k -> new Calls());
    }
    calls.latency.record(latencyNanos);
    if (failed) {
      calls.errors.increment();
    }
  }

  /** What each backend took, by address (ip:port, in order). */
  public Map<String, Backend> results() {
    Map<String, Backend> results = new TreeMap<>();
    byAddress.forEach((address, calls) -> results.put(name(address),
        new Backend(SampleHistogram.of(calls.latency.total()), calls.errors.sum())));
    return results;
  }

  private static String name(Object address) {
    if (address instanceof InetSocketAddress inet && inet.getAddress() != null) {
      String ip = inet.getAddress().getHostAddress();
      return (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + inet.getPort();
    }
    return address.toString();
  }

  /**
   * One backend's calls: their latencies (failed ones too, as in the run's histogram) and how many failed. Read
   * back from a run whose calls all went to this one backend, the latencies are the run's own: null here, not a
   * copy (a merge of many such runs would add up every histogram twice).
   */
  public record Backend(SampleHistogram latency, long errors) {
    Backend plus(Backend other) {
      return new Backend(latency.add(other.latency), errors + other.errors);
    }

    /** Its latencies, {@code all} (its run's) when it took the whole run's calls. */
    SampleHistogram latency(SampleHistogram all) {
      return latency != null ? latency : all;
    }

    /** This backend with latencies of its own: a copy of {@code all} (its run's) when it took the whole run's. */
    private Backend own(SampleHistogram all) {
      return latency != null ? this : new Backend(new SampleHistogram().add(all), errors);
    }

    public String line(String address) {
      SampleHistogram.Unit seconds = SampleHistogram.Unit.SECONDS;
      return String.format(Locale.ROOT, "Backend %s : %d calls, p50 %s ms, p99 %s ms, errors %d%n", address,
          latency.count(), SampleHistogram.number(latency.percentile(50, seconds) * 1e3),
          SampleHistogram.number(latency.percentile(99, seconds) * 1e3), errors);
    }
  }

  /**
   * Fortio-styled JSON: a list of {Address, Count, Errors, Percentiles (seconds), HdrHistogram}. A run whose
   * calls all went to one backend has the run's latencies as that backend's ({@code all}, its JSON
   * {@code allJson}): they are not worked out nor encoded again.
   */
  public static List<Map<String, Object>> toJson(Map<String, Backend> backends, List<Double> percentiles,
      SampleHistogram all, Map<String, Object> allJson) {
    List<Map<String, Object>> json = new ArrayList<>();
    backends.forEach((address, backend) -> {
      SampleHistogram latency = backend.latency(all);
      boolean wholeRun = backends.size() == 1 && latency.count() == all.count();
      Map<String, Object> histogram = wholeRun ? allJson : HistogramJson.fortio(latency, percentiles);
      Map<String, Object> entry = ReportOptions.jsonObject("Address", address, "Count", latency.count(),
          "Errors", backend.errors, "Percentiles", histogram.get("Percentiles"), "Min", histogram.get("Min"),
          "Max", histogram.get("Max"), "Avg", histogram.get("Avg"), "StdDev", histogram.get("StdDev"));
      if (!wholeRun) {
        entry.put("HdrHistogram", histogram.get("HdrHistogram"));
      }
      json.add(entry);
    });
    return json;
  }

  /** The backends of a result's JSON, whose latencies are {@code all} (for a single backend not repeated). */
  public static Map<String, Backend> fromJson(JsonObject result, SampleHistogram all) {
    Map<String, Backend> backends = new TreeMap<>();
    if (result.has("Backends")) {
      var entries = result.getAsJsonArray("Backends");
      for (var entry : entries) {
        JsonObject backend = entry.getAsJsonObject();
        boolean wholeRun = entries.size() == 1 && !backend.has("HdrHistogram")
            && backend.get("Count").getAsLong() == all.count();
        SampleHistogram latency = wholeRun ? null : HistogramJson.read(backend, true);
        if (latency == null && !wholeRun) {
          throw new IllegalArgumentException("backend " + backend.get("Address") + " has no encoded histogram");
        }
        backends.put(backend.get("Address").getAsString(), new Backend(latency, backend.get("Errors").getAsLong()));
      }
    }
    return backends;
  }

  /**
   * Both runs' backends, the same address's added up (into {@code a}'s histograms: a merge owns what it read);
   * {@code aAll} and {@code bAll}: the runs' latencies, not yet added up.
   */
  public static Map<String, Backend> sum(Map<String, Backend> a, SampleHistogram aAll, Map<String, Backend> b,
      SampleHistogram bAll) {
    Map<String, Backend> sum = new TreeMap<>();
    if (a.size() == 1 && a.keySet().equals(b.keySet())) {
      String address = a.keySet().iterator().next();
      Backend first = a.get(address);
      Backend second = b.get(address);
      if (first.latency == null && second.latency == null) { // one backend took every call of both runs
        sum.put(address, new Backend(null, first.errors + second.errors));
        return sum;
      }
    }
    a.forEach((address, backend) -> sum.put(address, backend.own(aAll)));
    b.forEach((address, backend) -> sum.merge(address, backend.own(bAll), Backend::plus));
    return sum;
  }
}
