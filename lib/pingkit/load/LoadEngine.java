// The load engine: the streams of calls of a load run, each on its connection, paced by its schedule; what they
// measure, without locks.

package pingkit.load;

import io.grpc.Status;
import java.io.PrintStream;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Logger;
import org.HdrHistogram.Histogram;
import pingkit.Host;
import pingkit.Pingkit;
import pingkit.net.Connection;

/**
 * The streams of a load run: -c connections times -s streams, each calling one call after the other when its
 * {@link Pacer} says; a call that ends (on its connection's network thread) starts the stream's next one, or hands
 * it to the pacer thread until it is due. Messages on streams of echoes go out on schedule instead (open loop:
 * the pacer sends each when due, whether the one before was answered or not), or flat out with --window of them
 * in flight on each stream. Latencies are recorded at the wire, per thread.
 */
final class LoadEngine {
  private static final Logger log = Logger.getLogger("pingkit.load");
  private static final long LATE_NANOS = 1_000_000;
  /** How often the end of the run, or a stop, is looked for between two progress lines. */
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  /** After a stop, how long the calls in flight may still take before the report is made without them. */
  static final Duration STOP_GRACE = Duration.ofMillis(500);

  private final LoadRun run;
  private final List<Connection> connections;
  private final Pacer schedule;
  private final boolean openLoop;
  private final ScheduledExecutorService pacer;
  private final CountDownLatch stop;
  private final LoadRecorder recorder;
  private final List<Stream> streams = new ArrayList<>();
  /** Calls started and not ended: at a stop, those still unanswered after {@link #STOP_GRACE} are left out. */
  private final LongAdder callsUnanswered = new LongAdder();
  private final LoadTally warmUp = new LoadTally();
  private final LoadTally measured = new LoadTally();
  private final CountDownLatch streamsDone;
  /** A run whose calls all fail with UNAVAILABLE this long has lost its server (--connect-timeout). */
  private final Duration lostAfter;
  private final OffsetDateTime startTime;
  private String serverLost;
  private boolean lostDuringWarmUp;

