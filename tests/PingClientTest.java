import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import pingkit.Pingkit;
import pingkit.WallClock;
import pingkit.health.HealthCheck;
import pingkit.net.Connection;
import pingkit.net.ConnectionOptions;
import pingkit.net.Dialer;
import pingkit.net.Target;
import pingkit.ping.PingClient;
import pingkit.ping.PingResult;
import pingkit.report.ReportOptions;
import pingkit.report.SampleHistogram;
import pingkit.server.PingServer;
import pingkit.server.RunningServer;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;

/** ping-client's behaviour (and its connection's, which health-check shares), against real servers on loopback. */
class PingClientTest {
  @RegisterExtension
  static final TestSupport.Servers servers = new TestSupport.Servers();

  /** Through the static API (what JShell uses) and the connection, in this JVM. */
  @Nested
  class InProcess {
    @Test
    void eachIterationGivesThreeRttSamplesAndOneClockSkewSample() {
      PingResult result = PingClient.run("-n", "7", "--payload", "abc", servers.plaintext().target());
      assertEquals(7, result.iterations());
      assertEquals(21, result.rttHistogram().count());
      assertEquals(7, result.clockSkewHistogram().count());
      assertTrue(result.rttHistogram().min(SampleHistogram.Unit.MICROS) > 0, "RTTs are positive");
    }

    @Test
    void overOneStreamEachIterationGivesTheSameSamplesAndTheStreamsOpeningTime() {
      PingResult result = PingClient.run("--stream", "-n", "7", "--payload", "abc",
          servers.plaintext().target());
      assertEquals(7, result.iterations());
      assertEquals(21, result.rttHistogram().count());
      assertEquals(7, result.clockSkewHistogram().count());
      assertEquals(14, result.clientOverhead().total.count(), "two messages an iteration");
      assertTrue(result.clientOverhead().wireTimes(), "every message timed at the socket");
      assertTrue(result.rttHistogram().min(SampleHistogram.Unit.MICROS) > 0, "RTTs are positive");
      assertTrue(result.streamOpenNanos() > 0, "the stream's opening: " + result.streamOpenNanos());
      String text = result.format(List.of(50.0), false);
      assertTrue(text.contains("Stream opened in "), text);
      JsonObject json = JsonParser.parseString(ReportOptions.toJson(result.toJson(List.of(50.0))))
          .getAsJsonObject();
      assertEquals(result.streamOpenNanos() / 1e9, json.get("streamOpenSeconds").getAsDouble(), 1e-12);
    }

    /**
     * One clock on both ends: what the estimate gets wrong is the path's asymmetry, never more than the part of
     * the round trip that is not the server's delay. Without the delay's correction it would be half the delay
     * off (10 ms here); with the delay the server clamped, not the one asked for (a 200 ms delay clamped to 10 ms
     * was read as 95 ms of skew), whether the server says so in its echo (ping-server) or not (a server that clamps
     * and echoes the delay asked for).
     */
    @Test
    void clockSkewOnOneMachineIsTheDelaysAsymmetryAloneByCallsAndOverAStream() throws Exception {
      var timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
      Server quietlyClamping = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
          .addService(ServerServiceDefinition.builder(PingServerGrpc.SERVICE_NAME)
              .addMethod(PingServerGrpc.getPingMethod(), io.grpc.stub.ServerCalls.asyncUnaryCall((request, reply) -> {
                PingMessage echo = request.toBuilder().setTs(WallClock.nanos()).build(); // its delay as asked
                timer.schedule(() -> {
                  reply.onNext(echo);
                  reply.onCompleted();
                }, Math.min(request.getDelayNanos(), 10_000_000), java.util.concurrent.TimeUnit.NANOSECONDS);
              })).build())
          .build().start();
      String quiet = "127.0.0.1:" + quietlyClamping.getPort();
      try (RunningServer clamping = PingServer.start("--max-delay", "10ms", "127.0.0.1:0")) {
        for (String[] args : List.of(new String[] {"-n", "40", "--delay", "20ms", servers.plaintext().target()},
            new String[] {"--stream", "-n", "40", "--delay", "20ms", servers.plaintext().target()},
            new String[] {"-n", "40", "--delay", "200ms", clamping.target()},
            new String[] {"--stream", "-n", "40", "--delay", "200ms", clamping.target()},
            new String[] {"-n", "40", "--delay", "200ms", quiet})) {
          PingResult result = PingClient.run(args);
          String target = args[args.length - 1];
          long appliedMicros = target.equals(clamping.target()) || target.equals(quiet) ? 10_000 : 20_000;
          double minRttMicros = result.rttHistogram().min(SampleHistogram.Unit.MICROS);
          double medianRttMicros = result.rttHistogram().percentile(50, SampleHistogram.Unit.MICROS);
          double medianSkewMicros = result.clockSkewHistogram().percentile(50, SampleHistogram.Unit.MICROS);
          String run = String.join(" ", args) + ": RTT min " + minRttMicros + " us, median " + medianRttMicros
              + " us, skew median " + medianSkewMicros + " us";
          assertTrue(minRttMicros >= appliedMicros, run);
          assertTrue(Math.abs(medianSkewMicros) < medianRttMicros - appliedMicros, run);
        }
      } finally {
        quietlyClamping.shutdownNow();
        timer.shutdownNow();
      }
    }

