import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ping-server.java as a user runs it: its own process, its output, its signals and exit codes. */
class ServerProcessTest {

  @Test
  void unixSocketPathThatExistsIsRefusedWithExitTwo() throws Exception {
    Path existing = Files.createTempFile("pingkit", ".sock");
    try (var server = TestSupport.ScriptProcess.java("PingServer", existing.toString())) {
      assertEquals(2, server.awaitExit(30));
      assertTrue(server.singleStderrLine().contains("path exists"), server.stderr.toString());
    }
    assertTrue(Files.exists(existing), "the existing file must be left alone");
  }

  @Test
  void secretMetadataIsNeverLoggedEvenWithGrpcDebugLogs() {
    List<String> secrets = List.of("Bearer s3cr3t-bearer", "k3y-value", "c00kie-value");
    try (var server = TestSupport.ScriptProcess.java("PingServer", "-vv", "127.0.0.1:0")) {
      int port = server.awaitListeningPort();
      try (var client = TestSupport.ScriptProcess.java("PingClient", "-vv", "-n", "1",
          "-H", "authorization: " + secrets.get(0), "-H", "x-api-key: " + secrets.get(1),
          "-H", "cookie: " + secrets.get(2), "127.0.0.1:" + port)) {
        assertEquals(0, client.awaitExit(30), "stderr: " + client.stderr);
        // the server logs each call's metadata: once that line is there, its keys were seen and logged
        server.awaitStderr(line -> line.contains("fgrpc.PingServer/Ping from"), 10);
        List<String> logged = new ArrayList<>(client.stdout);
        logged.addAll(client.stderr);
        logged.addAll(server.stderr);
        assertTrue(logged.stream().anyMatch(line -> line.contains("authorization")),
            "the test must see the metadata logged: " + logged);
        for (String secret : secrets) {
          for (String line : logged) {
            assertTrue(!line.contains(secret.replace("Bearer ", "")), "secret logged: " + line);
          }
        }
      }
    }
  }

  @Test
  void healthStatusIsSetAtStartAndChangedByLinesOnStdin() throws Exception {
    try (var server = TestSupport.ScriptProcess.java("PingServer", "--health-status", "=NOT_SERVING",
        "--health-status", "extra=SERVING", "127.0.0.1:0")) {
      int port = server.awaitListeningPort();
      ManagedChannel channel = TestSupport.plaintext("127.0.0.1:" + port);
      try {
        assertEquals(ServingStatus.NOT_SERVING, TestSupport.health(channel, ""));
        assertEquals(ServingStatus.SERVING, TestSupport.health(channel, "extra"));
        assertEquals(ServingStatus.SERVING, TestSupport.health(channel, "ping"));
        var stdin = server.process.getOutputStream();
        stdin.write("set ping NOT_SERVING\nset \"\" serving\nbogus\n".getBytes(StandardCharsets.UTF_8));
        stdin.flush();
        // the lines are handled in order: once the last one is answered, the two before it took effect
        server.awaitStderr(line -> line.contains("'bogus': expected 'set SERVICE STATUS'"), 10);
        assertTrue(server.stderr.contains("ping-server: health of 'ping' is now NOT_SERVING"),
            server.stderr.toString());
        assertEquals(ServingStatus.NOT_SERVING, TestSupport.health(channel, "ping"));
        assertEquals(ServingStatus.SERVING, TestSupport.health(channel, ""));
      } finally {
        TestSupport.close(channel);
      }
    }
  }

  @Test
  void tlsBelowOnePointTwoIsRefusedAndOnePointTwoAndThreeAreServed() {
    TestSupport.Certs certs = TestSupport.certs();
    try (PingServer.Running server = PingServer.start("--cert", certs.serverCert().toString(), "--key",
        certs.serverKey().toString(), "127.0.0.1:0")) {
      for (String version : List.of("-tls1", "-tls1_1", "-tls1_2", "-tls1_3")) {
        // SECLEVEL=0 lets this openssl offer the old versions at all: the refusal must be the server's
        String handshake = handshake(server.port(), version, "-cipher", "DEFAULT:@SECLEVEL=0");
        boolean refused = version.equals("-tls1") || version.equals("-tls1_1");
        assertEquals(refused, handshake.contains("alert protocol version"), version + ":\n" + handshake);
        // a completed handshake names its version ("New, TLSv1.3, Cipher is ..."); a refused one, "(NONE)"
        assertEquals(!refused, handshake.contains("New, TLSv1.") && handshake.contains("Verification: OK"),
            version + ":\n" + handshake);
      }
    }
  }

  /** What openssl s_client reports of a handshake with a server of the test CA on loopback. */
  private static String handshake(int port, String... options) {
    List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port,
        "-CAfile", TestSupport.certs().caCert().toString(), "-verify_hostname", "localhost"));
    command.addAll(List.of(options));
    try {
      Process openssl = new ProcessBuilder(command).redirectErrorStream(true).start();
      openssl.getOutputStream().close(); // no input: it ends once the handshake is done or refused
      String output = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(openssl.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "openssl s_client did not end");
      return output;
    } catch (java.io.IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }
}
