// Results of many runs added up into one: --merge FILE... reads what --json wrote, on one host or many, and reports
// it as if it were one run.

package pingkit.report;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import java.util.function.Predicate;
import pingkit.Pingkit;

/**
 * Reads results written by --json and adds them up: histograms from HdrHistogram's own encoding (exact), counts
 * summed, the runs' spans kept so that a rate is over their union. A merged result is itself mergeable.
 */
public final class Merge {
  private Merge() {}

  /**
   * A kind of result a client merges: whether a JSON document is one ({@code recognizes}), what must be the same
   * in every file merged ({@code sameness}, as a phrase: "a GRPC Ping load"), how to read one and add two.
   */
  public record Kind<R extends Session.Report>(Predicate<JsonObject> recognizes, Function<JsonObject, String> sameness,
      Function<JsonObject, R> read, BinaryOperator<R> add) {}

  /** One run in a result: where, when, how long, how many calls; a merged result has several. */
  public record Run(String host, OffsetDateTime startTime, Duration duration, long count) {
    OffsetDateTime endTime() {
      return startTime.plus(duration);
    }

    /** The runs of a result: its "Runs" list when merged, else the one its top-level fields describe. */
    public static List<Run> fromJson(JsonObject json, boolean fortio, long count) {
      List<Run> runs = new ArrayList<>();
      if (json.has(fortio ? "Runs" : "runs")) {
        for (JsonElement run : json.getAsJsonArray(fortio ? "Runs" : "runs")) {
          runs.add(one(run.getAsJsonObject(), fortio, -1));
        }
      } else {
        runs.add(one(json, fortio, count));
      }
      return runs;
    }

    private static Run one(JsonObject json, boolean fortio, long count) {
      return new Run(json.get(fortio ? "Host" : "host").getAsString(),
          OffsetDateTime.parse(json.get(fortio ? "StartTime" : "startTime").getAsString()),
          fortio ? Duration.ofNanos(json.get("ActualDuration").getAsLong())
              : Duration.ofNanos(Math.round(json.get("durationSeconds").getAsDouble() * 1e9)),
          count >= 0 ? count : json.get(fortio ? "Count" : "count").getAsLong());
    }

    /** The runs' fields in a result's JSON: top-level for one run; "Runs" too when there are several. */
    public static void putJson(Map<String, Object> json, List<Run> runs, boolean fortio) {
      json.put(fortio ? "Host" : "host", String.join(",", new LinkedHashSet<>(runs.stream().map(Run::host).toList())));
      if (!fortio) { // Fortio's StartTime and ActualDuration are among its own fields
        json.put("startTime", time(start(runs)));
        json.put("durationSeconds", union(runs).toNanos() / 1e9);
      }
      json.put(fortio ? "EndTime" : "endTime", time(runs.stream().map(Run::endTime).max(Comparator.naturalOrder())
          .orElseThrow()));
      if (runs.size() > 1) {
        List<Map<String, Object>> each = new ArrayList<>();
        for (Run run : runs) {
          each.add(fortio
              ? ReportOptions.jsonObject("Host", run.host, "StartTime", time(run.startTime), "ActualDuration",
                  run.duration.toNanos(), "Count", run.count)
              : ReportOptions.jsonObject("host", run.host, "startTime", time(run.startTime), "durationSeconds",
                  run.duration.toNanos() / 1e9, "count", run.count));
        }
        json.put(fortio ? "Runs" : "runs", each);
      }
    }
  }

  /** The first run's start. */
  public static OffsetDateTime start(List<Run> runs) {
    return runs.stream().map(Run::startTime).min(Comparator.naturalOrder()).orElseThrow();
  }

  /** The time covered by at least one of the runs: a rate over it counts no gap between runs as a quiet time. */
  public static Duration union(List<Run> runs) {
    List<Run> byStart = runs.stream().sorted(Comparator.comparing(Run::startTime)).toList();
    Duration covered = Duration.ZERO;
    OffsetDateTime coveredTo = null;
    for (Run run : byStart) {
      OffsetDateTime from = coveredTo == null || run.startTime.isAfter(coveredTo) ? run.startTime : coveredTo;
      if (run.endTime().isAfter(from)) {
        covered = covered.plus(Duration.between(from, run.endTime()));
        coveredTo = run.endTime();
      }
    }
    return covered;
  }

  public static List<Run> concat(List<Run> a, List<Run> b) {
    List<Run> runs = new ArrayList<>(a);
    runs.addAll(b);
    return runs;
  }

  /** Distinct texts joined by commas, in order: the targets of runs merged. */
  public static String joined(String a, String b) {
    LinkedHashSet<String> parts = new LinkedHashSet<>(List.of(a.split(",")));
    parts.addAll(List.of(b.split(",")));
    return String.join(",", parts);
  }

  public static String time(OffsetDateTime time) {
    return time.format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
  }

