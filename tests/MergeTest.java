import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import pingkit.Host;
import pingkit.report.Backends;
import pingkit.report.HistogramJson;
import pingkit.report.ReportOptions;
import pingkit.report.SampleHistogram;
import pingkit.server.PingServer;
import pingkit.server.RunningServer;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Results of many runs as one: --json files carry HdrHistogram's encoding, --merge adds them up exactly; --hlog
 * writes HdrHistogram's interval log; --start-at starts runs together.
 */
class MergeTest {
  private static RunningServer server;

  @TempDir
  Path dir;

  @BeforeAll
  static void startServer() {
    server = PingServer.start("--warmup", "0s", "127.0.0.1:0");
  }

  @AfterAll
  static void stopServer() {
    server.stopNow();
  }

  private static List<String> run(String mainClass, String... args) {
    try (var client = TestSupport.ScriptProcess.java(mainClass, args)) {
      assertEquals(0, client.awaitExit(120), String.join(" ", args) + ": " + client.stderr);
      return new ArrayList<>(client.stdout);
    }
  }

  private static JsonObject json(Path file) throws IOException {
    return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
  }

  private static Histogram decoded(JsonObject histogram, String field) throws Exception {
    return Histogram.decodeFromCompressedByteBuffer(java.nio.ByteBuffer.wrap(
        java.util.Base64.getDecoder().decode(histogram.get(field).getAsString())), 0);
  }

  @Test
  void histogramsReadBackFromJsonAddUpToThoseOfTheConcatenatedSamples() throws Exception {
    Random random = new Random(42);
    SampleHistogram all = new SampleHistogram();
    SampleHistogram merged = null;
    for (int part = 0; part < 3; part++) {
      SampleHistogram samples = new SampleHistogram();
      for (int i = 0; i < 10_000; i++) {
        // a long tail, and negative values as clock skew has them
        long nanos = (long) (Math.exp(random.nextGaussian() * 1.5 + 11)) * (random.nextInt(10) == 0 ? -1 : 1);
        samples.record(nanos);
        all.record(nanos);
      }
      for (boolean fortio : new boolean[] {true, false}) {
        var json = JsonParser.parseString(ReportOptions.toJson(fortio ? HistogramJson.fortio(samples, List.of(50.0))
            : HistogramJson.pingkit(samples, List.of(50.0)))).getAsJsonObject();
        SampleHistogram back = HistogramJson.read(json, fortio);
        assertEquals(samples.count(), back.count());
        if (fortio) {
          merged = merged == null ? back : merged.add(back);
        }
      }
    }
    assertEquals(all.count(), merged.count());
    for (double percentile : new double[] {0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 100}) {
      assertEquals(all.percentile(percentile, SampleHistogram.Unit.MICROS),
          merged.percentile(percentile, SampleHistogram.Unit.MICROS), "percentile " + percentile);
    }
    assertEquals(all.min(SampleHistogram.Unit.MICROS), merged.min(SampleHistogram.Unit.MICROS));
    assertEquals(all.max(SampleHistogram.Unit.MICROS), merged.max(SampleHistogram.Unit.MICROS));
    assertEquals(all.avg(SampleHistogram.Unit.MICROS), merged.avg(SampleHistogram.Unit.MICROS), 1e-6);
    assertEquals(all.stddev(SampleHistogram.Unit.MICROS), merged.stddev(SampleHistogram.Unit.MICROS), 1e-3);
  }