    @Test
    void clockSkewOnOneMachineIsSmallComparedWithTheRoundTrip() {
      // one clock on both ends: the skew estimate is only measurement noise, well under a round trip
      PingResult result = PingClient.run("-n", "300", servers.plaintext().target());
      double medianSkewMicros = result.clockSkewHistogram().percentile(50, SampleHistogram.Unit.MICROS);
      double medianRttMicros = result.rttHistogram().percentile(50, SampleHistogram.Unit.MICROS);
      assertTrue(Math.abs(medianSkewMicros) < medianRttMicros,
          "median skew " + medianSkewMicros + " us vs median RTT " + medianRttMicros + " us");
    }

    @Test
    void theBuilderPingsAsSet() {
      double averageRttSeconds = PingClient.to(servers.plaintext().target()).iterations(3).payload("x")
          .delay(Duration.ofMillis(5)).ping().averageRttSeconds();
      assertTrue(PingClient.to(servers.plaintext().target()).iterations(3).overStream().ping().overStream());
      assertTrue(averageRttSeconds >= 0.005, "every sample includes the 5 ms delay: " + averageRttSeconds);
    }

    @Test
    void payloadSizeSendsExactlyThatManyAsciiBytes() {
      PingResult result = PingClient.run("--payload-size", "100000", servers.plaintext().target());
      assertEquals(100000, result.payloadBytes());
    }

    @Test
    void pingsOverTlsMutualTlsAndAUnixSocket() throws Exception {
      PingResult result = PingClient.run("-n", "2", "--cacert", servers.certs().caCert().toString(),
          "--cert", servers.certs().clientCert().toString(), "--key", servers.certs().clientKey().toString(),
          "--authority", "localhost", servers.mtls().target());
      assertEquals(6, result.rttHistogram().count());
      Path socket = Files.createTempDirectory("pingkit").resolve("ping.sock");
      try (RunningServer unix = PingServer.start(socket.toString())) {
        assertEquals(3, PingClient.run("unix://" + socket).rttHistogram().count());
        assertEquals(Map.of(ServingStatus.SERVING, 2L),
            HealthCheck.run("-n", "2", "--unix-socket", socket.toString(), "localhost:8079").statusCounts());
      }
    }

