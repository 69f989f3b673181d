import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import pingkit.WallClock;
import pingkit.server.PingServer;
import pingkit.server.RunningServer;

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
      long before = WallClock.nanos();
      PingMessage reply = TestSupport.ping(channel).ping(PingMessage.newBuilder()
          .setSeq(42).setTs(7).setPayload("héllo ✓").setDelayNanos(1_000).build());
      long after = WallClock.nanos();
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
      // Each ping waits a minute at the server. If waiting held a thread, a bounded pool would take the later pings
      // only after answering earlier ones: 10,000 in flight at once, none answered, proves they overlap.
      int count = 10_000;
      RunningServer patient = PingServer.start("--max-delay", "60s", "127.0.0.1:0");
      ManagedChannel patientChannel = TestSupport.plaintext(patient.target());
      var stub = PingServerGrpc.newFutureStub(patientChannel).withDeadlineAfter(120, TimeUnit.SECONDS);
      List<com.google.common.util.concurrent.ListenableFuture<PingMessage>> replies = new ArrayList<>();
      try {
        for (int i = 0; i < count; i++) {
          replies.add(stub.ping(TestSupport.message(i, "", TimeUnit.SECONDS.toNanos(60))));
        }
        TestSupport.await(() -> patient.callsInFlight() == count, 120, "all 10,000 pings received and waiting");
        assertTrue(replies.stream().noneMatch(java.util.concurrent.Future::isDone), "a ping was answered before its"
            + " delay");
      } finally {
        TestSupport.close(patientChannel);
        patient.stopNow();
      }
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
      try (RunningServer tls = PingServer.listen("127.0.0.1:0")
          .tls(certs.serverCert(), certs.serverKey()).start()) {
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
        assertClientCertificateRequired(mtls.target(), certs);
      }
    }

    @Test
    void callsBeyondMaxStreamsQueueAtTheClient() throws Exception {
      // 20 concurrent pings delayed 500 ms over one connection limited to 10 streams: the server receives the
      // second ten only as the first ten are answered, half a second after the first ten, however fast it is
      try (RunningServer limited = PingServer.start("--max-streams", "10", "127.0.0.1:0")) {
        ManagedChannel limitedChannel = TestSupport.plaintext(limited.target());
        try {
          TestSupport.ping(limitedChannel).ping(TestSupport.message(0, "", 0)); // connect first
          var stub = PingServerGrpc.newFutureStub(limitedChannel).withDeadlineAfter(30, TimeUnit.SECONDS);
          List<com.google.common.util.concurrent.ListenableFuture<PingMessage>> replies = new ArrayList<>();
          for (int i = 0; i < 20; i++) {
            replies.add(stub.ping(TestSupport.message(i, "", 500_000_000)));
          }
          List<Long> receivedNanos = new ArrayList<>();
          for (int i = 0; i < 20; i++) {
            PingMessage reply = replies.get(i).get(30, TimeUnit.SECONDS);
            assertEquals(i, reply.getSeq());
            receivedNanos.add(reply.getTs());
          }
          java.util.Collections.sort(receivedNanos);
          assertTrue(receivedNanos.get(10) - receivedNanos.get(0) >= 500_000_000, "the 11th received "
              + (receivedNanos.get(10) - receivedNanos.get(0)) / 1e6 + " ms after the first: calls did not queue");
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

    /** --mtls with --cacert: clients must present a certificate signed by that CA. */
    @Test
    void mtlsWithACaRequiresAClientCertificateItSigned() {
      var certs = TestSupport.certs();
      try (RunningServer mtls = PingServer.start("--mtls", "--cert", certs.serverCert().toString(),
          "--key", certs.serverKey().toString(), "--cacert", certs.caCert().toString(), "127.0.0.1:0")) {
        assertClientCertificateRequired(mtls.target(), certs);
      }
    }

    /** Fortio's single-dash spellings of the server's flags. */
    @Test
    void fortiosSingleDashFlagsWorkAsTheirLongForms() {
      var certs = TestSupport.certs();
      try (RunningServer server = PingServer.start("-healthservice", "echo", "-cert", certs.serverCert().toString(),
          "-key", certs.serverKey().toString(), "-cacert", certs.caCert().toString(), "127.0.0.1:0")) {
        ManagedChannel channel = TestSupport.tls(server.target(), certs.caCert(), certs.clientCert(),
            certs.clientKey());
        try {
          assertEquals(ServingStatus.SERVING, TestSupport.health(channel, "echo"));
        } finally {
          TestSupport.close(channel);
        }
      }
    }

    /** The builder's settings are the flags of the same names: health, and a delay clamped to --max-delay. */
    @Test
    void theBuildersSettingsAreTheFlags() {
      try (RunningServer server = PingServer.listen("127.0.0.1:0").healthService("echo")
          .health("", ServingStatus.NOT_SERVING).maxDelay(java.time.Duration.ofMillis(1)).maxStreams(1)
          .warmup(java.time.Duration.ZERO).start()) {
        ManagedChannel channel = TestSupport.plaintext(server.target());
        try {
          assertEquals(ServingStatus.SERVING, TestSupport.health(channel, "echo"));
          assertEquals(ServingStatus.NOT_SERVING, TestSupport.health(channel, ""));
          // 10 s asked for, 1 ms applied: the echo says which
          assertEquals(TimeUnit.MILLISECONDS.toNanos(1), TestSupport.ping(channel)
              .ping(TestSupport.message(1, "", TimeUnit.SECONDS.toNanos(10))).getDelayNanos());
        } finally {
          TestSupport.close(channel);
        }
      }
    }

    /** The builder's server: its port, then a stop that answers calls in flight. */
    @Test
    void stopAnswersTheCallsInFlightAndASecondStopDoesNothing() throws Exception {
      RunningServer server = PingServer.listen("0").healthService("ping").start();
      int port = server.port();
      ManagedChannel channel = TestSupport.plaintext("127.0.0.1:" + port);
      try {
        assertEquals(ServingStatus.SERVING, TestSupport.health(channel, "ping"));
        var delayed = PingServerGrpc.newFutureStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
            .ping(TestSupport.message(7, "", TimeUnit.SECONDS.toNanos(1)));
        TestSupport.await(() -> TestSupport.ping(channel).ping(TestSupport.message(1, "", 0)).getSeq() == 1, 10,
            "the delayed ping sent first, in flight");
        server.stop();
        assertEquals(7, delayed.get(30, TimeUnit.SECONDS).getSeq(), "answered by the drain");
        server.stop();
      } finally {
        TestSupport.close(channel);
      }
      ManagedChannel after = TestSupport.plaintext("127.0.0.1:" + port);
      try {
        assertThrows(StatusRuntimeException.class, () -> TestSupport.health(after, "ping"), "still serving");
      } finally {
        TestSupport.close(after);
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
          inFlight.add(stub.ping(TestSupport.message(i, "", 5_000_000_000L)));
        }
        // the server counts a delayed ping from its receipt: wait until it holds all 100
        TestSupport.await(() -> draining.callsInFlight() == 100, 30, "the 100 pings held by the server");

        CompletableFuture<Integer> cut = new CompletableFuture<>();
        Thread drainer = new Thread(() -> cut.complete(draining.drain(java.time.Duration.ofSeconds(20))), "drain");
        drainer.start();
        assertEquals(ServingStatus.NOT_SERVING, watch.poll(10, TimeUnit.SECONDS));
        // the drain began while all 100 were waiting out their delay
        assertTrue(inFlight.stream().noneMatch(java.util.concurrent.Future::isDone), "answered before the drain");
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
        assertFalse(cut.isDone(), "the drain waits for the 100 pings in flight");
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
      try (var server = TestSupport.ScriptProcess.java("PingServerCommand", existing.toString())) {
        assertEquals(2, server.awaitExit(30));
        assertTrue(server.singleStderrLine().contains("path exists"), server.stderr.toString());
      }
      assertTrue(Files.exists(existing), "the existing file must be left alone");
    }

    @Test
    void secretMetadataIsNeverLoggedEvenWithGrpcDebugLogs() {
      // every kind of key the README names as secret, each with a value that must appear nowhere
      java.util.Map<String, String> secrets = new java.util.LinkedHashMap<>();
      secrets.put("authorization", "Bearer s3cr3t-bearer");
      secrets.put("proxy-authorization", "Basic pr0xy-secret");
      secrets.put("cookie", "c00kie-value");
      secrets.put("set-cookie", "s3t-c00kie-value");
      secrets.put("x-api-key", "k3y-value");
      secrets.put("x-auth-token", "t0ken-value");
      secrets.put("x-client-secret", "cl1ent-secret-value");
      secrets.put("x-db-password", "passw0rd-value");
      List<String> args = new ArrayList<>(List.of("-vv", "-n", "1"));
      secrets.forEach((key, value) -> args.addAll(List.of("-H", key + ": " + value)));
      try (var server = TestSupport.ScriptProcess.java("PingServerCommand", "-vv", "127.0.0.1:0")) {
        int port = server.awaitListeningPort();
        args.add("127.0.0.1:" + port);
        List<String> logged = new ArrayList<>();
        try (var client = TestSupport.ScriptProcess.java("PingClientCommand", args.toArray(String[]::new))) {
          assertEquals(0, client.awaitExit(30), "stderr: " + client.stderr);
          logged.addAll(client.stdout);
          logged.addAll(client.stderr);
        }
        // the server's log, whole: read once it has exited
        server.signal("TERM");
        assertEquals(0, server.awaitExit(30), "stderr: " + server.stderr);
        logged.addAll(server.stderr);
        String callLine = server.stderr.stream().filter(line -> line.contains("fgrpc.PingServer/Ping from"))
            .findFirst().orElseThrow(() -> new AssertionError("no call line: " + server.stderr));
        secrets.forEach((key, value) -> {
          assertTrue(callLine.contains(key + "=<redacted>"), key + " is logged, redacted: " + callLine);
          for (String line : logged) {
            assertFalse(line.contains(value.replaceFirst("^\\w+ ", "")), key + "'s value logged: " + line);
          }
        });
      }
    }

    @Test
    void healthStatusIsSetAtStartAndChangedByLinesOnStdin() throws Exception {
      try (var server = TestSupport.ScriptProcess.java("PingServerCommand", "--health-status", "=NOT_SERVING",
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

    /**
     * --mtls without --cacert: client certificates are checked with the JDK's trusted CAs, here a trust store that
     * holds the test CA (as a company's JDK would hold its own CA).
     */
    @Test
    void mtlsWithoutACaChecksClientCertificatesWithTheJdksTrustedCas() throws Exception {
      TestSupport.Certs certs = TestSupport.certs();
      Path trustStore = Files.createTempDirectory("pingkit-trust").resolve("trust.p12");
      TestSupport.run(TestSupport.repo(), Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
          "-importcert", "-noprompt", "-alias", "pingkit-test-ca", "-file", certs.caCert().toString(), "-keystore",
          trustStore.toString(), "-storetype", "PKCS12", "-storepass", "changeit");
      List<String> command = TestSupport.javaCommand("-Djavax.net.ssl.trustStore=" + trustStore,
          "-Djavax.net.ssl.trustStorePassword=changeit", "PingServerCommand", "--mtls", "--cert",
          certs.serverCert().toString(), "--key", certs.serverKey().toString(), "127.0.0.1:0");
      try (var server = TestSupport.ScriptProcess.start(command, TestSupport.repo())) {
        assertClientCertificateRequired("127.0.0.1:" + server.awaitListeningPort(), certs);
      }
    }

    /** A [V6]:PORT address to listen on, and as a client's TARGET (where this host has IPv6 on loopback). */
    @Test
    void listensOnAnIpv6LoopbackAddressAndClientsReachIt() throws Exception {
      try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("::1"))) {
        // bindable: IPv6 is on
      } catch (java.io.IOException noIpv6) {
        org.junit.jupiter.api.Assumptions.assumeTrue(false, "no IPv6 on this host's loopback: " + noIpv6);
      }
      try (var server = TestSupport.ScriptProcess.java("PingServerCommand", "--warmup", "0s", "[::1]:0")) {
        int port = server.awaitListeningPort();
        assertEquals("listening on tcp [::1]:" + port, server.stdout.get(0));
        TestSupport.expectExit(0, null, "PingClientCommand", "-n", "1", "[::1]:" + port);
        TestSupport.expectExit(0, null, "HealthCheckCommand", "[::1]:" + port);
      }
    }

    /**
     * The warm-up after listening gives way at once to the first real call and to a drain, and never touches the
     * health a server reports.
     */
    @Test
    void theWarmUpGivesWayToACallAndToADrainAndLeavesHealthAlone() throws Exception {
      try (var server = TestSupport.ScriptProcess.java("PingServerCommand", "--warmup", "60s", "--health-status",
          "ping=NOT_SERVING", "127.0.0.1:0")) {
        String target = "127.0.0.1:" + server.awaitListeningPort();
        server.awaitStderr(line -> line.contains("warming up"), 30);
        ManagedChannel channel = TestSupport.plaintext(target);
        try {
          assertEquals(ServingStatus.NOT_SERVING, TestSupport.health(channel, "ping"));
          // a minute of warm-up, given way to that first call: it ends long before its minute
          String ended = server.awaitStderr(line -> line.contains("warmed up"), 30);
          assertTrue(ended.contains("(it gave way"), ended);
          assertEquals(ServingStatus.SERVING, TestSupport.health(channel, ""));
          assertEquals(ServingStatus.NOT_SERVING, TestSupport.health(channel, "ping"), "health as it was set");
        } finally {
          TestSupport.close(channel);
        }
        server.signal("TERM");
        assertEquals(0, server.awaitExit(30), server.stderr.toString());
      }
      try (var server = TestSupport.ScriptProcess.java("PingServerCommand", "--warmup", "60s", "127.0.0.1:0")) {
        server.awaitListeningPort();
        server.awaitStderr(line -> line.contains("warming up"), 30);
        server.signal("TERM"); // a drain during the warm-up: it gives way, and the server stops
        assertEquals(0, server.awaitExit(30), server.stderr.toString());
        assertTrue(server.stderr.stream().anyMatch(line -> line.contains("warmed up") && line.contains("(it gave way")),
            server.stderr.toString());
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

  /** A TLS server at {@code target} answers a client with a test certificate and refuses one without. */
  private static void assertClientCertificateRequired(String target, TestSupport.Certs certs) {
    ManagedChannel withCert = TestSupport.tls(target, certs.caCert(), certs.clientCert(), certs.clientKey());
    ManagedChannel withoutCert = TestSupport.tls(target, certs.caCert(), null, null);
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