  @Test
  void backendsAddUpByAddressWhetherARunSawOneOrSeveral() {
    Random random = new Random(7);
    List<Double> percentiles = List.of(50.0, 99.0);
    String x = "10.0.0.1:8079";
    String y = "10.0.0.2:8079";
    // run A: every call went to x; run B: split between x and y
    SampleHistogram runA = new SampleHistogram();
    SampleHistogram runB = new SampleHistogram();
    SampleHistogram bOnX = new SampleHistogram();
    SampleHistogram bOnY = new SampleHistogram();
    SampleHistogram allOnX = new SampleHistogram();
    for (int i = 0; i < 5_000; i++) {
      long nanos = (long) Math.exp(random.nextGaussian() + 12);
      runA.record(nanos);
      allOnX.record(nanos);
      long other = (long) Math.exp(random.nextGaussian() + 11);
      runB.record(other);
      (i % 3 == 0 ? bOnY : bOnX).record(other);
      if (i % 3 != 0) {
        allOnX.record(other);
      }
    }
    var a = readBackends(Map.of(x, new Backends.Backend(new SampleHistogram().add(runA), 2)), runA, percentiles);
    var b = readBackends(Map.of(x, new Backends.Backend(bOnX, 1), y, new Backends.Backend(bOnY, 0)), runB,
        percentiles);
    assertEquals(null, a.get(x).latency(), "a backend that took the whole run holds the run's latencies");

    var sum = Backends.sum(a, runA, b, runB);
    assertEquals(5_000, runA.count(), "the run's own histogram is not added into");
    assertEquals(allOnX.count(), sum.get(x).latency().count());
    assertEquals(bOnY.count(), sum.get(y).latency().count());
    assertEquals(3, sum.get(x).errors());
    for (double percentile : new double[] {1, 50, 99, 100}) {
      assertEquals(allOnX.percentile(percentile, SampleHistogram.Unit.MICROS),
          sum.get(x).latency().percentile(percentile, SampleHistogram.Unit.MICROS), "percentile " + percentile);
    }
    // two runs whose calls all went to x: x's latencies stay the merged run's own, not added up twice
    var twice = Backends.sum(a, runA, a, runA);
    assertEquals(null, twice.get(x).latency());
    assertEquals(4, twice.get(x).errors());
  }

  /** Backends as a result's JSON has them, read back as a merge reads them. */
  private static Map<String, Backends.Backend> readBackends(Map<String, Backends.Backend> backends,
      SampleHistogram run, List<Double> percentiles) {
    var json = new JsonObject();
    json.add("Backends", JsonParser.parseString(ReportOptions.toJson(Backends.toJson(new java.util.TreeMap<>(backends),
        percentiles, run, HistogramJson.fortio(run, percentiles)))));
    return Backends.fromJson(json, run);
  }

  @Test
  void loadResultsMergeIntoOneRunWhoseCountsAreTheSumsAndWhichMergesAgain() throws Exception {
    Path a = dir.resolve("a.json");
    Path b = dir.resolve("b.json");
    Path c = dir.resolve("c.json");
    run("PingClientCommand", "-c", "2", "-qps", "0", "-n", "300", "--json", a.toString(), server.target());
    run("PingClientCommand", "-c", "1", "-s", "2", "-qps", "0", "-n", "200", "--json", b.toString(), server.target());
    run("PingClientCommand", "-c", "1", "-qps", "0", "-n", "100", "--json", c.toString(), server.target());
    JsonObject first = json(a);
    assertEquals(Host.name(), first.get("Host").getAsString());
    assertNotNull(first.getAsJsonObject("DurationHistogram").get("HdrHistogram"));

    Path ab = dir.resolve("ab.json");
    List<String> text = run("PingClientCommand", "--merge", a.toString(), b.toString(), "--json", ab.toString());
    assertTrue(text.contains("Ping SERVING : 500"), text.toString());
    assertTrue(text.stream().anyMatch(l -> l.startsWith("All done 500 calls (plus 3 warmup)")), text.toString());
    JsonObject merged = json(ab);
    assertEquals(500, merged.getAsJsonObject("DurationHistogram").get("Count").getAsLong());
    assertEquals(4, merged.get("NumThreads").getAsInt());
    assertEquals(2, merged.getAsJsonArray("Runs").size());
    Histogram sum = decoded(first.getAsJsonObject("DurationHistogram"), "HdrHistogram");
    sum.add(decoded(json(b).getAsJsonObject("DurationHistogram"), "HdrHistogram"));
    assertEquals(sum, decoded(merged.getAsJsonObject("DurationHistogram"), "HdrHistogram"));
    // one run after the other: the rate is over the time either ran, not the gap between them
    Duration union = Duration.ofNanos(first.get("ActualDuration").getAsLong() + json(b).get("ActualDuration")
        .getAsLong());
    assertEquals(union.toNanos(), merged.get("ActualDuration").getAsLong(), 1_000);
    double qps = 500 / (union.toNanos() / 1e9);
    assertEquals(qps, merged.get("ActualQPS").getAsDouble(), qps / 1000);
    assertEquals(first.get("StartTime").getAsString(), merged.get("StartTime").getAsString());
    assertEquals(json(b).get("EndTime").getAsString(), merged.get("EndTime").getAsString(), "the last end");

    // a merged result merges again, as the three runs would at once
    Path abc = dir.resolve("abc.json");
    Path all = dir.resolve("all.json");
    run("PingClientCommand", "--merge", ab.toString(), c.toString(), "--json", abc.toString());
    run("PingClientCommand", "--merge", a.toString(), b.toString(), c.toString(), "--json", all.toString());
    // flat out, the corrected histogram is the latency histogram: its encoding is not repeated
    assertTrue(!json(all).getAsJsonObject("CorrectedDurationHistogram").has("HdrHistogram"));
    for (String field : List.of("DurationHistogram", "ClientOverheadHistogram")) {
      assertEquals(decoded(json(all).getAsJsonObject(field), "HdrHistogram"),
          decoded(json(abc).getAsJsonObject(field), "HdrHistogram"), field);
    }
    assertEquals(json(all).get("ActualDuration"), json(abc).get("ActualDuration"));
    assertEquals(3, json(abc).getAsJsonArray("Runs").size());
  }

