import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/: the manifests' structure, and the README's flow (apply, wait, collect, merge) with a stand-in kubectl
 * whose Job runs each pod's own command in a network namespace of its own, as a host, against ping-server in
 * another. Nothing here can run a cluster; the namespaces need root (CI runs as root).
 */
// compiles scripts afresh and runs them as a new user would: longer than a test's default limit on a loaded machine
@org.junit.jupiter.api.Timeout(value = 15, unit = java.util.concurrent.TimeUnit.MINUTES)
class KubernetesJobTest {
  private static final Path DEPLOY = TestSupport.repo().resolve("deploy");
  private static final String SERVER_NAMESPACE = "pk-server";
  private static final String SERVER_ADDRESS = "10.231.0.1";

  @TempDir
  Path dir;

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> manifests(String file) throws IOException {
    List<Map<String, Object>> documents = new ArrayList<>();
    try (InputStream in = Files.newInputStream(DEPLOY.resolve(file))) {
      new Yaml().loadAll(in).forEach(document -> documents.add((Map<String, Object>) document));
    }
    return documents;
  }

  @SuppressWarnings("unchecked")
  private static <T> T at(Map<String, Object> map, String... path) {
    Object value = map;
    for (String key : path) {
      value = key.matches("\\d+") ? ((List<Object>) value).get(Integer.parseInt(key))
          : ((Map<String, Object>) value).get(key);
    }
    return (T) value;
  }

  /** The image the README builds. */
  private static String imageBuilt() {
    Matcher build = Pattern.compile("docker build -f deploy/Containerfile -t (\\S+) \\.").matcher(
        ReadmeTest.block("k8s-load"));
    assertTrue(build.find(), "the README builds the image");
    return build.group(1);
  }

  /** The load command of each of the Job's pods: the container's shell script. */
  private static String podScript(Map<String, Object> job) {
    List<String> command = at(job, "spec", "template", "spec", "containers", "0", "command");
    assertEquals(List.of("sh", "-c"), command);
    return at(job, "spec", "template", "spec", "containers", "0", "args", "0");
  }

  @Test
  void theManifestsAreAServerDeploymentItsServiceAndAnIndexedJobOfTheImageTheReadmeBuilds() throws IOException {
    var server = manifests("ping-server.yaml");
    assertEquals(List.of("Deployment", "Service"), server.stream().map(m -> m.get("kind")).toList());
    Map<String, Object> deployment = server.get(0);
    Map<String, Object> container = at(deployment, "spec", "template", "spec", "containers", "0");
    assertEquals(imageBuilt(), container.get("image"));
    assertEquals(List.of("./jbang", "ping-server.java", "8079"), container.get("command"));
    Object labels = at(deployment, "spec", "selector", "matchLabels");
    assertEquals(labels, (Object) at(deployment, "spec", "template", "metadata", "labels"));
    assertEquals(8079, (int) at(container, "ports", "0", "containerPort"));
    assertEquals(8079, (int) at(container, "readinessProbe", "grpc", "port"));
    assertEquals("ping", at(container, "readinessProbe", "grpc", "service"));
    assertEquals(8079, (int) at(container, "livenessProbe", "grpc", "port"));
    Map<String, Object> service = server.get(1);
    assertEquals(labels, (Object) at(service, "spec", "selector"));
    assertEquals("grpc", at(service, "spec", "ports", "0", "targetPort"));

    var job = manifests("load-job.yaml");
    assertEquals(1, job.size());
    Map<String, Object> spec = at(job.get(0), "spec");
    assertEquals("Job", job.get(0).get("kind"));
    assertEquals("Indexed", spec.get("completionMode"));
    assertEquals(spec.get("completions"), spec.get("parallelism"));
    assertEquals("Never", at(spec, "template", "spec", "restartPolicy"));
    assertEquals(imageBuilt(), at(spec, "template", "spec", "containers", "0", "image"));
    String script = podScript(job.get(0));
    assertTrue(script.startsWith("./jbang ping-client.java ") && script.contains(" --start-at \"$START_AT\" ")
        && script.contains(" --json ") && script.contains(" --hlog ")
        && script.contains(" --lb round_robin dns:///ping-server:8079 "),
        script);
    String containerfile = Files.readString(DEPLOY.resolve("Containerfile"));
    assertTrue(containerfile.contains("-t " + imageBuilt()), "the Containerfile names the image it builds");
    assertTrue(containerfile.contains("WORKDIR " + at(spec, "template", "spec", "containers", "0", "workingDir")));
  }

