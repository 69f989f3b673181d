// Load mode, shared by ping-client.java and health-check.java (Fortio's `load -grpc [-ping]`): the flags, the
// run they describe, and its course from the start line to the exit code. The streams run in LoadEngine.java.

package pingkit.load;

import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Logger;
import picocli.CommandLine.Option;
import pingkit.Host;
import pingkit.Pingkit;
import pingkit.net.Connection;
import pingkit.report.Merge;
import pingkit.report.SampleHistogram;
import pingkit.report.Session;
import pingkit.wire.WireClock;

/** A client's load mode: C connections × S streams of asynchronous calls, paced or flat out. */
public final class Load {
  private static final Logger log = Logger.getLogger("pingkit.load");
  /**
   * Descriptors a client needs besides its sockets: the JVM's own and its jars, files it writes, the arrival
   * watch's, and three for each network thread (an epoll set, a timer, a wake-up).
   */
  private static final int SPARE_FILES = 32 + 3 * Runtime.getRuntime().availableProcessors();

  private Load() {}

  /** Fortio's load flags; giving any of -c, -s, -qps or -t switches a client into load mode. */
  public static final class Options {
    @Option(names = "-c", paramLabel = "N", description = "load: connections (default: 4)")
    Integer connections;

    @Option(names = "-s", paramLabel = "N", description = "load: concurrent streams per connection (default: 1)")
    Integer streams;

    @Option(names = {"-qps", "--qps"}, paramLabel = "QPS",
        description = "load: total calls per second, 0 = as fast as possible (default: 8)")
    public Double qps;

    @Option(names = "-t", paramLabel = "DURATION",
        description = "load: how long, 0 = until Ctrl-C (default: 5s; -n gives an exact count instead)")
    Duration duration;

    @Option(names = "--warmup", paramLabel = "DURATION",
        description = "load: call this long first, unmeasured, so that both JITs are warm; the streams go on"
            + " into the measured run (default: 0s)")
    Duration warmup;

    @Option(names = "--allow-errors", description = "load: exit 0 even when calls failed")
    public boolean allowErrors;

    @Option(names = "--hgrm", paramLabel = "FILE",
        description = "load: write HdrHistogram's percentile distribution (for plotting) to FILE")
    public Path hgrmFile;

    @Option(names = "--hlog", paramLabel = "FILE", description = "load: write the latencies as HdrHistogram's"
        + " interval log, one interval a second, to FILE (plot it over time; logs of many hosts, concatenated, add"
        + " up in HdrHistogram's HistogramLogProcessor)")
    Path hlogFile;

    @Option(names = "--hlog-interval", paramLabel = "DURATION", defaultValue = "1s",
        description = "load: the length of each --hlog interval (default: ${DEFAULT-VALUE})")
    Duration hlogInterval;

    @Option(names = "--start-at", paramLabel = "TIME", description = "load: connect and warm up first, then start"
        + " measuring at TIME: RFC 3339 (2026-12-02T10:00:00Z) or +DURATION from now (+30s), so that runs on many"
        + " hosts measure together; a run not ready by then says so and starts at once")
    String startAt;

    public Options connections(int n) {
      connections = n;
      return this;
    }

    public Options qps(double callsPerSecond) {
      qps = callsPerSecond;
      return this;
    }

    public Options duration(Duration length) {
      duration = length;
      return this;
    }

    public boolean active() {
      return connections != null || streams != null || qps != null || duration != null;
    }

    /** A load flag given without load mode is a mistake to say, not to ignore. */
    public void rejectWithoutLoad() {
      String flag = active() ? null : warmup != null ? "--warmup" : hgrmFile != null ? "--hgrm"
          : hlogFile != null ? "--hlog" : startAt != null ? "--start-at" : allowErrors ? "--allow-errors" : null;
      if (flag != null) {
        throw new Pingkit.UserError(Pingkit.EXIT_USAGE, flag + " is for load mode: give -c, -s, -qps or -t too");
      }
    }
  }

