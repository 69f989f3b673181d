// What a load run's measured calls recorded, on whichever thread each ended, without locks: latencies (from the
// intended start too), the client's own time, start delays and late calls, by backend; and the result they make.

package pingkit.load;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import pingkit.Host;
import pingkit.Pingkit;
import pingkit.report.Backends;
import pingkit.report.Merge;
import pingkit.report.Overhead;
import pingkit.report.Recording;
import pingkit.report.SampleHistogram;
import pingkit.wire.WireClock;

/** The measurements of a load run's calls, recorded as they end and added up into its {@link LoadResult}. */
final class LoadRecorder {
  private final boolean paced;
  private final boolean openLoop;
  private final long lateNanos;
  private final Recording latency = new Recording();
  private final Recording corrected = new Recording();
  private final Recording overhead = new Recording();
  private final LongAdder beforeWireNanos = new LongAdder();
  private final LongAdder afterWireNanos = new LongAdder();
  private final LongAdder[] callsByClock = Stream.generate(LongAdder::new).limit(WireClock.Kind.values().length)
      .toArray(LongAdder[]::new);
  private final Recording startDelay = new Recording();
  private final LongAdder lateCalls = new LongAdder();
  private final Backends backends = new Backends();

  /**
   * {@code paced}: at a fixed rate (latencies from the intended start, start delays); {@code openLoop}: messages
   * sent on schedule, answered or not; {@code lateNanos}: a start delay longer than this makes a call late.
   */
  LoadRecorder(boolean paced, boolean openLoop, long lateNanos) {
    this.paced = paced;
    this.openLoop = openLoop;
    this.lateNanos = lateNanos;
  }

  /**
   * One measured call's times. Its latency is what the server is answerable for: the wire's RTT, after any
   * wait for a stream the server allowed. At a fixed rate, the latency from its intended start adds the wait
   * the server caused (the stream's previous call still unanswered when this one was due, had the client sent
   * every call without delay of its own: a late client's backlog is not the server's), and leaves out the
   * client's own delay (from when the call was due and its stream free, to its request on the wire: pacing,
   * pauses, building and sending), which is recorded apart. A message sent in an open loop waits for no answer:
   * its latency from its intended start holds all it waited, the client's delay (recorded apart too) included.
   * A failed call counts, with its time to fail, under its backend (known once it connected).
   */
  void record(LoadEngine.Stream stream, long intendedNanos, long startNanos, long endedNanos, WireClock.Timed call,
      boolean failed) {
    WireClock.Timed clock = failed ? null : call;
    long latencyNanos = clock == null ? endedNanos - startNanos : clock.latencyNanos();
    latency.record(latencyNanos);
    backends.record(call == null ? null : call.backend(), latencyNanos, failed);
    if (clock != null) {
      overhead.record(clock.sendOverheadNanos() + clock.receiveOverheadNanos());
      beforeWireNanos.add(clock.sendOverheadNanos());
      afterWireNanos.add(clock.receiveOverheadNanos());
      callsByClock[clock.kind().ordinal()].increment();
    }
    if (paced) {
      long dueNanos = openLoop ? intendedNanos : Math.max(intendedNanos, stream.serverAnswerNanos);
      stream.serverAnswerNanos = dueNanos + latencyNanos;
      long onWireNanos = clock == null ? startNanos : clock.wireOutNanos() - clock.serverQueueNanos();
      long delayNanos = Math.max(0, onWireNanos - dueNanos);
      // in an open loop no message waits for another: from its intended start, everything is its answer's wait
      corrected.record((openLoop ? delayNanos : dueNanos - intendedNanos) + latencyNanos);
      startDelay.record(delayNanos);
      if (delayNanos > lateNanos) {
        lateCalls.increment();
      }
    }
  }

  /** The latencies recorded so far (--hlog's intervals, the live line). */
  Recording latency() {
    return latency;
  }

  /** The run's result: what was recorded, over {@code actualDuration}; {@code failure}: what cut it short. */
  LoadResult result(LoadRun run, OffsetDateTime startTime, Duration actualDuration, LoadTally measured,
      Duration startedLate, Pingkit.UserError failure) {
    LoadRun.Plan plan = run.plan();
    return new LoadResult(plan, run.calls(), startTime, run.calls().warmUpCall() ? plan.connections() : 0,
        actualDuration,
        SampleHistogram.of(latency.total()), paced ? SampleHistogram.of(corrected.total()) : null,
        new Overhead(SampleHistogram.of(overhead.total()), beforeWireNanos.sum(), afterWireNanos.sum(),
            Stream.of(callsByClock).mapToLong(LongAdder::sum).toArray()),
        SampleHistogram.of(startDelay.total()), lateCalls.sum(), measured.outcomes(), measured.failedCalls(),
        measured.lastFailure(),
        run.calls().streams() == null ? null : run.calls().streams().counts(), backends.results(),
        List.of(new Merge.Run(Host.name(), startTime, actualDuration, latency.total().getTotalCount())),
        startedLate, failure);
  }
}