  @Test
  void theJobsPodsStartTogetherAndTheirResultsMergeAsTheReadmeSays() throws Exception {
    var job = manifests("load-job.yaml").get(0);
    int pods = (int) at(job, "spec", "completions");
    List<String> namespaces = new ArrayList<>(List.of(SERVER_NAMESPACE));
    for (int i = 0; i < pods; i++) {
      namespaces.add("pk-pod" + i);
    }
    try (var hosts = new TestSupport.Hosts("pk-br", "10.231.0", namespaces);
        var server = TestSupport.ScriptProcess.start(List.of("ip", "netns", "exec", SERVER_NAMESPACE,
            TestSupport.repo().resolve("jbang").toString(), "ping-server.java", "8079"), TestSupport.repo())) {
      hosts.name("ping-server", SERVER_NAMESPACE);
      server.awaitListeningPort();
      Path state = Files.createDirectories(dir.resolve("cluster"));
      Path bin = standIns(state);
      // the README's block, from a folder of its own; the pods here are up in seconds, not minutes, and find
      // the client compiled (three first runs at once would each compile it into JBang's one cache folder)
      StringBuilder script = new StringBuilder("set -e\ncd '" + dir + "'\nexport PATH=\"" + bin + ":$PATH\"\n"
          + "(cd '" + TestSupport.repo() + "' && ./jbang ping-client.java --version)\n");
      for (String line : ReadmeTest.block("k8s-load").split("\n")) {
        script.append(line.replace("'+90 sec'", "'+40 sec'")
            .replace("deploy/", TestSupport.repo().resolve("deploy") + "/")
            .replace("./jbang ping-client.java", TestSupport.repo().resolve("jbang") + " "
                + TestSupport.repo().resolve("ping-client.java"))).append('\n');
      }
      try (var shell = TestSupport.ScriptProcess.start(List.of("bash", "-c", script.toString()), dir)) {
        assertEquals(0, shell.awaitExit(300), "stdout: " + shell.stdout + "\nstderr: " + shell.stderr);
        long sum = 0;
        List<OffsetDateTime> starts = new ArrayList<>();
        for (int i = 0; i < pods; i++) {
          JsonObject result = JsonParser.parseString(Files.readString(dir.resolve("pingkit-load-" + i + ".json")))
              .getAsJsonObject();
          sum += result.getAsJsonObject("DurationHistogram").get("Count").getAsLong();
          starts.add(OffsetDateTime.parse(result.get("StartTime").getAsString()));
          assertEquals(0, result.get("StartedLateBy").getAsLong(), 50_000_000, "pod " + i + " ready in time");
          assertTrue(result.getAsJsonObject("RetCodes").has("SERVING"), result.toString());
        }
        Duration spread = Duration.between(starts.stream().min(OffsetDateTime::compareTo).orElseThrow(),
            starts.stream().max(OffsetDateTime::compareTo).orElseThrow());
        assertTrue(spread.toMillis() < 100, "the pods started measuring " + spread + " apart");
        long merged = sum;
        assertTrue(shell.stdout.stream().anyMatch(l -> l.startsWith("All done " + merged + " calls")),
            shell.stdout.toString());
        assertMergedPercentilesAreThoseOfTheLogs(pods, sum);
      }
    }
  }

  /** The merge's percentiles against HdrHistogram's own processor on the pods' concatenated interval logs. */
  private void assertMergedPercentilesAreThoseOfTheLogs(int pods, long calls) throws Exception {
    List<String> files = new ArrayList<>(List.of("--merge"));
    Path all = dir.resolve("all.hlog");
    Files.writeString(all, "");
    for (int i = 0; i < pods; i++) {
      files.add(dir.resolve("pingkit-load-" + i + ".json").toString());
      Files.write(all, Files.readAllBytes(dir.resolve("pingkit-load-" + i + ".hlog")),
          java.nio.file.StandardOpenOption.APPEND);
    }
    files.addAll(List.of("-p", "50,90", "--json")); // quantiles among the processor's lines
    JsonObject merged;
    try (var client = TestSupport.ScriptProcess.java("PingClientCommand", files.toArray(String[]::new))) {
      assertEquals(0, client.awaitExit(60), client.stderr.toString());
      merged = JsonParser.parseString(String.join("\n", client.stdout)).getAsJsonObject();
    }
    new org.HdrHistogram.HistogramLogProcessor(new String[] {"-i", all.toString(), "-o", dir.resolve("all")
        .toString()}).run();
    String distribution = Files.readString(dir.resolve("all.hgrm"));
    assertTrue(distribution.matches("(?s).*Total count\\s*=\\s*" + calls + "\\].*"), distribution);
    for (var percentile : merged.getAsJsonObject("DurationHistogram").getAsJsonArray("Percentiles")) {
      double fraction = percentile.getAsJsonObject().get("Percentile").getAsDouble() / 100;
      double seconds = percentile.getAsJsonObject().get("Value").getAsDouble();
      // the processor's line at that quantile (milliseconds), to HdrHistogram's 3 significant digits
      String quantile = String.format(java.util.Locale.ROOT, "%.12f", fraction);
      Matcher line = Pattern.compile("(?m)^\\s*([\\d.]+)\\s+" + Pattern.quote(quantile)
          + "\\s").matcher(distribution);
      assertTrue(line.find(), "no line at " + fraction + " in\n" + distribution);
      double processorSeconds = Double.parseDouble(line.group(1)) / 1e3;
      assertEquals(processorSeconds, seconds, processorSeconds * 2e-3, "percentile " + fraction * 100);
    }
  }