  @Test
  void pingsAndHealthChecksMergeAndPrintAsOneRun() throws Exception {
    Path a = dir.resolve("a.json");
    Path b = dir.resolve("b.json");
    run("PingClientCommand", "-n", "5", "--json", a.toString(), server.target());
    run("PingClientCommand", "-n", "7", "--json", b.toString(), server.target());
    List<String> pings = run("PingClientCommand", "--merge", a.toString(), b.toString());
    assertTrue(pings.stream().anyMatch(l -> l.startsWith("Average RTT")
        && l.contains("over 36 samples (12 iterations)")),
        pings.toString());
    // the calls each clock timed add up; a document of before the counts gives all its calls to the clock it names
    Path ab = dir.resolve("ab.json");
    run("PingClientCommand", "--merge", a.toString(), b.toString(), "--json", ab.toString());
    assertEquals(json(a).getAsJsonObject("wireClockCalls").get("kernel").getAsLong() + json(b)
        .getAsJsonObject("wireClockCalls").get("kernel").getAsLong(), json(ab).getAsJsonObject("wireClockCalls")
        .get("kernel").getAsLong(), json(ab).toString());
    JsonObject older = json(b);
    older.remove("wireClockCalls");
    older.addProperty("wireClock", "arrival-watch");
    Path old = dir.resolve("old.json");
    Files.writeString(old, older.toString());
    Path mixed = dir.resolve("mixed.json");
    List<String> mixedText = run("PingClientCommand", "--merge", a.toString(), old.toString(), "--json",
        mixed.toString());
    assertEquals("arrival-watch", json(mixed).get("wireClock").getAsString(), "the least exact of the two");
    assertEquals(14, json(mixed).getAsJsonObject("wireClockCalls").get("arrival-watch").getAsLong());
    long kernelTimed = json(a).getAsJsonObject("wireClockCalls").get("kernel").getAsLong();
    assertTrue(mixedText.stream().anyMatch(l -> l.startsWith("Client overhead usec") && l.contains(
        "(not in the RTT; RTT clocks: kernel " + kernelTimed + ", ") && l.endsWith(", arrival-watch 14)")),
        mixedText.toString());

    Path serving = dir.resolve("serving.json");
    Path down = dir.resolve("down.json");
    run("HealthCheckCommand", "-n", "3", "--service", "ping", "--json", serving.toString(), server.target());
    try (var client = TestSupport.ScriptProcess.java("HealthCheckCommand", "-n", "2", "--service", "ping_down", "--json",
        down.toString(), server.target())) {
      assertEquals(4, client.awaitExit(60), client.stderr.toString());
    }
    // of one service only; the same service's results merge, and an answer not SERVING exits 4 as a run would
    try (var client = TestSupport.ScriptProcess.java("HealthCheckCommand", "--merge", serving.toString(), down.toString())) {
      assertEquals(1, client.awaitExit(60));
      assertTrue(client.singleStderrLine().contains(down + " is checks of service 'ping_down'"),
          client.stderr.toString());
    }
    List<String> checks = run("HealthCheckCommand", "--merge", serving.toString(), serving.toString(), "-p", "50,99");
    assertTrue(checks.contains("Health SERVING : 6"), checks.toString());
    assertTrue(checks.stream().anyMatch(l -> l.startsWith("RTT histogram usec : count 6 ")), checks.toString());
    assertTrue(checks.stream().anyMatch(l -> l.startsWith("# target 99% ")), checks.toString());
    try (var client = TestSupport.ScriptProcess.java("HealthCheckCommand", "--merge", down.toString(), down.toString())) {
      assertEquals(4, client.awaitExit(60), client.stderr.toString());
    }
  }

