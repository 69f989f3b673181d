import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;

/** ping-server's behaviour over real loopback sockets, with real gRPC clients. */
class PingServerTest {
  private static RunningServer server;
  private static ManagedChannel channel;

  @BeforeAll
  static void startServer() {
    server = PingServer.start("--max-delay", "2s", "127.0.0.1:0");
    channel = TestSupport.plaintext(server.target());
  }

  @AfterAll
  static void stopServer() {
    TestSupport.close(channel);
    server.stopNow();
  }

  /** Through the static API (what JShell uses), in this JVM. */
  @Nested
  class InProcess {
    @Test
    void echoesSeqPayloadAndDelayAndStampsReceiveTimeInWallClockNanos() {
      long before = Pingkit.wallClockNanos();
      PingMessage reply = TestSupport.ping(channel).ping(PingMessage.newBuilder()
          .setSeq(42).setTs(7).setPayload("héllo ✓").setDelayNanos(1_000).build());
      long after = Pingkit.wallClockNanos();
      assertEquals(42, reply.getSeq());
      assertEquals("héllo ✓", reply.getPayload());
      assertEquals(1_000, reply.getDelayNanos());
      assertTrue(reply.getTs() >= before && reply.getTs() <= after,
          "server ts " + reply.getTs() + " not within [" + before + ", " + after + "]");
    }

    @Test
    void delayedPingIsAnsweredNoSoonerThanItsDelay() {
      long start = System.nanoTime();
      TestSupport.ping(channel).ping(TestSupport.message(1, "", 200_000_000));
      long elapsedNanos = System.nanoTime() - start;
      assertTrue(elapsedNanos >= 200_000_000, "answered after " + elapsedNanos + " ns");
    }

    @Test
    void delayAboveMaxDelayIsClampedToItAndTheReplySaysWhatWasApplied() {
      // a one-hour delay against --max-delay 2s: answered after 2 s (within the 10 s deadline of the stub, so not
      // after an hour), and the reply says 2 s, the delay a client must correct its clock skew with
      long startNanos = System.nanoTime();
      PingMessage reply = TestSupport.ping(channel).ping(TestSupport.message(1, "", TimeUnit.HOURS.toNanos(1)));
      long elapsedNanos = System.nanoTime() - startNanos;
      assertEquals(TimeUnit.SECONDS.toNanos(2), reply.getDelayNanos());
      assertTrue(elapsedNanos >= TimeUnit.SECONDS.toNanos(2), "answered after " + elapsedNanos + " ns");
      PingMessage negative = TestSupport.ping(channel).ping(TestSupport.message(2, "", -5));
      assertEquals(0, negative.getDelayNanos(), "a negative delay is none");
    }

