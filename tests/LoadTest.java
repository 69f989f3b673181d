import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import pingkit.server.PingServer;
import pingkit.server.RunningServer;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The load mode of ping-client and health-check (Fortio's load -grpc [-ping]) against a real server. */
class LoadTest {
  private static RunningServer server;

  @BeforeAll
  static void startServer() {
    server = PingServer.start("127.0.0.1:0");
  }

  @AfterAll
  static void stopServer() {
    server.stopNow();
  }

  private static JsonObject loadJson(String... args) {
    try (var client = TestSupport.ScriptProcess.java("PingClientCommand", args)) {
      assertEquals(0, client.awaitExit(120), client.stderr.toString());
      return JsonParser.parseString(String.join("\n", client.stdout)).getAsJsonObject();
    }
  }

  @Test
  void exactCountMakesExactlyThatManyCallsPlusOneWarmupPerConnection() {
    try (var client = TestSupport.ScriptProcess.java("PingClientCommand", "-c", "2", "-s", "3", "-qps", "0", "-n", "500",
        server.target())) {
      assertEquals(0, client.awaitExit(120), client.stderr.toString());
      assertTrue(client.stdout.contains("Ping SERVING : 500"), client.stdout.toString());
      assertTrue(client.stdout.stream().anyMatch(l -> l.startsWith("All done 500 calls (plus 2 warmup)")),
          client.stdout.toString());
    }
  }

  @Test
  void warmupCallsAreLeftOutOfTheResults() {
    JsonObject json = loadJson("-c", "1", "-qps", "0", "--warmup", "300ms", "-n", "50", "--json", server.target());
    assertEquals(50, json.getAsJsonObject("RetCodes").get("SERVING").getAsInt());
    assertEquals(50, json.getAsJsonObject("DurationHistogram").get("Count").getAsInt());
  }

  @Test
  void fortioShapedJsonReadsBackFieldByField() {
    JsonObject json = loadJson("-c", "3", "-s", "2", "-qps", "0", "-n", "120", "--payload", "abc", "--json",
        server.target());
    assertEquals("GRPC Ping PayloadLength=3", json.get("RunType").getAsString());
    assertEquals(120, json.getAsJsonObject("RetCodes").get("SERVING").getAsInt());
    assertEquals(120, json.getAsJsonObject("DurationHistogram").get("Count").getAsInt());
    assertEquals(6, json.get("NumThreads").getAsInt());
    assertEquals(2, json.get("Streams").getAsInt());
    assertEquals(server.target(), json.get("Destination").getAsString());
    assertTrue(json.get("Ping").getAsBoolean());
    assertEquals("max", json.get("RequestedQPS").getAsString());
    assertEquals("exactly 120 calls", json.get("RequestedDuration").getAsString());
    var histogram = json.getAsJsonObject("DurationHistogram");
    double min = histogram.get("Min").getAsDouble();
    double max = histogram.get("Max").getAsDouble();
    assertTrue(min > 0 && min <= histogram.get("Avg").getAsDouble() && histogram.get("Avg").getAsDouble() <= max,
        histogram.toString());
    long bucketCounts = 0;
    for (var bucket : histogram.getAsJsonArray("Data")) {
      bucketCounts += bucket.getAsJsonObject().get("Count").getAsLong();
    }
    assertEquals(120, bucketCounts, "the buckets hold every call");
    assertEquals(5, histogram.getAsJsonArray("Percentiles").size());
  }

  @Test
  void aFixedRateIsHeldOverSeconds() {
    // 40 calls per second for 3 s: the 120 calls due (a call is due every 50 ms on each of 2 streams), made over
    // the 3 s and not sooner; a late client makes them late, never fewer
    JsonObject json = loadJson("-c", "2", "-qps", "40", "-t", "3s", "--json", server.target());
    int calls = json.getAsJsonObject("DurationHistogram").get("Count").getAsInt();
    assertEquals(120, calls, "calls at 40 qps for 3 s");
    assertTrue(json.get("ActualDuration").getAsLong() >= 2_900_000_000L, "paced over the 3 s: "
        + json.get("ActualDuration") + " ns");
    assertTrue(json.has("CorrectedDurationHistogram"));
  }

  @Test
  void maxStreamsQueuingShowsInTheLatency() {
    // 4 streams on one connection that allows 1: the server answers one 20 ms ping at a time, so 40 of them take
    // 800 ms at least, and each waits for the others (~80 ms); 4 streams can never hold more than 4 calls' time
    try (RunningServer oneStream = PingServer.start("--max-streams", "1", "127.0.0.1:0")) {
      JsonObject json = loadJson("-c", "1", "-s", "4", "-qps", "0", "-n", "40", "--delay", "20ms", "--json",
          oneStream.target());
      var latency = json.getAsJsonObject("DurationHistogram");
      double runSeconds = json.get("ActualDuration").getAsLong() / 1e9;
      assertTrue(runSeconds >= 40 * 0.020, runSeconds + " s: the calls were not one at a time");
      assertTrue(latency.get("Avg").getAsDouble() >= 3 * 0.020, latency + ": the streams did not queue");
      assertTrue(latency.get("Sum").getAsDouble() <= 4 * runSeconds, latency + ": more than 4 calls' time at once"
          + " in " + runSeconds + " s");
    }
  }

  @Test
  void failedCallsAreCountedByStatusAndExitThreeUnlessAllowed() {
    // The warm-up, alone, waits 1 s of its 2.5 s limit. Under load, 4 streams share one allowed stream: the third
    // in the queue needs at least 3 s, however fast the machine, and hits DEADLINE_EXCEEDED.
    try (RunningServer oneStream = PingServer.start("--max-streams", "1", "127.0.0.1:0")) {
      String[] args = {"-c", "1", "-s", "4", "-qps", "0", "-n", "8", "--delay", "1s", "--timeout", "2500ms",
          oneStream.target()};
      try (var client = TestSupport.ScriptProcess.java("PingClientCommand", args)) {
        assertEquals(3, client.awaitExit(120), client.stderr.toString());
        assertTrue(client.stdout.stream().anyMatch(l -> l.matches("Ping DEADLINE_EXCEEDED : \\d+")),
            client.stdout.toString());
        assertTrue(client.singleStderrLine().contains("calls failed"), client.stderr.toString());
      }
      String[] allowed = java.util.stream.Stream.concat(java.util.stream.Stream.of("--allow-errors"),
          java.util.Arrays.stream(args)).toArray(String[]::new);
      try (var client = TestSupport.ScriptProcess.java("PingClientCommand", allowed)) {
        assertEquals(0, client.awaitExit(120), client.stderr.toString());
      }
    }
  }

  @Test
  void healthLoadCountsEachAnswerAndExitsFourWhenOneWasNotServing() {
    try (var client = TestSupport.ScriptProcess.java("HealthCheckCommand", "-c", "2", "-s", "2", "-qps", "0", "-n", "40",
        "--service", "ping", server.target())) {
      assertEquals(0, client.awaitExit(120), client.stderr.toString());
      assertTrue(client.stdout.stream().anyMatch(l -> l.startsWith("Starting GRPC Health for 'ping' test")),
          client.stdout.toString());
      assertTrue(client.stdout.contains("Health SERVING : 40"), client.stdout.toString());
      assertTrue(client.stdout.stream().anyMatch(l -> l.startsWith("All done 40 calls (plus 2 warmup)")),
          client.stdout.toString());
    }
    try (var client = TestSupport.ScriptProcess.java("HealthCheckCommand", "-c", "1", "-qps", "0", "-n", "20",
        "--service", "ping_down", server.target())) {
      assertEquals(4, client.awaitExit(120), client.stderr.toString());
      assertTrue(client.stdout.contains("Health NOT_SERVING : 20"), client.stdout.toString());
      assertTrue(client.singleStderrLine().contains("20 of 20 answers were not SERVING"), client.stderr.toString());
    }
  }

  @Test
  void jsonFileGetsTheResultWhileTheTextStaysOnStdout() throws Exception {
    Path file = Files.createTempDirectory("pingkit-load").resolve("result.json");
    try (var client = TestSupport.ScriptProcess.java("HealthCheckCommand", "-c", "1", "-qps", "0", "-n", "25",
        "--json", file.toString(), server.target())) {
      assertEquals(0, client.awaitExit(120), client.stderr.toString());
      assertTrue(client.stdout.contains("Health SERVING : 25"), client.stdout.toString());
    }
    JsonObject json = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    assertEquals("GRPC Health for ''", json.get("RunType").getAsString());
    assertEquals(25, json.getAsJsonObject("RetCodes").get("SERVING").getAsInt());
    assertFalse(json.get("Ping").getAsBoolean());
  }

  @Test
  void fortioShapedJsonSurvivesARoundTripThroughFortiosTypes() {
    // Fortio's GRPCRunnerResults as Go decodes it: integers must be integer literals, durations are
    // nanoseconds, StartTime is RFC 3339; decoding ours into those types and encoding them again must give
    // back every Fortio field unchanged.
    JsonObject ours = loadJson("-c", "2", "-s", "2", "-qps", "200", "-n", "60", "--payload", "xy", "--json",
        server.target());
    JsonObject histogram = ours.getAsJsonObject("DurationHistogram");
    for (String integer : List.of("ActualDuration", "NumThreads", "Exactly", "Streams")) {
      assertGoInteger(ours, integer);
    }
    assertGoInteger(histogram, "Count");
    ours.getAsJsonObject("RetCodes").keySet().forEach(code -> assertGoInteger(ours.getAsJsonObject("RetCodes"), code));
    histogram.getAsJsonArray("Data").forEach(bucket -> assertGoInteger(bucket.getAsJsonObject(), "Count"));
    OffsetDateTime.parse(ours.get("StartTime").getAsString(), DateTimeFormatter.ISO_OFFSET_DATE_TIME);

    Gson gson = new Gson();
    FortioGrpcResult decoded = gson.fromJson(ours, FortioGrpcResult.class);
    JsonObject encoded = gson.toJsonTree(decoded).getAsJsonObject();
    // Go's decoder skips fields its types do not have, as our histograms' HdrHistogram encoding (for --merge)
    JsonObject fortioFields = ours.deepCopy();
    fortioFields.getAsJsonObject("DurationHistogram").remove("HdrHistogram");
    for (String field : encoded.keySet()) {
      assertEquals(fortioFields.get(field), encoded.get(field), field);
    }
    assertEquals(15, encoded.size(), "every Fortio field is there");

    // what Fortio's report derives from them holds too
    long bucketed = 0;
    double previousEnd = Double.NEGATIVE_INFINITY;
    for (FortioInterval bucket : decoded.DurationHistogram().Data()) {
      assertTrue(bucket.Start() >= previousEnd && bucket.End() >= bucket.Start(), bucket.toString());
      previousEnd = bucket.End();
      bucketed += bucket.Count();
    }
    assertEquals(decoded.DurationHistogram().Count(), bucketed);
    assertEquals(100.0, decoded.DurationHistogram().Data().get(decoded.DurationHistogram().Data().size() - 1)
        .Percent(), 1e-9);
    assertEquals(decoded.ActualQPS(), decoded.DurationHistogram().Count() / (decoded.ActualDuration() / 1e9),
        decoded.ActualQPS() * 1e-6);
  }

  // ---- behind one name, several servers (--lb round_robin) ---------------------------------------------------

  /** A client process whose name lookups read {@code hosts}, a file in /etc/hosts' format. */
  private static TestSupport.ScriptProcess clientWithHosts(Path hosts, String... args) {
    List<String> command = TestSupport.javaCommand("-XX:TieredStopAtLevel=1", "-Djdk.net.hosts.file=" + hosts,
        "PingClientCommand");
    command.addAll(List.of(args));
    return TestSupport.ScriptProcess.start(command, TestSupport.repo());
  }

  @Test
  void roundRobinSpreadsCallsOverEveryAddressOfANameAndABackendStoppedMidRunShowsInItsLine() throws Exception {
    try (RunningServer first = PingServer.start("--warmup", "0s", "127.0.0.1:0")) {
      int port = first.port();
      try (RunningServer second = PingServer.start("--warmup", "0s", "127.0.0.2:" + port);
          RunningServer third = PingServer.start("--warmup", "0s", "127.0.0.3:" + port)) {
        Path hosts = Files.createTempFile("hosts", ".txt");
        Files.writeString(hosts, "127.0.0.1 backends\n127.0.0.2 backends\n127.0.0.3 backends\n");
        String target = "dns:///backends:" + port;
        JsonObject json;
        // a second's warm-up: every address is connected before the measured calls take turns
        try (var client = clientWithHosts(hosts, "--lb", "round_robin", "-c", "1", "-qps", "0", "--warmup", "1s",
            "-n", "300", "--json", target)) {
          assertEquals(0, client.awaitExit(60), client.stderr.toString());
          json = JsonParser.parseString(String.join("\n", client.stdout)).getAsJsonObject();
        }
        var backends = json.getAsJsonArray("Backends");
        assertEquals(3, backends.size(), backends.toString());
        long calls = 0;
        for (int i = 0; i < 3; i++) {
          JsonObject backend = backends.get(i).getAsJsonObject();
          assertEquals("127.0.0." + (i + 1) + ":" + port, backend.get("Address").getAsString());
          assertTrue(backend.get("Count").getAsLong() >= 90, "an even share: " + backend);
          calls += backend.get("Count").getAsLong();
        }
        assertEquals(300, calls);

        // one of them stops while calls are on it: its line shows them failed, the others take the rest
        try (var client = clientWithHosts(hosts, "--lb", "round_robin", "-c", "1", "-s", "6", "-qps", "0", "-t", "4s",
            "--delay", "50ms", "--allow-errors", target)) {
          // one warm-up call per connection goes first, alone: two at once on a server are the run's own calls
          TestSupport.await(() -> second.callsInFlight() >= 2, 30, "the run's calls on the second server");
          second.stopNow();
          assertEquals(0, client.awaitExit(60), client.stderr.toString());
          for (int i = 1; i <= 3; i++) {
            String prefix = "Backend 127.0.0." + i + ":" + port + " : ";
            String line = client.stdout.stream().filter(l -> l.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no line " + prefix + " in " + client.stdout));
            assertTrue(line.matches(".* : \\d+ calls, p50 [\\d.]+ ms, p99 [\\d.]+ ms, errors \\d+"), line);
            long errors = Long.parseLong(line.replaceFirst(".*errors ", ""));
            assertTrue(i == 2 ? errors > 0 : errors == 0, line);
          }
        }
      }
    }
  }

  // ---- over streams of echoes (--stream) ----------------------------------------------------------------------

  @Test
  void streamLoadSendsExactlyNMessagesOverItsStreamsWithItsWindowInFlight() {
    JsonObject json = loadJson("--stream", "-c", "2", "-s", "2", "-qps", "0", "--window", "4", "-n", "500", "--json",
        server.target());
    assertEquals("GRPC Ping Stream Window=4", json.get("RunType").getAsString());
    assertEquals(500, json.getAsJsonObject("RetCodes").get("SERVING").getAsInt());
    assertEquals(500, json.getAsJsonObject("DurationHistogram").get("Count").getAsInt());
    assertEquals(4, json.get("NumThreads").getAsInt());
    assertEquals(4, json.get("Window").getAsInt());
    assertEquals(4, json.get("StreamsOpened").getAsInt(), "one stream each, warm-ups included");
    assertEquals(0, json.getAsJsonObject("StreamsFailed").size());
    assertEquals(0, json.get("MessagesLost").getAsInt());
    assertTrue(json.get("WireTimes").getAsBoolean(), "each message found at the socket by where its bytes lie");
  }

  @Test
  void eachMessageIsTimedAtTheSocketFromItsOwnBytesWhileOthersAreInFlight() {
    // four in flight, each held 20 ms by the server: a message matched with a later one's request would be shorter
    JsonObject json = loadJson("--stream", "-c", "1", "-qps", "0", "--window", "4", "-n", "40", "--delay", "20ms",
        "--json", server.target());
    assertTrue(json.get("WireTimes").getAsBoolean(), json.toString());
    var histogram = json.getAsJsonObject("DurationHistogram");
    assertTrue(histogram.get("Min").getAsDouble() >= 0.020, histogram.toString());
  }

  @Test
  void streamLoadAtAFixedRateSendsOnScheduleWithoutWaitingForEchoes() {
    // 40 messages a second on one stream for 2 s, each echoed 100 ms later: the 80 due, sent on schedule, end
    // 100 ms after the last is due; a stream that waited for each echo would take 8 s to send them
    JsonObject json = loadJson("--stream", "-c", "1", "-qps", "40", "-t", "2s", "--delay", "100ms", "--json",
        server.target());
    int messages = json.getAsJsonObject("DurationHistogram").get("Count").getAsInt();
    assertEquals(80, messages, "the messages due at 40 per second in 2 s");
    assertTrue(json.get("ActualDuration").getAsLong() < 5_000_000_000L, "sent without waiting for echoes: "
        + json.get("ActualDuration") + " ns");
    assertTrue(json.getAsJsonObject("DurationHistogram").get("Min").getAsDouble() >= 0.1, json.toString());
    assertTrue(json.getAsJsonObject("CorrectedDurationHistogram").get("Min").getAsDouble() >= 0.1);
    assertEquals(1, json.get("StreamsOpened").getAsInt());
  }

  @Test
  void streamsBrokenByTheServerAreCountedWithTheirLostMessagesReopenedAndExitThreeUnlessAllowed() throws Exception {
    io.grpc.Server breaker = TestSupport.streamServer(9, true);
    try {
      String[] args = {"--stream", "-c", "1", "-qps", "0", "--window", "3", "-n", "100",
          "127.0.0.1:" + breaker.getPort()};
      try (var client = TestSupport.ScriptProcess.java("PingClientCommand", args)) {
        assertEquals(3, client.awaitExit(120), client.stderr.toString());
        String out = String.join("\n", client.stdout);
        int failed = count(out, "Streams failed ABORTED");
        int opened = count(out, "Streams opened");
        // a stream carries 9 echoes, then loses its window (3): 100 messages (and the warm-up) break 8 at least
        assertTrue(failed >= 8, out);
        assertTrue(opened == failed || opened == failed + 1, "reopened after each break: " + out);
        assertTrue(count(out, "Messages lost in flight") >= failed, "the 10th each time: " + out);
        assertEquals(100, count(out, "Ping SERVING") + count(out, "Ping ABORTED"), "exactly -n: " + out);
        assertEquals(count(out, "Messages lost in flight"), count(out, "Ping ABORTED"), out);
        assertTrue(client.singleStderrLine().contains("failed"), client.stderr.toString());
      }
      String[] allowed = java.util.stream.Stream.concat(java.util.stream.Stream.of("--allow-errors"),
          java.util.Arrays.stream(args)).toArray(String[]::new);
      try (var client = TestSupport.ScriptProcess.java("PingClientCommand", allowed)) {
        assertEquals(0, client.awaitExit(120), client.stderr.toString());
      }
    } finally {
      breaker.shutdownNow();
    }
  }

  @Test
  void messagesAServerNeverAnswersEndTheirStreamAtTheTimeoutAndTheRunEnds() throws Exception {
    // each stream's first message is answered, then none: the stream ends DEADLINE_EXCEEDED after --timeout, and
    // its next message opens another
    io.grpc.Server silent = TestSupport.streamServer(1, false);
    try (var client = TestSupport.ScriptProcess.java("PingClientCommand", "--stream", "-c", "1", "-qps", "0", "--window",
        "2", "-n", "6", "--timeout", "2s", "127.0.0.1:" + silent.getPort())) {
      assertEquals(3, client.awaitExit(60), client.stderr.toString());
      String out = String.join("\n", client.stdout);
      int overdue = count(out, "Ping DEADLINE_EXCEEDED");
      assertTrue(overdue >= 1 && count(out, "Streams failed DEADLINE_EXCEEDED") >= 1, out);
      assertEquals(6, overdue + (out.contains("Ping SERVING") ? count(out, "Ping SERVING") : 0), out);
    } finally {
      silent.shutdownNow();
    }
  }

  /** The count on the report's line "{@code name} : N". */
  private static int count(String report, String name) {
    java.util.regex.Matcher line = java.util.regex.Pattern.compile("(?m)^" + java.util.regex.Pattern.quote(name)
        + " : (\\d+)$").matcher(report);
    assertTrue(line.find(), "no line '" + name + " : N' in\n" + report);
    return Integer.parseInt(line.group(1));
  }

  private static void assertGoInteger(JsonObject object, String field) {
    String literal = object.get(field).getAsJsonPrimitive().getAsString();
    assertTrue(literal.matches("-?\\d+"), field + " = " + literal + ": Go's int would reject it");
  }

  /**
   * A connection takes a descriptor (its socket) and no thread: 2,000 of them, paced so that the arrival watch
   * watches every one, run in as many threads as a few connections would, with a descriptor each and a few dozen
   * more, all open at once.
   */
  @Test
  void twoThousandConnectionsRunInAFewThreadsWithADescriptorEach() throws Exception {
    try (var client = TestSupport.ScriptProcess.java("PingClientCommand", "-c", "2000", "-qps", "400", "-t", "2s",
        server.target())) {
      java.nio.file.Path proc = java.nio.file.Path.of("/proc", "" + client.process.pid());
      int maxThreads = 0;
      long maxDescriptors = 0;
      while (client.process.isAlive()) {
        try (var descriptors = Files.list(proc.resolve("fd"))) {
          maxDescriptors = Math.max(maxDescriptors, descriptors.count());
          maxThreads = Math.max(maxThreads, Files.readAllLines(proc.resolve("status")).stream()
              .filter(line -> line.startsWith("Threads:")).mapToInt(line -> Integer.parseInt(line.substring(8).trim()))
              .sum());
        } catch (java.io.IOException | java.io.UncheckedIOException ended) {
          break; // it ended between two looks
        }
        java.util.concurrent.locks.LockSupport.parkNanos(50_000_000); // a sample every 50 ms
      }
      assertEquals(0, client.awaitExit(120), client.stderr.toString());
      assertTrue(client.stdout.stream().anyMatch(line -> line.matches("Ping SERVING : \\d+")),
          client.stdout.toString());
      int cores = Runtime.getRuntime().availableProcessors();
      assertTrue(maxThreads <= 40 + 2 * cores, maxThreads + " threads for 2,000 connections");
      assertTrue(maxDescriptors >= 2000 && maxDescriptors <= 2100, maxDescriptors + " descriptors at most");
    }
  }

  /**
   * A load until Ctrl-C (-t 0), paced at one call every 20 s, stopped by SIGTERM after its first: calls waiting
   * for their time are cancelled at once, and the report is printed long before the next call was due; by calls
   * and over a stream alike.
   */
  @Test
  void aPacedLoadStoppedBySigtermPrintsItsReportWithoutWaitingForItsNextCall() {
    for (String mode : List.of("-c", "--stream")) {
      List<String> args = new java.util.ArrayList<>(List.of("-v", "-c", "1", "-qps", "0.05", "-t", "0",
          server.target()));
      if (mode.equals("--stream")) {
        args.add(0, mode);
      }
      try (var client = TestSupport.ScriptProcess.java("PingClientCommand", args.toArray(String[]::new))) {
        client.awaitStdout(line -> line.startsWith("Starting GRPC Ping") && line.endsWith("until interrupted"), 60);
        client.awaitStderr(line -> line.contains("warm-up call answered"), 60);
        client.signal("TERM");
        // the next call is due 20 s after the first: the run ends well before
        assertEquals(0, client.awaitExit(15), mode + " stderr=" + client.stderr);
        assertTrue(client.stdout.stream().anyMatch(line -> line.startsWith("Ended after ")), client.stdout.toString());
        assertTrue(client.stdout.stream().anyMatch(line -> line.startsWith("All done ")), client.stdout.toString());
      }
    }
  }

  /**
   * A client that cannot keep its schedule says so on stderr, with the count of calls it sent late, which its JSON
   * has too: here a client paused (SIGSTOP) for half a second of a 200 calls/s run.
   */
  @Test
  void aClientThatFellBehindItsScheduleWarnsWithTheCountOfItsLateCalls() throws Exception {
    try (var client = TestSupport.ScriptProcess.java("PingClientCommand", "-v", "-c", "1", "-qps", "200", "-t", "3s",
        "--json", server.target())) {
      client.awaitStderr(line -> line.contains("warm-up call answered"), 60);
      java.util.concurrent.locks.LockSupport.parkNanos(300_000_000); // into the measured run
      client.signal("STOP");
      try {
        java.util.concurrent.locks.LockSupport.parkNanos(500_000_000); // 100 calls fall due meanwhile
      } finally {
        client.signal("CONT");
      }
      assertEquals(0, client.awaitExit(60), client.stderr.toString());
      long lateCalls = JsonParser.parseString(String.join("\n", client.stdout)).getAsJsonObject().get("LateCalls")
          .getAsLong();
      assertTrue(lateCalls >= 50, lateCalls + " late calls");
      String warning = "ping-client: warning: the client could not keep the schedule: " + lateCalls + " of ";
      assertEquals(1, client.stderr.stream().filter(line -> line.startsWith(warning)).count(),
          client.stderr.toString());
    }
  }

  /** A run that needs more descriptors than the process may open says so before it connects (exit 1). */
  @Test
  void moreConnectionsThanTheProcessMayOpenAreRefusedAtOnce() {
    List<String> command = new java.util.ArrayList<>(List.of("bash", "-c", "ulimit -n 256 && exec \"$@\"", "bash"));
    command.addAll(TestSupport.javaCommand("PingClientCommand", "-c", "300", "-qps", "10", server.target()));
    try (var client = TestSupport.ScriptProcess.start(command, TestSupport.repo())) {
      assertEquals(1, client.awaitExit(60), client.stderr.toString());
      String line = client.singleStderrLine();
      assertTrue(line.matches("ping-client: -c 300 needs a file descriptor per connection, and this process may open"
          + " 256 \\(ulimit -n; \\d+ open\\): raise the limit, or give fewer connections"), line);
    }
  }

  /** Fortio's GRPCRunnerResults (fgrpc) with its periodic.RunnerResults, field for field. */
  record FortioGrpcResult(String RunType, String Labels, String StartTime, String RequestedQPS,
      String RequestedDuration, double ActualQPS, long ActualDuration, int NumThreads, String Version,
      FortioHistogram DurationHistogram, long Exactly, Map<String, Long> RetCodes, String Destination, int Streams,
      boolean Ping) {}

  /** Fortio's stats.HistogramData. */
  record FortioHistogram(long Count, double Min, double Max, double Sum, double Avg, double StdDev,
      List<FortioInterval> Data, List<FortioPercentile> Percentiles) {}

  record FortioInterval(double Start, double End, double Percent, long Count) {}

  record FortioPercentile(double Percentile, double Value) {}
}