  @Test
  void hgrmOfMergedResultsHoldsEveryCall() throws Exception {
    Path a = dir.resolve("a.json");
    Path hgrm = dir.resolve("merged.hgrm");
    run("PingClientCommand", "-c", "1", "-qps", "0", "-n", "50", "--json", a.toString(), server.target());
    run("PingClientCommand", "--merge", a.toString(), a.toString(), "--hgrm", hgrm.toString());
    assertTrue(Files.readString(hgrm).matches("(?s).*Total count\\s*=\\s*100\\].*"), Files.readString(hgrm));
  }

  @Test
  void filesThatCannotMergeAreRefusedWithTheirName() throws Exception {
    Path ping = dir.resolve("ping.json");
    Path load = dir.resolve("load.json");
    Path health = dir.resolve("health.json");
    run("PingClientCommand", "-n", "1", "--json", ping.toString(), server.target());
    run("PingClientCommand", "-c", "1", "-qps", "0", "-n", "10", "--json", load.toString(), server.target());
    run("HealthCheckCommand", "--json", health.toString(), server.target());
    JsonObject fortioOwn = json(load);
    for (String field : List.of("DurationHistogram", "ClientOverheadHistogram")) {
      fortioOwn.getAsJsonObject(field).remove("HdrHistogram");
    }
    Path fortio = dir.resolve("fortio.json");
    Files.writeString(fortio, fortioOwn.toString());
    Path garbage = dir.resolve("garbage.json");
    Files.writeString(garbage, "{not json");
    Path missing = dir.resolve("missing.json");
    Path pingWithPayload = dir.resolve("ping-payload.json");
    run("PingClientCommand", "-n", "1", "--payload", "abc", "--json", pingWithPayload.toString(), server.target());
    Path loadWithDelay = dir.resolve("load-delay.json");
    run("PingClientCommand", "-c", "1", "-qps", "0", "-n", "10", "--delay", "1ms", "--json", loadWithDelay.toString(),
        server.target());
    JsonObject runTypeObject = json(load);
    runTypeObject.add("RunType", new JsonObject());
    Path objectRunType = dir.resolve("object-runtype.json");
    Files.writeString(objectRunType, runTypeObject.toString());
    JsonObject runTypeNull = json(load);
    runTypeNull.add("RunType", com.google.gson.JsonNull.INSTANCE);
    Path nullRunType = dir.resolve("null-runtype.json");
    Files.writeString(nullRunType, runTypeNull.toString());
    JsonObject noCount = json(load);
    noCount.getAsJsonObject("DurationHistogram").remove("Count");
    Path countless = dir.resolve("countless.json");
    Files.writeString(countless, noCount.toString());

    String[][] refusals = {
        {ping.toString(), pingWithPayload.toString(), pingWithPayload + " is pings of 3 B payloads"},
        {load.toString(), loadWithDelay.toString(), loadWithDelay + " is a 'GRPC Ping Delay=1ms' load"},
        {load.toString(), objectRunType.toString(), objectRunType + " cannot be merged: a field is missing, null or"},
        {load.toString(), nullRunType.toString(), nullRunType + " cannot be merged: a field is missing, null or"},
        {load.toString(), countless.toString(), countless + " cannot be merged: a field is missing, null or"},
        {load.toString(), fortio.toString(), fortio + " cannot be merged: DurationHistogram has no encoded histogram"},
        {ping.toString(), load.toString(), load + " is a 'GRPC Ping' load, " + ping + " pings"},
        {load.toString(), health.toString(), health + " is not a result of ping-client --json"},
        {load.toString(), garbage.toString(), garbage + " is not JSON"},
        {load.toString(), missing.toString(), missing + " cannot be read"}};
    for (String[] refusal : refusals) {
      TestSupport.expectExit(1, "--merge: " + refusal[2], "PingClientCommand", "--merge", refusal[0], refusal[1]);
    }
    TestSupport.expectExit(1, "-c is for a run", "PingClientCommand", "--merge", load.toString(), "-c", "2");
    TestSupport.expectExit(1, "no TARGET", "PingClientCommand", "--merge", load.toString(), "-p", "50",
        server.target());
    TestSupport.expectExit(1, "Missing required parameter: 'TARGET'", "PingClientCommand", "-n", "1");
  }

