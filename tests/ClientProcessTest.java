import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** ping-client and health-check as processes: every documented exit code, produced for real. */
class ClientProcessTest {
  private static PingServer.Running plaintext;
  private static PingServer.Running tls;
  private static PingServer.Running mtls;
  private static TestSupport.Certs certs;

  @BeforeAll
  static void startServers() {
    certs = TestSupport.certs();
    plaintext = PingServer.start("127.0.0.1:0");
    tls = PingServer.start("--cert", certs.serverCert().toString(), "--key", certs.serverKey().toString(),
        "127.0.0.1:0");
    mtls = PingServer.start("--cert", certs.serverCert().toString(), "--key", certs.serverKey().toString(),
        "--cacert", certs.caCert().toString(), "127.0.0.1:0");
  }

  @AfterAll
  static void stopServers() {
    plaintext.stopNow();
    tls.stopNow();
    mtls.stopNow();
  }

  /** Runs a client to its end and checks its exit code and its one-line message on stderr. */
  private static void expect(int exitCode, String messagePart, String mainClass, String... args) {
    try (var client = TestSupport.ScriptProcess.java(mainClass, args)) {
      assertEquals(exitCode, client.awaitExit(60), String.join(" ", args) + " stderr=" + client.stderr);
      if (messagePart != null) {
        String line = client.singleStderrLine();
        assertTrue(line.contains(messagePart), String.join(" ", args) + " said: " + line);
      }
    }
  }

  private static String localhost(PingServer.Running server) {
    return "localhost:" + server.port();
  }

  @Test
  void successIsExitZero() {
    expect(0, null, "PingClient", "-n", "2", plaintext.target());
    expect(0, null, "HealthCheck", "--service", "ping", plaintext.target());
  }

  @Test
  void mutualTlsWithAClientCertificateSucceeds() {
    expect(0, null, "PingClient", "--cacert", certs.caCert().toString(), "--cert", certs.clientCert().toString(),
        "--key", certs.clientKey().toString(), localhost(mtls));
  }

  @Test
  void insecureSkipsVerificationWithAWarning() {
    try (var client = TestSupport.ScriptProcess.java("HealthCheck", "-k", localhost(tls))) {
      assertEquals(0, client.awaitExit(60));
      assertTrue(client.singleStderrLine().contains("not verified"), client.stderr.toString());
    }
  }

  @Test
  void healthAnswersMapToExitCodes() {
    expect(3, "NOT_FOUND", "HealthCheck", "--service", "no-such-service", plaintext.target());
    expect(4, null, "HealthCheck", "-healthservice", "ping_down", plaintext.target());
  }

  @Test
  void deadlineExceededIsAFailedRpc() {
    expect(3, "DEADLINE_EXCEEDED", "PingClient", "--delay", "3s", "--timeout", "200ms", plaintext.target());
  }

  @Test
  void metadataUserAgentAndAuthorityArriveAtTheServer() {
    try (var server = TestSupport.ScriptProcess.java("PingServer", "-v", "127.0.0.1:0")) {
      int port = server.awaitListeningPort();
      expect(0, null, "PingClient", "-H", "x-test: hello", "-H", "user-agent: pk-test/1", "-H",
          "host: example.test", "-H", "authorization: Bearer s3cret", "127.0.0.1:" + port);
      String line = server.awaitStderr(l -> l.contains("x-test=hello"), 10);
      assertTrue(line.contains("user-agent=pk-test/1"), line);
      assertTrue(line.contains("authority=example.test"), line);
      assertTrue(line.contains("authorization=<redacted>") && !line.contains("s3cret"), line);
    }
  }

  @Test
  void jsonOutputParses() {
    try (var client = TestSupport.ScriptProcess.java("HealthCheck", "--json", "-n", "3", plaintext.target())) {
      assertEquals(0, client.awaitExit(60));
      var json = JsonParser.parseString(String.join("\n", client.stdout)).getAsJsonObject();
      assertEquals(3, json.getAsJsonObject("statuses").get("SERVING").getAsInt());
      assertEquals(3, json.getAsJsonObject("rttMicros").get("count").getAsInt());
    }
  }

