import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import pingkit.health.HealthCheck;
import pingkit.health.HealthResult;
import pingkit.server.PingServer;
import pingkit.server.RunningServer;

import com.google.gson.JsonParser;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** health-check's behaviour: checks, exit codes, --watch and --wait-for-serving, against real servers on loopback. */
class HealthCheckTest {
  @RegisterExtension
  static final TestSupport.Servers servers = new TestSupport.Servers();

  /** Through the static API (what JShell uses), in this JVM. */
  @Nested
  class InProcess {
    @Test
    void healthCheckCountsEachStatus() {
      HealthResult result = HealthCheck.run("-n", "50", "--service", "ping", servers.plaintext().target());
      assertEquals(Map.of(ServingStatus.SERVING, 50L), result.statusCounts());
      assertEquals(50, result.rttHistogram().count());
      assertEquals(Map.of(ServingStatus.NOT_SERVING, 3L),
          HealthCheck.to(servers.plaintext().target()).service("ping_down").times(3).check().statusCounts());
    }
  }

  /** As a user runs it: its own process, its output, its signals and every documented exit code. */
  @Nested
  class AsAProcess {
    @Test
    void successIsExitZero() {
      TestSupport.expectExit(0, null, "HealthCheckCommand", "--service", "ping", servers.plaintext().target());
    }

    @Test
    void insecureSkipsVerificationWithAWarning() {
      try (var client = TestSupport.ScriptProcess.java("HealthCheckCommand", "-k", TestSupport.localhost(servers.tls()))) {
        assertEquals(0, client.awaitExit(60));
        assertTrue(client.singleStderrLine().contains("not verified"), client.stderr.toString());
      }
    }

    @Test
    void healthAnswersMapToExitCodes() {
      TestSupport.expectExit(3, "NOT_FOUND", "HealthCheckCommand", "--service", "no-such-service",
          servers.plaintext().target());
      TestSupport.expectExit(4, null, "HealthCheckCommand", "-healthservice", "ping_down", servers.plaintext().target());
    }

    @Test
    void jsonOutputParses() {
      try (var client = TestSupport.ScriptProcess.java("HealthCheckCommand", "--json", "-n", "3",
          servers.plaintext().target())) {
        assertEquals(0, client.awaitExit(60));
        var json = JsonParser.parseString(String.join("\n", client.stdout)).getAsJsonObject();
        assertEquals(3, json.getAsJsonObject("statuses").get("SERVING").getAsInt());
        assertEquals(3, json.getAsJsonObject("rttMicros").get("count").getAsInt());
      }
    }

    @Test
    void watchPrintsTheStatusAndEndsAtItsTimeout() {
      try (var client = TestSupport.ScriptProcess.java("HealthCheckCommand", "--watch", "--timeout", "5s",
          "--service", "ping", servers.plaintext().target())) {
        assertEquals(0, client.awaitExit(60));
        assertTrue(client.stdout.size() == 1 && client.stdout.get(0).endsWith(" SERVING"), client.stdout.toString());
      }
    }

    @Test
    void watchPrintsEachChangeAsAJsonLineAndEndsAtASignalOnTheLastStatus() {
      try (RunningServer server = PingServer.start("127.0.0.1:0");
          var watch = TestSupport.ScriptProcess.java("HealthCheckCommand", "--watch", "--json", "--service", "ping",
              server.target())) {
        watch.awaitStdout(line -> line.contains("\"SERVING\""), 60);
        server.setHealth("ping", ServingStatus.NOT_SERVING);
        watch.awaitStdout(line -> line.contains("\"NOT_SERVING\""), 60);
        watch.signal("TERM"); // what Ctrl-C does too: the watch ends at once, on the last status it was told
        assertEquals(4, watch.awaitExit(30), watch.stderr.toString());
        List<String> statuses = watch.stdout.stream()
            .map(line -> JsonParser.parseString(line).getAsJsonObject().get("status").getAsString()).toList();
        assertEquals(List.of("SERVING", "NOT_SERVING"), statuses);
      }
    }

    @Test
    void aServerWithoutHealthIsAFailedRpcForACheckAndForAWatch() throws Exception {
      io.grpc.Server bare = io.grpc.Grpc.newServerBuilderForPort(0, io.grpc.InsecureServerCredentials.create())
          .build().start(); // no services: every method is UNIMPLEMENTED
      try {
        String target = "127.0.0.1:" + bare.getPort();
        TestSupport.expectExit(3, "has no grpc.health.v1 health service", "HealthCheckCommand", target);
        TestSupport.expectExit(3, "has no grpc.health.v1 health service", "HealthCheckCommand", "--watch", target);
      } finally {
        bare.shutdownNow();
      }
    }

    @Test
    void watchOfAnUnknownServiceIsNotFound() {
      TestSupport.expectExit(3, "SERVICE_UNKNOWN", "HealthCheckCommand", "--watch", "--timeout", "30s", "--service", "nope",
          servers.plaintext().target());
    }

    @Test
    void watchEndsOnTheLastStatusWhenTheServerDrains() {
      try (var server = TestSupport.ScriptProcess.java("PingServerCommand", "127.0.0.1:0")) {
        int port = server.awaitListeningPort();
        try (var watch = TestSupport.ScriptProcess.java("HealthCheckCommand", "--watch", "--service", "ping",
            "127.0.0.1:" + port)) {
          watch.awaitStdout(line -> line.endsWith(" SERVING"), 60);
          server.signal("TERM");
          assertEquals(4, watch.awaitExit(60), watch.stderr.toString());
          assertTrue(watch.stdout.get(watch.stdout.size() - 1).endsWith(" NOT_SERVING"), watch.stdout.toString());
        }
        assertEquals(0, server.awaitExit(60));
      }
    }

    @Test
    void waitForServingWaitsForAServerThatStartsLater() throws Exception {
      int port;
      try (var socket = new java.net.ServerSocket(0)) {
        port = socket.getLocalPort();
      }
      for (boolean json : new boolean[] {false, true}) {
        List<String> args = new java.util.ArrayList<>(List.of("-v", "--wait-for-serving", "--timeout", "60s",
            "127.0.0.1:" + port));
        if (json) {
          args.add(0, "--json");
        }
        try (var client = TestSupport.ScriptProcess.java("HealthCheckCommand", args.toArray(String[]::new))) {
          client.awaitStderr(line -> line.contains("connection refused"), 60); // -v reports each failed check
          try (RunningServer late = PingServer.start("127.0.0.1:" + port)) {
            assertEquals(0, client.awaitExit(60));
            if (!json) {
              assertTrue(client.stdout.get(0).startsWith("SERVING after "), client.stdout.toString());
              continue;
            }
            // the README's fields, and no others
            var document = com.google.gson.JsonParser.parseString(String.join("\n", client.stdout))
                .getAsJsonObject();
            assertEquals(java.util.Set.of("target", "service", "status", "waitedSeconds", "checks"),
                document.keySet());
            assertEquals("127.0.0.1:" + port, document.get("target").getAsString());
            assertEquals("", document.get("service").getAsString());
            assertEquals("SERVING", document.get("status").getAsString());
            assertTrue(document.get("checks").getAsInt() >= 2, "the first check was refused: " + document);
            assertTrue(document.get("waitedSeconds").getAsDouble() > 0, document.toString());
          }
        }
      }
    }
  }
}
