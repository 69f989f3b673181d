// ping-server's health as its flags set it, and by hand: 'set SERVICE STATUS' lines on stdin, and the names of the
// statuses a flag or a line may set.

package pingkit.server;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import pingkit.Pingkit;

/**
 * Reads lines {@code set SERVICE STATUS} (SERVICE {@code ""} for the server as a whole) until the input ends, so
 * that probes and load balancers can be tried by hand; each change is confirmed on stderr, each bad line named.
 */
public final class HealthCommands implements Runnable {
  private static final List<String> SETTABLE_STATUSES = List.of("SERVING", "NOT_SERVING", "SERVICE_UNKNOWN");

  private final InputStream commands;
  private final BiConsumer<String, ServingStatus> setHealth;
  private final BooleanSupplier draining;

  private HealthCommands(InputStream commands, BiConsumer<String, ServingStatus> setHealth,
      BooleanSupplier draining) {
    this.commands = commands;
    this.setHealth = setHealth;
    this.draining = draining;
  }

  /** Reads {@code commands} on a daemon thread, setting health with {@code setHealth}. */
  public static void accept(InputStream commands, BiConsumer<String, ServingStatus> setHealth, BooleanSupplier draining) {
    Thread reader = new Thread(new HealthCommands(commands, setHealth, draining), "health-commands");
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * The server's health as its flags set it: {@code serviceName} SERVING, {@code serviceName_down} NOT_SERVING, then
   * each --health-status SERVICE=STATUS.
   */
  static HealthStatusManager initial(String serviceName, Map<String, String> statuses) {
    HealthStatusManager health = new HealthStatusManager();
    health.setStatus(serviceName, ServingStatus.SERVING);
    health.setStatus(serviceName + "_down", ServingStatus.NOT_SERVING);
    statuses.forEach((service, status) -> health.setStatus(service, status(status, "--health-status")));
    return health;
  }

  /** The status a flag or a line names (any case), or a one-line error naming {@code where}. */
  static ServingStatus status(String text, String where) {
    String name = text.toUpperCase(Locale.ROOT);
    if (!SETTABLE_STATUSES.contains(name)) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, where + ": '" + text + "' is not a health status (one of "
          + String.join(", ", SETTABLE_STATUSES) + ")");
    }
    return ServingStatus.valueOf(name);
  }

  @Override
  public void run() {
    try (var lines = new BufferedReader(new InputStreamReader(commands, StandardCharsets.UTF_8))) {
      for (String line; (line = lines.readLine()) != null; ) {
        String[] words = line.trim().split("\\s+");
        if (words.length == 1 && words[0].isEmpty()) {
          continue;
        }
        try {
          set(words);
        } catch (Pingkit.UserError e) {
          System.err.println("ping-server: stdin: '" + line + "': " + e.getMessage());
        }
      }
    } catch (IOException e) {
      // stdin closed or unreadable: no more commands
    }
  }

  /** Applies one line's words, {@code set SERVICE STATUS}, and confirms it. */
  private void set(String[] words) {
    if (words.length != 3 || !words[0].equals("set")) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "expected 'set SERVICE STATUS'");
    }
    String service = words[1].equals("\"\"") ? "" : words[1];
    setHealth.accept(service, status(words[2], "set"));
    System.err.println("ping-server: health of '" + service + "' is now " + words[2].toUpperCase(Locale.ROOT)
        + (draining.getAsBoolean() ? " (ignored: draining, health stays NOT_SERVING)" : ""));
  }
}
