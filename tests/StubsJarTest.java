import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * lib/ping-stubs.jar is what proto/ builds to, byte for byte: rebuilt here with the README's command into a
 * temporary folder (the block names the JDK 25 it builds with). Needs mvn; skipped without it, except in CI.
 */
class StubsJarTest {
  @Test
  void committedStubsJarEqualsAFreshBuildOfProto() throws Exception {
    TestSupport.require(TestSupport.onPath("mvn"), "mvn, which rebuilds the stubs");
    Path repo = TestSupport.repo();
    Path rebuilt = Files.createTempDirectory("pingkit-stubs");
    // the README's command, as a shell runs it, into a temporary folder
    TestSupport.run(repo, "bash", "-c", ReadmeTest.block("stubs-rebuild").trim() + " -Dstubs.dir=" + rebuilt);
    assertArrayEquals(Files.readAllBytes(repo.resolve("lib/ping-stubs.jar")),
        Files.readAllBytes(rebuilt.resolve("ping-stubs.jar")),
        "lib/ping-stubs.jar differs from a rebuild of proto/: rebuild it as the README says and commit it");
  }
}
