import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No warning of the JVM reaches a user: each script's ordinary runs through ./jbang (a server started and stopped,
 * pings, a health check, loads, --merge) print no "WARNING:" line and no "VM warning:" line. JDK 24+ warns about
 * sun.misc.Unsafe and native access, which Netty and protobuf use. JShellTest checks the JShell session the same way.
 */
class NoWarningsTest {
  @Test
  void ordinaryRunsOfEveryScriptPrintNoWarning(@TempDir Path temp) throws Exception {
    Path repo = TestSupport.repo();
    String jbang = repo.resolve("jbang").toString();
    Path result = temp.resolve("ping.json");
    try (var server = TestSupport.ScriptProcess.start(List.of(jbang, "ping-server.java", "127.0.0.1:0"), repo)) {
      String target = "127.0.0.1:" + server.awaitListeningPort();
      List<List<String>> runs = List.of(
          List.of("ping-client.java", "-n", "3", "--json", result.toString(), target),
          List.of("ping-client.java", "--stream", "-n", "3", target),
          List.of("ping-client.java", "-c", "2", "-qps", "50", "-t", "1s", target),
          List.of("ping-client.java", "--merge", result.toString(), result.toString()),
          List.of("health-check.java", target),
          List.of("health-check.java", "-c", "2", "-n", "20", target));
      for (List<String> run : runs) {
        List<String> command = new ArrayList<>(List.of(jbang));
        command.addAll(run);
        try (var client = TestSupport.ScriptProcess.start(command, repo)) {
          assertEquals(0, client.awaitExit(300), run + ": " + client.stderr);
          assertNoWarning(run.toString(), client.stderr);
        }
      }
      server.signal("TERM");
      assertEquals(0, server.awaitExit(60), server.stderr.toString());
      assertNoWarning("ping-server", server.stderr);
    }
    assertTrue(Files.size(result) > 0);
  }

  static void assertNoWarning(String run, List<String> stderr) {
    assertTrue(stderr.stream().noneMatch(line -> line.contains("WARNING:") || line.contains("VM warning:")),
        run + " warned: " + stderr);
  }
}
