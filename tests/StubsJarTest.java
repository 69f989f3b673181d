import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * lib/ping-stubs.jar is what proto/ builds to, byte for byte: rebuilt here with the README's command into a
 * temporary folder. Needs mvn and JDK 17 (the build enforces it); skipped without them, except in CI.
 */
class StubsJarTest {
  @Test
  void committedStubsJarEqualsAFreshBuildOfProto() throws Exception {
    boolean canBuild = Runtime.version().feature() == 17 && TestSupport.onPath("mvn");
    TestSupport.require(canBuild, "mvn and JDK 17, which rebuild the stubs");
    Path repo = TestSupport.repo();
    Path rebuilt = Files.createTempDirectory("pingkit-stubs");
    // the README's command, into a temporary folder
    List<String> command = new java.util.ArrayList<>(List.of(ReadmeTest.block("stubs-rebuild").trim()
        .split("\\s+")));
    command.add("-Dstubs.dir=" + rebuilt);
    TestSupport.run(repo, command.toArray(String[]::new));
    assertArrayEquals(Files.readAllBytes(repo.resolve("lib/ping-stubs.jar")),
        Files.readAllBytes(rebuilt.resolve("ping-stubs.jar")),
        "lib/ping-stubs.jar differs from a rebuild of proto/: run 'mvn -B -q -f proto/pom.xml package' and commit it");
  }
}
