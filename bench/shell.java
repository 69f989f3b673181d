///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//SOURCES Bench.java

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * B11, JShell: a whole session of ./jbang lib/pingkit-shell.java that starts a server, pings it 50 times, checks
 * its health, stops it and exits, piped as a person would paste it: wall time (the launcher, the JVM, JShell and
 * the calls) <= 6 s once the shell is compiled (median of 5); a session that only opens and exits, for JShell's
 * own start; and the first session of a fresh clone (JBang's cache empty, Maven's kept), which compiles lib/ first.
 * Usage, from the repository: ./jbang bench/shell.java [--smoke]   (--smoke: one round, no clone, RESULTS.md
 * untouched)
 */
class shell {
  static final String SESSION = """
      var server = PingServer.start("127.0.0.1:0")
      PingClient.to(server.target()).iterations(50).ping()
      HealthCheck.to(server.target()).service("ping").times(3).check()
      server.stop()
      /exit
      """;

  public static void main(String[] args) throws Exception {
    boolean smoke = List.of(args).contains("--smoke");
    int rounds = smoke ? 1 : 5;
    Path repo = Path.of("").toAbsolutePath();
    session(repo, Map.of(), "/exit\n"); // compiled and its command line cached, as a user's second session
    double[] whole = new double[rounds];
    double[] open = new double[rounds];
    for (int round = 0; round < rounds; round++) {
      whole[round] = session(repo, Map.of(), SESSION);
      open[round] = session(repo, Map.of(), "/exit\n");
    }
    double first = smoke ? Double.NaN : firstSessionOfAFreshClone(repo);
    String report = String.format(Locale.ROOT, """
        ## %s, B11 JShell (bench/shell.java, %d rounds)
        | session | wall time, median | goal |
        |---|---|---|
        | cached: start a server, ping 50 times, check health 3 times, stop, exit | %.2f s | <= 6 s |
        | cached: open and exit | %.2f s | |
        | the first session of a fresh clone (compiles lib/; JBang's cache empty) | %.2f s (one run) | |
        """, LocalDate.now(), rounds, median(whole), median(open), first);
    System.out.print(report);
    if (!smoke) {
      Bench.appendResults(report);
    }
  }

  /** The first session of a clone of {@code repo}, with JBang's cache of its own: lib/ compiled first. */
  static double firstSessionOfAFreshClone(Path repo) throws IOException, InterruptedException {
    Path clone = Files.createTempDirectory("pingkit-clone");
    try {
      Bench.output("git", "clone", "-q", repo.toString(), clone.resolve("repo").toString());
      return session(clone.resolve("repo"), Map.of("JBANG_CACHE_DIR", clone.resolve("jbang-cache").toString()),
          SESSION);
    } finally {
      Bench.output("rm", "-rf", clone.toString());
    }
  }

  /** Wall seconds of one JShell session fed {@code input}; it must exit 0 and print no error. */
  static double session(Path repo, Map<String, String> env, String input) throws IOException, InterruptedException {
    long start = System.nanoTime();
    ProcessBuilder builder = new ProcessBuilder(repo.resolve("jbang").toString(), "lib/pingkit-shell.java")
        .directory(repo.toFile()).redirectErrorStream(true);
    builder.environment().putAll(env);
    Process jshell = builder.start();
    jshell.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
    jshell.getOutputStream().close();
    String output = new String(jshell.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (jshell.waitFor() != 0 || output.contains("Error:") || output.contains("Exception")) {
      throw new IllegalStateException("the session failed: " + output);
    }
    return (System.nanoTime() - start) / 1e9;
  }

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
