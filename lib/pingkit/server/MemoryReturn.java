// ping-server's memory given back after a burst: a server left running on a shared host or in a pod should not keep
// what one burst of big calls made it take.

package pingkit.server;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Logger;
import javax.management.ObjectName;
import pingkit.Pingkit;

/**
 * Gives memory back once a burst is over and the server is quiet: when the bytes in flight have reached
 * {@link #BURST_BYTES}, then no call has come or gone for {@link #QUIET_SECONDS} (checked that often until it holds),
 * a full collection (which, with the server's heap settings, uncommits the free heap at once) and a trim of the C
 * heap (where freed direct buffers stay) return what the burst took. The heap is trimmed once more
 * {@link #ARENA_SECONDS} later, if it is still quiet: the JIT's arenas, busy compiling the burst's code, reach the C
 * heap only when the JVM's chunk pool is next cleaned (every 5 s). The collection stops the server for tens of
 * milliseconds: it waits for a quiet server, so that no call pays for it unless it comes in those very
 * milliseconds after seconds of silence; a server that is called all the time (small pings every 10 ms, say) keeps
 * what it took until its traffic pauses. Nothing runs while calls are small.
 */
public final class MemoryReturn {
  static final long BURST_BYTES = 32 << 20;
  public static final int QUIET_SECONDS = 2;
  static final int ARENA_SECONDS = 6;
  private static final Logger log = Logger.getLogger("pingkit.server");

  private final LongAdder changes = new LongAdder();
  private volatile long bytesInFlight;
  private final AtomicBoolean burst = new AtomicBoolean();
  private final AtomicBoolean watching = new AtomicBoolean();
  private volatile boolean closed;

  /**
   * The bytes in flight (the budget's count) are now {@code bytes}: told at every call's start and end, so that a
   * change is a sign of traffic; a burst begins at {@link #BURST_BYTES}.
   */
  public void changed(long bytes) {
    changes.increment();
    bytesInFlight = bytes;
    if (bytes >= BURST_BYTES) {
      burst.set(true);
    } else if (bytes == 0 && burst.get() && !watching.getAndSet(true)) {
      afterQuietSeconds(QUIET_SECONDS, changes.sum(), this::giveBack);
    }
  }

  /** The server stopped: nothing more is given back (a JVM that embeds it goes on without its collections). */
  void close() {
    closed = true;
  }

  /** Runs {@code action} once nothing changed for {@code seconds} from {@code since} changes. */
  private void afterQuietSeconds(int seconds, long since, Runnable action) {
    CompletableFuture.delayedExecutor(seconds, TimeUnit.SECONDS).execute(() -> {
      long now = changes.sum();
      if (closed) {
        watching.set(false);
      } else if (now != since || bytesInFlight != 0) {
        afterQuietSeconds(seconds, now, action); // traffic since: wait for a quiet stretch
      } else {
        action.run();
      }
    });
  }

  private void giveBack() {
    burst.set(false); // before watching: a change meanwhile must not find a burst and watch a second time
    watching.set(false);
    long beforeKilobytes = residentKilobytes();
    System.gc();
    trimNativeHeap();
    long afterKilobytes = residentKilobytes();
    log.info(() -> "a burst of big calls is over: memory given back" + residentChange(beforeKilobytes, afterKilobytes));
    afterQuietSeconds(ARENA_SECONDS, changes.sum(), () -> {
      long arenasKilobytes = residentKilobytes();
      trimNativeHeap();
      long trimmedKilobytes = residentKilobytes();
      log.info(() -> "the JIT's arenas given back" + residentChange(arenasKilobytes, trimmedKilobytes));
    });
  }

  private static String residentChange(long beforeKilobytes, long afterKilobytes) {
    return beforeKilobytes < 0 ? ""
        : " (resident " + beforeKilobytes / 1024 + " MB -> " + afterKilobytes / 1024 + " MB)";
  }

  /** glibc keeps freed memory in its arenas until trimmed; the JVM's own command does it (JDK 17.0.9 and later). */
  private static void trimNativeHeap() {
    try {
      ManagementFactory.getPlatformMBeanServer().invoke(
          new ObjectName("com.sun.management:type=DiagnosticCommand"), "systemTrimNativeHeap",
          new Object[] {new String[0]}, new String[] {String[].class.getName()});
    } catch (Exception | LinkageError e) {
      log.fine(() -> "no native heap trim here: " + Pingkit.oneLine(e));
    }
  }

  /** This process's resident memory (Linux), or -1. */
  static long residentKilobytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("\\D+", ""));
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      // not Linux: no figure
    }
    return -1;
  }
}