  /** The streams of {@code run} on {@code connections}, scheduled from {@code startNanos}; {@code stop} ends them. */
  LoadEngine(LoadRun run, List<Connection> connections, CountDownLatch stop, long startNanos) {
    this.run = run;
    this.connections = connections;
    this.stop = stop;
    this.schedule = new Pacer(run.plan(), startNanos);
    this.openLoop = run.calls().streams() != null && schedule.paced();
    this.streamsDone = new CountDownLatch(run.plan().slots() * windowPerStream());
    this.lostAfter = run.dialer().connectTimeout();
    // a call whose own start delay is longer than a tenth of its stream's period (1 ms at least) is late
    this.recorder = new LoadRecorder(schedule.paced(), openLoop, Math.max(LATE_NANOS, schedule.periodNanos() / 10));
    this.startTime = OffsetDateTime.now().plusNanos(startNanos - System.nanoTime()).plus(run.plan().warmup());
    this.pacer = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "load-pacer");
      thread.setDaemon(true);
      return thread;
    });
  }

  /**
   * Starts every stream. The warm-up is the streams' first calls, not a run of its own: streams that ended and
   * started again would take a branch that the JIT had left out of the hot code, and its recompiling would fall
   * in the measured time.
   */
  void start() {
    for (int slot = 0; slot < run.plan().slots(); slot++) {
      Stream stream = new Stream(slot, connections.get(slot % connections.size()));
      streams.add(stream);
      for (int i = 0; i < windowPerStream(); i++) {
        next(stream, schedule.firstDueNanos(slot));
      }
    }
  }

  /** How many calls each stream keeps going, one after the other each: its window, flat out. */
  private int windowPerStream() {
    return schedule.paced() ? 1 : run.plan().window();
  }

  /**
   * One of the run's streams of calls: its number, its connection, and when its last measured call would have
   * been answered had the client taken no time of its own (sent each call when due, or at the answer before).
   */
  static final class Stream {
    final int slot;
    final Connection connection;
    long serverAnswerNanos;
    /** Its next call, waiting in the pacer for its time (cancelled at a stop). */
    volatile ScheduledFuture<?> waiting;

    Stream(int slot, Connection connection) {
      this.slot = slot;
      this.connection = connection;
    }
  }

  private void next(Stream stream, long intendedNanos) {
    if (stop.getCount() == 0 || !schedule.take(intendedNanos)) {
      streamsDone.countDown();
      return;
    }
    boolean measuring = schedule.measured(intendedNanos);
    long waitNanos = intendedNanos - System.nanoTime();
    if (waitNanos > 0) {
      stream.waiting = pacer.schedule(() -> fire(stream, intendedNanos, measuring), waitNanos, TimeUnit.NANOSECONDS);
      if (stop.getCount() == 0) {
        cancelWaiting(stream); // a stop came meanwhile, and may have missed it
      }
    } else {
      fire(stream, schedule.paced() ? intendedNanos : System.nanoTime(), measuring);
    }
  }

  /** A stream's next call, if it is waiting for its time, is not made: the stream ends now. */
  private void cancelWaiting(Stream stream) {
    ScheduledFuture<?> waiting = stream.waiting;
    if (waiting != null && waiting.cancel(false)) {
      streamsDone.countDown();
    }
  }

  private void fire(Stream stream, long intendedNanos, boolean measuring) {
    if (stop.getCount() == 0) {
      streamsDone.countDown(); // due as the run was stopped: not made
      return;
    }
    long startNanos = System.nanoTime();
    callsUnanswered.increment();
    // a call that fails at once (no connection) ends on this stack: its next call goes through the pacer's
    // queue, or streams of failing calls would recurse without end (a call ending on another thread meanwhile
    // is not on this stack)
    Thread firing = Thread.currentThread();
    boolean[] starting = {true};
    LoadRun.Ended ended = (answer, failure, clock) -> {
      long endedNanos = System.nanoTime();
      if (stop.getCount() == 0 && failure != null && Status.fromThrowable(failure).getCode() == Status.Code.CANCELLED) {
        return; // cancelled by the stop, unanswered: not in the report (counted apart)
      }
      callsUnanswered.decrement();
      if (measuring) {
        recorder.record(stream, intendedNanos, startNanos, endedNanos, clock, failure != null);
      }
      (measuring ? measured : warmUp).count(answer, failure);
      if (openLoop) {
        return; // the next message went out on schedule
      }
      long nextNanos = schedule.nextDueNanos(intendedNanos, endedNanos);
      if (starting[0] && Thread.currentThread() == firing) {
        pacer.execute(() -> next(stream, nextNanos));
      } else {
        next(stream, nextNanos);
      }
    };
    try {
      run.calls().start().start(stream.connection, stream.slot, ended);
    } catch (RuntimeException e) {
      ended.accept(null, e, null);
    }
    starting[0] = false;
    if (openLoop) {
      long nextNanos = schedule.nextDueNanos(intendedNanos, 0);
      pacer.execute(() -> next(stream, nextNanos));
    }
  }

  /**
   * Waits for every stream to end, printing a progress line a second when {@code progress} is not null. A run
   * whose calls all fail with UNAVAILABLE for --connect-timeout (the server is gone: killed, or its host down)
   * is stopped, so that it reports what it measured within the client's own limits, not at the end of -t.
   */
  LoadResult awaitEnd(PrintStream progress, IntervalLog intervals) {
    if (intervals != null) {
      intervals.begin(startTime, Host.name(), run.plan().runType());
    }
    long periodNanos = intervals != null ? intervals.lengthNanos() : TimeUnit.SECONDS.toNanos(1);
    LoadProgress shown = progress == null ? null : new LoadProgress(progress, run.calls().unit());
    long answered = 0;
    long unavailable = 0;
    long lastAnswerNanos = System.nanoTime();
    long periodStartNanos = System.nanoTime();
    long stoppedNanos = 0;
    try {
      while (!streamsDone.await(Math.min(POLL_NANOS, Math.max(0, periodStartNanos + periodNanos - System.nanoTime())),
          TimeUnit.NANOSECONDS)) {
        if (stop.getCount() == 0 && stoppedNanos == 0) {
          // stopped: the calls waiting for their time are not made, and those in flight have STOP_GRACE
          stoppedNanos = System.nanoTime();
          streams.forEach(this::cancelWaiting);
          if (run.calls().streams() != null) {
            run.calls().streams().finish(STOP_GRACE, true);
          }
        } else if (stoppedNanos != 0 && System.nanoTime() - stoppedNanos >= STOP_GRACE.toNanos()) {
          break;
        }
        long sincePeriodStartNanos = System.nanoTime() - periodStartNanos;
        if (sincePeriodStartNanos < periodNanos) {
          continue;
        }
        periodStartNanos += sincePeriodStartNanos / periodNanos * periodNanos; // periods a stall took are skipped
        long answeredNow = warmUp.answered() + measured.answered();
        long unavailableNow = warmUp.calls(Status.Code.UNAVAILABLE.name())
            + measured.calls(Status.Code.UNAVAILABLE.name());
        if (answeredNow > answered || unavailableNow == unavailable) {
          lastAnswerNanos = System.nanoTime();
        } else if (serverLost == null && System.nanoTime() - lastAnswerNanos >= lostAfter.toNanos()) {
          serverLost = "every call failed with UNAVAILABLE for " + Pingkit.formatDuration(lostAfter)
              + " (--connect-timeout): the server is gone, the run stopped";
          lostDuringWarmUp = System.nanoTime() < schedule.measureFromNanos();
          stop.countDown();
        }
        answered = answeredNow;
        unavailable = unavailableNow;
        long warmUpLeftNanos = schedule.measureFromNanos() - System.nanoTime();
        Histogram interval = warmUpLeftNanos > 0 || (shown == null && intervals == null) ? null
            : recorder.latency().sinceLast();
        if (interval != null && intervals != null) {
          intervals.interval(interval);
        }
        if (shown != null) {
          shown.update(interval, warmUpLeftNanos, (interval == null ? warmUp : measured).failedCalls());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (shown != null) {
      shown.clear();
    }
    pacer.shutdownNow();
    long endNanos = System.nanoTime();
    if (run.calls().streams() != null) {
      // messages still in flight are answered before the report (after a stop, they had their STOP_GRACE)
      run.calls().streams().finish(stoppedNanos == 0 ? Duration.ofDays(1) : Duration.ZERO, stoppedNanos != 0);
    }
    long unanswered = callsUnanswered.sum();
    if (stoppedNanos != 0 && unanswered > 0) {
      log.warning("stopped: " + unanswered + " " + run.calls().unit() + " still in flight after "
          + Pingkit.formatDuration(STOP_GRACE) + " are not in the report");
    }
    if (intervals != null) {
      intervals.interval(recorder.latency().sinceLast()); // the last, shorter one
    }
    return result(endNanos);
  }

  private LoadResult result(long endNanos) {
    if (serverLost != null && lostDuringWarmUp) {
      throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, serverLost + " during --warmup");
    }
    Duration actualDuration = Duration.ofNanos(Math.max(0, endNanos - schedule.measureFromNanos()));
    return recorder.result(run, startTime, actualDuration, measured, startedLate(), serverLost == null ? null
        : new Pingkit.UserError(Pingkit.EXIT_CONNECTION, serverLost + "; the report above is partial"));
  }

  /** How much later than --start-at the measurement started (null: no --start-at). */
  Duration startedLate() {
    OffsetDateTime startAt = run.plan().startAt();
    return startAt == null ? null
        : startTime.isAfter(startAt) ? Duration.between(startAt, startTime) : Duration.ZERO;
  }
}
