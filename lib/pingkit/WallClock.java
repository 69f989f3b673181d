package pingkit;

import java.time.Instant;

/** The wall clock in nanoseconds, and its offset from {@link System#nanoTime()}. */
public final class WallClock {
  private WallClock() {}

  /** Wall clock in nanoseconds since the epoch, at the best resolution this JVM's clock gives. */
  public static long nanos() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  /**
   * The wall clock less {@link System#nanoTime()}, now: what converts a nanoTime to wall-clock nanoseconds. Read
   * between two nanoTimes close together (a pause between them, a collection say, would shift it by the pause).
   */
  public static long offsetNanos() {
    long offset = 0;
    long spread = Long.MAX_VALUE;
    for (int attempt = 0; attempt < 3 && spread > 20_000; attempt++) {
      long before = System.nanoTime();
      long wall = nanos();
      long after = System.nanoTime();
      if (after - before < spread) {
        spread = after - before;
        offset = wall - before - spread / 2;
      }
    }
    return offset;
  }
}