  @Test
  void hlogIsAnHdrHistogramIntervalLogThatHoldsEveryCallAndConcatenatedLogsAddUp() throws Exception {
    Path a = dir.resolve("a.hlog");
    Path b = dir.resolve("b.hlog");
    Path aJson = dir.resolve("a.json");
    run("PingClientCommand", "-c", "2", "-qps", "200", "-t", "2500ms", "--hlog", a.toString(), "--json", aJson.toString(),
        server.target());
    run("PingClientCommand", "-c", "1", "-qps", "0", "-n", "300", "--hlog", b.toString(), server.target());
    long calls = json(aJson).getAsJsonObject("DurationHistogram").get("Count").getAsLong();
    OffsetDateTime start = OffsetDateTime.parse(json(aJson).get("StartTime").getAsString());

    int intervals = 0;
    long logged = 0;
    double previousEnd = 0;
    HistogramLogReader reader = new HistogramLogReader(a.toString());
    for (var interval = reader.nextIntervalHistogram(); interval != null; interval = reader.nextIntervalHistogram()) {
      intervals++;
      logged += ((Histogram) interval).getTotalCount();
      double startSeconds = interval.getStartTimeStamp() / 1e3;
      assertTrue(startSeconds >= previousEnd - 1e-3, "intervals follow each other");
      previousEnd = interval.getEndTimeStamp() / 1e3;
    }
    assertEquals(calls, logged, "every measured call is in one interval");
    // an interval a second, the last a shorter one: as many as the run's seconds, rounded up (a late client's
    // run is longer than its -t, never shorter)
    double runSeconds = json(aJson).get("ActualDuration").getAsLong() / 1e9;
    assertEquals(Math.ceil(runSeconds), intervals, 1, intervals + " intervals in " + runSeconds + " s");
    assertEquals(start.toInstant().toEpochMilli() / 1e3, reader.getStartTimeSec(), 0.01, "the log starts with the run");

    // two hosts' logs, concatenated, are one log for HdrHistogram's own processor
    Path both = dir.resolve("both.hlog");
    Files.write(both, Files.readAllBytes(a));
    Files.write(both, Files.readAllBytes(b), java.nio.file.StandardOpenOption.APPEND);
    Path out = dir.resolve("both");
    new org.HdrHistogram.HistogramLogProcessor(new String[] {"-i", both.toString(), "-o", out.toString()}).run();
    String distribution = Files.readString(Path.of(out + ".hgrm"));
    assertTrue(distribution.matches("(?s).*Total count\\s*=\\s*" + (calls + 300) + "\\].*"), distribution);
  }

