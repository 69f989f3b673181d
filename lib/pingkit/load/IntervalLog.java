// --hlog FILE: a load run's latencies as HdrHistogram's interval log, so that a long run can be plotted over time and
// many hosts' logs merged.

package pingkit.load;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;
import pingkit.Pingkit;

/**
 * HdrHistogram's interval log (its HistogramLogWriter), an interval a second (--hlog-interval), values in
 * nanoseconds. Interval
 * times are seconds since the epoch, not since the log's start: logs of hosts that ran together line up, and
 * concatenated they are one log that HdrHistogram's HistogramLogProcessor adds up. Each interval is written as it
 * ends, so the log holds one interval's histogram at a time, however long the run.
 */
final class IntervalLog implements AutoCloseable {
  private static final double NANOS_PER_MILLI = 1e6;

  private final Path file;
  private final PrintStream out;
  private final HistogramLogWriter writer;
  private final long lengthNanos;
  private double intervalStartSeconds;

  private IntervalLog(Path file, PrintStream out, Duration length) {
    this.file = file;
    this.out = out;
    this.writer = new HistogramLogWriter(out);
    this.lengthNanos = length.toNanos();
  }

  /**
   * Opens FILE before any work starts (truncating it): a long run must not end unable to save its log. Its
   * intervals are {@code length} long (at least 10 ms).
   */
  static IntervalLog open(Path file, Duration length) {
    if (length.compareTo(Duration.ofMillis(10)) < 0) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--hlog-interval must be 10ms or more");
    }
    try {
      return new IntervalLog(file, new PrintStream(Files.newOutputStream(file), false, StandardCharsets.UTF_8),
          length);
    } catch (IOException | RuntimeException e) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--hlog: cannot write " + file + ": " + Pingkit.oneLine(e));
    }
  }

  long lengthNanos() {
    return lengthNanos;
  }

  /** The log's header, for a measurement that starts at {@code start}. */
  void begin(OffsetDateTime start, String host, String runType) {
    long startMillis = start.toInstant().toEpochMilli();
    writer.outputComment("pingkit " + Pingkit.VERSION + " on " + host + ": " + runType + ", latencies in ns");
    writer.outputLogFormatVersion();
    writer.outputStartTime(startMillis);
    writer.outputLegend();
    intervalStartSeconds = startMillis / 1e3;
  }

  /** The interval from the last one's end (or the start) to now. */
  void interval(Histogram latencies) {
    double endSeconds = System.currentTimeMillis() / 1e3;
    writer.outputIntervalHistogram(intervalStartSeconds, endSeconds, latencies, NANOS_PER_MILLI);
    intervalStartSeconds = endSeconds;
    out.flush();
  }

  @Override
  public void close() {
    out.close();
    if (out.checkError()) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--hlog: writing " + file + " failed");
    }
  }
}
