import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's two commands as a new user without a locale runs them (no LANG at all, or LC_ALL=C, as in many
 * containers and SSH sessions): compiled afresh, in a JBang folder and launcher cache of their own, with no
 * JAVA_HOME (on this project's machines the default java is 17).
 */
// compiles scripts afresh and runs them as a new user would: longer than a test's default limit on a loaded machine
@org.junit.jupiter.api.Timeout(value = 15, unit = java.util.concurrent.TimeUnit.MINUTES)
class LocaleTest {
  private static final String[] LOCALE_VARIABLES = {"LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_MESSAGES",
      "LC_NUMERIC", "LC_COLLATE", "LC_TIME", "LC_MONETARY"};

  @Test
  void withoutAnyLocaleVariable(@TempDir Path temp) throws Exception {
    theQuickStartAndTheTestsCompileAndRun(freshJBang(temp, null));
  }

  @Test
  void withLcAllC(@TempDir Path temp) throws Exception {
    theQuickStartAndTheTestsCompileAndRun(freshJBang(temp, "C"));
  }

  private static void theQuickStartAndTheTestsCompileAndRun(Map<String, String> env) {
    Path repo = TestSupport.repo();
    String jbang = repo.resolve("jbang").toString();
    try (var server = TestSupport.ScriptProcess.start(List.of(jbang, "ping-server.java", "127.0.0.1:0"), repo,
        env)) {
      String listening = server.awaitStdout(line -> line.startsWith("listening on tcp "), 300);
      String target = listening.substring("listening on tcp ".length());
      try (var client = TestSupport.ScriptProcess.start(List.of(jbang, "ping-client.java", "-n", "2", target),
          repo, env)) {
        assertEquals(0, client.awaitExit(300), client.stderr.toString());
        assertTrue(client.stdout.get(client.stdout.size() - 1).startsWith("Average RTT "), client.stdout.toString());
      }
      // the whole runner compiled afresh without a locale; one quick class run (the others run in the suite)
      try (var tests = TestSupport.ScriptProcess.start(List.of(jbang, "tests/run.java", "PacerTest"), repo,
          env)) {
        assertEquals(0, tests.awaitExit(600), tests.stdout + "\n" + tests.stderr);
        assertTrue(tests.stdout.get(tests.stdout.size() - 1).matches("[1-9]\\d* passed, 0 failed, 0 skipped"),
            tests.stdout.toString());
      }
    }

    // what the scripts print does not depend on the locale: help, and an argument the locale cannot carry
    Map<String, String> utf8 = new HashMap<>(env);
    utf8.put("LC_ALL", "C.UTF-8");
    for (String script : List.of("ping-server.java", "ping-client.java", "health-check.java")) {
      assertEquals(output(utf8, script, "--help"), output(env, script, "--help"), script);
    }
    List<String> error = output(env, "ping-client.java", "--delay", "250\u00b5s", "127.0.0.1:1");
    assertEquals(1, error.size(), error.toString());
    assertTrue(error.get(0).matches("ping-client: Invalid value for option '.*': '250.*s' is not a duration .*"),
        error.get(0));
  }

  /** A new user's environment: LC_ALL (or no locale variable), JBang and the launcher with nothing compiled. */
  private static Map<String, String> freshJBang(Path temp, String lcAll) throws java.io.IOException {
    Map<String, String> env = new HashMap<>();
    for (String variable : LOCALE_VARIABLES) {
      env.put(variable, null);
    }
    env.put("LC_ALL", lcAll);
    env.put("JBANG_DIR", Files.createDirectories(temp.resolve("jbang")).toString());
    env.put("PINGKIT_CACHE", TestSupport.launcherCacheOfOurOwn(temp).toString());
    env.put("PINGKIT_IGNORE_PATH_JBANG", "1");
    env.put("JAVA_HOME", null); // the launcher finds a JDK 25 itself, whatever the default java (17 here)
    return env;
  }

  /** What a script prints, stdout then stderr, as lines (JBang's own lines left out); it must end in a minute. */
  private static List<String> output(Map<String, String> env, String script, String... args) {
    List<String> command = new java.util.ArrayList<>(List.of(TestSupport.repo().resolve("jbang").toString(),
        script));
    command.addAll(List.of(args));
    try (var run = TestSupport.ScriptProcess.start(command, TestSupport.repo(), env)) {
      run.awaitExit(60);
      List<String> lines = new java.util.ArrayList<>(run.stdout);
      run.stderr.stream().filter(line -> !line.startsWith("[jbang] ")).forEach(lines::add);
      return lines;
    }
  }
}
