// The schedule of a load run, as arithmetic only: it reads no clock and starts no thread, so that tests can check it
// in microseconds.

package pingkit.load;

import java.util.concurrent.atomic.AtomicLong;

/**
 * When each call of a load run is due and whether it is measured: each of the run's streams calls one call after
 * the other, at its share of the rate (flat out: as soon as its previous call ended); the calls due during
 * --warmup are not measured; the run ends at its duration, or after exactly -n measured calls. Thread-safe.
 */
final class Pacer {
  private final int streams;
  private final long startNanos;
  private final long periodNanos;
  private final long measureFromNanos;
  private final long endNanos;
  private final AtomicLong callsLeft;

  /** The schedule of {@code plan} for a run starting at {@code startNanos} (any clock's nanoseconds). */
  Pacer(LoadRun.Plan plan, long startNanos) {
    this.streams = plan.slots();
    this.startNanos = startNanos;
    // each stream's share of the rate: C*S streams at qps in total
    this.periodNanos = plan.qps() > 0 ? (long) (streams * 1e9 / plan.qps()) : 0;
    this.measureFromNanos = startNanos + plan.warmup().toNanos();
    this.endNanos = plan.exactCalls() > 0 || plan.duration().isZero() ? Long.MAX_VALUE
        : measureFromNanos + plan.duration().toNanos();
    this.callsLeft = new AtomicLong(plan.exactCalls() > 0 ? plan.exactCalls() : Long.MAX_VALUE);
  }

  /** Whether calls come at a fixed rate (else flat out: each as soon as its stream's previous one ended). */
  boolean paced() {
    return periodNanos > 0;
  }

  /** The time between two calls of one stream at a fixed rate (0 flat out). */
  long periodNanos() {
    return periodNanos;
  }

  /** When the measured run begins: the end of --warmup. */
  long measureFromNanos() {
    return measureFromNanos;
  }

  /** When stream {@code stream}'s first call is due: streams start spread over one period, as Fortio's do. */
  long firstDueNanos(int stream) {
    return startNanos + periodNanos * stream / streams;
  }

  /**
   * When a stream's next call is due, its previous one due at {@code dueNanos} and ended at {@code endedNanos}:
   * a period after the previous one was due at a fixed rate, whenever it ended; flat out, when it ended.
   */
  long nextDueNanos(long dueNanos, long endedNanos) {
    return paced() ? dueNanos + periodNanos : endedNanos;
  }

  /** Whether a call due at {@code dueNanos} is measured (else it is of the warm-up). */
  boolean measured(long dueNanos) {
    return dueNanos >= measureFromNanos;
  }

  /**
   * Whether a call due at {@code dueNanos} is made, counting it against -n when measured; false once the run is
   * over (its duration reached, or its exact count made): its stream then ends.
   */
  boolean take(long dueNanos) {
    if (dueNanos >= endNanos) {
      return false;
    }
    return !measured(dueNanos) || callsLeft.getAndDecrement() > 0;
  }
}