    /** Fortio's single-dash spellings, as its users type them, for ping-client and health-check. */
    @Test
    void fortiosSingleDashFlagsWorkAsTheirLongForms() throws Exception {
      TestSupport.Certs certs = servers.certs();
      PingResult result = PingClient.run("-payload", "abc", "-grpc-ping-delay", "5ms", "-cacert",
          certs.caCert().toString(), "-cert", certs.clientCert().toString(), "-key", certs.clientKey().toString(),
          "--authority", "localhost", servers.mtls().target());
      assertEquals(3, result.payloadBytes());
      assertTrue(result.rttHistogram().min(SampleHistogram.Unit.MICROS) >= 5000, "the 5 ms delay is in each RTT");
      assertEquals(100, PingClient.run("-payload-size", "100", servers.plaintext().target()).payloadBytes());
      assertEquals(1, PingClient.run("-k", "--authority", "localhost", servers.tls().target()).iterations());
      Path socket = Files.createTempDirectory("pingkit").resolve("ping.sock");
      try (RunningServer unix = PingServer.start("--health-service", "echo", socket.toString())) {
        assertEquals(Map.of(ServingStatus.SERVING, 1L),
            HealthCheck.run("-unix-socket", socket.toString(), "-healthservice", "echo", "localhost:8079")
                .statusCounts());
      }
    }

    @Test
    void connectionsTakeTheNetworkThreadsInTurnAndEachCallEndsOnItsOwn() throws Exception {
      int threads = Runtime.getRuntime().availableProcessors();
      assumeTrue(threads >= 2, "one core, one network thread");
      ConnectionOptions options = Pingkit.parse(new PingClient(), servers.plaintext().target()).connection;
      List<Connection> connections = new ArrayList<>();
      try {
        Map<Integer, Set<String>> callThreads = new ConcurrentHashMap<>();
        List<CompletableFuture<PingMessage>> replies = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
          connections.add(new Dialer(options).connect(0, false));
        }
        for (int call = 0; call < 4; call++) {
          for (int i = 0; i < threads; i++) {
            int connection = i;
            CompletableFuture<PingMessage> reply = new CompletableFuture<>();
            connections.get(i).call(PingServerGrpc.getPingMethod(), PingMessage.getDefaultInstance(),
                Duration.ofSeconds(5), (answer, failure, clock) -> {
                  callThreads.computeIfAbsent(connection, k -> ConcurrentHashMap.newKeySet())
                      .add(Thread.currentThread().getName());
                  if (failure == null) {
                    reply.complete(answer);
                  } else {
                    reply.completeExceptionally(failure);
                  }
                });
            replies.add(reply);
          }
        }
        replies.forEach(CompletableFuture::join);
        callThreads.values().forEach(names -> assertEquals(1, names.size(), "one thread per connection: " + names));
        Set<String> used = new HashSet<>();
        callThreads.values().forEach(used::addAll);
        assertEquals(threads, used.size(), "every network thread has a connection: " + callThreads);
      } finally {
        connections.forEach(Connection::close);
      }
    }

    @Test
    void aServerEndingAUnaryCallWithoutAReplyIsAnInternalError() throws Exception {
      ServerCallHandler<PingMessage, PingMessage> noReply = (call, headers) -> {
        call.request(1);
        return new ServerCall.Listener<>() {
          @Override
          public void onHalfClose() {
            call.sendHeaders(new Metadata());
            call.close(Status.OK, new Metadata());
          }
        };
      };
      Server empty = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
          .addService(ServerServiceDefinition.builder(PingServerGrpc.SERVICE_NAME)
              // declared streaming, or grpc-java's server would not close a unary call without its one reply
              .addMethod(PingServerGrpc.getPingMethod().toBuilder().setType(MethodType.SERVER_STREAMING).build(),
                  noReply).build())
          .build().start();
      ConnectionOptions options = Pingkit.parse(new PingClient(), "127.0.0.1:" + empty.getPort()).connection;
      try (Connection connection = new Dialer(options).connect(0, false)) {
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        connection.call(PingServerGrpc.getPingMethod(), PingMessage.getDefaultInstance(), Duration.ofSeconds(5),
            (answer, error, clock) -> failure.complete(error));
        Status status = Status.fromThrowable(failure.join());
        assertEquals(Status.Code.INTERNAL, status.getCode(), status.toString());
        assertEquals("No value received for unary call", status.getDescription());
      } finally {
        empty.shutdownNow();
      }
    }

