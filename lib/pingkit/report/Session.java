// What both clients do around a run from the command line: logging, --json FILE opened before any work, Ctrl-C, and
// the report printed even when a run is cut short.

package pingkit.report;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import pingkit.Logs;
import pingkit.Pingkit;
import pingkit.net.ConnectionOptions;

/**
 * A client's run from the command line: its logging set, --json FILE opened (a long run must not end unable to
 * save what it measured), and its stop signal: the first Ctrl-C or SIGTERM ends the run with its report, a
 * second one exits at once (130).
 */
public final class Session {
  /** Counted down by the first Ctrl-C or SIGTERM: the run stops and reports what it measured. */
  public final CountDownLatch stop = new CountDownLatch(1);
  private final AtomicInteger signals = new AtomicInteger();
  private final List<Runnable> onStop = new CopyOnWriteArrayList<>();
  private final ReportOptions report;
  private final List<Double> percentiles;
  private final boolean verbose;

  private Session(ReportOptions report, boolean verbose) {
    this.report = report;
    this.percentiles = report.percentiles();
    this.verbose = verbose;
  }

  /** Starts a run of {@code program}: logging (-v), the percentiles checked, --json FILE opened, Ctrl-C heard. */
  public static Session start(String program, ConnectionOptions connection, ReportOptions report) {
    Logs.configure(program, connection.verbose.length, false);
    Session session = new Session(report, connection.verbose());
    report.openJsonFile();
    Pingkit.onStopSignal(() -> {
      if (session.signals.incrementAndGet() > 1) {
        System.exit(Pingkit.EXIT_INTERRUPTED); // a second Ctrl-C: stop now, without the report
      }
      java.util.logging.Logger.getLogger("pingkit.client").info("stopping: the report comes once the calls in"
          + " flight end (a second Ctrl-C stops at once, without it)");
      session.stop.countDown();
      session.onStop.forEach(Runnable::run);
    });
    return session;
  }

  /** Runs {@code action} once, at the first Ctrl-C or SIGTERM (at once when it came already): to end a wait. */
  public void onStop(Runnable action) {
    AtomicBoolean ran = new AtomicBoolean();
    Runnable once = () -> {
      if (!ran.getAndSet(true)) {
        action.run();
      }
    };
    onStop.add(once);
    if (stop.getCount() == 0) {
      once.run(); // the signal came before: the handler may have run the list without it
    }
  }

  /** Prints a run's report (text or JSON, as the flags say), then throws what cut the run short, if anything. */
  public void finish(Report result) {
    print(result);
    if (result.failure() != null) {
      throw result.failure();
    }
  }

  /** Prints a run's report: text on stdout, or JSON where --json says. */
  public void print(Report result) {
    report.print(result.format(percentiles, verbose), () -> ReportOptions.toJson(result.toJson(percentiles)));
  }

  /** Prints a text for people, or the JSON {@code json} makes where --json says. */
  public void print(String text, java.util.function.Supplier<String> json) {
    report.print(text, json);
  }

  /**
   * Prints results merged from --json files as one run's report (and --hgrm FILE); returns the exit code a run
   * with those results has.
   */
  public int finishMerged(Report merged, Path hgrmFile, boolean allowErrors) {
    print(merged);
    if (hgrmFile != null) {
      writeHgrm(merged.latencyHistogram(), hgrmFile);
    }
    return merged.exitCode(allowErrors);
  }

  /** HdrHistogram's percentile distribution (milliseconds), as its plotting tools read it: --hgrm FILE. */
  public static void writeHgrm(SampleHistogram histogram, Path file) {
    try (PrintStream out = new PrintStream(Files.newOutputStream(file), true, StandardCharsets.UTF_8)) {
      histogram.outputPercentileDistribution(out, 1e6);
    } catch (IOException e) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "cannot write " + file + ": " + Pingkit.oneLine(e));
    }
  }

  /** Whether stdout gets JSON (then lines for people go to stderr, or nowhere). */
  public boolean jsonOnStdout() {
    return report.jsonOnStdout();
  }

  /** A run's report, printed whole or cut short: its measurements so far, and what cut it short. */
  public interface Report {
    /** The text for people; {@code verbose} (-v) may add detail. */
    String format(List<Double> percentiles, boolean verbose);

    /** The text for people, as printed without -v. */
    default String format(List<Double> percentiles) {
      return format(percentiles, false);
    }

    /** The JSON document (fields documented in the README). */
    Map<String, Object> toJson(List<Double> percentiles);

    /** What cut the run short (the report then holds what was measured before), or null. */
    Pingkit.UserError failure();

    /** The latencies (or RTTs) that --hgrm writes. */
    SampleHistogram latencyHistogram();

    /**
     * The exit code of a run with these results (0 unless the role says otherwise); a failure with its line is
     * thrown. {@code allowErrors}: --allow-errors.
     */
    default int exitCode(boolean allowErrors) {
      return Pingkit.EXIT_OK;
    }
  }
}
