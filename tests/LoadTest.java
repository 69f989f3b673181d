import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** ping-client's load mode (Fortio's load -grpc -ping) against a real server, as a process. */
class LoadTest {
  private static PingServer.Running server;

  @BeforeAll
  static void startServer() {
    server = PingServer.start("127.0.0.1:0");
  }

  @AfterAll
  static void stopServer() {
    server.stopNow();
  }

  private static JsonObject loadJson(String... args) {
    try (var client = TestSupport.ScriptProcess.java("PingClient", args)) {
      assertEquals(0, client.awaitExit(120), client.stderr.toString());
      return JsonParser.parseString(String.join("\n", client.stdout)).getAsJsonObject();
    }
  }

  @Test
  void exactCountMakesExactlyThatManyCallsPlusOneWarmupPerConnection() {
    try (var client = TestSupport.ScriptProcess.java("PingClient", "-c", "2", "-s", "3", "-qps", "0", "-n", "500",
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
    // 40 calls per second for 3 s: about 120 calls; a generous band, since this is pacing, not a benchmark
    JsonObject json = loadJson("-c", "2", "-qps", "40", "-t", "3s", "--json", server.target());
    int calls = json.getAsJsonObject("DurationHistogram").get("Count").getAsInt();
    assertTrue(calls >= 100 && calls <= 125, calls + " calls at 40 qps for 3 s");
    assertTrue(json.has("CorrectedDurationHistogram"));
  }

  @Test
  void maxStreamsQueuingShowsInTheLatency() {
    // 4 streams on one connection that allows 1: each 20 ms ping waits for the others, ~80 ms in all
    try (PingServer.Running oneStream = PingServer.start("--max-streams", "1", "127.0.0.1:0")) {
      JsonObject json = loadJson("-c", "1", "-s", "4", "-qps", "0", "-n", "40", "--delay", "20ms", "--json",
          oneStream.target());
      double avgSeconds = json.getAsJsonObject("DurationHistogram").get("Avg").getAsDouble();
      assertTrue(avgSeconds >= 0.060, "average " + avgSeconds + " s: the streams did not queue");
    }
  }

  @Test
  void failedCallsAreCountedByStatusAndExitThreeUnlessAllowed() {
    // The warm-up, alone, waits 200 ms of its 500 ms limit. Under load, 4 streams share one allowed stream:
    // the third in the queue needs at least 600 ms and hits DEADLINE_EXCEEDED.
    try (PingServer.Running oneStream = PingServer.start("--max-streams", "1", "127.0.0.1:0")) {
      String[] args = {"-c", "1", "-s", "4", "-qps", "0", "-n", "12", "--delay", "200ms", "--timeout", "500ms",
          oneStream.target()};
      try (var client = TestSupport.ScriptProcess.java("PingClient", args)) {
        assertEquals(3, client.awaitExit(120), client.stderr.toString());
        assertTrue(client.stdout.stream().anyMatch(l -> l.matches("Ping DEADLINE_EXCEEDED : \\d+")),
            client.stdout.toString());
        assertTrue(client.singleStderrLine().contains("calls failed"), client.stderr.toString());
      }
      String[] allowed = java.util.stream.Stream.concat(java.util.stream.Stream.of("--allow-errors"),
          java.util.Arrays.stream(args)).toArray(String[]::new);
      try (var client = TestSupport.ScriptProcess.java("PingClient", allowed)) {
        assertEquals(0, client.awaitExit(120), client.stderr.toString());
      }
    }
  }
}
