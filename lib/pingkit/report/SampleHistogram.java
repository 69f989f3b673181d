// The clients' histograms: samples in nanoseconds kept in HdrHistogram, and their text for people (Fortio's,
// HdrHistogram's hgrm); their JSON is HistogramJson's.

package pingkit.report;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * Samples in nanoseconds, kept in HdrHistogram (3 significant digits) and reported in a {@link Unit}.
 * HdrHistogram holds non-negative values, so negative samples (clock skew) are kept as magnitudes in a second
 * histogram. Not thread-safe: one writer, or one per thread and {@link #add} at the end.
 */
public final class SampleHistogram {
  /** The unit a histogram is reported in: Fortio prints ping and health RTTs in µs, load latencies in s. */
  public enum Unit {
    MICROS(1e3), SECONDS(1e9);

    public final double nanos;

    Unit(double nanos) {
      this.nanos = nanos;
    }
  }

  private Histogram positive = new Histogram(3);
  private Histogram negative = new Histogram(3);
  private long count;
  private long minNanos = Long.MAX_VALUE;
  private long maxNanos = Long.MIN_VALUE;
  // running mean and sum of squared deviations (Welford): exact enough even far from zero (clock skew)
  private double meanNanos;
  private double squaredDeviationsNanos;

  /** A copy of an HdrHistogram of non-negative nanoseconds (sum and deviation at its resolution). */
  public static SampleHistogram of(Histogram nanos) {
    SampleHistogram histogram = new SampleHistogram();
    for (var bucket : nanos.recordedValues()) {
      long value = nanos.medianEquivalentValue(bucket.getValueIteratedTo());
      long times = bucket.getCountAtValueIteratedTo();
      histogram.positive.recordValueWithCount(value, times);
      histogram.addMoments(times, value, 0);
    }
    if (histogram.count > 0) {
      histogram.minNanos = nanos.getMinValue();
      histogram.maxNanos = nanos.getMaxValue();
    }
    return histogram;
  }

  /**
   * Samples held in HdrHistogram's form ({@code negative}: the magnitudes of the negative ones), with their
   * extremes and moments as a result's JSON keeps them ({@link HistogramJson#read}; with no samples, ignored).
   */
  static SampleHistogram holding(Histogram positive, Histogram negative, long minNanos, long maxNanos, double meanNanos,
      double stddevNanos) {
    SampleHistogram histogram = new SampleHistogram();
    histogram.positive = positive;
    histogram.negative = negative;
    histogram.count = positive.getTotalCount() + negative.getTotalCount();
    if (histogram.count > 0) {
      histogram.minNanos = minNanos;
      histogram.maxNanos = maxNanos;
      histogram.meanNanos = meanNanos;
      histogram.squaredDeviationsNanos = stddevNanos * stddevNanos * histogram.count;
    }
    return histogram;
  }

  /** The non-negative samples as HdrHistogram holds them (to read, not to change). */
  Histogram positiveNanos() {
    return positive;
  }

  /** The magnitudes of the negative samples as HdrHistogram holds them (to read, not to change). */
  Histogram negativeMagnitudes() {
    return negative;
  }

  public void record(long nanos) {
    if (nanos >= 0) {
      positive.recordValue(nanos);
    } else {
      negative.recordValue(nanos == Long.MIN_VALUE ? Long.MAX_VALUE : -nanos);
    }
    minNanos = Math.min(minNanos, nanos);
    maxNanos = Math.max(maxNanos, nanos);
    addMoments(1, nanos, 0);
  }

  /** Adds {@code other}'s samples to this one's (as if one run had recorded them all) and returns this one. */
  public SampleHistogram add(SampleHistogram other) {
    positive.add(other.positive);
    negative.add(other.negative);
    minNanos = Math.min(minNanos, other.minNanos);
    maxNanos = Math.max(maxNanos, other.maxNanos);
    addMoments(other.count, other.meanNanos, other.squaredDeviationsNanos);
    return this;
  }

  /** Merges {@code n} samples of mean {@code mean} and squared deviations {@code m2} (Chan et al.). */
  private void addMoments(long n, double mean, double m2) {
    if (n == 0) {
      return;
    }
    long total = count + n;
    double delta = mean - meanNanos;
    meanNanos += delta * n / total;
    squaredDeviationsNanos += m2 + delta * delta * count * n / total;
    count = total;
  }

  public long count() {
    return count;
  }

  public double avg(Unit unit) {
    return count == 0 ? 0 : meanNanos / unit.nanos;
  }

  /** Population standard deviation, like Fortio's. */
  public double stddev(Unit unit) {
    return count == 0 ? 0 : Math.sqrt(squaredDeviationsNanos / count) / unit.nanos;
  }

  public double min(Unit unit) {
    return count == 0 ? 0 : minNanos / unit.nanos;
  }

  public double max(Unit unit) {
    return count == 0 ? 0 : maxNanos / unit.nanos;
  }

  double sum(Unit unit) {
    return meanNanos * count / unit.nanos;
  }

  /** The value at {@code percentile} (0-100), nearest rank, within HdrHistogram's 3 significant digits. */
  public double percentile(double percentile, Unit unit) {
    if (count == 0) {
      return 0;
    }
    long negatives = negative.getTotalCount();
    // nearest rank, 1-based; the epsilon keeps 7% of 100 at rank 7 despite floating-point error
    long rank = Math.max(1, (long) Math.ceil(percentile * count / 100.0 - 1e-9));
    double nanos;
    if (rank <= negatives) {
      // ascending order starts with the largest magnitudes: rank r is the (negatives - r + 1)-th magnitude
      nanos = -negative.getValueAtPercentile(100.0 * (negatives - rank + 1) / negatives);
    } else {
      nanos = positive.getValueAtPercentile(100.0 * (rank - negatives) / positive.getTotalCount());
    }
    return Math.max(min(unit), Math.min(max(unit), nanos / unit.nanos));
  }

  /** Counts per bucket (Fortio-like bounds in the unit), the first from min and the last to max. */
  public List<Bucket> buckets(Unit unit) {
    List<Bucket> buckets = new ArrayList<>();
    if (count == 0) {
      return buckets;
    }
    List<Double> bounds = bucketBounds(min(unit), max(unit));
    bounds.add(0, min(unit));
    bounds.add(max(unit));
    long countBefore = 0;
    long positivesCountedTo = -1; // the positive samples counted so far: those up to this value's bucket
    long atOrBelow = negative.getTotalCount();
    for (int i = 0; i + 1 < bounds.size(); i++) {
      long boundNanos = Math.round(bounds.get(i + 1) * unit.nanos);
      long countUpToEnd;
      if (i + 2 == bounds.size()) {
        countUpToEnd = count;
      } else if (boundNanos < 0) {
        countUpToEnd = negativesAtOrBelow(boundNanos);
      } else {
        // ascending bounds: each adds the buckets after the last one counted, up to its own
        long from = positivesCountedTo < 0 ? 0 : positive.nextNonEquivalentValue(positivesCountedTo);
        if (from <= boundNanos) {
          atOrBelow += positive.getCountBetweenValues(from, boundNanos);
          positivesCountedTo = boundNanos;
        }
        countUpToEnd = Math.min(count, atOrBelow);
      }
      if (countUpToEnd > countBefore) {
        buckets.add(new Bucket(bounds.get(i), bounds.get(i + 1), 100.0 * countUpToEnd / count,
            countUpToEnd - countBefore));
        countBefore = countUpToEnd;
      }
    }
    return buckets;
  }

  /**
   * The negative samples at or below {@code boundNanos} (< 0), at HdrHistogram's resolution: those whose bucket's
   * lowest magnitude is at least the bound's (a positive sample is at or below a bound when its bucket's lowest
   * value is).
   */
  private long negativesAtOrBelow(long boundNanos) {
    return negative.getTotalCount() - negative.getCountBetweenValues(0, -boundNanos - 1);
  }

  /** 1, 1.2, 1.4 ... 8, 9, 10, 12 ... times powers of ten (and their negatives) strictly between min and max. */
  private static List<Double> bucketBounds(double min, double max) {
    List<Double> bounds = new ArrayList<>();
    for (int i = DecimalBounds.ASCENDING.length - 1; i >= 0; i--) {
      if (-DecimalBounds.ASCENDING[i] > min && -DecimalBounds.ASCENDING[i] < max) {
        bounds.add(-DecimalBounds.ASCENDING[i]);
      }
    }
    for (double bound : DecimalBounds.ASCENDING) {
      if (bound > min && bound < max) {
        bounds.add(bound);
      }
    }
    return bounds;
  }

  /** The positive bucket bounds from 1e-12 to 9e12, made once (a class of their own: when a report needs them). */
  private static final class DecimalBounds {
    static final double[] ASCENDING = ascending();

    private static double[] ascending() {
      String[] steps = {"1", "1.2", "1.4", "1.6", "1.8", "2", "2.5", "3", "3.5", "4", "4.5", "5", "6", "7", "8", "9"};
      double[] bounds = new double[25 * steps.length];
      int i = 0;
      for (int exponent = -12; exponent <= 12; exponent++) {
        for (String step : steps) {
          // read from decimal text, so that bounds print as 0.0018 rather than 0.0018000000000000002
          bounds[i++] = Double.parseDouble(step + "E" + exponent);
        }
      }
      return bounds;
    }
  }

  /** Fortio's histogram text: summary, bucket table, and one "# target" line per percentile. */
  public String format(String title, List<Double> percentiles, Unit unit) {
    if (count == 0) {
      return title + " : no data\n";
    }
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "%s : count %d avg %s +/- %s min %s max %s sum %s%n", title, count,
        number(avg(unit)), number(stddev(unit)), number(min(unit)), number(max(unit)), number(sum(unit))));
    out.append("# range, mid point, percentile, count\n");
    String separator = ">=";
    for (Bucket bucket : buckets(unit)) {
      out.append(String.format(Locale.ROOT, "%s %s <= %s , %s , %.2f, %d%n", separator, number(bucket.start),
          number(bucket.end), number((bucket.start + bucket.end) / 2), bucket.percent, bucket.count));
      separator = ">";
    }
    for (double percentile : percentiles) {
      out.append(String.format(Locale.ROOT, "# target %s%% %s%n", number(percentile),
          number(percentile(percentile, unit))));
    }
    return out.toString();
  }

  /** HdrHistogram's percentile distribution (the .hgrm format), values divided by {@code scaleNanos}. */
  void outputPercentileDistribution(PrintStream out, double scaleNanos) {
    positive.outputPercentileDistribution(out, scaleNanos);
  }

  public record Bucket(double start, double end, double percent, long count) {}

  /** A number as Fortio prints it: up to 6 significant digits, no trailing zeros. */
  /** "p50 0.21 ms p99 0.40 ms avg 0.23 ms": the few numbers a person reads first. */
  public String summary() {
    if (count() == 0) {
      return "no samples";
    }
    return "p50 " + millis(percentile(50, Unit.SECONDS)) + " p99 " + millis(percentile(99, Unit.SECONDS)) + " avg "
        + millis(avg(Unit.SECONDS));
  }

  /** Milliseconds with two or three significant digits, e.g. "0.21 ms", "12.5 ms", "340 ms". */
  public static String millis(double seconds) {
    double millis = seconds * 1e3;
    double size = Math.abs(millis);
    return String.format(Locale.ROOT, size < 10 ? "%.2f ms" : size < 100 ? "%.1f ms" : "%.0f ms", millis);
  }

  @Override
  public String toString() {
    return "SampleHistogram[" + count() + " samples: " + summary() + "]";
  }

  public static String number(double value) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return Double.toString(value);
    }
    return new java.math.BigDecimal(value).round(new java.math.MathContext(6)).stripTrailingZeros()
        .toPlainString();
  }
}