  @Test
  void jsonFileIsWrittenBesideTheTextAndAnUnwritableOneIsRefusedBeforeAnyCall() throws Exception {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("pingkit-json");
    java.nio.file.Path file = dir.resolve("ping.json");
    try (var client = TestSupport.ScriptProcess.java("PingClient", "-n", "2", "--json", file.toString(),
        plaintext.target())) {
      assertEquals(0, client.awaitExit(60), client.stderr.toString());
      assertTrue(client.stdout.stream().anyMatch(l -> l.startsWith("Average RTT ")), client.stdout.toString());
    }
    var json = JsonParser.parseString(java.nio.file.Files.readString(file)).getAsJsonObject();
    assertEquals(2, json.get("iterations").getAsInt());
    expect(1, "--json: cannot write " + dir.resolve("no/such/dir/x.json"), "PingClient", "--json",
        dir.resolve("no/such/dir/x.json").toString(), plaintext.target());
  }

  @Test
  void continuousModeStopsOnASignalAndPrintsItsHistograms() {
    try (var client = TestSupport.ScriptProcess.java("PingClient", "-n", "0", "--interval", "10ms",
        plaintext.target())) {
      client.awaitStdout(line -> line.startsWith("seq 3:"), 60);
      client.signal("TERM"); // what Ctrl-C does too (INT is ignored in background jobs)
      assertEquals(0, client.awaitExit(30));
      assertTrue(client.stdout.stream().anyMatch(l -> l.startsWith("RTT histogram usec : count")),
          client.stdout + " " + client.stderr);
      assertTrue(client.stdout.stream().anyMatch(l -> l.startsWith("Average RTT")), client.stdout.toString());
    }
  }

  @Test
  void watchPrintsTheStatusAndEndsAtItsTimeout() {
    try (var client = TestSupport.ScriptProcess.java("HealthCheck", "--watch", "--timeout", "2s",
        "--service", "ping", plaintext.target())) {
      assertEquals(0, client.awaitExit(60));
      assertTrue(client.stdout.size() == 1 && client.stdout.get(0).endsWith(" SERVING"), client.stdout.toString());
    }
  }

  @Test
  void watchOfAnUnknownServiceIsNotFound() {
    expect(3, "SERVICE_UNKNOWN", "HealthCheck", "--watch", "--timeout", "30s", "--service", "nope",
        plaintext.target());
  }

  @Test
  void watchEndsOnTheLastStatusWhenTheServerDrains() {
    try (var server = TestSupport.ScriptProcess.java("PingServer", "127.0.0.1:0")) {
      int port = server.awaitListeningPort();
      try (var watch = TestSupport.ScriptProcess.java("HealthCheck", "--watch", "--service", "ping",
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
  void plaintextSchemeWithTlsFlagsIsRefused() {
    expect(1, "asks for plaintext", "PingClient", "--cacert", certs.caCert().toString(), "http://localhost:1");
  }

  @Test
  void waitForServingWaitsForAServerThatStartsLater() throws Exception {
    int port;
    try (var socket = new java.net.ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    try (var client = TestSupport.ScriptProcess.java("HealthCheck", "-v", "--wait-for-serving", "--timeout", "60s",
        "127.0.0.1:" + port)) {
      client.awaitStderr(line -> line.contains("connection refused"), 60); // -v reports each failed check
      try (PingServer.Running late = PingServer.start("127.0.0.1:" + port)) {
        assertEquals(0, client.awaitExit(60));
        assertTrue(client.stdout.get(0).startsWith("SERVING after "), client.stdout.toString());
      }
    }
  }

  @Test
  void verboseShowsTheTransportPhasesOfTheFirstConnection() {
    for (String mainClass : List.of("PingClient", "HealthCheck")) {
      try (var client = TestSupport.ScriptProcess.java(mainClass, "-v", "--cacert", certs.caCert().toString(),
          localhost(tls))) {
        assertEquals(0, client.awaitExit(60), "stderr=" + client.stderr);
        String log = String.join("\n", client.stderr);
        for (String phase : List.of("resolved localhost to ", "TCP connected to localhost/", "TLS TLSv1.",
            "ALPN h2: handshake and HTTP/2 settings in ", "server certificate: subject CN=server, SANs [localhost,"
                + " 127.0.0.1, ", "issuer CN=pingkit test ca, expires ", "first answer (at ")) {
          assertTrue(log.contains(phase), mainClass + ": no '" + phase + "' in\n" + log);
        }
      }
    }
  }
}
