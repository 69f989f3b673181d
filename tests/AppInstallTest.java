import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's install steps (jbang-catalog.json, `jbang app install`) run into a temporary JBang home; the
 * installed commands then work from another directory exactly as the scripts do: --help, and one real call.
 */
// compiles scripts afresh and runs them as a new user would: longer than a test's default limit on a loaded machine
@org.junit.jupiter.api.Timeout(value = 15, unit = java.util.concurrent.TimeUnit.MINUTES)
class AppInstallTest {

  @Test
  void theInstalledCommandsBehaveLikeTheScriptsFromAnyDirectory() throws Exception {
    Path repo = TestSupport.repo();
    Path jbangHome = Files.createTempDirectory("pingkit-jbang-home");
    Path elsewhere = Files.createTempDirectory("pingkit-elsewhere");
    // a fresh JBang home, but the usual build cache: the scripts need not be compiled once more
    Map<String, String> env = Map.of("JBANG_DIR", jbangHome.toString(),
        "JBANG_CACHE_DIR", System.getenv().getOrDefault("JBANG_CACHE_DIR",
            Path.of(System.getProperty("user.home"), ".jbang", "cache").toString()),
        "PATH", jbangHome.resolve("bin") + ":" + System.getenv("PATH"));
    try (var install = TestSupport.ScriptProcess.start(List.of("bash", "-euo", "pipefail", "-c", readmeSteps()),
        repo, env)) {
      assertEquals(0, install.awaitExit(300), "the README's install steps failed: " + install.stderr);
    }
    // what a shell finds on that PATH (ProcessBuilder looks commands up on this JVM's own PATH)
    Path bin = jbangHome.resolve("bin");
    for (String command : List.of("ping-server", "ping-client", "health-check")) {
      assertEquals(run(List.of("./jbang", command + ".java", "--help"), repo, env),
          run(List.of(bin.resolve(command).toString(), "--help"), elsewhere, env),
          command + " --help, installed vs script");
    }
    try (var server = TestSupport.ScriptProcess.start(List.of(bin.resolve("ping-server").toString(),
        "127.0.0.1:0"), elsewhere, env)) {
      String target = "127.0.0.1:" + server.awaitListeningPort();
      assertTrue(run(List.of(bin.resolve("health-check").toString(), target), elsewhere, env)
          .contains("Health SERVING : 1"));
      assertTrue(run(List.of(bin.resolve("ping-client").toString(), "-n", "1", target), elsewhere, env)
          .contains("(1 iterations)"));
      try (var shell = TestSupport.ScriptProcess.start(List.of(bin.resolve("pingkit-shell").toString()),
          elsewhere, env)) {
        shell.process.getOutputStream().write(("HealthCheck.to(\"" + target + "\").service(\"ping\").times(2)"
            + ".check()\n/exit\n").getBytes(StandardCharsets.UTF_8));
        shell.process.getOutputStream().close();
        assertEquals(0, shell.awaitExit(180), "stderr: " + shell.stderr);
        assertTrue(String.join("\n", shell.stdout).contains("SERVING"), "JShell said: " + shell.stdout);
      }
      server.signal("TERM");
      assertEquals(0, server.awaitExit(30));
    }
  }

  /** The shell block under the README's app-install marker. */
  private static String readmeSteps() throws Exception {
    String readme = Files.readString(TestSupport.repo().resolve("README.md"));
    Matcher block = Pattern.compile("<!-- app-install -->\\s*```sh\\n(.*?)```", Pattern.DOTALL).matcher(readme);
    assertTrue(block.find(), "README.md has no app-install block");
    return block.group(1);
  }

  /** Runs a command to its end (exit 0 expected) and returns its stdout. */
  private static String run(List<String> command, Path dir, Map<String, String> env) {
    try (var process = TestSupport.ScriptProcess.start(command, dir, env)) {
      assertEquals(0, process.awaitExit(120), command + ": " + process.stderr);
      return String.join("\n", process.stdout);
    }
  }
}