  /**
   * The plan the flags describe: -n (when given) is an exact count of calls, else -t a duration; flat out, each
   * stream keeps {@code window} calls in flight.
   */
  public static LoadRun.Plan plan(Options options, String runType, String target, Integer exactCalls, int window) {
    int connections = options.connections != null ? options.connections : 4;
    int streams = options.streams != null ? options.streams : 1;
    double qps = options.qps != null ? options.qps : 8;
    Duration duration = options.duration != null ? options.duration : Duration.ofSeconds(5);
    if (connections < 1 || connections > 10_000) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "-c must be 1 to 10000 connections");
    }
    if (streams < 1 || streams > 100_000) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "-s must be 1 to 100000 streams per connection");
    }
    if (qps < 0 || Double.isNaN(qps) || Double.isInfinite(qps)) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "-qps must be 0 (as fast as possible) or more");
    }
    if (exactCalls != null && exactCalls < 1) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "-n must be 1 or more calls in load mode");
    }
    long[] files = Host.openFiles();
    if (files != null && files[0] + connections + SPARE_FILES > files[1]) {
      // a socket each: better said now than as the failure of connection 1,000 of 2,000
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "-c " + connections + " needs a file descriptor per"
          + " connection, and this process may open " + files[1] + " (ulimit -n; " + files[0] + " open): raise the"
          + " limit, or give fewer connections");
    }
    return new LoadRun.Plan(runType, target, connections, streams, qps, duration, exactCalls == null ? 0 : exactCalls,
        options.warmup != null ? options.warmup : Duration.ZERO, window,
        options.startAt == null ? null : startAt(options.startAt));
  }

  /** --start-at: RFC 3339 (upper or lower case, 'T' or a space between date and time), or +DURATION from now. */
  static OffsetDateTime startAt(String text) {
    OffsetDateTime time;
    try {
      time = text.startsWith("+") ? OffsetDateTime.now().plus(Pingkit.parseDuration(text.substring(1)))
          : OffsetDateTime.parse(text.trim().toUpperCase(Locale.ROOT).replaceFirst("^(\\S{10}) ", "$1T"));
    } catch (DateTimeParseException | picocli.CommandLine.TypeConversionException e) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--start-at '" + text + "' is not a time: RFC 3339 with its"
          + " offset (2026-12-02T10:00:00Z, 2026-12-02T11:00:00.5+01:00) or +DURATION from now (+30s)");
    }
    if (time.isAfter(OffsetDateTime.now().plusDays(1))) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--start-at " + text + " is more than a day away");
    }
    return time;
  }

  /**
   * Runs a client's load mode: the start line, a live progress line on a terminal, the report (text, and/or
   * Fortio's JSON with --json) and --hgrm. Fails with exit code 2 when the server was lost, 3 when calls failed
   * (unless --allow-errors), else 4 when answers were not the good one.
   */
  public static int execute(Session session, Options options, LoadRun run) {
    LoadRun.Plan plan = run.plan();
    PrintStream startLine = session.jsonOnStdout() ? System.err : System.out;
    startLine.printf(Locale.ROOT, "Starting %s test for %s with %d*%d streams at %s qps for %s%s%n", plan.runType(),
        plan.target(), plan.connections(), plan.streams(), plan.qps() > 0 ? SampleHistogram.number(plan.qps()) : "max",
        plan.requestedDuration(), (plan.warmup().isZero() ? "" : " after " + Pingkit.formatDuration(plan.warmup())
            + " of warm-up") + (plan.startAt() == null ? "" : ", measuring from " + Merge.time(plan.startAt())));
    LoadResult result;
    try (IntervalLog intervals = options.hlogFile == null ? null
        : IntervalLog.open(options.hlogFile, options.hlogInterval)) {
      result = run(run, session.stop, System.console() != null ? System.err : null, intervals);
    }
    session.print(result);
    if (result.lateCalls() > Math.max(10, result.measuredCalls() / 100)) {
      log.warning("the client could not keep the schedule: " + result.lateCalls() + " of "
          + result.measuredCalls() + " " + run.calls().unit() + " went out late by its own delay (see 'Client"
          + " start delay'" + (run.calls().streams() == null ? "; not counted as the server's)" : ")"));
    }
    if (options.hgrmFile != null) {
      Session.writeHgrm(result.latencyHistogram(), options.hgrmFile);
    }
    if (result.failure() != null) {
      throw result.failure();
    }
    return result.exitCode(options.allowErrors);
  }

  /** A run for JShell and tests, as {@code options} say: what it measured, with no live line and no --hlog. */
  public static LoadResult measure(Options options, Supplier<LoadRun> run) {
    if (!options.active()) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "load mode takes -c, -s, -qps or -t");
    }
    return run(run.get(), new CountDownLatch(1), null, null);
  }

  /**
   * Runs the plan: a warm-up call per connection (or a health check, see {@link LoadRun.Calls}), then the streams
   * ({@link LoadEngine}) until the schedule ends or {@code stop} is counted down; {@code progress} (null: none) gets a line a second, {@code intervals} (null:
   * none) an interval a second. With --start-at, the schedule starts then, less the warm-up.
   */
  public static LoadResult run(LoadRun run, CountDownLatch stop, PrintStream progress, IntervalLog intervals) {
    List<Connection> connections = new ArrayList<>();
    try {
      for (int i = 0; i < run.plan().connections(); i++) {
        // paced runs have their answers' arrivals watched; flat out, the watches' wake-ups would take CPU from calls
        connections.add(run.dialer().connect(run.maxMessageBytes(), run.plan().qps() > 0));
      }
      // the warm-up calls go out together: with --delay, one after the other would take connections × delay
      List<CompletableFuture<String>> warmUps = new ArrayList<>();
      LoadRun.CallStarter firstCall = run.calls().warmUpCall() ? run.calls().start()
          : connectionProbe(run.dialer().connectTimeout());
      for (int i = 0; i < connections.size(); i++) {
        CompletableFuture<String> warmUp = new CompletableFuture<>();
        // stream i of the run is on connection i
        firstCall.start(connections.get(i), i, (answer, failure, clock) -> {
          if (failure == null) {
            warmUp.complete(answer);
          } else {
            warmUp.completeExceptionally(failure);
          }
        });
        warmUps.add(warmUp);
      }
      for (int i = 0; i < warmUps.size(); i++) {
        warmUp(connections.get(i), warmUps.get(i), run.calls().warmUpCall() ? "warm-up call"
            : "the connection's first call (a health check)");
      }
      long startNanos = run.plan().startAt() == null ? System.nanoTime() : awaitStart(run.plan(), stop);
      LoadEngine engine = new LoadEngine(run, connections, stop, startNanos);
      engine.start();
      return engine.awaitEnd(progress, intervals);
    } finally {
      connections.forEach(Connection::close);
    }
  }

  /**
   * Waits, connected and warmed up, until --start-at less --warmup (or a stop): returns when the schedule starts.
   * A run not ready by then says so and starts at once (its report says how late).
   */
  private static long awaitStart(LoadRun.Plan plan, CountDownLatch stop) {
    Instant scheduleStart = plan.startAt().toInstant().minus(plan.warmup());
    long waitNanos = Duration.between(Instant.now(), scheduleStart).toNanos();
    long startNanos = System.nanoTime() + waitNanos;
    if (waitNanos <= 0) {
      log.warning("not ready by --start-at " + Merge.time(plan.startAt()) + ": measuring starts "
          + SampleHistogram.number(-waitNanos / 1e9) + " s late");
      return System.nanoTime();
    }
    log.info("ready; waiting " + SampleHistogram.number(waitNanos / 1e9) + " s for --start-at");
    try {
      stop.await(waitNanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return Math.min(startNanos, System.nanoTime());
  }

  /** A health check whose answer, whatever it is (UNIMPLEMENTED too), shows that the connection carries calls. */
  private static LoadRun.CallStarter connectionProbe(Duration timeout) {
    return (server, stream, ended) -> server.call(HealthGrpc.getCheckMethod(), HealthCheckRequest.getDefaultInstance(),
        timeout, (reply, failure, clock) -> {
          boolean answered = failure == null || (clock instanceof WireClock.CallClock call && call.serverAnswered());
          ended.accept(answered ? "a health answer" : null, answered ? null : failure, clock);
        });
  }

  private static void warmUp(Connection connection, CompletableFuture<String> warmUpCall, String what) {
    try {
      String outcome = warmUpCall.join();
      // the run's answers are counted and reported; this one is left out of them, so it is only detail
      log.info(what + " answered " + outcome);
    } catch (CompletionException e) {
      throw connection.failure(what, e.getCause());
    }
  }
}