  @Test
  void runsStartedWithOneStartAtMeasureFromThatInstantAndALateOneSaysSo() throws Exception {
    // far enough ahead for two JVMs to start and connect on a loaded machine
    OffsetDateTime startAt = OffsetDateTime.now().plusSeconds(12);
    Path a = dir.resolve("a.json");
    Path b = dir.resolve("b.json");
    try (var first = TestSupport.ScriptProcess.java("PingClientCommand", "-c", "1", "-qps", "50", "-t", "1s", "--start-at",
        startAt.toString(), "--json", a.toString(), server.target());
        var second = TestSupport.ScriptProcess.java("PingClientCommand", "-c", "1", "-qps", "50", "-t", "1s", "--start-at",
            startAt.toString(), "--json", b.toString(), server.target())) {
      assertEquals(0, first.awaitExit(60), first.stderr.toString());
      assertEquals(0, second.awaitExit(60), second.stderr.toString());
    }
    for (Path file : List.of(a, b)) {
      JsonObject json = json(file);
      OffsetDateTime started = OffsetDateTime.parse(json.get("StartTime").getAsString());
      // never before the instant; after it only by the run's own lateness (which it reports) and a wake-up
      long lateMillis = Duration.between(startAt, started).toMillis();
      assertTrue(lateMillis >= -5, started + " is before --start-at " + startAt);
      assertTrue(lateMillis <= json.get("StartedLateBy").getAsLong() / 1_000_000 + 500, started + " vs " + startAt
          + ", late by " + json.get("StartedLateBy"));
      assertEquals(startAt.toInstant(), OffsetDateTime.parse(json.get("StartAt").getAsString()).toInstant());
    }
    // measuring together: the union of their spans is about one second, not the two of one after the other
    run("PingClientCommand", "--merge", a.toString(), b.toString(), "--json", dir.resolve("ab.json").toString());
    assertTrue(json(dir.resolve("ab.json")).get("ActualDuration").getAsLong() < 1_900_000_000L);

    try (var late = TestSupport.ScriptProcess.java("PingClientCommand", "-c", "1", "-qps", "50", "-t", "200ms",
        "--start-at", OffsetDateTime.now().minusSeconds(5).toString(), "--json", server.target())) {
      assertEquals(0, late.awaitExit(60), late.stderr.toString());
      assertTrue(late.stderr.stream().anyMatch(l -> l.contains("not ready by --start-at")), late.stderr.toString());
      long lateNanos = JsonParser.parseString(String.join("\n", late.stdout)).getAsJsonObject()
          .get("StartedLateBy").getAsLong();
      assertTrue(lateNanos >= 5_000_000_000L, lateNanos + " ns late");
    }
    TestSupport.expectExit(1, "--start-at 'noon' is not a time", "PingClientCommand", "-c", "1", "--start-at", "noon",
        server.target());
    TestSupport.expectExit(1, "--start-at is for load mode", "PingClientCommand", "-n", "1", "--start-at", "+1s",
        server.target());
  }

  @Test
  void theReadmesTwoHostsRunTogetherAndMergeAsShown() throws Exception {
    // the block's load commands at once, as on two hosts; the others in order; in a folder of their own
    // built first: two first runs at once would both compile the script into JBang's one cache folder
    StringBuilder script = new StringBuilder("set -e\ncd '" + dir + "'\npids=\n" + TestSupport.repo().resolve("jbang")
        + " build " + TestSupport.repo().resolve("ping-client.java") + "\n");
    for (String line : ReadmeTest.block("many-hosts").split("\n")) {
      // a start far enough ahead for two JVMs at once on a loaded machine
      String command = line.replaceFirst("\\s+#.*$", "").replace("localhost:8079", server.target())
          .replace("'+15 sec'", "'+40 sec'")
          .replace("./jbang ", TestSupport.repo().resolve("jbang") + " ")
          .replace(" ping-client.java ", " " + TestSupport.repo().resolve("ping-client.java") + " ");
      if (command.contains("--start-at")) {
        script.append(command).append(" &\npids=\"$pids $!\"\n");
      } else if (!command.isBlank()) {
        script.append("for pid in $pids; do wait $pid; done; pids=\n").append(command).append('\n');
      }
    }
    try (var shell = TestSupport.ScriptProcess.start(List.of("bash", "-c", script.toString()), dir)) {
      assertEquals(0, shell.awaitExit(300), script + "\nstderr: " + shell.stderr);
      long a = json(dir.resolve("a.json")).getAsJsonObject("DurationHistogram").get("Count").getAsLong();
      long b = json(dir.resolve("b.json")).getAsJsonObject("DurationHistogram").get("Count").getAsLong();
      JsonObject merged = json(dir.resolve("merged.json"));
      assertEquals(a + b, merged.getAsJsonObject("DurationHistogram").get("Count").getAsLong());
      assertEquals(400.0, merged.get("RequestedQPS").getAsDouble());
      Duration apart = Duration.between(
          OffsetDateTime.parse(json(dir.resolve("a.json")).get("StartTime").getAsString()),
          OffsetDateTime.parse(json(dir.resolve("b.json")).get("StartTime").getAsString())).abs();
      assertTrue(apart.toMillis() < 100, "the two runs started " + apart + " apart");
      assertTrue(Files.readString(dir.resolve("all.hgrm")).matches("(?s).*Total count\\s*=\\s*" + (a + b) + "\\].*"),
          Files.readString(dir.resolve("all.hgrm")));
      assertTrue(shell.stdout.stream().anyMatch(l -> l.startsWith("All done " + (a + b) + " calls")),
          shell.stdout.toString());
    }
  }
}
