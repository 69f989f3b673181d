// In the package of the pacer it tests: the schedule is package-private arithmetic.
package pingkit.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The load run's schedule, as arithmetic: no clock, no thread, no server. */
class PacerTest {
  private static final long START = 1_000_000_000_000L; // any clock's nanoseconds
  private static final long MS = 1_000_000;

  private static LoadRun.Plan plan(int connections, int streams, double qps, Duration duration, long exactCalls,
      Duration warmup) {
    return new LoadRun.Plan("test", "target", connections, streams, qps, duration, exactCalls, warmup, 1, null);
  }

  @Test
  void aFixedRateSpreadsTheStreamsOverOnePeriodAndKeepsEachStreamAPeriodApart() {
    // 2 connections x 2 streams at 100 calls/s: each stream calls every 40 ms, the four 10 ms apart
    Pacer pacer = new Pacer(plan(2, 2, 100, Duration.ofSeconds(5), 0, Duration.ZERO), START);
    assertTrue(pacer.paced());
    assertEquals(40 * MS, pacer.periodNanos());
    assertEquals(List.of(START, START + 10 * MS, START + 20 * MS, START + 30 * MS),
        List.of(pacer.firstDueNanos(0), pacer.firstDueNanos(1), pacer.firstDueNanos(2), pacer.firstDueNanos(3)));
    // the next call is due a period after the last was due, however late that one ended
    assertEquals(START + 40 * MS, pacer.nextDueNanos(START, START + 3 * MS));
    assertEquals(START + 40 * MS, pacer.nextDueNanos(START, START + 90 * MS));
  }

  @Test
  void flatOutEveryStreamStartsAtOnceAndCallsAgainWhenItsCallEnded() {
    Pacer pacer = new Pacer(plan(4, 10, 0, Duration.ofSeconds(5), 0, Duration.ZERO), START);
    assertFalse(pacer.paced());
    assertEquals(START, pacer.firstDueNanos(0));
    assertEquals(START, pacer.firstDueNanos(39));
    assertEquals(START + 7 * MS, pacer.nextDueNanos(START, START + 7 * MS));
  }

  @Test
  void callsDueDuringTheWarmUpAreMadeButNotMeasured() {
    Pacer pacer = new Pacer(plan(1, 1, 10, Duration.ofSeconds(1), 0, Duration.ofSeconds(2)), START);
    assertEquals(START + 2_000 * MS, pacer.measureFromNanos());
    assertTrue(pacer.take(START + 1_900 * MS));
    assertFalse(pacer.measured(START + 1_900 * MS));
    assertTrue(pacer.measured(START + 2_000 * MS));
  }

  @Test
  void aDurationEndsTheRunThatLongAfterTheWarmUp() {
    Pacer pacer = new Pacer(plan(1, 1, 10, Duration.ofSeconds(1), 0, Duration.ofSeconds(2)), START);
    assertTrue(pacer.take(START + 2_999 * MS));
    assertFalse(pacer.take(START + 3_000 * MS));
    Pacer untilStopped = new Pacer(plan(1, 1, 10, Duration.ZERO, 0, Duration.ZERO), START);
    assertTrue(untilStopped.take(START + 3_600_000 * MS), "-t 0: until Ctrl-C");
  }

  @Test
  void anExactCountIsMadeExactlyAcrossStreamsAndTheWarmUpDoesNotCount() {
    Pacer pacer = new Pacer(plan(2, 3, 0, Duration.ofSeconds(5), 10, Duration.ofSeconds(1)), START);
    for (int i = 0; i < 50; i++) {
      assertTrue(pacer.take(START + i), "warm-up calls are not counted");
    }
    List<Boolean> taken = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      // six streams asking in turn, long after -t would have ended: -n has no time limit
      taken.add(pacer.take(START + 3_600_000 * MS + i));
    }
    assertEquals(10, taken.stream().filter(made -> made).count());
    assertTrue(taken.subList(0, 10).stream().allMatch(made -> made), "the first ten asked are made");
  }
}