    @Test
    void overAStreamEachMessageIsTimedFromItsOwnEchoEvenWhenTheServerSendsItsHeadersFirst() throws Exception {
      // a server that answers the stream's headers at once (as some do) and each message 20 ms later: the
      // headers are no message's answer
      java.util.concurrent.ScheduledExecutorService later = java.util.concurrent.Executors
          .newSingleThreadScheduledExecutor();
      ServerCallHandler<PingMessage, PingMessage> slowEcho = (call, headers) -> {
        call.sendHeaders(new Metadata());
        call.request(1);
        return new ServerCall.Listener<>() {
          @Override
          public void onMessage(PingMessage request) {
            PingMessage reply = request.toBuilder().setTs(WallClock.nanos()).build();
            later.schedule(() -> {
              call.sendMessage(reply);
              call.request(1);
            }, 20, java.util.concurrent.TimeUnit.MILLISECONDS);
          }

          @Override
          public void onHalfClose() {
            later.schedule(() -> call.close(Status.OK, new Metadata()), 40, java.util.concurrent.TimeUnit.MILLISECONDS);
          }
        };
      };
      Server server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
          .addService(ServerServiceDefinition.builder(pingkit.stream.PingStreamGrpc.SERVICE_NAME)
              .addMethod(pingkit.stream.PingStreamGrpc.getEchoMethod(), slowEcho).build())
          .build().start();
      try {
        PingResult result = PingClient.run("--stream", "-n", "3", "127.0.0.1:" + server.getPort());
        assertTrue(result.clientOverhead().wireTimes(), "timed at the socket");
        assertTrue(result.streamOpenNanos() >= 20_000_000, "the opening waited for the echo: "
            + result.streamOpenNanos());
        // the two client-measured samples of each iteration hold the server's 20 ms; the third is the server's
        assertTrue(result.rttHistogram().percentile(50, SampleHistogram.Unit.MICROS) >= 20_000,
            result.format(List.of(0.0, 50.0), false));
      } finally {
        server.shutdownNow();
        later.shutdownNow();
      }
    }

    @Test
    void jsonTakesAFileOnlyWhenTheTargetIsGivenElsewhere() {
      String[][] cases = {
          {"-", "host", "--json", "host"},
          {"-", "host", "--json", "host", "-n", "3"},
          {"-", "host", "--json", "-n", "3", "host"},
          {"-", "host", "--json", "-", "host"},
          {"-", "host", "host", "--json"},
          {"out.json", "host", "--json", "out.json", "host"},
          {"out.json", "host", "--json", "out.json", "--timeout", "1s", "host"},
          {"out.json", "host", "host", "--json", "out.json"},
          {"host", "-n", "--json=host", "-n", "2", "--", "-n"},
      };
      for (String[] c : cases) {
        String[] args = java.util.Arrays.copyOfRange(c, 2, c.length);
        PingClient command = Pingkit.parse(new PingClient(), args);
        assertEquals(c[0], command.report.json, String.join(" ", args));
        assertEquals(c[1], command.connection.target, String.join(" ", args));
      }
    }

    @Test
    void jsonOfAPingRunHasTheDocumentedFields() {
      PingResult result = PingClient.run("-n", "4", "--payload-size", "10", servers.plaintext().target());
      JsonObject json = JsonParser.parseString(ReportOptions.toJson(
          result.toJson(ReportOptions.parsePercentiles("50,99")))).getAsJsonObject();
      assertEquals(servers.plaintext().target(), json.get("target").getAsString());
      assertEquals(4, json.get("iterations").getAsInt());
      assertEquals(10, json.get("payloadBytes").getAsInt());
      assertEquals(12, json.getAsJsonObject("rttMicros").get("count").getAsInt());
      assertEquals(4, json.getAsJsonObject("clockSkewMicros").get("count").getAsInt());
      assertEquals(2, json.getAsJsonObject("rttMicros").getAsJsonArray("percentiles").size());
      assertEquals(result.averageRttSeconds(), json.get("averageRttSeconds").getAsDouble(), 1e-12);
    }

