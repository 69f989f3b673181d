import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The AOT cache ./jbang makes for a script whose header asks for one: made after a first run, used by the next (the
 * JVM's own log of where a class came from says so), made again for a new entry, never half-made.
 */
class AotCacheTest {
  /** How long a training may take here: the scripts' own train against real peers, at the lowest priority. */
  private static final int TRAINING_SECONDS = 300;

  /** A script with the launcher's marker whose training waits for a file named release beside it. */
  private static final String TRAINED_SCRIPT = """
      %s
      import java.nio.file.*;
      class trained {
        public static void main(String[] args) throws Exception {
          String launcher = System.getProperty("pingkit.training");
          if (launcher == null) {
            System.out.println("ran " + String.join(" ", args));
            while (args.length > 0 && args[0].equals("hold") && !Files.exists(Path.of("go"))) {
              Thread.sleep(20);
            }
            return;
          }
          Path dir = Path.of(launcher).getParent();
          Files.writeString(dir.resolve("trainings.log"), ProcessHandle.current().pid() + "\\n",
              StandardOpenOption.CREATE, StandardOpenOption.APPEND);
          while (!Files.exists(dir.resolve("release"))) {
            Thread.sleep(20);
          }
        }
      }
      """;

  @Test
  void eachScriptTrainsOnItsOwnRoleAndItsNextRunStartsFromTheCache(@TempDir Path temp) throws Exception {
    Path repo = TestSupport.repo();
    Map<String, String> env = Map.of("PINGKIT_CACHE", TestSupport.launcherCacheOfOurOwn(temp).toString(),
        "PINGKIT_IGNORE_PATH_JBANG", "1");
    Map<String, String> scripts = Map.of("ping-server", "PingServerCommand", "ping-client", "PingClientCommand",
        "health-check", "HealthCheckCommand");
    for (var script : scripts.entrySet()) {
      Map<String, String> training = new HashMap<>(env);
      training.put("PINGKIT_AOT", "wait"); // the training runs before the launcher returns, as in an image's build
      List<String> trainingRun = run(repo, training, "./jbang", script.getKey() + ".java", "--version");
      assertTrue(trainingRun.get(0).startsWith(script.getKey() + " "), trainingRun.toString());
    }
    Path commands = temp.resolve("cache/jbang-cli-0.132.1+gson-2.14.0/commands");
    for (var script : scripts.entrySet()) {
      Path entry = entryOf(commands, script.getKey());
      assertTrue(Files.isRegularFile(Path.of(entry + ".aot.checked")), "the training of " + script.getKey()
          + " succeeded: " + filesOf(commands));
      assertEquals(List.of(".aot", ".aot.checked", ".aot.key", ".lock", ".trained"), suffixesBeside(entry));
      Path classes = temp.resolve(script.getKey() + ".classes");
      Map<String, String> logging = new HashMap<>(env);
      logging.put("PINGKIT_AOT", null);
      logging.put("JDK_JAVA_OPTIONS", "-Xlog:class+load=info:file=" + classes);
      run(repo, logging, "./jbang", script.getKey() + ".java", "--version");
      assertEquals("source: shared objects file", sourceOf(classes, script.getValue()));
    }
  }

  @Test
  void aFirstRunLeavesACacheMadeInTheBackgroundWhichTheNextRunStartsFrom(@TempDir Path temp) throws Exception {
    Scripts scripts = Scripts.create(temp);
    Files.writeString(scripts.release, "");
    assertEquals(List.of("ran a"), scripts.run(Map.of(), "a"));
    scripts.awaitCache();
    assertEquals(List.of(".aot", ".aot.checked", ".aot.key", ".lock", ".trained"), suffixesBeside(scripts.entry()));
    assertEquals("source: shared objects file", scripts.sourceOfTheScriptsClass("b"));
    assertEquals(1, scripts.trainings(), "the run from the cache trained nothing");
  }

  @Test
  void aCorruptCacheGivesAWorkingRunAndThenAGoodCache(@TempDir Path temp) throws Exception {
    Scripts scripts = Scripts.withACache(temp);
    Path aot = Path.of(scripts.entry() + ".aot");
    byte[] bytes = Files.readAllBytes(aot);
    java.util.Arrays.fill(bytes, bytes.length / 4, bytes.length / 2, (byte) 0x5a);
    Files.write(aot, bytes);
    try (var run = scripts.start(Map.of("PINGKIT_AOT", "wait"), "after the damage")) {
      assertEquals(0, run.awaitExit(TRAINING_SECONDS), run.stderr.toString());
      assertEquals(List.of("ran after the damage"), run.stdout);
      assertEquals(List.of(), run.stderr, "no word from the JVM about the cache");
    }
    assertEquals(List.of(".aot", ".aot.checked", ".aot.key", ".lock", ".trained"), suffixesBeside(scripts.entry()));
    assertEquals(2, scripts.trainings(), "made again");
    assertEquals("source: shared objects file", scripts.sourceOfTheScriptsClass("c"));
  }

  @Test
  void aCacheTheJvmRefusesGivesAWorkingRunWithoutAWordAboutIt(@TempDir Path temp) throws Exception {
    Scripts scripts = Scripts.withACache(temp);
    Path entry = scripts.entry();
    // the cache of another class path (another script's jar) where this entry's was: the JVM cannot use it
    Files.writeString(scripts.dir.resolve("other.java"), TRAINED_SCRIPT.formatted(scripts.marker)
        .replace("class trained", "class other"));
    assertEquals(List.of("ran x"), scripts.runScript("other.java", Map.of("PINGKIT_AOT", "wait"), "x"));
    Files.copy(Path.of(entryOf(entry.getParent(), "other") + ".aot"), Path.of(entry + ".aot"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.setLastModifiedTime(Path.of(entry + ".aot.checked"), java.nio.file.attribute.FileTime.from(
        Files.getLastModifiedTime(Path.of(entry + ".aot")).toInstant().plusSeconds(1)));
    try (var run = scripts.start(Map.of(), "refused")) {
      assertEquals(0, run.awaitExit(60), run.stderr.toString());
      assertEquals(List.of("ran refused"), run.stdout);
      assertEquals(List.of(), run.stderr);
    }
    assertFalse(scripts.sourceOfTheScriptsClass("again").contains("shared objects file"));
  }

  @Test
  void anotherJdkGetsACacheOfItsOwn(@TempDir Path temp) throws Exception {
    Scripts scripts = Scripts.withACache(temp);
    // a copy of this JDK (its files hard links) is another java, as a JDK installed beside it would be
    Path otherJdk = temp.resolve("other-jdk");
    TestSupport.run(temp, "bash", "-c", "cp -al \"$0\" \"$1\" 2>/dev/null || cp -a \"$0\" \"$1\"",
        System.getProperty("java.home"), otherJdk.toString());
    Map<String, String> other = Map.of("JAVA_HOME", otherJdk.toString());
    assertEquals(List.of("ran b"), scripts.run(other, "b"));
    assertFalse(Files.exists(Path.of(scripts.entry() + ".aot")), "the cache of the other java is gone");
    Map<String, String> otherWaiting = new HashMap<>(other);
    otherWaiting.put("PINGKIT_AOT", "wait");
    assertEquals(List.of("ran c"), scripts.run(otherWaiting, "c"));
    assertEquals(2, scripts.trainings());
    assertEquals("source: shared objects file", scripts.sourceOfTheScriptsClass("d", other));
    assertTrue(Files.readString(Path.of(scripts.entry() + ".aot.key")).contains(otherJdk + "/lib/modules"));
    TestSupport.run(temp, "rm", "-rf", otherJdk.toString()); // its links out of the folder: JUnit would warn
  }

  @Test
  void aChangedSourceMakesANewEntryAndANewCache(@TempDir Path temp) throws Exception {
    Scripts scripts = Scripts.withACache(temp);
    Files.writeString(scripts.script, Files.readString(scripts.script).replace("\"ran \"", "\"ran, changed, \""));
    try (var run = scripts.start(Map.of(), "b")) {
      assertEquals(0, run.awaitExit(120), run.stderr.toString());
      assertEquals(List.of("ran, changed, b"), run.stdout, "the old cache is not used for the new jar");
    }
    scripts.awaitCache();
    assertEquals(2, scripts.trainings());
    assertEquals("source: shared objects file", scripts.sourceOfTheScriptsClass("c"));
  }

  @Test
  void theScriptGivenByAnotherPathOrFromAnotherFolderKeepsItsCache(@TempDir Path temp) throws Exception {
    Scripts scripts = Scripts.withACache(temp);
    Path elsewhere = Files.createDirectories(temp.resolve("elsewhere"));
    Path classes = elsewhere.resolve("classes.log");
    Map<String, String> env = new HashMap<>(scripts.env);
    env.put("PINGKIT_AOT", null);
    env.put("JDK_JAVA_OPTIONS", "-Xlog:class+load=info:file=" + classes);
    // as an installed command runs it: by its path, from wherever the user is
    assertEquals(List.of("ran b"), run(elsewhere, env, scripts.dir.resolve("jbang").toString(),
        scripts.script.toString(), "b"));
    assertEquals("source: shared objects file", sourceOf(classes, "trained"));
    assertEquals(1, scripts.trainings());
    assertEquals("source: shared objects file", scripts.sourceOfTheScriptsClass("c"), "and back");
  }

  @Test
  void aRunOfTheScriptBeforeAnEditTrainsNothingWhenItEnds(@TempDir Path temp) throws Exception {
    Scripts scripts = Scripts.create(temp);
    Files.writeString(scripts.release, "");
    try (var before = scripts.start(Map.of("PINGKIT_AOT", "wait"), "hold")) {
      before.awaitStdout(line -> line.equals("ran hold"), 120);
      Files.writeString(scripts.script, Files.readString(scripts.script).replace("\"ran \"", "\"ran, edited, \""));
      assertEquals(List.of("ran, edited, a"), scripts.run(Map.of("PINGKIT_AOT", "off"), "a"));
      Files.writeString(scripts.dir.resolve("go"), "");
      assertEquals(0, before.awaitExit(TRAINING_SECONDS), before.stderr.toString());
    }
    assertEquals(0, scripts.trainings(), "the run from before the edit trained nothing for the new entry");
    assertEquals(List.of("ran, edited, b"), scripts.run(Map.of("PINGKIT_AOT", "wait"), "b"));
    assertEquals(1, scripts.trainings());
    assertEquals("source: shared objects file", scripts.sourceOfTheScriptsClass("c"));
  }

  @Test
  void theTrainingInTheBackgroundHoldsNoneOfTheCallersDescriptors(@TempDir Path temp) throws Exception {
    Scripts scripts = Scripts.create(temp);
    scripts.run(Map.of("PINGKIT_AOT", "off"), "made the entry");
    // a reader of the run's output on a descriptor above 2 (as bats reads fd 3) sees its end, though the training
    // it leaves waits for the release
    try (var pipeline = TestSupport.ScriptProcess.start(List.of("bash", "-c",
        "{ ./jbang trained.java a 3>&1 >/dev/null; } | cat; echo piped"), scripts.dir, scripts.withDefaults())) {
      assertEquals(0, pipeline.awaitExit(60), pipeline.stderr.toString());
      assertEquals(List.of("piped"), pipeline.stdout);
      awaitFile(scripts.dir.resolve("trainings.log"));
    } finally {
      Files.writeString(scripts.release, ""); // the training in the background ends, whatever happened
    }
    scripts.awaitCache();
  }

  @Test
  void twoFirstRunsAtOnceTrainOnce(@TempDir Path temp) throws Exception {
    Scripts scripts = Scripts.create(temp);
    scripts.run(Map.of("PINGKIT_AOT", "off"), "made the entry"); // JBang's first run, no cache
    // with PINGKIT_AOT=wait a run returns only once its training is done, or once the other's is
    try (var first = scripts.start(Map.of("PINGKIT_AOT", "wait"), "1");
         var second = scripts.start(Map.of("PINGKIT_AOT", "wait"), "2")) {
      awaitFile(scripts.dir.resolve("trainings.log"));
      Files.writeString(scripts.release, "");
      assertEquals(0, first.awaitExit(TRAINING_SECONDS), first.stderr.toString());
      assertEquals(0, second.awaitExit(TRAINING_SECONDS), second.stderr.toString());
      assertEquals(List.of("ran 1"), first.stdout);
      assertEquals(List.of("ran 2"), second.stdout);
    }
    assertEquals(1, scripts.trainings());
    assertEquals(List.of(".aot", ".aot.checked", ".aot.key", ".lock", ".trained"), suffixesBeside(scripts.entry()));
    assertEquals("source: shared objects file", scripts.sourceOfTheScriptsClass("3"));
  }

  @Test
  void aTrainingKilledHalfwayLeavesNoCacheAndIsTakenOverByALaterRun(@TempDir Path temp) throws Exception {
    Scripts scripts = Scripts.create(temp);
    try (var run = scripts.start(Map.of("PINGKIT_AOT", "wait"), "a")) {
      awaitFile(scripts.dir.resolve("trainings.log"));
      run.process.descendants().forEach(ProcessHandle::destroyForcibly);
      run.process.destroyForcibly().waitFor();
    }
    Path entry = scripts.entry();
    assertFalse(Files.exists(Path.of(entry + ".aot")), "no cache from a killed training");
    Files.writeString(scripts.release, "");
    assertEquals(List.of("ran b"), scripts.run(Map.of("PINGKIT_AOT", "wait"), "b"));
    assertEquals(2, scripts.trainings());
    assertEquals(List.of(".aot", ".aot.checked", ".aot.key", ".lock", ".trained"), suffixesBeside(entry), "its files are gone");
    assertEquals("source: shared objects file", scripts.sourceOfTheScriptsClass("c"));
  }

  @Test
  void withPingkitAotOffNoCacheIsMadeOrUsed(@TempDir Path temp) throws Exception {
    Scripts scripts = Scripts.withACache(temp);
    assertFalse(scripts.sourceOfTheScriptsClass("b", Map.of("PINGKIT_AOT", "off")).contains("shared objects"));
    Files.writeString(scripts.script, Files.readString(scripts.script) + "\n");
    assertEquals(List.of("ran c"), scripts.run(Map.of("PINGKIT_AOT", "off"), "c"));
    assertEquals(List.of(".trained"), suffixesBeside(scripts.entry()), "no training started");
  }

  /** trained.java (with the launcher's marker) beside a copy of the launcher, with a launcher cache of our own. */
  private record Scripts(Path dir, Path script, Path release, String marker, Map<String, String> env,
      Path commands) {
    /** Scripts whose first run ("a") made the cache before it returned (PINGKIT_AOT=wait). */
    static Scripts withACache(Path temp) throws IOException {
      Scripts scripts = create(temp);
      Files.writeString(scripts.release, "");
      scripts.run(Map.of("PINGKIT_AOT", "wait"), "a");
      return scripts;
    }

    static Scripts create(Path temp) throws IOException {
      Path dir = Files.createDirectories(temp.resolve("scripts"));
      Path cache = TestSupport.launcherCacheOfOurOwn(temp);
      Files.copy(TestSupport.repo().resolve("jbang"), dir.resolve("jbang"));
      Matcher marker = Pattern.compile("(?m)^aot_marker=\"(.*)\"$").matcher(Files.readString(dir.resolve("jbang")));
      assertTrue(marker.find(), "the launcher names its marker");
      // a new source for JBang, whatever its cache holds, as in the other tests of the launcher
      Path script = Files.writeString(dir.resolve("trained.java"), TRAINED_SCRIPT.formatted(marker.group(1))
          + "// " + System.nanoTime() + "\n");
      return new Scripts(dir, script, dir.resolve("release"), marker.group(1),
          Map.of("PINGKIT_CACHE", cache.toString(), "PINGKIT_IGNORE_PATH_JBANG", "1"),
          cache.resolve("jbang-cli-0.132.1+gson-2.14.0/commands"));
    }

    TestSupport.ScriptProcess start(Map<String, String> extra, String... args) {
      return startScript("trained.java", extra, args);
    }

    /** The environment of these runs: the launcher's cache of the test, and its defaults (PINGKIT_AOT unset). */
    Map<String, String> withDefaults() {
      Map<String, String> all = new HashMap<>(env);
      all.put("PINGKIT_AOT", null);
      return all;
    }

    TestSupport.ScriptProcess startScript(String name, Map<String, String> extra, String... args) {
      Map<String, String> all = withDefaults();
      all.putAll(extra);
      List<String> command = new java.util.ArrayList<>(List.of(dir.resolve("jbang").toString(), name));
      command.addAll(List.of(args));
      return TestSupport.ScriptProcess.start(command, dir, all);
    }

    List<String> run(Map<String, String> extra, String... args) {
      return runScript("trained.java", extra, args);
    }

    List<String> runScript(String name, Map<String, String> extra, String... args) {
      try (var run = startScript(name, extra, args)) {
        assertEquals(0, run.awaitExit(TRAINING_SECONDS), run.stderr.toString());
        return List.copyOf(run.stdout);
      }
    }

    Path entry() throws IOException {
      return entryOf(commands, "trained");
    }

    /** Waits for the training started by a run in the background: the cache's mark, and its own files gone. */
    void awaitCache() throws Exception {
      awaitFile(Path.of(entry() + ".aot.checked"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TRAINING_SECONDS);
      while (suffixesBeside(entry()).stream().anyMatch(suffix -> suffix.matches("\\.aot\\.[0-9].*"))
          && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
    }

    int trainings() throws IOException {
      Path log = dir.resolve("trainings.log");
      return Files.exists(log) ? Files.readAllLines(log).size() : 0;
    }

    String sourceOfTheScriptsClass(String arg) throws Exception {
      return sourceOfTheScriptsClass(arg, Map.of());
    }

    /** Where the JVM took the class trained from, in a run with {@code arg} (which must not train). */
    String sourceOfTheScriptsClass(String arg, Map<String, String> extra) throws Exception {
      Path classes = dir.resolve("classes-" + System.nanoTime() + ".log");
      Map<String, String> logging = new HashMap<>(extra);
      logging.put("JDK_JAVA_OPTIONS", "-Xlog:class+load=info:file=" + classes);
      List<String> output = run(logging, arg);
      assertTrue(output.size() == 1 && output.get(0).endsWith(" " + arg), output.toString());
      return sourceOf(classes, "trained");
    }
  }

  /** Runs {@code command} in {@code dir}: its stdout, once it exited 0. */
  private static List<String> run(Path dir, Map<String, String> env, String... command) {
    try (var run = TestSupport.ScriptProcess.start(List.of(command), dir, env)) {
      assertEquals(0, run.awaitExit(TRAINING_SECONDS), run.stderr.toString());
      return List.copyOf(run.stdout);
    }
  }

  /** The kept command line of the script whose file name starts with {@code name}. */
  private static Path entryOf(Path commands, String name) throws IOException {
    try (var files = Files.list(commands)) {
      List<Path> entries = files.filter(file -> file.getFileName().toString().endsWith("_" + name.replace('-', '_')
          + "_java")).toList();
      assertEquals(1, entries.size(), "one entry for " + name + ": " + filesOf(commands));
      return entries.get(0);
    }
  }

  /** The suffixes of the files beside an entry, sorted. */
  private static List<String> suffixesBeside(Path entry) throws IOException {
    String name = entry.getFileName().toString();
    try (var files = Files.list(entry.getParent())) {
      return files.map(file -> file.getFileName().toString()).filter(file -> file.startsWith(name + "."))
          .map(file -> file.substring(name.length())).sorted().toList();
    }
  }

  private static List<String> filesOf(Path dir) throws IOException {
    try (var files = Files.list(dir)) {
      return files.map(file -> file.getFileName().toString()).sorted().toList();
    }
  }

  /** The source the JVM's class-loading log gives for {@code className}. */
  private static String sourceOf(Path classLog, String className) throws IOException {
    Pattern load = Pattern.compile(" " + Pattern.quote(className) + " (source: .*)$");
    for (String line : Files.readAllLines(classLog)) {
      Matcher matcher = load.matcher(line);
      if (matcher.find()) {
        return matcher.group(1);
      }
    }
    return className + " not loaded";
  }

  private static void awaitFile(Path file) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TRAINING_SECONDS);
    while (!Files.exists(file) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(Files.exists(file), "no " + file + " within " + TRAINING_SECONDS + " s");
  }
}
