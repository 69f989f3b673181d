import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;

/** ping-server.java as a user runs it: its own process, its output, its signals and exit codes. */
class ServerProcessTest {

  @Test
  void jbangPingServerZeroPrintsItsPortServesAndStopsCleanlyOnSigterm() {
    Path repo = TestSupport.repo();
    try (var server = TestSupport.ScriptProcess.start(
        List.of(repo.resolve("jbang").toString(), "ping-server.java", "0"), repo)) {
      int port = server.awaitListeningPort();
      assertTrue(server.stdout.get(0).matches("listening on tcp \\[::\\]:\\d+"), server.stdout.get(0));
      ManagedChannel channel = TestSupport.plaintext("127.0.0.1:" + port);
      try {
        assertEquals(3, TestSupport.ping(channel).ping(TestSupport.message(3, "hi", 0)).getSeq());
        assertEquals(ServingStatus.SERVING, TestSupport.health(channel, "ping"));
      } finally {
        TestSupport.close(channel);
      }
      server.signal("TERM");
      assertEquals(0, server.awaitExit(30));
      assertEquals(1, server.stdout.size(), "stdout holds only the listening line: " + server.stdout);
    }
  }

  @Test
  void sigtermWithDelayedPingsInFlightAnswersThemAllThenExitsZero() throws Exception {
    try (var server = TestSupport.ScriptProcess.java("PingServer", "-v", "127.0.0.1:0")) {
      int port = server.awaitListeningPort();
      ManagedChannel channel = TestSupport.plaintext("127.0.0.1:" + port);
      try {
        var watch = new LinkedBlockingQueue<ServingStatus>();
        HealthGrpc.newStub(channel).watch(HealthCheckRequest.newBuilder().setService("ping").build(),
            new StreamObserver<HealthCheckResponse>() {
              @Override
              public void onNext(HealthCheckResponse value) {
                watch.add(value.getStatus());
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            });
        assertEquals(ServingStatus.SERVING, watch.poll(10, TimeUnit.SECONDS));
        var stub = PingServerGrpc.newFutureStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        List<com.google.common.util.concurrent.ListenableFuture<PingMessage>> inFlight = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
          inFlight.add(stub.ping(TestSupport.message(i, "", 1_000_000_000)));
        }
        server.awaitStderr(line -> line.contains("ping seq=99 "), 10); // -v logs each ping as it arrives
        server.signal("TERM");
        assertEquals(ServingStatus.NOT_SERVING, watch.poll(10, TimeUnit.SECONDS));
        for (int i = 0; i < 100; i++) {
          assertEquals(i, inFlight.get(i).get(30, TimeUnit.SECONDS).getSeq());
        }
        assertEquals(0, server.awaitExit(30));
      } finally {
        TestSupport.close(channel);
      }
    }
  }

  @Test
  void portInUseIsAOneLineErrorAndExitTwo() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
         var server = TestSupport.ScriptProcess.java("PingServer", "127.0.0.1:" + taken.getLocalPort())) {
      assertEquals(2, server.awaitExit(30));
      assertTrue(server.singleStderrLine().contains("address already in use"), server.stderr.toString());
    }
  }

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
  void badArgumentsAndUnusableTlsFilesAreOneLineErrorsWithExitOne() throws Exception {
    var certs = TestSupport.certs();
    Path notPem = Files.writeString(Files.createTempFile("pingkit", ".pem"), "not a certificate\n");
    String[][] cases = {
        {"Unknown option", "--no-such-flag"},
        {"not PORT", "127.0.0.1:99999"},
        {"not a duration", "--max-delay", "soon", "0"},
        {"no such file", "--cert", "/nonexistent/cert.pem", "--key", certs.serverKey().toString(), "0"},
        {"not a PEM certificate", "--cert", notPem.toString(), "--key", certs.serverKey().toString(), "0"},
        {"does not match", "--cert", certs.serverCert().toString(), "--key", certs.clientKey().toString(), "0"},
        {"go together", "--cert", certs.serverCert().toString(), "0"},
    };
    for (String[] c : cases) {
      String[] args = java.util.Arrays.copyOfRange(c, 1, c.length);
      try (var server = TestSupport.ScriptProcess.java("PingServer", args)) {
        assertEquals(1, server.awaitExit(30), String.join(" ", args));
        String line = server.singleStderrLine();
        assertTrue(line.contains(c[0]), "'" + String.join(" ", args) + "' said: " + line);
      }
    }
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
}