  /**
   * A stand-in kubectl (and docker) in a folder for PATH: the server's manifest is taken as applied (ping-server
   * already runs in its namespace), the Job's pods run its container's command, each in its namespace, with its
   * environment and its own results folder, and their logs are their output, stdout and stderr together.
   */
  private Path standIns(Path state) throws IOException {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Files.writeString(bin.resolve("docker"), "#!/bin/bash\n[ \"$1 $2 $3\" = \"build -f " + DEPLOY
        + "/Containerfile\" ] || { echo \"docker stand-in: $*\" >&2; exit 1; }\n");
    Files.writeString(bin.resolve("kubectl"), String.join("\n", "#!/bin/bash",
        "state='" + state + "'",
        "case \"$1 $2 $3\" in",
        "  'apply -f " + DEPLOY + "/ping-server.yaml') exit 0 ;;",
        "  'apply -f -') cat > \"$state/job.yaml\"",
        "    PINGKIT_HOME='" + TestSupport.repo() + "' '" + java + "' -cp '" + System.getProperty("java.class.path")
            + "' 'KubernetesJobTest$Pods' \"$state\" > \"$state/pods.log\" 2>&1 &",
        "    echo $! > \"$state/pods.pid\"; exit 0 ;;",
        "  'rollout status deployment/ping-server') exit 0 ;;",
        "  'wait --for=condition=complete --timeout=10m') tail --pid=\"$(cat \"$state/pods.pid\")\" -f /dev/null",
        "    [ -f \"$state/complete\" ] || { cat \"$state/pods.log\" >&2; exit 1; } ;;",
        "  'get pods -l') for log in \"$state\"/pingkit-load-*.log; do",
        "    name=${log##*/}; echo \"pod/${name%.log}\"; done ;;",
        "  logs\\ *) cat \"$state/${2#pod/}.log\" ;;",
        "  *) echo \"kubectl stand-in: $*\" >&2; exit 1 ;;",
        "esac", ""));
    for (String name : List.of("docker", "kubectl")) {
      bin.resolve(name).toFile().setExecutable(true);
    }
    return bin;
  }

  /** The stand-in's Job: runs each pod of the manifest it was given, in pod i's namespace, and waits for all. */
  static final class Pods {
    public static void main(String[] args) throws Exception {
      Path state = Path.of(args[0]);
      Map<String, Object> job;
      try (InputStream in = Files.newInputStream(state.resolve("job.yaml"))) {
        job = new Yaml().load(in);
      }
      List<Map<String, String>> environment = at(job, "spec", "template", "spec", "containers", "0", "env");
      List<Process> pods = new ArrayList<>();
      for (int i = 0; i < (int) at(job, "spec", "completions"); i++) {
        ProcessBuilder pod = new ProcessBuilder("ip", "netns", "exec", "pk-pod" + i, "sh", "-c", podScript(job))
            .directory(TestSupport.repo().toFile()) // the image's workingDir holds the repository
            .redirectErrorStream(true)
            .redirectOutput(state.resolve("pingkit-load-" + i + ".log").toFile());
        environment.forEach(variable -> pod.environment().put(variable.get("name"), variable.get("value")));
        pod.environment().put("RESULTS", Files.createDirectories(state.resolve("pod" + i)).toString());
        pod.environment().put("JOB_COMPLETION_INDEX", "" + i);
        pods.add(pod.start());
      }
      for (Process pod : pods) {
        pod.waitFor();
      }
      Files.writeString(state.resolve("complete"), "");
    }
  }
}