  /**
   * Reads {@code files} (results of {@code client}'s --json) and adds them up. A file that is not such a result,
   * has no encoded histograms (Fortio's own, say), or is of another kind than the first, is a one-line error
   * naming it (exit 1), the first such file in the order given.
   */
  public static Session.Report read(String client, List<Path> files, List<Kind<?>> kinds) {
    // reading (parsing, decoding the histograms) and adding are the work: each core takes its share of the files
    // in order and adds them up, then the shares are added in order (the first refusal in file order wins)
    int shares = Math.min(files.size(), Runtime.getRuntime().availableProcessors());
    List<Share> results = java.util.stream.IntStream.range(0, shares).parallel()
        .mapToObj(share -> share(client, files.subList(files.size() * share / shares,
            files.size() * (share + 1) / shares), kinds)).toList();
    Share merged = null;
    for (Share share : results) {
      if (share.refusal != null) {
        throw share.refusal;
      }
      merged = merged == null ? share : merged.plus(share);
    }
    return merged.result;
  }

  /** Files added up, from the first read, or their first refusal. */
  private record Share(Read first, Session.Report result, Pingkit.UserError refusal) {
    Share plus(Share other) {
      if (other.first.kind != first.kind || !other.first.sameness.equals(first.sameness)) {
        throw sameKind(other.first, first);
      }
      return new Share(first, add(first.kind, result, other.result), null);
    }
  }

  private static Share share(String client, List<Path> files, List<Kind<?>> kinds) {
    Read first = null;
    Session.Report result = null;
    try {
      for (Path file : files) {
        Read read = read(client, file, kinds);
        if (first == null) {
          first = read;
        } else if (read.kind != first.kind || !read.sameness.equals(first.sameness)) {
          throw sameKind(read, first);
        }
        result = result == null ? read.result : add(read.kind, result, read.result);
      }
      return new Share(first, result, null);
    } catch (Pingkit.UserError refusal) {
      return new Share(first, result, refusal);
    }
  }

  private static Pingkit.UserError sameKind(Read read, Read first) {
    return refused(read.file, "is " + read.sameness + ", " + first.file + " " + first.sameness
        + ": only results of one kind are merged");
  }

  /** One file read: its kind, what must be the same in every file merged with it, and its result. */
  private record Read(Path file, Kind<?> kind, String sameness, Session.Report result) {}

  private static Read read(String client, Path file, List<Kind<?>> kinds) {
    JsonObject json = ResultFile.parse(file);
    try {
      Kind<?> kind = kinds.stream().filter(k -> k.recognizes().test(json)).findFirst().orElseThrow(() ->
          refused(file, "is not a result of " + client + " --json"));
      return new Read(file, kind, kind.sameness().apply(json), kind.read().apply(json));
    } catch (Pingkit.UserError refusal) {
      throw refusal;
    } catch (UnsupportedOperationException | IllegalStateException | ClassCastException | NullPointerException
        | NumberFormatException e) {
      // Gson's getters on a field that is missing, null, or of another kind (an object for a string, say)
      throw refused(file, "cannot be merged: a field is missing, null or not of the type --json writes ("
          + Pingkit.oneLine(e) + ")");
    } catch (RuntimeException e) {
      throw refused(file, "cannot be merged: " + Pingkit.oneLine(e));
    }
  }

  @SuppressWarnings("unchecked")
  private static <R extends Session.Report> Session.Report add(Kind<R> kind, Session.Report a, Session.Report b) {
    return kind.add().apply((R) a, (R) b);
  }

  static Pingkit.UserError refused(Path file, String why) {
    return new Pingkit.UserError(Pingkit.EXIT_USAGE, "--merge: " + file + " " + why);
  }

  /** A histogram that must be there, encoded, for a result to merge exactly. */
  public static SampleHistogram histogram(JsonObject json, String name, boolean fortio) {
    SampleHistogram histogram = HistogramJson.read(json.getAsJsonObject(name), fortio);
    if (histogram == null) {
      throw new IllegalArgumentException(name + " has no encoded histogram (" + (fortio ? "HdrHistogram"
          : "hdrHistogram") + "): Fortio's own results, and pingkit's older ones, hold only percentiles");
    }
    return histogram;
  }

  /** Counts by name, summed. */
  public static Map<String, Long> sum(Map<String, Long> a, Map<String, Long> b) {
    Map<String, Long> sum = new java.util.TreeMap<>(a);
    b.forEach((name, count) -> sum.merge(name, count, Long::sum));
    return sum;
  }

  /** A JSON object of counts by name. */
  public static Map<String, Long> counts(JsonObject json) {
    Map<String, Long> counts = new java.util.TreeMap<>();
    if (json != null) {
      json.entrySet().forEach(e -> counts.put(e.getKey(), e.getValue().getAsLong()));
    }
    return counts;
  }
}
