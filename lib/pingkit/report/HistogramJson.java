// A histogram's JSON forms: pingkit's (microseconds) and Fortio's HistogramData (seconds), each with HdrHistogram's
// own encoding of the samples so that results of many runs merge exactly, and a histogram read back from either.

package pingkit.report;

import com.google.gson.JsonObject;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;
import pingkit.Pingkit;

/** {@link SampleHistogram} as JSON and back. */
public final class HistogramJson {
  private HistogramJson() {}

  /** pingkit's JSON for a histogram: microseconds, stable field names (documented in the README). */
  public static Map<String, Object> pingkit(SampleHistogram histogram, List<Double> percentiles) {
    SampleHistogram.Unit unit = SampleHistogram.Unit.MICROS;
    List<Map<String, Object>> values = new ArrayList<>();
    for (double percentile : percentiles) {
      values.add(ReportOptions.jsonObject("percentile", percentile, "value",
          round(histogram.percentile(percentile, unit))));
    }
    Map<String, Object> json = ReportOptions.jsonObject("count", histogram.count(), "min", round(histogram.min(unit)),
        "max", round(histogram.max(unit)), "avg", round(histogram.avg(unit)), "stddev",
        round(histogram.stddev(unit)), "sum", round(histogram.sum(unit)), "percentiles", values);
    putEncoded(json, histogram, "hdrHistogram", "hdrHistogramNegative");
    return json;
  }

  /** Fortio's HistogramData: seconds, its field names. */
  public static Map<String, Object> fortio(SampleHistogram histogram, List<Double> percentiles) {
    SampleHistogram.Unit unit = SampleHistogram.Unit.SECONDS;
    List<Map<String, Object>> data = new ArrayList<>();
    for (SampleHistogram.Bucket bucket : histogram.buckets(unit)) {
      data.add(ReportOptions.jsonObject("Start", bucket.start(), "End", bucket.end(), "Percent", bucket.percent(),
          "Count", bucket.count()));
    }
    List<Map<String, Object>> values = new ArrayList<>();
    for (double percentile : percentiles) {
      values.add(ReportOptions.jsonObject("Percentile", percentile, "Value", histogram.percentile(percentile, unit)));
    }
    Map<String, Object> json = ReportOptions.jsonObject("Count", histogram.count(), "Min", histogram.min(unit),
        "Max", histogram.max(unit), "Sum", histogram.sum(unit), "Avg", histogram.avg(unit), "StdDev",
        histogram.stddev(unit), "Data", data, "Percentiles", values);
    putEncoded(json, histogram, "HdrHistogram", "HdrHistogramNegative");
    return json;
  }

  /** A value of pingkit's JSON: to a thousandth (of a microsecond). */
  public static double round(double value) {
    return Math.round(value * 1000) / 1000.0;
  }

  /**
   * The samples, losslessly: HdrHistogram's compressed encoding in base64 (values in nanoseconds, as HdrHistogram's
   * own tools read it); negative samples, if any, as their magnitudes in a second one.
   */
  private static void putEncoded(Map<String, Object> json, SampleHistogram histogram, String name,
      String negativeName) {
    json.put(name, encode(histogram.positiveNanos()));
    if (histogram.negativeMagnitudes().getTotalCount() > 0) {
      json.put(negativeName, encode(histogram.negativeMagnitudes()));
    }
  }

  private static String encode(Histogram histogram) {
    ByteBuffer buffer = ByteBuffer.allocate(histogram.getNeededByteBufferCapacity());
    int length = histogram.encodeIntoCompressedByteBuffer(buffer);
    return Base64.getEncoder().encodeToString(Arrays.copyOf(buffer.array(), length));
  }

  /**
   * A histogram read back from its JSON ({@link #pingkit}: {@code fortio} false, or {@link #fortio}): the samples
   * from their encoding, the extremes and moments from their fields; null when it has no encoding. Throws
   * IllegalArgumentException for an encoding that is not HdrHistogram's or does not add up to its count.
   */
  public static SampleHistogram read(JsonObject json, boolean fortio) {
    String name = fortio ? "HdrHistogram" : "hdrHistogram";
    if (json == null || !json.has(name)) {
      return null;
    }
    SampleHistogram.Unit unit = fortio ? SampleHistogram.Unit.SECONDS : SampleHistogram.Unit.MICROS;
    Histogram positive = decode(json.get(name).getAsString());
    Histogram negative = json.has(name + "Negative") ? decode(json.get(name + "Negative").getAsString())
        : new Histogram(3);
    long count = json.get(fortio ? "Count" : "count").getAsLong();
    long samples = positive.getTotalCount() + negative.getTotalCount();
    if (count != samples) {
      throw new IllegalArgumentException(name + " holds " + samples + " samples, its count says " + count);
    }
    if (count == 0) {
      return SampleHistogram.holding(positive, negative, 0, 0, 0, 0);
    }
    return SampleHistogram.holding(positive, negative,
        Math.round(json.get(fortio ? "Min" : "min").getAsDouble() * unit.nanos),
        Math.round(json.get(fortio ? "Max" : "max").getAsDouble() * unit.nanos),
        json.get(fortio ? "Avg" : "avg").getAsDouble() * unit.nanos,
        json.get(fortio ? "StdDev" : "stddev").getAsDouble() * unit.nanos);
  }

  private static Histogram decode(String base64) {
    try {
      Histogram histogram = Histogram.decodeFromCompressedByteBuffer(
          ByteBuffer.wrap(Base64.getDecoder().decode(base64)), 0);
      histogram.setAutoResize(true); // a merge adds others' samples, whatever their range
      return histogram;
    } catch (DataFormatException | RuntimeException e) {
      throw new IllegalArgumentException("not HdrHistogram's compressed encoding in base64: " + Pingkit.oneLine(e));
    }
  }
}
