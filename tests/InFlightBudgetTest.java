import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import pingkit.server.MemoryReturn;
import pingkit.server.PingServer;
import pingkit.server.RunningServer;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;

/** ping-server's in-flight byte budget: what a client can make the server hold is bounded, and the rest served. */
class InFlightBudgetTest {
  private static final int MIB = 1 << 20;

  /** Starts a ping of {@code payloadBytes} asking for {@code delayMillis}; the future ends with its status. */
  private static CompletableFuture<Status> ping(ManagedChannel channel, int payloadBytes, long delayMillis) {
    return ping(channel, payloadBytes, delayMillis, "identity");
  }

  /** The same, its request compressed with {@code compression} ("identity": not compressed). */
  private static CompletableFuture<Status> ping(ManagedChannel channel, int payloadBytes, long delayMillis,
      String compression) {
    CompletableFuture<Status> ended = new CompletableFuture<>();
    PingMessage request = PingMessage.newBuilder().setPayload("x".repeat(payloadBytes))
        .setDelayNanos(TimeUnit.MILLISECONDS.toNanos(delayMillis)).build();
    PingServerGrpc.newStub(channel).withCompression(compression).withDeadlineAfter(60, TimeUnit.SECONDS)
        .ping(request, new StreamObserver<>() {
          private int replies;

          @Override
          public void onNext(PingMessage reply) {
            replies++;
          }

          @Override
          public void onError(Throwable t) {
            ended.complete(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            ended.complete(replies == 1 ? Status.OK : Status.INTERNAL.withDescription(replies + " replies"));
          }
        });
    return ended;
  }

  @Test
  void bigDelayedPingsBeyondTheBudgetAreRefusedAtOnceWhileSmallCallsAreStillAnswered() throws Exception {
    // 8 MiB, of which 7 MiB for big calls. A ping holds its request (the payload and 10 bytes of fields) and its
    // echo as much again: three of this size hold 4 bytes less than 7 MiB, so that what comes after them can only
    // be answered from the part kept for small calls
    int payloadBytes = 1_223_328;
    long heldByThree = 3 * 2 * (payloadBytes + 10L);
    try (RunningServer server = PingServer.start("--max-inflight-bytes", "8MiB", "--max-delay", "60s",
        "--warmup", "0s", "127.0.0.1:0")) {
      ManagedChannel channel = TestSupport.plaintext(server.target());
      try {
        List<CompletableFuture<Status>> accepted = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          accepted.add(ping(channel, payloadBytes, 12_000));
        }
        TestSupport.await(() -> server.inFlightBytes() == heldByThree, 30, "3 big pings held");

        List<CompletableFuture<Status>> beyond = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
          beyond.add(ping(channel, payloadBytes, 12_000));
        }
        for (CompletableFuture<Status> call : beyond) {
          // at once: long before the accepted pings' delay is over
          Status status = call.get(11, TimeUnit.SECONDS);
          assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getCode(), status.toString());
          assertTrue(status.getDescription().contains("--max-inflight-bytes 8MiB"), status.toString());
        }
        assertEquals(7, server.refusedForBytes());
        // what the refused ones had read is given back: only the three accepted ones are held
        TestSupport.await(() -> server.inFlightBytes() == heldByThree, 10, "the refused pings' bytes given back");

        // no room is left for big calls: a small ping and a health check are answered all the same
        assertEquals(Status.OK, ping(channel, 100, 0).get(10, TimeUnit.SECONDS));
        assertEquals(ServingStatus.SERVING, TestSupport.health(channel, "ping"));
        assertFalse(accepted.stream().anyMatch(CompletableFuture::isDone), "the accepted pings are still delayed");

        // every accepted ping is answered, exactly once
        for (CompletableFuture<Status> call : accepted) {
          assertEquals(Status.OK, call.get(60, TimeUnit.SECONDS));
        }
      } finally {
        TestSupport.close(channel);
      }
      TestSupport.await(() -> server.inFlightBytes() == 0, 10, "nothing held once every call has ended");
    }
  }

  /** Refused calls are counted on stderr, a line at most once a second, each call in exactly one line. */
  @Test
  void refusalsAreCountedOnStderrAtMostOnceASecond() throws Exception {
    int payloadBytes = 1_223_328; // as above: three pings and their echoes fill the 7 MiB for big calls
    try (var server = TestSupport.ScriptProcess.java("PingServerCommand", "-v", "--max-inflight-bytes", "8MiB",
        "--max-delay", "60s", "--warmup", "0s", "127.0.0.1:0")) {
      ManagedChannel channel = TestSupport.plaintext("127.0.0.1:" + server.awaitListeningPort());
      java.util.regex.Pattern counted =
          java.util.regex.Pattern.compile("refused (\\d+) call\\(s\\) in the last second");
      java.util.function.ToIntFunction<List<String>> refusalsSaid = lines -> lines.stream().map(counted::matcher)
          .filter(java.util.regex.Matcher::find).mapToInt(m -> Integer.parseInt(m.group(1))).sum();
      try {
        // three pings held 30 s fill the budget for big calls, one after the other (-v logs each one whole); a
        // delay of 30 s is as many bytes as the 12 s above (a minute's would be a byte more)
        for (int i = 1; i <= 3; i++) {
          ping(channel, payloadBytes, 30_000);
          int held = i;
          TestSupport.await(() -> server.stderr.stream().filter(line -> line.contains("delay=30s")).count() == held,
              30, held + " big pings held: " + server.stderr);
        }
        List<CompletableFuture<Status>> refused = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
          refused.add(ping(channel, payloadBytes, 30_000));
        }
        for (CompletableFuture<Status> call : refused) {
          assertEquals(Status.Code.RESOURCE_EXHAUSTED, call.get(30, TimeUnit.SECONDS).getCode());
        }
        server.awaitStderr(line -> line.contains("refused 7 call(s) in the last second"), 30);
        // ten more, a quarter of a second apart: some lines, each for a second's refusals at least
        long startNanos = System.nanoTime();
        for (int i = 0; i < 10; i++) {
          assertEquals(Status.Code.RESOURCE_EXHAUSTED, ping(channel, payloadBytes, 30_000).get(30, TimeUnit.SECONDS)
              .getCode());
          java.util.concurrent.locks.LockSupport.parkNanos(250_000_000);
        }
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        TestSupport.await(() -> refusalsSaid.applyAsInt(server.stderr) == 17, 30, "every refusal counted");
        long lines = server.stderr.stream().filter(line -> counted.matcher(line).find()).count();
        assertTrue(lines >= 2 && lines <= Math.ceil(seconds) + 2, lines + " lines for 17 refusals over " + seconds
            + " s: " + server.stderr);
      } finally {
        TestSupport.close(channel);
      }
    }
  }

  @Test
  void aClientThatNeverReadsItsRepliesCannotPushTheServerOverItsBudget() throws Exception {
    int payloadBytes = 1_223_328; // as above: three pings and their echoes fill the 7 MiB for big calls
    long heldByThree = 3 * 2 * (payloadBytes + 4L); // no delay: the payload and 4 bytes of fields
    try (RunningServer server = PingServer.start("--max-inflight-bytes", "8MiB", "--warmup", "0s", "127.0.0.1:0")) {
      // a gRPC client that grants 64 KiB of window and never asks for a message: the server's echoes (no delay)
      // go out until the window is used up, and the rest waits in the server
      ManagedChannel nonReader = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forTarget(server.target())
          .usePlaintext().flowControlWindow(65_535).build();
      ManagedChannel other = TestSupport.plaintext(server.target());
      List<io.grpc.ClientCall<PingMessage, PingMessage>> calls = new ArrayList<>();
      List<CompletableFuture<Status>> ends = new ArrayList<>();
      try {
        PingMessage big = PingMessage.newBuilder().setPayload("x".repeat(payloadBytes)).build();
        for (int i = 0; i < 10; i++) {
          var call = nonReader.newCall(PingServerGrpc.getPingMethod(), io.grpc.CallOptions.DEFAULT);
          CompletableFuture<Status> ended = new CompletableFuture<>();
          call.start(new io.grpc.ClientCall.Listener<>() {
            @Override
            public void onClose(Status status, io.grpc.Metadata trailers) {
              ended.complete(status);
            }
          }, new io.grpc.Metadata());
          call.sendMessage(big);
          call.halfClose(); // and no call.request(): its reply is never read
          calls.add(call);
          ends.add(ended);
          if (i == 2) {
            TestSupport.await(() -> server.inFlightBytes() == heldByThree, 30, "3 big pings held, their echoes unread");
          }
        }
        for (CompletableFuture<Status> ended : ends.subList(3, 10)) {
          Status status = ended.get(30, TimeUnit.SECONDS);
          assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getCode(), status.toString());
        }
        assertEquals(heldByThree, server.inFlightBytes(), "the server holds the three unread echoes, no more");
        assertFalse(ends.subList(0, 3).stream().anyMatch(CompletableFuture::isDone), "unread echoes, calls open");

        // meanwhile another client is served: small calls answered, big ones refused while the budget is full
        assertEquals(Status.OK, ping(other, 100, 0).get(10, TimeUnit.SECONDS));
        assertEquals(ServingStatus.SERVING, TestSupport.health(other, "ping"));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, ping(other, payloadBytes, 0).get(30, TimeUnit.SECONDS).getCode());

        // the non-reader gives up: what its calls held is given back
        calls.forEach(call -> call.cancel("the test gives up", null));
        TestSupport.await(() -> server.inFlightBytes() == 0, 10, "nothing held once the unread calls are cancelled");
      } finally {
        TestSupport.close(nonReader);
        TestSupport.close(other);
      }
    }
  }

  @Test
  void aCompressedPingCountsAsBigAsItIsWhole() throws Exception {
    // 4 MiB of one letter compresses to a few KiB on the wire; in the server it is 4 MiB, and so is its echo
    try (RunningServer server = PingServer.start("--max-inflight-bytes", "4MiB", "--warmup", "0s", "127.0.0.1:0")) {
      ManagedChannel channel = TestSupport.plaintext(server.target());
      try {
        // 3 MiB of one letter and a second's delay, compressed
        CompletableFuture<Status> ended = ping(channel, 3 * MIB, 1_000, "gzip");
        Status status = ended.get(30, TimeUnit.SECONDS);
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getCode(), status.toString());
      } finally {
        TestSupport.close(channel);
      }
      TestSupport.await(() -> server.inFlightBytes() == 0, 10, "nothing held once the call has ended");
    }
  }

  private static final String BURST = """
      import sys, json, grpc, ping_pb2, ping_pb2_grpc, health_pb2, health_pb2_grpc
      target, calls, payload_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
      options = [("grpc.max_receive_message_length", 8 << 20), ("grpc.max_send_message_length", 8 << 20),
                 ("grpc.use_local_subchannel_pool", 1)]
      stubs = [ping_pb2_grpc.PingServerStub(grpc.insecure_channel(target, options=options)) for _ in range(20)]
      big = ping_pb2.PingMessage(payload="x" * payload_bytes, delayNanos=5_000_000_000)
      pending = [stubs[i % 20].Ping.future(big, timeout=120) for i in range(calls)]
      # meanwhile, on a connection of their own: a small ping and a health check
      own = grpc.insecure_channel(target, options=options)
      small = ping_pb2_grpc.PingServerStub(own).Ping(ping_pb2.PingMessage(payload="small"), timeout=60).payload
      health = health_pb2_grpc.HealthStub(own).Check(health_pb2.HealthCheckRequest(service="ping"), timeout=60)
      codes, refusal = {}, ""
      for call in pending:
          try:
              reply = call.result()
              code = "OK" if reply.payload == big.payload else "WRONG_ECHO"
          except grpc.RpcError as e:
              code = e.code().name
              refusal = refusal or e.details()
          codes[code] = codes.get(code, 0) + 1
      print(json.dumps({"codes": codes, "refusal": refusal, "small": small, "health": health.status}))
      """;

  /** Pings of 60,000 bytes, one after the other: argv[2] of them. */
  private static final String SMALL_PINGS = """
      import sys, grpc, ping_pb2, ping_pb2_grpc
      stub = ping_pb2_grpc.PingServerStub(grpc.insecure_channel(sys.argv[1]))
      for _ in range(int(sys.argv[2])):
          stub.Ping(ping_pb2.PingMessage(payload="x" * 60000), timeout=60)
      """;

  /** The resident memory of {@code process} and of the processes it started, in bytes (Linux). */
  private static long residentBytes(ProcessHandle process) {
    return status(process, "VmRSS:");
  }

  /**
   * A figure of /proc/PID/status ({@code field}: "VmRSS:" now, "VmHWM:" the kernel's own peak) of {@code process}
   * and of the processes it started, in bytes.
   */
  private static long status(ProcessHandle process, String field) {
    return java.util.stream.Stream.concat(java.util.stream.Stream.of(process), process.descendants())
        .mapToLong(handle -> {
          try {
            return java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc", "" + handle.pid(), "status"))
                .stream().filter(line -> line.startsWith(field))
                .mapToLong(line -> Long.parseLong(line.replaceAll("\\D+", "")) * 1024).sum();
          } catch (java.io.IOException e) {
            return 0; // gone
          }
        }).sum();
  }

  /** ping-server as a user runs it: the script, its default settings and JVM options. */
  private static List<String> serverCommand() {
    return List.of(TestSupport.repo().resolve("jbang").toString(), "ping-server.java", "127.0.0.1:0");
  }

  /**
   * Sends {@code calls} concurrent delayed pings of the largest size --max-message-size (4 MiB) lets in, with a
   * small ping and a health check meanwhile, from Python; checks that each was answered or refused by the
   * budget {@code budget} (e.g. "128MiB"), exactly once, and that the small calls were answered.
   */
  private static void burst(int port, int calls, String budget) throws Exception {
    java.nio.file.Path dir = TestSupport.pythonGrpc();
    java.nio.file.Files.writeString(dir.resolve("burst.py"), BURST);
    // its payload and 11 bytes of fields (a 5 s delay)
    String result = TestSupport.run(dir, TestSupport.PYTHON, "burst.py", "127.0.0.1:" + port, "" + calls,
        "" + ((4 << 20) - 11));
    String lastLine = result.strip().lines().reduce((first, second) -> second).orElse("");
    var json = com.google.gson.JsonParser.parseString(lastLine).getAsJsonObject();
    var codes = json.getAsJsonObject("codes");
    assertEquals(calls, codes.entrySet().stream().mapToInt(code -> code.getValue().getAsInt()).sum(), result);
    assertTrue(codes.has("OK") && codes.has("RESOURCE_EXHAUSTED") && codes.size() == 2, result);
    assertTrue(json.get("refusal").getAsString().contains("--max-inflight-bytes " + budget), result);
    assertEquals("small", json.get("small").getAsString(), result);
    assertEquals(1, json.get("health").getAsInt(), "SERVING: " + result);
  }

  @Test
  void aThousandConcurrentMaxSizeDelayedPingsLeaveTheServerUpUnder512MiBAndItsMemoryComesBack() throws Exception {
    try (var server = TestSupport.ScriptProcess.start(serverCommand(), TestSupport.repo())) {
      int port = server.awaitListeningPort();
      server.awaitStderr(line -> line.contains("warmed up"), 60);
      ProcessHandle process = server.process.toHandle();
      // idle as a server is once it has served: small calls have used its whole young generation
      TestSupport.run(TestSupport.pythonGrpc(), TestSupport.PYTHON, "-c", SMALL_PINGS, "127.0.0.1:" + port, "1000");
      long idleBytes = residentBytes(process);
      burst(port, 1000, "128MiB");
      assertTrue(server.process.isAlive(), "the server is up");
      long peakBytes = status(process, "VmHWM:"); // the kernel's own peak: no sample can miss it
      assertTrue(peakBytes < 512L * MIB, "resident memory peaked at " + peakBytes / MIB + " MiB");

      // within a minute of the burst, the server is back near its idle size
      long boundBytes = idleBytes + 64L * MIB;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (residentBytes(process) > boundBytes && System.nanoTime() < deadline) {
        java.util.concurrent.locks.LockSupport.parkNanos(100_000_000);
      }
      assertTrue(residentBytes(process) <= boundBytes, "resident " + residentBytes(process) / MIB + " MiB a minute"
          + " after the burst; idle it was " + idleBytes / MIB + " MiB");
    }
  }

  /**
   * After a burst the server gives its memory back with a full collection, a pause of tens of milliseconds: it
   * waits until no call has come for seconds, so that small pings every 10 ms through and after a burst never
   * meet it. The give-back comes once they stop.
   */
  @Test
  void memoryGoesBackOnlyOnceTheServerIsQuietNeverBetweenPingsAfterABurst() throws Exception {
    try (var server = TestSupport.ScriptProcess.start(List.of(TestSupport.repo().resolve("jbang").toString(),
        "ping-server.java", "-v", "--warmup", "0s", "127.0.0.1:0"), TestSupport.repo())) {
      String target = "127.0.0.1:" + server.awaitListeningPort();
      ManagedChannel pings = TestSupport.plaintext(target);
      ManagedChannel bursts = io.grpc.Grpc.newChannelBuilder(target, io.grpc.InsecureChannelCredentials.create())
          .maxInboundMessageSize(8 << 20).build();
      java.util.concurrent.atomic.AtomicBoolean pinging = new java.util.concurrent.atomic.AtomicBoolean(true);
      java.util.concurrent.atomic.AtomicLong answered = new java.util.concurrent.atomic.AtomicLong();
      Thread pinger = new Thread(() -> {
        while (pinging.get()) {
          TestSupport.ping(pings).ping(TestSupport.message(1, "small", 0));
          answered.incrementAndGet();
          java.util.concurrent.locks.LockSupport.parkNanos(10_000_000); // a small ping every 10 ms
        }
      }, "small-pings");
      try {
        pinger.start();
        // 20 delayed pings of 4 MiB at once: well over the 32 MiB in flight that make a burst
        List<CompletableFuture<Status>> burst = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          burst.add(ping(bursts, (4 << 20) - 64, 1000));
        }
        for (CompletableFuture<Status> ended : burst) {
          Status status = ended.get(60, TimeUnit.SECONDS);
          assertTrue(status.isOk() || status.getCode() == Status.Code.RESOURCE_EXHAUSTED, status.toString());
        }
        // three times the quiet the server waits for, pinging all along: it holds on to the memory
        long pingedUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(3L * MemoryReturn.QUIET_SECONDS);
        TestSupport.await(() -> System.nanoTime() >= pingedUntil, 60, "pings after the burst");
        assertTrue(pinger.isAlive() && answered.get() > 0, "the small pings go on");
        assertEquals(List.of(), server.stderr.stream().filter(line -> line.contains("memory given back")).toList(),
            "memory was given back between small pings");
        pinging.set(false);
        pinger.join(10_000);
        server.awaitStderr(line -> line.contains("a burst of big calls is over: memory given back"), 60);
      } finally {
        pinging.set(false);
        TestSupport.close(pings);
        TestSupport.close(bursts);
      }
    }
  }

  @Test
  void inAPodOf512MiBTheDefaultsHoldABurstOfMaxSizePings() throws Exception {
    burstInAPod(512, "64MiB");
  }

  @Test
  void inAPodOf256MiBTheBudgetIsAnEighthOfItAndHoldsABurst() throws Exception {
    burstInAPod(256, "32MiB");
  }

  @Test
  void inAPodOf512MiBABurstFromGrpcJavaIsAnsweredOrRefusedByTheBudget() throws Exception {
    // grpc-java sends faster than Python: its burst once took the server's network buffers past the pod's share
    try (var pod = TestSupport.MemoryCgroup.create(512L * MIB)) {
      try (var server = TestSupport.ScriptProcess.start(pod.wrap(serverCommand()), TestSupport.repo())) {
        int port = server.awaitListeningPort();
        server.awaitStderr(line -> line.contains("warmed up"), 60);
        List<ManagedChannel> channels = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          channels.add(io.grpc.Grpc.newChannelBuilder("127.0.0.1:" + port,
              io.grpc.InsecureChannelCredentials.create()).maxInboundMessageSize(8 << 20).build());
        }
        PingMessage big = PingMessage.newBuilder().setPayload("x".repeat((4 << 20) - 11))
            .setDelayNanos(TimeUnit.SECONDS.toNanos(5)).build();
        java.util.Map<String, Integer> codes = new java.util.TreeMap<>();
        try {
          List<CompletableFuture<Status>> ends = new ArrayList<>();
          for (int i = 0; i < 200; i++) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            PingServerGrpc.newStub(channels.get(i % channels.size())).withDeadlineAfter(120, TimeUnit.SECONDS)
                .ping(big, TestSupport.collector(new java.util.concurrent.LinkedBlockingQueue<>(), done));
            CompletableFuture<Status> ended = done.handle((ok, failure) -> failure == null ? Status.OK
                : Status.fromThrowable(failure));
            ends.add(ended);
          }
          ends.forEach(ended -> codes.merge(ended.join().getCode().name(), 1, Integer::sum));
        } finally {
          channels.forEach(ManagedChannel::shutdownNow);
        }
        assertTrue(codes.containsKey("OK") && codes.containsKey("RESOURCE_EXHAUSTED") && codes.size() == 2,
            codes.toString());
        assertTrue(server.process.isAlive(), "the server is up");
        assertEquals(0, pod.oomKills(), "the kernel's OOM killer killed a process of the pod");
        server.process.destroy();
        server.process.waitFor();
      }
    }
  }

  /**
   * Bytes a connection sends that no call has asked for yet are outside the budget: a stream that sends and never
   * reads stops being read from, and what it sent meanwhile waits in the server. The flow-control window bounds it
   * per connection (ping-server's 64 KiB): 500 connections of such streams, each sending 64 KiB messages as fast
   * as the server lets it, leave a server in a 256 MiB pod up, answering others, and killed by nothing.
   */
  @Test
  void fiveHundredConnectionsOfStreamsThatNeverReadCannotPushAServerInAPodPastItsMemory() throws Exception {
    try (var pod = TestSupport.MemoryCgroup.create(256L * MIB)) {
      try (var server = TestSupport.ScriptProcess.start(pod.wrap(serverCommand()), TestSupport.repo())) {
        String target = "127.0.0.1:" + server.awaitListeningPort();
        PingMessage message = PingMessage.newBuilder().setPayload("x".repeat(64 << 10)).build();
        java.util.concurrent.atomic.AtomicLong lastSentNanos = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong sentBytes = new java.util.concurrent.atomic.AtomicLong();
        java.util.Set<Object> sending = java.util.concurrent.ConcurrentHashMap.newKeySet();
        List<ManagedChannel> channels = new ArrayList<>();
        try {
          for (int i = 0; i < 500; i++) {
            ManagedChannel channel = TestSupport.plaintext(target);
            channels.add(channel);
            var call = channel.newCall(pingkit.stream.PingStreamGrpc.getEchoMethod(), io.grpc.CallOptions.DEFAULT);
            call.start(new io.grpc.ClientCall.Listener<>() {
              @Override
              public void onReady() {
                // sends while the transport takes more (its window granted); never asks for an echo
                while (call.isReady()) {
                  call.sendMessage(message);
                  sentBytes.addAndGet(message.getSerializedSize());
                  lastSentNanos.set(System.nanoTime());
                  sending.add(call);
                }
              }
            }, new io.grpc.Metadata());
          }
          // the flood is over once every stream has sent, and none has been let to send for a second
          TestSupport.await(() -> sending.size() == 500 && System.nanoTime() - lastSentNanos.get() > 1_000_000_000L,
              120, "the streams stop sending");
          ManagedChannel other = TestSupport.plaintext(target);
          try {
            assertEquals(Status.OK, ping(other, 100, 0).get(30, TimeUnit.SECONDS), "another client is answered");
            assertEquals(ServingStatus.SERVING, TestSupport.health(other, "ping"));
          } finally {
            TestSupport.close(other);
          }
        } finally {
          channels.forEach(ManagedChannel::shutdownNow);
        }
        assertTrue(server.process.isAlive(), "the server is up");
        assertEquals(0, pod.oomKills(), "the kernel's OOM killer killed a process of the pod");
        server.process.destroy();
        server.process.waitFor();
      }
    }
  }

  /**
   * In a pod (a memory cgroup), the server sizes its budget and its JVM from the pod's limit: a burst is answered
   * or refused by the budget {@code budget}, never failed for want of heap or network buffers, and the kernel
   * kills nothing.
   */
  private static void burstInAPod(long podMiB, String budget) throws Exception {
    try (var pod = TestSupport.MemoryCgroup.create(podMiB * MIB)) {
      try (var server = TestSupport.ScriptProcess.start(pod.wrap(serverCommand()), TestSupport.repo())) {
        int port = server.awaitListeningPort();
        server.awaitStderr(line -> line.contains("warmed up"), 60);
        burst(port, 300, budget);
        assertTrue(server.process.isAlive(), "the server is up");
        assertEquals(0, pod.oomKills(), "the kernel's OOM killer killed a process of the pod");
        server.process.destroy();
        server.process.waitFor();
      }
    }
  }
}
