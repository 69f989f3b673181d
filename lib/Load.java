// Load mode, shared by ping-client.java and health-check.java (Fortio's `load -grpc [-ping]`): connections and
// streams of asynchronous calls at a target rate, for a duration or an exact count.
//SOURCES Client.java

import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.logging.Logger;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;
import picocli.CommandLine.Option;

/** The load engine: C connections × S streams of asynchronous calls, paced or flat out. */
final class Load {
  private static final Logger log = Logger.getLogger("pingkit.load");

  private Load() {}

  /** Fortio's load flags; giving any of -c, -s, -qps or -t switches a client into load mode. */
  static final class Options {
    @Option(names = "-c", paramLabel = "N", description = "load: connections (default: 4)")
    Integer connections;

    @Option(names = "-s", paramLabel = "N", description = "load: concurrent streams per connection (default: 1)")
    Integer streams;

    @Option(names = {"-qps", "--qps"}, paramLabel = "QPS",
        description = "load: total calls per second, 0 = as fast as possible (default: 8)")
    Double qps;

    @Option(names = "-t", paramLabel = "DURATION",
        description = "load: how long, 0 = until Ctrl-C (default: 5s; -n gives an exact count instead)")
    Duration duration;

    @Option(names = "--warmup", paramLabel = "DURATION",
        description = "load: call this long first, unmeasured, so that both JITs are warm; the streams go on"
            + " into the measured run (default: 0s)")
    Duration warmup;

    @Option(names = "--allow-errors", description = "load: exit 0 even when calls failed")
    boolean allowErrors;

    @Option(names = "--hgrm", paramLabel = "FILE",
        description = "load: write HdrHistogram's percentile distribution (for plotting) to FILE")
    Path hgrmFile;

    boolean active() {
      return connections != null || streams != null || qps != null || duration != null;
    }
  }

  /** The plan the flags describe: -n (when given) is an exact count of calls, else -t a duration. */
  static Plan plan(Options options, String runType, String target, Integer exactCalls) {
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
    return new Plan(runType, target, connections, streams, qps, duration, exactCalls == null ? 0 : exactCalls,
        options.warmup != null ? options.warmup : Duration.ZERO);
  }

