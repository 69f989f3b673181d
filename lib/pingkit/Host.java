package pingkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What this host and process are: the host's name, the process's open files and their limit. */
public final class Host {
  private Host() {}

  /**
   * This host's name, as results record it: the kernel's (a pod's name in Kubernetes), read without a DNS lookup,
   * or Java's where there is no /proc.
   */
  public static String name() {
    try {
      return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
    } catch (IOException | RuntimeException e) {
      try {
        return java.net.InetAddress.getLocalHost().getHostName();
      } catch (IOException unknown) {
        return "unknown";
      }
    }
  }

  /** This process's open file descriptors and its limit, e.g. "40 open, 1024 at most", or "" where unknown. */
  public static String openFilesText() {
    long[] files = openFiles();
    return files == null ? "" : files[0] + " open, " + files[1] + " at most";
  }

  /**
   * This process's open file descriptors and its limit (ulimit -n, as the JVM raised it), or null where unknown:
   * read from /proc (Linux), which costs a fresh process less than the management beans.
   */
  public static long[] openFiles() {
    try (var open = Files.list(Path.of("/proc/self/fd"))) {
      long count = open.count();
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          return new long[] {count, Long.parseLong(line.substring("Max open files".length()).trim().split("\\s+")[0])};
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: unknown
    }
    return null;
  }
}
