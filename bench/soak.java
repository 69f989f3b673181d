///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES Bench.java
// the shared header: every dependency version, gson included, is pinned there
//SOURCES ../lib/Pingkit.java

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Soak: ping-server.java under 5 minutes of load from two ping-client load runs at once, as processes on
 * loopback: one flat out (10 streams), one of delayed pings (10 streams, 200 calls/s, 20 ms delay each).
 * Reports calls and errors (goal: 0 errors), the server's RSS once warm (after a fifth of the run) and at the
 * end (goal: growth < 10%), and its GC pauses (count, total, longest) from the JVM's own GC log.
 * Usage, from the repository: ./jbang bench/soak.java [--smoke]   (--smoke: 10 s, RESULTS.md untouched)
 */
class soak {
  private static final Pattern GC_PAUSE = Pattern.compile("Pause .* (\\d+\\.\\d+)ms$");

  public static void main(String[] args) throws Exception {
    boolean smoke = List.of(args).contains("--smoke");
    int seconds = smoke ? 10 : 300;
    Path gcLog = Files.createTempFile("pingkit-soak-gc", ".log");
    // the server's own JVM options (its script header) plus a GC log; ./jbang execs java, so the pid is the JVM's
    Process server = Bench.start("./jbang", "-R-Xlog:gc:file=" + gcLog, "ping-server.java", "127.0.0.1:0");
    try {
      String line = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8))
          .readLine();
      if (line == null || !line.startsWith("listening on tcp ")) {
        throw new IllegalStateException("the server did not start: " + line);
      }
      String target = line.substring("listening on tcp ".length());
      String duration = seconds + "s";
      CompletableFuture<JsonObject> flatOut = load("-c", "2", "-s", "5", "-qps", "0", "-t", duration, target);
      CompletableFuture<JsonObject> delayed = load("-c", "1", "-s", "10", "-qps", "200", "--delay", "20ms",
          "-t", duration, target);
      Thread.sleep(seconds * 1000L / 5); // the clock of the measurement, not synchronisation
      long warmRssKb = Bench.status(server, "VmRSS");
      JsonObject flatOutResult = flatOut.join();
      JsonObject delayedResult = delayed.join();
      long endRssKb = Bench.status(server, "VmRSS");

      long calls = count(flatOutResult) + count(delayedResult);
      long errors = errors(flatOutResult) + errors(delayedResult);
      int pauses = 0;
      double pausesMillis = 0;
      double longestPauseMillis = 0;
      for (String gcLine : Files.readAllLines(gcLog)) {
        Matcher pause = GC_PAUSE.matcher(gcLine);
        if (pause.find()) {
          double millis = Double.parseDouble(pause.group(1));
          pauses++;
          pausesMillis += millis;
          longestPauseMillis = Math.max(longestPauseMillis, millis);
        }
      }
      String report = String.format(Locale.ROOT, """
          ### %s, soak (bench/soak.java%s, %d s: 10 streams flat out + 10 streams of 20 ms delayed pings)
          | measure | value | goal |
          |---|---|---|
          | calls (flat out + delayed) | %d (%.0f + %.0f req/s) | |
          | errors | %d | 0 |
          | server RSS warm (at %d s) -> end | %d MB -> %d MB (%+.1f%%) | growth < 10%% |
          | server GC pauses: count, total, longest | %d, %.0f ms, %.1f ms | |
          """, LocalDate.now(), smoke ? ", smoke" : "", seconds, calls, qps(flatOutResult), qps(delayedResult),
          errors, seconds / 5, warmRssKb / 1024, endRssKb / 1024, (endRssKb - warmRssKb) * 100.0 / warmRssKb,
          pauses, pausesMillis, longestPauseMillis);
      System.out.print(report);
      if (errors > 0) {
        System.out.println("by status: " + flatOutResult.get("RetCodes") + ", " + delayedResult.get("RetCodes"));
      }
      if (!smoke) {
        Bench.appendResults(report);
      }
    } finally {
      server.destroy();
      server.waitFor();
      Files.deleteIfExists(gcLog);
    }
  }

  /** A ping-client load run as its own process; its Fortio-shaped JSON result. */
  private static CompletableFuture<JsonObject> load(String... flags) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        List<String> command = new java.util.ArrayList<>(List.of("./jbang", "ping-client.java", "--json",
            "--allow-errors"));
        command.addAll(List.of(flags));
        Process client = Bench.start(command.toArray(String[]::new));
        String json = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (client.waitFor() != 0) {
          throw new IllegalStateException(String.join(" ", command) + " failed:\n" + json);
        }
        return JsonParser.parseString(json).getAsJsonObject();
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  private static long count(JsonObject result) {
    return result.getAsJsonObject("DurationHistogram").get("Count").getAsLong();
  }

  private static long errors(JsonObject result) {
    return result.getAsJsonObject("ErrorsDurationHistogram").get("Count").getAsLong();
  }

  private static double qps(JsonObject result) {
    return result.get("ActualQPS").getAsDouble();
  }
}
