import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The test runner itself: it finds the test files, so that none is left out by a list that forgot it. */
// compiles scripts afresh and runs them as a new user would: longer than a test's default limit on a loaded machine
@org.junit.jupiter.api.Timeout(value = 15, unit = java.util.concurrent.TimeUnit.MINUTES)
class RunnerTest {

  @Test
  void aNewTestFileRunsWithoutBeingListedAnywhere(@TempDir Path temp) throws Exception {
    // the repository's files (as a clone has them, and any new ones not ignored), plus one new test file
    Path copy = Files.createDirectories(temp.resolve("pingkit"));
    for (String file : TestSupport.run(TestSupport.repo(), "git", "ls-files", "--cached", "--others",
        "--exclude-standard").lines().toList()) {
      Path from = TestSupport.repo().resolve(file);
      if (Files.isRegularFile(from)) {
        Files.createDirectories(copy.resolve(file).getParent());
        Files.copy(from, copy.resolve(file), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
      }
    }
    Files.writeString(copy.resolve("tests/JustAddedTest.java"), """
        class JustAddedTest {
          @org.junit.jupiter.api.Test
          void runs() {}
        }
        """);
    List<String> command = List.of(copy.resolve("jbang").toString(), "tests/run.java", "JustAddedTest");
    // a launcher cache of its own: the copy's command lines and class lists go away with it
    Map<String, String> env = Map.of("PINGKIT_HOME", copy.toString(), "PINGKIT_IGNORE_PATH_JBANG", "1",
        "PINGKIT_CACHE", TestSupport.launcherCacheOfOurOwn(temp).toString());
    try (var run = TestSupport.ScriptProcess.start(command, copy, env)) {
      assertEquals(0, run.awaitExit(600), run.stdout + "\n" + run.stderr);
      assertTrue(run.stdout.stream().anyMatch(line -> line.startsWith("ok    JustAddedTest > runs()")),
          run.stdout.toString());
      assertEquals("1 passed, 0 failed, 0 skipped", run.stdout.get(run.stdout.size() - 1));
    }
  }
}
