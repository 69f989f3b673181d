import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The repository's ./jbang launcher, and the classpath it gives the scripts. */
class LauncherTest {
  private static final String ECHO_SCRIPT = """
      class echo {
        public static void main(String[] args) throws Exception {
          for (String arg : args) {
            System.out.println("[" + arg + "]");
          }
          var stdin = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
          System.out.println("stdin: " + stdin.readLine());
        }
      }
      """;

  @Test
  void argumentsWithSpacesAndQuotesAndStdinReachTheScriptIntact(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("echo.java"), ECHO_SCRIPT);
    Path repo = TestSupport.repo();
    try (var run = TestSupport.ScriptProcess.start(List.of(repo.resolve("jbang").toString(), "echo.java",
        "two words", "it's", "say \"hi\"", "$HOME", "*"), dir)) {
      run.process.getOutputStream().write("from stdin\n".getBytes(StandardCharsets.UTF_8));
      run.process.getOutputStream().close();
      assertEquals(0, run.awaitExit(120), run.stderr.toString());
      assertEquals(List.of("[two words]", "[it's]", "[say \"hi\"]", "[$HOME]", "[*]", "stdin: from stdin"),
          run.stdout);
    }
  }

  /**
   * Without Maven, the launcher takes jbang-cli's jars from ~/.m2/repository or from PINGKIT_MAVEN_REPO, checks
   * each against the SHA-256 it pins, and refuses a jar that differs (publishing nothing); with neither, it says
   * what to do.
   */
  @Test
  void withoutMavenTheJarsComeFromTheLocalRepositoryOrAUrlAndEachIsChecked(@TempDir Path temp) throws Exception {
    Path repo = TestSupport.repo();
    Path jars = TestSupport.launcherCacheOfOurOwn(temp).resolve("jbang-cli-0.132.1+gson-2.14.0/lib");
    // a Maven repository's layout, from the pinned list at the end of the launcher
    Path mavenRepo = Files.createDirectories(temp.resolve("maven"));
    List<String[]> locked = Files.readAllLines(repo.resolve("jbang")).stream()
        .dropWhile(line -> !line.equals("# locked jars")).skip(1)
        .filter(line -> line.matches("# [0-9a-f]{64} \\S+")).map(line -> line.substring(2).split(" ")).toList();
    assertTrue(locked.size() > 10, "the launcher pins jbang-cli's jars: " + locked.size());
    for (String[] jar : locked) {
      Path into = mavenRepo.resolve(jar[1]);
      Files.createDirectories(into.getParent());
      Files.copy(jars.resolve(into.getFileName().toString()), into);
    }
    // a PATH with everything but mvn (and any jbang)
    Path bin = Files.createDirectories(temp.resolve("bin"));
    for (String dir : List.of("/usr/local/bin", "/usr/bin", "/bin")) {
      try (var tools = Files.list(Path.of(dir))) {
        for (Path tool : tools.toList()) {
          String name = tool.getFileName().toString();
          if (!name.equals("mvn") && !name.equals("jbang") && !Files.exists(bin.resolve(name))) {
            Files.createSymbolicLink(bin.resolve(name), tool);
          }
        }
      }
    }
    Path home = Files.createDirectories(temp.resolve("home"));
    java.util.function.BiFunction<String, Map<String, String>, TestSupport.ScriptProcess> version =
        (cacheName, env) -> launcherVersion(bin, home, temp.resolve(cacheName), env);

    try (var run = version.apply("none", Map.of())) {
      assertEquals(1, run.awaitExit(120), run.stderr.toString());
      assertTrue(run.stderr.stream().anyMatch(line -> line.contains("mvn is not installed: install Maven, or set"
          + " PINGKIT_MAVEN_REPO")), run.stderr.toString());
    }
    try (var run = version.apply("from-url", Map.of("PINGKIT_MAVEN_REPO", mavenRepo.toUri().toString()))) {
      assertEquals(0, run.awaitExit(120), run.stderr.toString());
      assertTrue(run.stdout.contains("0.132.1"), run.stdout.toString());
    }
    Files.createDirectories(home.resolve(".m2"));
    Files.createSymbolicLink(home.resolve(".m2/repository"), mavenRepo);
    try (var run = version.apply("from-local", Map.of())) {
      assertEquals(0, run.awaitExit(120), run.stderr.toString());
      assertTrue(run.stdout.contains("0.132.1"), run.stdout.toString());
    }
    Files.delete(home.resolve(".m2/repository"));
    // one byte of one jar changed: refused by its checksum, and no cache is published
    Path tampered = mavenRepo.resolve(locked.get(0)[1]);
    byte[] bytes = Files.readAllBytes(tampered);
    bytes[bytes.length / 2] ^= 1;
    Files.write(tampered, bytes);
    try (var run = version.apply("tampered", Map.of("PINGKIT_MAVEN_REPO", mavenRepo.toUri().toString()))) {
      assertEquals(1, run.awaitExit(120), run.stderr.toString());
      assertTrue(run.stderr.stream().anyMatch(line -> line.equals("jbang launcher: checksum mismatch for "
          + tampered.getFileName() + ": refusing to run it")), run.stderr.toString());
      assertTrue(!Files.exists(temp.resolve("tampered/jbang-cli-0.132.1+gson-2.14.0")), "nothing published");
    }
  }

  /** `./jbang version` with a PATH of {@code bin}, a HOME of {@code home}, a launcher cache of {@code cache}. */
  private static TestSupport.ScriptProcess launcherVersion(Path bin, Path home, Path cache, Map<String, String> env) {
    Map<String, String> all = new java.util.HashMap<>(env);
    all.putAll(Map.of("PATH", bin.toString(), "HOME", home.toString(), "PINGKIT_IGNORE_PATH_JBANG", "1",
        "PINGKIT_CACHE", cache.toString()));
    Path repo = TestSupport.repo();
    return TestSupport.ScriptProcess.start(List.of(repo.resolve("jbang").toString(), "version"), repo, all);
  }

  @Test
  void twoFirstRunsAtOnceShareOneCompleteCache(@TempDir Path cache) throws Exception {
    TestSupport.require(TestSupport.onPath("mvn"), "mvn, which the bootstrap test uses");
    Path repo = TestSupport.repo();
    Map<String, String> env = Map.of("PINGKIT_CACHE", cache.toString(), "PINGKIT_IGNORE_PATH_JBANG", "1");
    try (var first = TestSupport.ScriptProcess.start(List.of(repo.resolve("jbang").toString(), "version"),
             repo, env);
         var second = TestSupport.ScriptProcess.start(List.of(repo.resolve("jbang").toString(), "version"),
             repo, env)) {
      assertEquals(0, first.awaitExit(300), first.stderr.toString());
      assertEquals(0, second.awaitExit(300), second.stderr.toString());
      assertEquals(List.of("0.132.1"), first.stdout);
      assertEquals(List.of("0.132.1"), second.stdout);
    }
    Path published = cache.resolve("jbang-cli-0.132.1+gson-2.14.0");
    assertTrue(Files.isSymbolicLink(published), "the cache is published as one symlink");
    try (var entries = Files.list(cache)) {
      assertEquals(2, entries.count(), "the losing run removes its copy: " + cache);
    }
  }

  @Test
  void aScriptBesideTheLauncherRunsAgainWithoutJBangUntilASourceChanges(@TempDir Path temp) throws Exception {
    Path cache = TestSupport.launcherCacheOfOurOwn(temp);
    Path lib = cache.resolve("jbang-cli-0.132.1+gson-2.14.0/lib");
    Path away = Files.createDirectories(cache.resolve("away"));
    Path dir = Files.createDirectories(temp.resolve("scripts"));
    Files.copy(TestSupport.repo().resolve("jbang"), dir.resolve("jbang"));
    Files.writeString(dir.resolve("hello.java"), helloScript("one"));
    Map<String, String> env = Map.of("PINGKIT_CACHE", cache.toString(), "PINGKIT_IGNORE_PATH_JBANG", "1");

    assertEquals(List.of("one [a]"), runHello(dir, env, "a"));
    moveAll(lib, away); // JBang cannot start now: only the kept command line can run the script
    assertEquals(List.of("one [b c]", "one [$HOME]"), runHello(dir, env, "b c", "$HOME"));
    moveAll(away, lib);
    Files.writeString(dir.resolve("hello.java"), helloScript("two, changed"));
    assertEquals(List.of("two, changed [d]"), runHello(dir, env, "d"));
  }

  @Test
  void aRunWithAnotherHomeGivesItToJBangAndToTheScript(@TempDir Path temp) throws Exception {
    Path cache = TestSupport.launcherCacheOfOurOwn(temp);
    Path home = Files.createDirectories(temp.resolve("home"));
    Path dir = Files.createDirectories(temp.resolve("scripts"));
    Files.copy(TestSupport.repo().resolve("jbang"), dir.resolve("jbang"));
    Files.writeString(dir.resolve("home.java"), "class home { public static void main(String[] args) {"
        + " System.out.println(System.getProperty(\"user.home\")); } }");
    Map<String, String> env = Map.of("HOME", home.toString(), "PINGKIT_CACHE", cache.toString(),
        "PINGKIT_IGNORE_PATH_JBANG", "1");

    assertEquals(List.of(home.toString()), runScript(dir, env, "home.java"));
    assertTrue(Files.isDirectory(home.resolve(".jbang/cache")), "JBang's cache is in HOME, not the account's");
    assertEquals(List.of(home.toString()), runScript(dir, env, "home.java"), "the kept command line, run again");
  }

  private static String helloScript(String version) {
    return "class hello { public static void main(String[] args) { for (String arg : args) {"
        + " System.out.println(\"" + version + " [\" + arg + \"]\"); } } }\n";
  }

  private static List<String> runHello(Path dir, Map<String, String> env, String... args) {
    List<String> command = new java.util.ArrayList<>(List.of("hello.java"));
    command.addAll(List.of(args));
    return runScript(dir, env, command.toArray(String[]::new));
  }

  private static List<String> runScript(Path dir, Map<String, String> env, String... scriptAndArgs) {
    List<String> command = new java.util.ArrayList<>(List.of(dir.resolve("jbang").toString()));
    command.addAll(List.of(scriptAndArgs));
    try (var run = TestSupport.ScriptProcess.start(command, dir, env)) {
      assertEquals(0, run.awaitExit(120), run.stderr.toString());
      return List.copyOf(run.stdout);
    }
  }

  private static void moveAll(Path from, Path to) throws java.io.IOException {
    try (var files = Files.list(from)) {
      for (Path file : files.toList()) {
        Files.move(file, to.resolve(file.getFileName()));
      }
    }
  }

  @Test
  void exactlyOneGuavaIsOnTheScriptsClasspath() {
    long guavaJars = List.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator)).stream()
        .filter(entry -> Path.of(entry).getFileName().toString().matches("guava-\\d.*\\.jar")).count();
    assertEquals(1, guavaJars, System.getProperty("java.class.path"));
  }
}
