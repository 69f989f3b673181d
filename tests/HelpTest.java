import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import pingkit.Pingkit;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each script's --help (description, 3-5 examples, the exit codes) and --version (ours and grpc-java's). */
class HelpTest {
  private static final Map<String, String> SCRIPTS = Map.of("PingServerCommand", "ping-server", "PingClientCommand",
      "ping-client", "HealthCheckCommand", "health-check");

  @Test
  void helpHasADescriptionExamplesAndTheExitCodes() {
    SCRIPTS.forEach((mainClass, name) -> {
      try (var help = TestSupport.ScriptProcess.java(mainClass, "--help")) {
        assertEquals(0, help.awaitExit(30));
        List<String> lines = help.stdout;
        assertTrue(lines.get(0).startsWith("Usage: " + name + " "), lines.get(0));
        int examples = lines.indexOf("Examples:");
        assertTrue(examples > 2, name + " has no Examples block: " + lines);
        long exampleLines = lines.subList(examples + 1, lines.size()).stream()
            .takeWhile(line -> !line.isBlank()).filter(line -> line.startsWith("  " + name + " ")).count();
        assertTrue(exampleLines >= 3 && exampleLines <= 5, name + ": " + exampleLines + " examples");
        int exitCodes = lines.indexOf("Exit codes:");
        assertTrue(exitCodes > examples, name + " has no exit-code table: " + lines);
        for (String code : List.of("  0  ", "  1  ", "  2  ", "  130  ")) {
          assertTrue(lines.subList(exitCodes, lines.size()).stream().anyMatch(line -> line.startsWith(code)),
              name + ": no exit code '" + code.trim() + "'");
        }
        assertTrue(lines.stream().allMatch(line -> line.length() <= 80), name + ": a line wider than 80 columns");
      }
    });
  }

  @Test
  void versionNamesTheToolkitAndTheGrpcJavaOnTheClasspath() {
    String grpcVersion = io.grpc.internal.GrpcUtil.IMPLEMENTATION_VERSION.replaceFirst("-.*$", "");
    SCRIPTS.forEach((mainClass, name) -> {
      try (var version = TestSupport.ScriptProcess.java(mainClass, "--version")) {
        assertEquals(0, version.awaitExit(30));
        assertEquals(List.of(name + " (pingkit) " + Pingkit.VERSION + ", grpc-java " + grpcVersion), version.stdout);
      }
    });
  }
}