    @Test
    void histogramBucketsCountEachSampleUnderTheFirstBoundAtOrAboveItsHdrHistogramBucket() {
      // the report's buckets: a sample is at or below a bound when the lowest value of its HdrHistogram bucket is
      // (for a negative one, the negated lowest magnitude of its bucket); checked against the raw samples
      java.util.Random random = new java.util.Random(3);
      for (int round = 0; round < 200; round++) {
        SampleHistogram histogram = new SampleHistogram();
        org.HdrHistogram.Histogram resolution = new org.HdrHistogram.Histogram(3);
        List<Long> keys = new ArrayList<>();
        double scale = Math.pow(10, 3 + random.nextInt(6));
        for (int i = 1 + random.nextInt(500); i > 0; i--) {
          long nanos = (long) (Math.exp(random.nextGaussian() * 2) * scale) * (round % 4 == 0 && i % 3 == 0 ? -1 : 1);
          if (i % 17 == 0) {
            nanos = (long) (scale * (1 + random.nextInt(9))); // on a bound
          }
          histogram.record(nanos);
          long magnitudeKey = resolution.lowestEquivalentValue(Math.abs(nanos));
          keys.add(nanos < 0 ? -magnitudeKey : magnitudeKey);
        }
        for (SampleHistogram.Unit unit : SampleHistogram.Unit.values()) {
          long counted = 0;
          var buckets = histogram.buckets(unit);
          for (int i = 0; i < buckets.size(); i++) {
            long endNanos = Math.round(buckets.get(i).end() * unit.nanos);
            long atOrBelow = i == buckets.size() - 1 ? keys.size() : keys.stream().filter(k -> k <= endNanos).count();
            assertEquals(atOrBelow - counted, buckets.get(i).count(), "round " + round + ", bucket " + buckets.get(i));
            counted = atOrBelow;
          }
          assertEquals(keys.size(), counted);
        }
      }
    }