    @Test
    void tenThousandDelayedPingsAreAllReceivedBeforeTheFirstIsAnswered() throws Exception {
      // Each ping waits 5 s at the server (sending 10,000 takes well under that). If waiting held a thread, a
      // bounded pool would receive the later pings only after answering earlier ones; all receive stamps
      // preceding the first answer proves they overlap.
      int count = 10_000;
      RunningServer patient = PingServer.start("127.0.0.1:0");
      ManagedChannel patientChannel = TestSupport.plaintext(patient.target());
      var stub = PingServerGrpc.newStub(patientChannel).withDeadlineAfter(60, TimeUnit.SECONDS);
      List<CompletableFuture<PingMessage>> replies = new ArrayList<>();
      CompletableFuture<Long> firstAnswerNanos = new CompletableFuture<>();
      for (int i = 0; i < count; i++) {
        CompletableFuture<PingMessage> reply = new CompletableFuture<>();
        replies.add(reply);
        stub.ping(TestSupport.message(i, "", 5_000_000_000L), new StreamObserver<>() {
          @Override
          public void onNext(PingMessage value) {
            firstAnswerNanos.complete(Pingkit.wallClockNanos());
            reply.complete(value);
          }

          @Override
          public void onError(Throwable t) {
            reply.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
      }
      try {
        CompletableFuture.allOf(replies.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      } finally {
        TestSupport.close(patientChannel);
        patient.stopNow();
      }
      long lastReceivedNanos = replies.stream().mapToLong(r -> r.join().getTs()).max().orElseThrow();
      assertTrue(lastReceivedNanos < firstAnswerNanos.get(),
          "the server received a ping after it had answered one: delayed pings did not overlap");
    }

    @Test
    void healthReportsServingForEmptyAndNamedServiceAndNotServingForDown() {
      assertEquals(ServingStatus.SERVING, TestSupport.health(channel, ""));
      assertEquals(ServingStatus.SERVING, TestSupport.health(channel, "ping"));
      assertEquals(ServingStatus.NOT_SERVING, TestSupport.health(channel, "ping_down"));
    }

    @Test
    void healthOfAnUnknownServiceIsNotFound() {
      StatusRuntimeException e =
          assertThrows(StatusRuntimeException.class, () -> TestSupport.health(channel, "no-such-service"));
      assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    }

    @Test
    void healthServiceNameIsConfigurable() {
      try (RunningServer named = PingServer.start("--health-service", "echo", "127.0.0.1:0")) {
        ManagedChannel namedChannel = TestSupport.plaintext(named.target());
        try {
          assertEquals(ServingStatus.SERVING, TestSupport.health(namedChannel, "echo"));
          assertEquals(ServingStatus.NOT_SERVING, TestSupport.health(namedChannel, "echo_down"));
          assertEquals(Status.Code.NOT_FOUND, assertThrows(StatusRuntimeException.class,
              () -> TestSupport.health(namedChannel, "ping")).getStatus().getCode());
        } finally {
          TestSupport.close(namedChannel);
        }
      }
    }

    @Test
    void reflectionV1ListsTheServicesAndDescribesFortiosPingProto() throws Exception {
      var requests = new LinkedBlockingQueue<io.grpc.reflection.v1.ServerReflectionResponse>();
      var done = new CompletableFuture<Void>();
      var call = io.grpc.reflection.v1.ServerReflectionGrpc.newStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
          .serverReflectionInfo(TestSupport.collector(requests, done));
      call.onNext(io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("").build());
      call.onNext(io.grpc.reflection.v1.ServerReflectionRequest.newBuilder()
          .setFileContainingSymbol("fgrpc.PingServer").build());
      call.onCompleted();
      done.get(10, TimeUnit.SECONDS);
      Set<String> services = requests.take().getListServicesResponse().getServiceList().stream()
          .map(io.grpc.reflection.v1.ServiceResponse::getName).collect(Collectors.toSet());
      assertTrue(services.containsAll(Set.of("fgrpc.PingServer", "pingkit.PingStream", "grpc.health.v1.Health",
          "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection")), services.toString());
      var file = com.google.protobuf.DescriptorProtos.FileDescriptorProto.parseFrom(
          requests.take().getFileDescriptorResponse().getFileDescriptorProto(0));
      assertEquals("fgrpc", file.getPackage());
      var fields = file.getMessageType(0).getFieldList().stream()
          .map(f -> f.getName() + "=" + f.getNumber()).collect(Collectors.toList());
      assertEquals(List.of("seq=1", "ts=2", "payload=3", "delayNanos=4"), fields);
      assertEquals("Ping", file.getService(0).getMethod(0).getName());
    }

    @Test
    @SuppressWarnings("deprecation")
    void reflectionV1alphaListsTheServices() throws Exception {
      var responses = new LinkedBlockingQueue<io.grpc.reflection.v1alpha.ServerReflectionResponse>();
      var done = new CompletableFuture<Void>();
      var call = io.grpc.reflection.v1alpha.ServerReflectionGrpc.newStub(channel)
          .withDeadlineAfter(10, TimeUnit.SECONDS).serverReflectionInfo(TestSupport.collector(responses, done));
      call.onNext(io.grpc.reflection.v1alpha.ServerReflectionRequest.newBuilder().setListServices("").build());
      call.onCompleted();
      done.get(10, TimeUnit.SECONDS);
      Set<String> services = responses.take().getListServicesResponse().getServiceList().stream()
          .map(io.grpc.reflection.v1alpha.ServiceResponse::getName).collect(Collectors.toSet());
      assertTrue(services.containsAll(Set.of("fgrpc.PingServer", "pingkit.PingStream")), services.toString());
    }

    @Test
    void tlsServerAnswersAClientThatTrustsItsCaAndRefusesOneThatDoesNot() {
      var certs = TestSupport.certs();
      try (RunningServer tls = PingServer.start("127.0.0.1:0", certs.serverCert().toString(),
          certs.serverKey().toString(), "ping", 0)) {
        ManagedChannel trusting = TestSupport.tls(tls.target(), certs.caCert(), null, null);
        ManagedChannel distrusting = TestSupport.tls(tls.target(), certs.otherCaCert(), null, null);
        try {
          assertEquals(5, TestSupport.ping(trusting).ping(TestSupport.message(5, "x", 0)).getSeq());
          StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
              () -> TestSupport.ping(distrusting).ping(TestSupport.message(5, "x", 0)));
          assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        } finally {
          TestSupport.close(trusting);
          TestSupport.close(distrusting);
        }
      }
    }

    @Test
    void mutualTlsServerRequiresAClientCertificateSignedByItsCa() {
      var certs = TestSupport.certs();
      try (RunningServer mtls = PingServer.start("--cert", certs.serverCert().toString(),
          "--key", certs.serverKey().toString(), "--cacert", certs.caCert().toString(), "127.0.0.1:0")) {
        ManagedChannel withCert =
            TestSupport.tls(mtls.target(), certs.caCert(), certs.clientCert(), certs.clientKey());
        ManagedChannel withoutCert = TestSupport.tls(mtls.target(), certs.caCert(), null, null);
        try {
          assertEquals(ServingStatus.SERVING, TestSupport.health(withCert, "ping"));
          StatusRuntimeException e =
              assertThrows(StatusRuntimeException.class, () -> TestSupport.health(withoutCert, "ping"));
          assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        } finally {
          TestSupport.close(withCert);
          TestSupport.close(withoutCert);
        }
      }
    }

    @Test
    void callsBeyondMaxStreamsQueueAtTheClient() throws Exception {
      // 20 concurrent 20 ms pings over one connection limited to 10 streams: the second ten wait for the first
      // ten, so the average is at least (20 + 40) / 2 = 30 ms; without queuing it would be about 20 ms.
      try (RunningServer limited = PingServer.start("--max-streams", "10", "127.0.0.1:0")) {
        ManagedChannel limitedChannel = TestSupport.plaintext(limited.target());
        try {
          TestSupport.ping(limitedChannel).ping(TestSupport.message(0, "", 0)); // connect first
          var stub = PingServerGrpc.newFutureStub(limitedChannel).withDeadlineAfter(10, TimeUnit.SECONDS);
          List<CompletableFuture<Long>> latencies = new ArrayList<>();
          for (int i = 0; i < 20; i++) {
            long start = System.nanoTime();
            var reply = stub.ping(TestSupport.message(i, "", 20_000_000));
            CompletableFuture<Long> latency = new CompletableFuture<>();
            reply.addListener(() -> latency.complete(System.nanoTime() - start), Runnable::run);
            latencies.add(latency);
          }
          double averageMillis = latencies.stream().mapToLong(CompletableFuture::join).average().orElseThrow() / 1e6;
          assertTrue(averageMillis >= 30, "average " + averageMillis + " ms: calls did not queue");
        } finally {
          TestSupport.close(limitedChannel);
        }
      }
    }

    @Test
    void requestLargerThanMaxMessageSizeIsRefused() {
      try (RunningServer small = PingServer.start("--max-message-size", "1KiB", "127.0.0.1:0")) {
        ManagedChannel smallChannel = TestSupport.plaintext(small.target());
        try {
          assertEquals(1000, TestSupport.ping(smallChannel).ping(TestSupport.message(1, "a".repeat(1000), 0))
              .getPayload().length());
          StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
              () -> TestSupport.ping(smallChannel).ping(TestSupport.message(1, "a".repeat(2000), 0)));
          assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        } finally {
          TestSupport.close(smallChannel);
        }
      }
    }

    @Test
    void servesOnAUnixSocketAndRemovesItOnStop() throws Exception {
      Path socket = Files.createTempDirectory("pingkit").resolve("ping.sock");
      RunningServer unix = PingServer.start(socket.toString());
      assertEquals("unix " + socket, unix.address());
      ManagedChannel unixChannel = TestSupport.plaintext("unix:" + socket);
      try {
        assertEquals(9, TestSupport.ping(unixChannel).ping(TestSupport.message(9, "", 0)).getSeq());
      } finally {
        TestSupport.close(unixChannel);
        unix.stop();
      }
      assertFalse(Files.exists(socket), "socket file left behind");
    }

    @Test
    void drainTurnsHealthNotServingRefusesNewCallsAndAnswersCallsInFlight() throws Exception {
      RunningServer draining = PingServer.start("127.0.0.1:0");
      ManagedChannel drainingChannel = TestSupport.plaintext(draining.target());
      try {
        var watch = new LinkedBlockingQueue<ServingStatus>();
        HealthGrpc.newStub(drainingChannel).watch(HealthCheckRequest.newBuilder().setService("ping").build(),
            collector(watch, HealthCheckResponse::getStatus));
        assertEquals(ServingStatus.SERVING, watch.poll(10, TimeUnit.SECONDS));
        var stub = PingServerGrpc.newFutureStub(drainingChannel).withDeadlineAfter(20, TimeUnit.SECONDS);
        List<com.google.common.util.concurrent.ListenableFuture<PingMessage>> inFlight = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
          inFlight.add(stub.ping(TestSupport.message(i, "", 1_000_000_000)));
        }
        // the server counts a delayed ping from its receipt: wait until it holds all 100
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (draining.callsInFlight() < 100 && System.nanoTime() < deadline) {
          Thread.onSpinWait();
        }
        assertEquals(100, draining.callsInFlight());

        CompletableFuture<Integer> cut =
            CompletableFuture.supplyAsync(() -> draining.drain(java.time.Duration.ofSeconds(20)));
        assertEquals(ServingStatus.NOT_SERVING, watch.poll(10, TimeUnit.SECONDS));
        // health turns first and new calls are refused right after: a call from a new client is refused at
        // the latest a moment later, while the 100 pings are still waiting out their delay
        Status.Code lateCall = Status.Code.OK;
        for (long refusedBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            lateCall == Status.Code.OK && System.nanoTime() < refusedBy; ) {
          ManagedChannel late = TestSupport.plaintext(draining.target());
          try {
            TestSupport.ping(late).ping(TestSupport.message(1000, "", 0));
          } catch (StatusRuntimeException refused) {
            lateCall = refused.getStatus().getCode();
          } finally {
            TestSupport.close(late);
          }
        }
        assertEquals(Status.Code.UNAVAILABLE, lateCall);
        for (int i = 0; i < 100; i++) {
          assertEquals(i, inFlight.get(i).get(20, TimeUnit.SECONDS).getSeq());
        }
        assertEquals(0, cut.get(20, TimeUnit.SECONDS));
      } finally {
        TestSupport.close(drainingChannel);
        draining.stopNow();
      }
    }
  }

  /** As a user runs it: its own process, its output, its signals and exit codes. */
  @Nested
  class AsAProcess {
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
      try (RunningServer server = PingServer.start("--cert", certs.serverCert().toString(), "--key",
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
  }

  private static <T, V> StreamObserver<T> collector(LinkedBlockingQueue<V> into, java.util.function.Function<T, V> f) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        into.add(f.apply(value));
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
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
