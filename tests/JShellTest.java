import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README's JShell session, piped line by line into ./jbang --interactive lib/pingkit.jsh. */
class JShellTest {
  @Test
  void theReadmeSessionStartsPingsAndHealthChecksAServer() throws Exception {
    Path repo = TestSupport.repo();
    Matcher block = Pattern.compile("<!-- jshell-session -->\\s*```java\\n(.*?)```", Pattern.DOTALL)
        .matcher(Files.readString(repo.resolve("README.md")));
    assertTrue(block.find(), "README.md has no jshell-session block");
    String session = block.group(1);
    assertTrue(session.lines().count() <= 5, "the session is meant to take at most 5 lines");
    try (var jshell = TestSupport.ScriptProcess.start(
        List.of(repo.resolve("jbang").toString(), "--interactive", "lib/pingkit.jsh"), repo)) {
      jshell.process.getOutputStream().write((session + "/exit\n").getBytes(StandardCharsets.UTF_8));
      jshell.process.getOutputStream().close();
      assertEquals(0, jshell.awaitExit(180), "stderr: " + jshell.stderr);
      String output = String.join("\n", jshell.stdout) + "\n" + String.join("\n", jshell.stderr);
      assertTrue(!output.contains("Error:") && !output.contains("Exception") && !output.contains("exception"),
          output);
      NoWarningsTest.assertNoWarning("the JShell session", jshell.stderr);
      assertTrue(output.contains("server ==> PingServer listening on tcp 127.0.0.1:"), output);
      // seconds, as Java prints a double: 0.00123 or, under a millisecond, 7.8E-4
      Pattern seconds = Pattern.compile("\\$\\d+ ==> ([\\d.]+(?:E-?\\d+)?)\\n");
      assertEquals(2, seconds.matcher(output + "\n").results().count(),
          "an average RTT for the pings and one for the stream: " + output);
      assertTrue(output.contains("==> {SERVING=3}"), output);
    }
  }
}