    @Test
    void targetsAreParsedInEveryDocumentedForm() {
      record Case(String text, String host, int port, Boolean tls) {}
      for (Case c : new Case[] {
          new Case("example.com", "example.com", 8079, null),
          new Case("example.com:9000", "example.com", 9000, null),
          new Case("[::1]:9000", "::1", 9000, null),
          new Case("::1", "::1", 8079, null),
          new Case("http://example.com", "example.com", 80, false),
          new Case("https://example.com/", "example.com", 443, true),
          new Case("https://example.com:8443", "example.com", 8443, true)}) {
        Target target = Target.parse(c.text);
        assertEquals(c.host + ":" + c.port + ":" + c.tls, target.host() + ":" + target.port() + ":" + target.tls(),
            c.text);
      }
      assertEquals(Path.of("/tmp/x.sock"), Target.parse("unix:///tmp/x.sock").unixSocket());
      assertEquals(Path.of("/tmp/x.sock"), Target.parse("unix:/tmp/x.sock").unixSocket());
      for (String bad : new String[] {"host:port:x", "[::1", "host:70000", "ftp://host", "host:0"}) {
        Pingkit.UserError e = org.junit.jupiter.api.Assertions.assertThrows(Pingkit.UserError.class,
            () -> Target.parse(bad), bad);
        assertEquals(Pingkit.EXIT_USAGE, e.exitCode);
      }
    }
  }

  /** As a user runs it: its own process, its output, its signals and every documented exit code. */
  @Nested
  class AsAProcess {
    @Test
    void successIsExitZero() {
      TestSupport.expectExit(0, null, "PingClientCommand", "-n", "2", servers.plaintext().target());
    }

    @Test
    void mutualTlsWithAClientCertificateSucceeds() {
      TestSupport.expectExit(0, null, "PingClientCommand", "--cacert", servers.certs().caCert().toString(),
          "--cert", servers.certs().clientCert().toString(), "--key", servers.certs().clientKey().toString(),
          TestSupport.localhost(servers.mtls()));
    }

    @Test
    void deadlineExceededIsAFailedRpc() {
      TestSupport.expectExit(3, "DEADLINE_EXCEEDED", "PingClientCommand", "--delay", "3s", "--timeout", "200ms",
          servers.plaintext().target());
    }

    @Test
    void metadataUserAgentAndAuthorityArriveAtTheServer() {
      try (var server = TestSupport.ScriptProcess.java("PingServerCommand", "-v", "127.0.0.1:0")) {
        int port = server.awaitListeningPort();
        TestSupport.expectExit(0, null, "PingClientCommand", "-H", "x-test: hello", "-H", "user-agent: pk-test/1", "-H",
            "host: example.test", "-H", "authorization: Bearer s3cret", "127.0.0.1:" + port);
        String line = server.awaitStderr(l -> l.contains("x-test=hello"), 10);
        assertTrue(line.contains("user-agent=pk-test/1"), line);
        assertTrue(line.contains("authority=example.test"), line);
        assertTrue(line.contains("authorization=<redacted>") && !line.contains("s3cret"), line);
      }
    }

    /** A -bin key's value is base64, sent as its bytes (the server's -v line shows their count, not them). */
    @Test
    void binaryMetadataIsGivenInBase64AndArrivesAsBytes() {
      try (var server = TestSupport.ScriptProcess.java("PingServerCommand", "-v", "127.0.0.1:0")) {
        int port = server.awaitListeningPort();
        TestSupport.expectExit(0, null, "PingClientCommand", "-H", "x-trace-bin: AAEC/w==", "127.0.0.1:" + port);
        String line = server.awaitStderr(l -> l.contains("x-trace-bin="), 10);
        assertTrue(line.contains("x-trace-bin=<4 bytes>"), line);
      }
      TestSupport.expectExit(1, "-H 'x-trace-bin: not base64!'", "PingClientCommand", "-H", "x-trace-bin: not base64!",
          "127.0.0.1:1");
    }

    /** TLS below 1.2 is refused by the clients: a server that speaks only TLS 1.1 gets no call (exit 2). */
    @Test
    void clientsRefuseTlsBelowOneTwo() throws Exception {
      TestSupport.Certs certs = servers.certs();
      int port;
      try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
        port = free.getLocalPort();
      }
      for (String version : List.of("-tls1_1", "-tls1_2")) {
        try (var tls = TestSupport.ScriptProcess.start(List.of("openssl", "s_server", version, "-cipher",
            "DEFAULT:@SECLEVEL=0", "-cert", certs.serverCert().toString(), "-key", certs.serverKey().toString(),
            "-accept", "127.0.0.1:" + port, "-naccept", "4", "-quiet"), TestSupport.repo())) {
          TestSupport.await(() -> {
            try (java.net.Socket probe = new java.net.Socket("127.0.0.1", port)) {
              return true;
            } catch (java.io.IOException notYet) {
              return false;
            }
          }, 30, "openssl s_server listening");
          for (String client : List.of("PingClientCommand", "HealthCheckCommand")) {
            try (var run = TestSupport.ScriptProcess.java(client, "--cacert", certs.caCert().toString(),
                "--connect-timeout", "10s", "localhost:" + port)) {
              assertEquals(2, run.awaitExit(60), client + " " + version + ": " + run.stderr);
              String line = run.singleStderrLine();
              // TLS 1.2 gets past the handshake, and finds no gRPC there; TLS 1.1 never gets that far
              assertEquals(version.equals("-tls1_2"), line.contains("not a gRPC"), client + " " + version + ": "
                  + line);
            }
          }
        }
      }
    }

    @Test
    void jsonFileIsWrittenBesideTheTextAndAnUnwritableOneIsRefusedBeforeAnyCall() throws Exception {
      java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("pingkit-json");
      java.nio.file.Path file = dir.resolve("ping.json");
      try (var client = TestSupport.ScriptProcess.java("PingClientCommand", "-n", "2", "--json", file.toString(),
          servers.plaintext().target())) {
        assertEquals(0, client.awaitExit(60), client.stderr.toString());
        assertTrue(client.stdout.stream().anyMatch(l -> l.startsWith("Average RTT ")), client.stdout.toString());
      }
      var json = JsonParser.parseString(java.nio.file.Files.readString(file)).getAsJsonObject();
      assertEquals(2, json.get("iterations").getAsInt());
      TestSupport.expectExit(1, "--json: cannot write " + dir.resolve("no/such/dir/x.json"), "PingClientCommand", "--json",
          dir.resolve("no/such/dir/x.json").toString(), servers.plaintext().target());
    }

    @Test
    void continuousModeStopsOnASignalAndPrintsItsHistograms() {
      try (var client = TestSupport.ScriptProcess.java("PingClientCommand", "-n", "0", "--interval", "10ms",
          servers.plaintext().target())) {
        client.awaitStdout(line -> line.startsWith("seq 3:"), 60);
        client.signal("TERM"); // what Ctrl-C does too (INT is ignored in background jobs)
        assertEquals(0, client.awaitExit(30));
        assertTrue(client.stdout.stream().anyMatch(l -> l.startsWith("RTT histogram usec : count")),
            client.stdout + " " + client.stderr);
        assertTrue(client.stdout.stream().anyMatch(l -> l.startsWith("Average RTT")), client.stdout.toString());
      }
    }

    @Test
    void continuousModeOverAStreamStopsOnASignalAndPrintsItsHistograms() {
      try (var client = TestSupport.ScriptProcess.java("PingClientCommand", "--stream", "-n", "0", "--interval", "10ms",
          servers.plaintext().target())) {
        client.awaitStdout(line -> line.startsWith("seq 3:"), 60);
        client.signal("TERM");
        assertEquals(0, client.awaitExit(30));
        assertTrue(client.stdout.stream().anyMatch(l -> l.startsWith("Stream opened in ")), client.stdout.toString());
        assertTrue(client.stdout.stream().anyMatch(l -> l.startsWith("Average RTT")), client.stdout.toString());
      }
    }

    @Test
    void aStreamBrokenByTheServerMidRunReportsWhatItMeasuredAndExitsThree() throws Exception {
      // the 10th message of the stream is refused: the warm-up and four iterations were answered
      io.grpc.Server breaker = TestSupport.streamServer(9, true);
      try (var client = TestSupport.ScriptProcess.java("PingClientCommand", "--stream", "-n", "20",
          "127.0.0.1:" + breaker.getPort())) {
        assertEquals(3, client.awaitExit(60), client.stderr.toString());
        assertTrue(client.stdout.stream().anyMatch(l -> l.startsWith("Average RTT") && l.contains("(4 iterations)")),
            client.stdout.toString());
        assertTrue(client.singleStderrLine().contains("ABORTED"), client.stderr.toString());
      } finally {
        breaker.shutdownNow();
      }
    }

    @Test
    void plaintextSchemeWithTlsFlagsIsRefused() {
      TestSupport.expectExit(1, "asks for plaintext", "PingClientCommand", "--cacert", servers.certs().caCert().toString(),
          "http://localhost:1");
    }

    @Test
    void verboseShowsTheTransportPhasesOfTheFirstConnection() {
      for (String mainClass : List.of("PingClientCommand", "HealthCheckCommand")) {
        try (var client = TestSupport.ScriptProcess.java(mainClass, "-v", "--cacert",
            servers.certs().caCert().toString(), TestSupport.localhost(servers.tls()))) {
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
}
