import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README's JShell session, piped line by line into ./jbang lib/pingkit-shell.java. */
class JShellTest {
  private static final String MILLIS = "-?\\d+(\\.\\d+)? ms";
  private static final String SUMMARY = "p50 " + MILLIS + " p99 " + MILLIS + " avg " + MILLIS;

  @Test
  void theReadmeSessionReadsLikeTheCommandLinesSummaries() throws Exception {
    Path repo = TestSupport.repo();
    Matcher block = Pattern.compile("<!-- jshell-session -->\\s*```java\\n(.*?)```", Pattern.DOTALL)
        .matcher(Files.readString(repo.resolve("README.md")));
    assertTrue(block.find(), "README.md has no jshell-session block");
    String session = block.group(1);
    assertTrue(session.lines().count() <= 5, "the session is meant to take at most 5 lines");
    try (var jshell = TestSupport.ScriptProcess.start(
        List.of(repo.resolve("jbang").toString(), "lib/pingkit-shell.java"), repo)) {
      jshell.process.getOutputStream().write((session + "/exit\n").getBytes(StandardCharsets.UTF_8));
      jshell.process.getOutputStream().close();
      assertEquals(0, jshell.awaitExit(180), "stderr: " + jshell.stderr);
      String output = String.join("\n", jshell.stdout) + "\n" + String.join("\n", jshell.stderr);
      assertTrue(!output.contains("Error:") && !output.contains("Exception") && !output.contains("exception")
          && !output.contains("cannot find symbol"), output);
      NoWarningsTest.assertNoWarning("the JShell session", jshell.stderr);
      assertTrue(output.contains("server ==> PingServer listening on tcp 127.0.0.1:"), output);
      assertFound("PingResult\\[127\\.0\\.0\\.1:\\d+ 50 iterations: RTT " + SUMMARY + ", skew p50 " + MILLIS + "]",
          output);
      assertFound("HealthResult\\[127\\.0\\.0\\.1:\\d+ service 'ping' 3 checks, SERVING 3, RTT " + SUMMARY + "]",
          output);
      assertFound("LoadResult\\[127\\.0\\.0\\.1:\\d+ GRPC Ping: \\d+ calls in [\\d.]+ s, [\\d.]+ calls/s, latency "
          + SUMMARY + ", SERVING \\d+]", output);
      // what JShell prints of a value never falls back on an object id (Class@1b2c3d)
      output.lines().filter(line -> line.contains("==>")).forEach(line ->
          assertTrue(!Pattern.compile("\\w@\\p{XDigit}{4,}").matcher(line).find(), "an object id: " + line));
    }
  }

  private static void assertFound(String regex, String output) {
    assertTrue(Pattern.compile(regex).matcher(output).find(), "no " + regex + " in:\n" + output);
  }
}
