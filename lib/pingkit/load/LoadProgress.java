// A load run's live line on a terminal.

package pingkit.load;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import pingkit.report.SampleHistogram;

/**
 * The progress line, rewritten in place about once a second (however short the intervals it is given): the
 * warm-up's time left, then calls so far, the rate and p50 since the last line, and the errors.
 */
final class LoadProgress {
  private static final long SHOWN_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(900);

  private final PrintStream out;
  private final String unit;
  private final Histogram sinceShown = new Histogram(3);
  private long shownAtNanos = System.nanoTime();
  private long calls;

  LoadProgress(PrintStream out, String unit) {
    this.out = out;
    this.unit = unit;
  }

  /** The latest interval's latencies (null: still warming up, {@code warmUpLeftNanos} to go), and the errors. */
  void update(Histogram interval, long warmUpLeftNanos, long errors) {
    if (interval != null) {
      sinceShown.add(interval);
    }
    long nowNanos = System.nanoTime();
    if (nowNanos - shownAtNanos < SHOWN_EVERY_NANOS) {
      return;
    }
    double seconds = (nowNanos - shownAtNanos) / 1e9;
    shownAtNanos = nowNanos;
    if (interval == null) {
      out.printf(Locale.ROOT, "\rwarming up, %ds left, %d errors   ", TimeUnit.NANOSECONDS.toSeconds(warmUpLeftNanos)
          + 1, errors);
    } else {
      calls += sinceShown.getTotalCount();
      out.printf(Locale.ROOT, "\r%d %s, %s/s, p50 %s ms, %d errors   ", calls, unit,
          SampleHistogram.number(Math.round(sinceShown.getTotalCount() / seconds)),
          SampleHistogram.number(sinceShown.getValueAtPercentile(50) / 1e6), errors);
      sinceShown.reset();
    }
    out.flush();
  }

  /** Clears the line, before the report. */
  void clear() {
    out.print("\r" + " ".repeat(70) + "\r");
  }
}
