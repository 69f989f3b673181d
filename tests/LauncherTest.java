import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
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

  // A class of picocli, compiled for Java 5: Java 17's dynamic archives (JBang's //CDS) leave such classes out
  private static final String CDS_SCRIPT = """
      //DEPS info.picocli:picocli:4.7.7
      //CDS
      //JAVA_OPTIONS -Xlog:cds=off -Xlog:cds+dynamic=off -Xlog:class+load=info:file=classes.log
      class archived {
        public static void main(String[] args) throws Exception {
          System.out.println(picocli.CommandLine.class.getSimpleName() + " %s");
          System.out.println(java.nio.file.Path.of(archived.class.getProtectionDomain().getCodeSource()
              .getLocation().toURI()));
          for (String option : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (option.startsWith("-XX:SharedArchiveFile=")) {
              System.out.println(option.substring("-XX:SharedArchiveFile=".length()));
            }
          }
        }
      }
      """;

  @Test
  void aCdsScriptRunsFromAStaticArchiveThatHoldsJavaFiveClassesFromTheRunAfterItsClassesWereListed(
      @TempDir Path temp) throws Exception {
    CdsScript script = CdsScript.create(temp);
    assertEquals(2, script.run().size(), "JBang makes its archive on this run, with a command line of its own");
    List<String> listing = script.run();
    assertTrue(listing.get(2).endsWith("/archived.jsa"), "JBang's archive, while the classes are listed: " + listing);
    assertTrue(script.picocliSource().contains("picocli-4.7.7.jar"), script.picocliSource());
    assertEquals(List.of(".classes"), script.filesBesideTheCommandLine().stream()
        .map(suffix -> suffix.replaceAll("\\.[0-9]+$", "")).toList());

    for (int run = 3; run <= 4; run++) {
      assertRunsFromTheLaunchersArchive(script, "run " + run);
    }
    assertEquals(List.of(".jsa"), script.filesBesideTheCommandLine(), "the list is gone once archived");

    // a jar fetched again (another time, same content) makes a new entry, its own list and archive
    Path jar = Path.of(listing.get(1));
    Files.setLastModifiedTime(jar, FileTime.from(Instant.parse("2001-01-01T00:00:00Z")));
    List<String> afterJarChange = script.run();
    assertTrue(afterJarChange.get(2).endsWith("/archived.jsa"), "listing again: " + afterJarChange);
    assertRunsFromTheLaunchersArchive(script, "after the jar changed");
  }

  private static void assertRunsFromTheLaunchersArchive(CdsScript script, String run) throws Exception {
    List<String> output = script.run();
    assertEquals(3, output.size(), output.toString());
    Path archive = Path.of(output.get(2));
    assertEquals(script.commands, archive.getParent(), run + " uses the launcher's archive: " + archive);
    assertTrue(Files.isRegularFile(archive), archive.toString());
    assertTrue(script.picocliSource().endsWith("source: shared objects file"), run + ": " + script.picocliSource());
  }

  @Test
  void aCdsScriptWhoseStaticArchiveCannotBeMadeRunsWithJBangsArchive(@TempDir Path temp) throws Exception {
    CdsScript script = CdsScript.create(temp);
    script.run();
    script.run();
    try (var lists = Files.list(script.commands)) {
      for (Path list : lists.filter(file -> file.toString().contains(".classes.")).toList()) {
        Files.writeString(list, "not a class list\n");
      }
    }
    for (int run = 3; run <= 4; run++) {
      List<String> output = script.run();
      assertEquals(3, output.size(), output.toString());
      assertEquals("CommandLine " + script.dir.getFileName(), output.get(0));
      assertTrue(output.get(2).endsWith("/archived.jsa"), "run " + run + " uses JBang's archive: " + output);
      assertTrue(Files.isRegularFile(Path.of(output.get(2))), output.get(2));
    }
    assertEquals(List.of(".nojsa"), script.filesBesideTheCommandLine(),
        "the failed dump is remembered, and nothing else is left beside the command line");
  }

  /** CDS_SCRIPT beside a copy of the launcher, run with a cache of our own (and its commands/ folder). */
  private record CdsScript(Path dir, Map<String, String> env, Path commands) {
    static CdsScript create(Path temp) throws java.io.IOException {
      Path dir = Files.createDirectories(temp.resolve("scripts-" + System.nanoTime()));
      // the cache inside the repository, as with XDG_CACHE_HOME=$PWD/.cache: its archives are not sources
      Path cache = TestSupport.launcherCacheOfOurOwn(dir);
      Files.copy(TestSupport.repo().resolve("jbang"), dir.resolve("jbang"));
      // a new source for JBang, so that its first run makes JBang's archive, whatever JBang's cache holds
      Files.writeString(dir.resolve("archived.java"), CDS_SCRIPT.formatted(dir.getFileName()));
      return new CdsScript(dir, Map.of("PINGKIT_CACHE", cache.toString(), "PINGKIT_IGNORE_PATH_JBANG", "1"),
          cache.resolve("jbang-cli-0.132.1+gson-2.14.0/commands"));
    }

    List<String> run() {
      return runScript(dir, env, "archived.java");
    }

    String picocliSource() throws java.io.IOException {
      return Files.readAllLines(dir.resolve("classes.log")).stream()
          .filter(line -> line.contains(" picocli.CommandLine source: ")).findFirst().orElse("picocli not loaded");
    }

    /** The suffixes of the files beside the script's command line (the only file without a dot). */
    List<String> filesBesideTheCommandLine() throws java.io.IOException {
      try (var files = Files.list(commands)) {
        return files.map(file -> file.getFileName().toString()).filter(name -> name.contains("."))
            .map(name -> name.substring(name.indexOf('.'))).toList();
      }
    }
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