  /**
   * Runs a plan as a client's load mode: the start line, a live progress line on a terminal, the report (text,
   * and/or Fortio's JSON with --json) and --hgrm. Fails with exit code 3 when calls failed (unless
   * --allow-errors), else 4 when a health answer was not SERVING.
   */
  static int execute(Plan plan, Options options, Client.ReportOptions report, Client.ConnectionOptions connection,
      int maxMessageBytes, CallStarter call, String outcomePrefix, CountDownLatch stop, List<Double> percentiles) {
    PrintStream startLine = report.jsonOnStdout() ? System.err : System.out;
    startLine.printf(Locale.ROOT, "Starting %s test for %s with %d*%d streams at %s qps for %s%s%n", plan.runType,
        plan.target, plan.connections, plan.streams, plan.qps > 0 ? Client.number(plan.qps) : "max",
        plan.requestedDuration(), plan.warmup.isZero() ? "" : " after " + Pingkit.formatDuration(plan.warmup)
            + " of warm-up");
    Result result = run(plan, connection, maxMessageBytes, call, outcomePrefix, stop,
        System.console() != null ? System.err : null);
    report.print(result.format(percentiles, connection.verbose()),
        () -> Client.toJson(result.toFortioJson(percentiles)));
    if (result.lateCalls > Math.max(10, result.calls() / 100)) {
      log.warning("the client could not keep the schedule: " + result.lateCalls + " of " + result.calls()
          + " calls went out late by its own delay (see 'Client start delay'; not counted as the server's)");
    }
    if (options.hgrmFile != null) {
      writeHgrm(options.hgrmFile, result.latency);
    }
    if (result.serverLost != null) {
      throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, result.serverLost + "; the report above is partial");
    }
    if (result.failedCalls > 0 && !options.allowErrors) {
      throw new Pingkit.UserError(Pingkit.EXIT_RPC_FAILED, result.failedCalls + " of " + result.calls()
          + " calls failed (counted above by status; --allow-errors accepts them)");
    }
    if (result.notServing() > 0) {
      throw new Pingkit.UserError(Pingkit.EXIT_UNHEALTHY, result.notServing() + " of " + result.calls()
          + " answers were not SERVING (counted above by status)");
    }
    return Pingkit.EXIT_OK;
  }

  /**
   * Starts one call on a connection and tells {@code ended} how it ended: with the answer counted ("SERVING",
   * "NOT_SERVING", ...), or with the failure, counted by its status code. A callback, not a future: at full rate
   * the futures and their listeners were a tenth of the load client's work.
   */
  interface CallStarter {
    void start(Client.Connection server, Ended ended);
  }

  /** How a call ended: exactly one of {@code answer} and {@code failure} is null; its times (null: none). */
  interface Ended {
    void accept(String answer, Throwable failure, WireClock.CallClock clock);
  }

  /** Calls a unary method with the same request each time; {@code answer} names what the reply counts as. */
  static <Q, R> CallStarter unaryCall(MethodDescriptor<Q, R> method, Q request, Duration timeout,
      Function<R, String> answer) {
    return (server, ended) -> server.call(method, request, timeout,
        (reply, failure, clock) -> ended.accept(failure == null ? answer.apply(reply) : null, failure, clock));
  }

  /** What a run is asked to do. */
  record Plan(String runType, String target, int connections, int streams, double qps, Duration duration,
      long exactCalls, Duration warmup) {

    int slots() {
      return connections * streams;
    }

    String requestedDuration() {
      return exactCalls > 0 ? "exactly " + exactCalls + " calls"
          : duration.isZero() ? "until interrupted" : Pingkit.formatDuration(duration);
    }
  }

  /**
   * What a run measured: latencies at the wire; the client's own time per call (overhead), and at a fixed rate
   * how late it put due calls on the wire (start delay) and how many were late.
   */
  record Result(Plan plan, OffsetDateTime startTime, long warmupCalls, Duration actualDuration,
      Client.SampleHistogram latency, Client.SampleHistogram correctedLatency, Client.Overhead overhead,
      Client.SampleHistogram startDelay, long lateCalls, Map<String, Long> outcomes, long failedCalls,
      String outcomePrefix, String serverLost) {

    long calls() {
      return latency.count();
    }

    /** Calls answered with something other than SERVING (health answers; a ping's answer is SERVING). */
    long notServing() {
      return calls() - failedCalls - outcomes.getOrDefault("SERVING", 0L);
    }

    double actualQps() {
      return actualDuration.isZero() ? 0 : calls() / (actualDuration.toNanos() / 1e9);
    }

    String format(List<Double> percentiles) {
      return format(percentiles, false);
    }

    /** Fortio's text, with the client's own time (its overhead by phase: -v) after the latencies. */
    String format(List<Double> percentiles, boolean overheadByPhase) {
      StringBuilder out = new StringBuilder();
      out.append(String.format(Locale.ROOT, "Ended after %s : %d calls. qps=%s%n",
          Client.number(actualDuration.toNanos() / 1e9) + "s", calls(), Client.number(actualQps())));
      out.append(latency.format("Aggregated Function Time", percentiles, Client.Unit.SECONDS));
      if (plan.qps > 0) {
        out.append(correctedLatency.format("Latency from intended start (coordinated omission corrected)",
            percentiles, Client.Unit.SECONDS));
      }
      out.append(overhead.format(Client.Unit.SECONDS, overheadByPhase));
      if (plan.qps > 0) {
        out.append(String.format(Locale.ROOT, "Client start delay seconds : avg %s p50 %s p99 %s max %s, %d calls"
            + " late (not in the corrected latency)%n", Client.number(startDelay.avg(Client.Unit.SECONDS)),
            Client.number(startDelay.percentile(50, Client.Unit.SECONDS)),
            Client.number(startDelay.percentile(99, Client.Unit.SECONDS)),
            Client.number(startDelay.max(Client.Unit.SECONDS)), lateCalls));
      }
      outcomes.forEach((outcome, count) -> out.append(outcomePrefix).append(' ').append(outcome).append(" : ")
          .append(count).append('\n'));
      out.append(String.format(Locale.ROOT, "All done %d calls (plus %d warmup) %s ms avg, %s qps%n", calls(),
          warmupCalls, Client.number(latency.avg(Client.Unit.SECONDS) * 1e3), Client.number(actualQps())));
      return out.toString();
    }

    /** Fortio's GRPCRunnerResults: its field names and types, histogram values in seconds. */
    Map<String, Object> toFortioJson(List<Double> percentiles) {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("RunType", plan.runType);
      json.put("Labels", "");
      json.put("StartTime", startTime.format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
      json.put("RequestedQPS", plan.qps > 0 ? Client.number(plan.qps) : "max");
      json.put("RequestedDuration", plan.requestedDuration());
      json.put("ActualQPS", actualQps());
      json.put("ActualDuration", actualDuration.toNanos());
      json.put("NumThreads", plan.slots());
      json.put("Version", "pingkit " + Pingkit.VERSION);
      json.put("DurationHistogram", latency.toFortioJson(percentiles));
      json.put("ErrorsDurationHistogram", Map.of("Count", failedCalls));
      json.put("CorrectedDurationHistogram", correctedLatency.toFortioJson(percentiles));
      overhead.putFortioJson(json, percentiles);
      if (plan.qps > 0) {
        json.put("ClientStartDelayHistogram", startDelay.toFortioJson(percentiles));
        json.put("LateCalls", lateCalls);
      }
      json.put("Exactly", plan.exactCalls);
      json.put("RetCodes", outcomes);
      json.put("Destination", plan.target);
      json.put("Streams", plan.streams);
      json.put("Ping", outcomePrefix.equals("Ping"));
      return json;
    }
  }

  /**
   * Runs the plan: a warm-up call per connection, then every stream calls as soon as its previous call ended
   * and its next slot of the target rate has come; with --warmup, the streams' first calls are not measured.
   * Latency is measured from each call's actual start and, at a fixed rate, from its intended start too, so
   * that a stalled server cannot hide behind a client that waited for it (coordinated omission).
   */
  static Result run(Plan plan, Client.ConnectionOptions connectionOptions, int maxMessageBytes, CallStarter call,
      String outcomePrefix, CountDownLatch stop, PrintStream progress) {
    List<Client.Connection> connections = new ArrayList<>();
    ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "load-pacer");
      thread.setDaemon(true);
      return thread;
    });
    try {
      for (int i = 0; i < plan.connections; i++) {
        // paced runs have their answers' arrivals watched; flat out, the watches' wake-ups would take CPU from calls
        connections.add(Client.Connection.open(connectionOptions, maxMessageBytes, plan.qps > 0).connect());
      }
      // the warm-up calls go out together: with --delay, one after the other would take connections × delay
      List<CompletableFuture<String>> warmUps = new ArrayList<>();
      for (Client.Connection connection : connections) {
        CompletableFuture<String> warmUp = new CompletableFuture<>();
        call.start(connection, (answer, failure, clock) -> {
          if (failure == null) {
            warmUp.complete(answer);
          } else {
            warmUp.completeExceptionally(failure);
          }
        });
        warmUps.add(warmUp);
      }
      for (int i = 0; i < connections.size(); i++) {
        warmUp(connections.get(i), warmUps.get(i));
      }
      Engine engine = new Engine(plan, connections, call, pacer, stop, connectionOptions.connectTimeout);
      OffsetDateTime startTime = OffsetDateTime.now().plus(plan.warmup);
      engine.start(System.nanoTime());
      engine.awaitEnd(progress);
      if (engine.serverLost != null && engine.lostDuringWarmUp) {
        throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, engine.serverLost + " during --warmup");
      }
      Duration actualDuration = Duration.ofNanos(Math.max(0, System.nanoTime() - engine.measureFromNanos));
      return new Result(plan, startTime, plan.connections, actualDuration,
          Client.SampleHistogram.of(engine.latency.total()),
          Client.SampleHistogram.of(plan.qps > 0 ? engine.corrected.total() : engine.latency.total()),
          new Client.Overhead(Client.SampleHistogram.of(engine.overhead.total()), engine.beforeWireNanos.sum(),
              engine.afterWireNanos.sum(), engine.offWireCalls.sum()),
          Client.SampleHistogram.of(engine.startDelay.total()),
          engine.lateCalls.sum(), engine.measured.outcomes(), engine.measured.failedCalls.sum(), outcomePrefix,
          engine.serverLost);
    } finally {
      pacer.shutdownNow();
      connections.forEach(Client.Connection::close);
    }
  }

  private static void warmUp(Client.Connection connection, CompletableFuture<String> warmUpCall) {
    try {
      String outcome = warmUpCall.join();
      // the run's answers are counted and reported; this one is left out of them, so it is only detail
      log.info("warm-up call answered " + outcome);
    } catch (CompletionException e) {
      throw connection.failure("warm-up call", e.getCause());
    }
  }

  /**
   * Latencies recorded without locks or shared counters: each recording thread (a network thread, the pacer)
   * writes its own recorder, and the one reader sums them. A shared Recorder's counters are atomics that every
   * writer updates: one cache line passed between the network threads at each call.
   */
  private static final class Recording {
    private final List<SingleWriterRecorder> recorders = new CopyOnWriteArrayList<>();
    private final ThreadLocal<SingleWriterRecorder> threadRecorder = ThreadLocal.withInitial(() -> {
      SingleWriterRecorder recorder = new SingleWriterRecorder(3);
      recorders.add(recorder);
      return recorder;
    });
    private final Histogram total = new Histogram(3);
    private final Histogram interval = new Histogram(3);
    private final Histogram threadInterval = new Histogram(3);

    void record(long nanos) {
      threadRecorder.get().recordValue(Math.max(0, nanos));
    }

    /** The calls since the last call of this method (also added to the total); one reader thread only. */
    synchronized Histogram sinceLast() {
      interval.reset();
      for (SingleWriterRecorder recorder : recorders) {
        recorder.getIntervalHistogramInto(threadInterval);
        interval.add(threadInterval);
      }
      total.add(interval);
      return interval;
    }

    synchronized Histogram total() {
      sinceLast();
      return total;
    }
  }

  private static final long LATE_NANOS = 1_000_000;

  private static final class Engine {
    private final Plan plan;
    private final List<Client.Connection> connections;
    private final CallStarter call;
    private final ScheduledExecutorService pacer;
    private final CountDownLatch stop;
    private final Recording latency = new Recording();
    private final Recording corrected = new Recording();
    private final Recording overhead = new Recording();
    private final LongAdder beforeWireNanos = new LongAdder();
    private final LongAdder afterWireNanos = new LongAdder();
    private final LongAdder offWireCalls = new LongAdder();
    private final Recording startDelay = new Recording();
    private final LongAdder lateCalls = new LongAdder();
    private final Tally warmUp = new Tally();
    private final Tally measured = new Tally();
    private final AtomicLong callsLeft;
    private final CountDownLatch streamsDone;
    private final long periodNanos;
    /** A call whose own start delay is longer than this (a tenth of its stream's period, 1 ms at least) is late. */
    private final long lateNanos;
    private final Duration lostAfter;
    private long measureFromNanos;
    private long endNanos;
    private String serverLost;
    private boolean lostDuringWarmUp;

    Engine(Plan plan, List<Client.Connection> connections, CallStarter call, ScheduledExecutorService pacer,
        CountDownLatch stop, Duration lostAfter) {
      this.plan = plan;
      this.lostAfter = lostAfter;
      this.connections = connections;
      this.call = call;
      this.pacer = pacer;
      this.stop = stop;
      this.callsLeft = new AtomicLong(plan.exactCalls > 0 ? plan.exactCalls : Long.MAX_VALUE);
      this.streamsDone = new CountDownLatch(plan.slots());
      // each stream's share of the rate: S*C streams at qps in total
      this.periodNanos = plan.qps > 0 ? (long) (plan.slots() * 1e9 / plan.qps) : 0;
      this.lateNanos = Math.max(LATE_NANOS, periodNanos / 10);
    }

    /**
     * Starts every stream. The warm-up is the streams' first calls, not a run of its own: streams that ended
     * and started again would take a branch that the JIT had left out of the hot code, and its recompiling
     * (measured: ~140 C2 compilations, 2-3 s of one of two cores) would fall in the measured time.
     */
    void start(long startNanos) {
      measureFromNanos = startNanos + plan.warmup.toNanos();
      endNanos = plan.exactCalls > 0 || plan.duration.isZero() ? Long.MAX_VALUE
          : measureFromNanos + plan.duration.toNanos();
      for (int slot = 0; slot < plan.slots(); slot++) {
        Stream stream = new Stream(connections.get(slot % connections.size()));
        // streams start spread over one period, as Fortio's threads do
        long firstIntended = startNanos + (periodNanos == 0 ? 0 : periodNanos * slot / plan.slots());
        next(stream, firstIntended);
      }
    }

    /** One of the run's streams of calls: its connection, and when its last call's answer came back. */
    private static final class Stream {
      final Client.Connection connection;
      long lastAnswerNanos;

      Stream(Client.Connection connection) {
        this.connection = connection;
      }
    }

    private void next(Stream stream, long intendedNanos) {
      boolean measuring = intendedNanos >= measureFromNanos;
      if (stop.getCount() == 0 || intendedNanos >= endNanos
          || (measuring && plan.exactCalls > 0 && callsLeft.getAndDecrement() <= 0)) {
        streamsDone.countDown();
        return;
      }
      long waitNanos = intendedNanos - System.nanoTime();
      if (waitNanos > 0) {
        pacer.schedule(() -> fire(stream, intendedNanos, measuring), waitNanos, TimeUnit.NANOSECONDS);
      } else {
        fire(stream, periodNanos == 0 ? System.nanoTime() : intendedNanos, measuring);
      }
    }

    private void fire(Stream stream, long intendedNanos, boolean measuring) {
      long startNanos = System.nanoTime();
      // a call that fails at once (no connection) ends on this stack: its next call goes through the pacer's
      // queue, or streams of failing calls would recurse without end (a call ending on another thread meanwhile
      // is not on this stack)
      Thread firing = Thread.currentThread();
      boolean[] starting = {true};
      Ended ended = (answer, failure, clock) -> {
        long endedNanos = System.nanoTime();
        if (measuring) {
          record(stream, intendedNanos, startNanos, endedNanos, failure == null ? clock : null);
        }
        stream.lastAnswerNanos = clock == null ? endedNanos : clock.wireInNanos();
        (measuring ? measured : warmUp).count(answer, failure);
        long nextNanos = periodNanos == 0 ? endedNanos : intendedNanos + periodNanos;
        if (starting[0] && Thread.currentThread() == firing) {
          pacer.execute(() -> next(stream, nextNanos));
        } else {
          next(stream, nextNanos);
        }
      };
      try {
        call.start(stream.connection, ended);
      } catch (RuntimeException e) {
        ended.accept(null, e, null);
      }
      starting[0] = false;
    }

    /**
     * One measured call's times. Its latency is what the server is answerable for: the wire's RTT, after any
     * wait for a stream the server allowed. At a fixed rate, the latency from its intended start adds the wait
     * the server caused (the stream's previous call still unanswered when this one was due), and leaves out the
     * client's own delay (from when the call was due and its stream free, to its request on the wire: pacing,
     * pauses, building and sending), which is recorded apart.
     */
    private void record(Stream stream, long intendedNanos, long startNanos, long endedNanos,
        WireClock.CallClock clock) {
      long latencyNanos = clock == null ? endedNanos - startNanos : clock.latencyNanos();
      latency.record(latencyNanos);
      if (clock != null) {
        overhead.record(clock.sendOverheadNanos() + clock.receiveOverheadNanos());
        beforeWireNanos.add(clock.sendOverheadNanos());
        afterWireNanos.add(clock.receiveOverheadNanos());
        offWireCalls.add(clock.onWire() ? 0 : 1);
      }
      if (periodNanos > 0) {
        long dueNanos = Math.max(intendedNanos, stream.lastAnswerNanos);
        long onWireNanos = clock == null ? startNanos : clock.wireOutNanos() - clock.serverQueueNanos();
        long delayNanos = Math.max(0, onWireNanos - dueNanos);
        corrected.record(dueNanos - intendedNanos + latencyNanos);
        startDelay.record(delayNanos);
        if (delayNanos > lateNanos) {
          lateCalls.increment();
        }
      }
    }

    /**
     * Waits for every stream to end, printing a progress line a second when {@code progress} is not null. A run
     * whose calls all fail with UNAVAILABLE for --connect-timeout (the server is gone: killed, or its host down)
     * is stopped, so that it reports what it measured within the client's own limits, not at the end of -t.
     */
    void awaitEnd(PrintStream progress) {
      long calls = 0;
      long answered = 0;
      long unavailable = 0;
      long lastAnswerNanos = System.nanoTime();
      try {
        while (!streamsDone.await(1, TimeUnit.SECONDS)) {
          long answeredNow = warmUp.answered() + measured.answered();
          long unavailableNow = warmUp.calls(Status.Code.UNAVAILABLE.name())
              + measured.calls(Status.Code.UNAVAILABLE.name());
          if (answeredNow > answered || unavailableNow == unavailable) {
            lastAnswerNanos = System.nanoTime();
          } else if (serverLost == null && System.nanoTime() - lastAnswerNanos >= lostAfter.toNanos()) {
            serverLost = "every call failed with UNAVAILABLE for " + Pingkit.formatDuration(lostAfter)
                + " (--connect-timeout): the server is gone, the run stopped";
            lostDuringWarmUp = System.nanoTime() < measureFromNanos;
            stop.countDown();
          }
          answered = answeredNow;
          unavailable = unavailableNow;
          long warmUpLeftNanos = measureFromNanos - System.nanoTime();
          if (progress != null) {
            if (warmUpLeftNanos > 0) {
              long leftSeconds = TimeUnit.NANOSECONDS.toSeconds(warmUpLeftNanos) + 1;
              progress.printf(Locale.ROOT, "\rwarming up, %ds left, %d errors   ", leftSeconds,
                  warmUp.failedCalls.sum());
            } else {
              Histogram second = latency.sinceLast();
              calls += second.getTotalCount();
              progress.printf(Locale.ROOT, "\r%d calls, %s qps, p50 %s ms, %d errors   ", calls,
                  Client.number(second.getTotalCount()), Client.number(second.getValueAtPercentile(50) / 1e6),
                  measured.failedCalls.sum());
            }
            progress.flush();
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (progress != null) {
        progress.print("\r" + " ".repeat(70) + "\r");
      }
    }
  }

  /** How the calls of one phase (warm-up, measured) ended: answers and failures by name, without locks. */
  private static final class Tally {
    private final ConcurrentHashMap<String, LongAdder> outcomeCounts = new ConcurrentHashMap<>();
    private final LongAdder failedCalls = new LongAdder();

    void count(String answer, Throwable failure) {
      if (failure != null) {
        failedCalls.increment();
        answer = Status.fromThrowable(failure).getCode().name();
      }
      outcomeCounts.computeIfAbsent(answer, k -> new LongAdder()).increment();
    }

    long calls(String outcome) {
      LongAdder calls = outcomeCounts.get(outcome);
      return calls == null ? 0 : calls.sum();
    }

    long answered() {
      return outcomeCounts.values().stream().mapToLong(LongAdder::sum).sum() - failedCalls.sum();
    }

    Map<String, Long> outcomes() {
      Map<String, Long> counts = new LinkedHashMap<>();
      outcomeCounts.entrySet().stream().sorted(Map.Entry.comparingByKey())
          .forEach(e -> counts.put(e.getKey(), e.getValue().sum()));
      return counts;
    }
  }

  /** HdrHistogram's percentile distribution text (values in milliseconds), as its plotting tools read it. */
  static void writeHgrm(Path file, Client.SampleHistogram latency) {
    try (PrintStream out = new PrintStream(Files.newOutputStream(file), true, StandardCharsets.UTF_8)) {
      latency.outputPercentileDistribution(out, 1e6);
    } catch (IOException e) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "cannot write " + file + ": " + Pingkit.oneLine(e));
    }
  }
}
