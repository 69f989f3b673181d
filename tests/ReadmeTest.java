import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import pingkit.server.PingServer;
import pingkit.server.RunningServer;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every command in the README's shell blocks, and its "$ " example, is run so that the README cannot drift:
 * here, by the test that reads its marked block (app-install: AppInstallTest, exec-probe: KubernetesProbeTest,
 * stubs-rebuild: StubsJarTest, many-hosts: MergeTest, k8s-load: KubernetesJobTest, method-examples: MethodTest), or
 * by CI (.ci/run runs
 * the benchmarks' --smoke versions and the test command).
 */
// compiles scripts afresh and runs them as a new user would: longer than a test's default limit on a loaded machine
@org.junit.jupiter.api.Timeout(value = 15, unit = java.util.concurrent.TimeUnit.MINUTES)
class ReadmeTest {
  private static final List<String> BLOCKS_RUN_BY_OTHER_TESTS = List.of("app-install", "exec-probe",
      "stubs-rebuild", "many-hosts", "k8s-load", "method-examples", "capture-example");
  // the commands this class runs, as it finds them in the README
  private static final Predicate<String> QUICK_START_SERVER = line -> line.startsWith("./jbang ping-server.java ");
  private static final Predicate<String> LOAD_EXAMPLE = line -> line.startsWith("./jbang ping-client.java -c ")
      || line.startsWith("./jbang ping-client.java --stream -c ");
  private static final Predicate<String> ONE_TEST_CLASS = line -> line.matches("\\./jbang tests/run\\.java \\w+");

  /** A command of the README: its line, and the marker of its block ("" when unmarked). */
  record Command(String marker, String line) {}

  static String readme() {
    try {
      return Files.readString(TestSupport.repo().resolve("README.md"));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The text of the block under {@code <!-- marker -->}. */
  static String block(String marker) {
    Matcher block = Pattern.compile("<!-- " + Pattern.quote(marker) + " -->\\s*```\\w*\\n(.*?)```", Pattern.DOTALL)
        .matcher(readme());
    assertTrue(block.find(), "README.md has no " + marker + " block");
    return block.group(1);
  }

  /** Every command: the lines of ```sh blocks (comments dropped), and "$ " lines of output examples. */
  static List<Command> commands() {
    List<Command> commands = new ArrayList<>();
    Matcher block = Pattern.compile("(?:<!-- ([\\w-]+) -->\\s*)?```(\\w*)\\n(.*?)```", Pattern.DOTALL)
        .matcher(readme());
    while (block.find()) {
      String marker = block.group(1) == null ? "" : block.group(1);
      for (String line : block.group(3).split("\\n")) {
        if (block.group(2).equals("sh")) {
          String command = line.replaceFirst("(^|\\s+)#.*$", "").trim();
          if (!command.isEmpty()) {
            commands.add(new Command(marker, command));
          }
        } else if (block.group(2).isEmpty() && line.startsWith("$ ")) {
          commands.add(new Command(marker, line.substring(2).trim()));
        }
      }
    }
    return commands;
  }

  private static String command(Predicate<String> which) {
    return commands().stream().map(Command::line).filter(which).findFirst()
        .orElseThrow(() -> new AssertionError("the README has no such command any more"));
  }

  @Test
  void everyCommandIsRunByThisTestAnotherOneOrCi() throws Exception {
    List<String> ci = Files.readAllLines(TestSupport.repo().resolve(".ci/run")).stream().map(String::trim).toList();
    for (Command command : commands()) {
      if (BLOCKS_RUN_BY_OTHER_TESTS.contains(command.marker())) {
        continue; // those tests read their block, and fail when it is gone
      }
      String line = command.line();
      boolean runByCi = ci.stream().anyMatch(ciLine -> ciLine.equals(line) || ciLine.startsWith(line + " --smoke"));
      boolean runHere = QUICK_START_SERVER.or(LOAD_EXAMPLE).or(ONE_TEST_CLASS).test(line);
      assertTrue(runByCi || runHere, "a README command that no test and no CI step runs: " + line);
    }
    for (String marker : BLOCKS_RUN_BY_OTHER_TESTS) {
      assertTrue(!block(marker).isBlank(), marker);
    }
  }

  @Test
  void theQuickStartServerPrintsItsPortServesAndStopsCleanly() {
    try (var server = TestSupport.ScriptProcess.start(List.of("bash", "-c", "exec " + command(QUICK_START_SERVER)),
        TestSupport.repo())) {
      int port = server.awaitListeningPort();
      assertTrue(server.stdout.get(0).matches("listening on tcp \\[::\\]:\\d+"), server.stdout.get(0));
      var channel = TestSupport.plaintext("127.0.0.1:" + port);
      try {
        assertEquals(3, TestSupport.ping(channel).ping(TestSupport.message(3, "hi", 0)).getSeq());
      } finally {
        TestSupport.close(channel);
      }
      server.signal("TERM");
      assertEquals(0, server.awaitExit(30));
      assertEquals(1, server.stdout.size(), "stdout holds only the listening line: " + server.stdout);
    }
  }

  @Test
  void theLoadExamplesPrintWhatTheReadmeShows() {
    List<String> examples = commands().stream().filter(command -> command.marker().isEmpty()).map(Command::line)
        .filter(LOAD_EXAMPLE).toList();
    assertEquals(2, examples.size(), "calls and messages: " + examples);
    examples.forEach(ReadmeTest::printsWhatTheReadmeShows);
  }

  private static void printsWhatTheReadmeShows(String example) {
    try (RunningServer server = PingServer.start("127.0.0.1:0")) {
      String command = example.replace("localhost:8079", server.target());
      try (var load = TestSupport.ScriptProcess.start(List.of("bash", "-c", "exec " + command),
          TestSupport.repo())) {
        assertEquals(0, load.awaitExit(120), "stderr: " + load.stderr);
        String output = String.join("\n", load.stdout);
        // the lines the README shows, with this run's numbers
        Matcher shown = Pattern.compile("\\$ " + Pattern.quote(example) + "\\n(.*?)```", Pattern.DOTALL)
            .matcher(readme());
        assertTrue(shown.find());
        for (String line : shown.group(1).split("\\n")) {
          String start = line.replace("localhost:8079", server.target()).replaceFirst("[\\d.]+.*$", "");
          if (!line.equals("...") && !start.isBlank()) {
            assertTrue(output.lines().anyMatch(l -> l.startsWith(start)), "no line like '" + line + "' in\n" + output);
          }
        }
        if (example.contains(" -n 20000 ")) {
          assertTrue(output.contains("Ping SERVING : 20000"), output);
        }
      }
    }
  }

  @Test
  void oneTestClassRunsAloneAsTheReadmeSays() {
    try (var tests = TestSupport.ScriptProcess.start(List.of("bash", "-c", "exec " + command(ONE_TEST_CLASS)),
        TestSupport.repo(), Map.of())) {
      assertEquals(0, tests.awaitExit(300), "stderr: " + tests.stderr);
      String last = tests.stdout.get(tests.stdout.size() - 1);
      assertTrue(last.matches("[1-9]\\d* passed, 0 failed, 0 skipped"), last);
    }
  }
}
