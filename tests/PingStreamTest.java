import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import pingkit.WallClock;
import pingkit.server.PingServer;
import pingkit.server.PingStreamService;
import pingkit.server.RunningServer;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import pingkit.fgrpc.PingMessage;
import pingkit.stream.PingStreamGrpc;

/** ping-server's streaming ping, /pingkit.PingStream/Echo, over real loopback sockets with real gRPC clients. */
class PingStreamTest {
  private static RunningServer server;
  private static ManagedChannel channel;

  @BeforeAll
  static void startServer() {
    server = PingServer.start("--max-delay", "5s", "--warmup", "0s", "127.0.0.1:0");
    channel = TestSupport.plaintext(server.target());
  }

  @AfterAll
  static void stopServer() {
    TestSupport.close(channel);
    server.stopNow();
  }

  /** One Echo stream seen from the client: the replies as they come, and how the stream ended. */
  static final class Stream implements ClientResponseObserver<PingMessage, PingMessage> {
    final LinkedBlockingQueue<PingMessage> replies = new LinkedBlockingQueue<>();
    final CompletableFuture<Status> ended = new CompletableFuture<>();
    private final boolean reads;
    ClientCallStreamObserver<PingMessage> requests;

    private Stream(boolean reads) {
      this.reads = reads;
    }

    /** Opens a stream on {@code channel}; one that does not read asks for no reply until {@link #read}. */
    static Stream open(ManagedChannel channel, boolean reads) {
      Stream stream = new Stream(reads);
      PingStreamGrpc.newStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS).echo(stream);
      return stream;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<PingMessage> requests) {
      this.requests = requests;
      if (!reads) {
        requests.disableAutoRequestWithInitial(0);
      }
    }

    void send(long seq, String payload, long delayMillis) {
      requests.onNext(TestSupport.message(seq, payload, TimeUnit.MILLISECONDS.toNanos(delayMillis)));
    }

    void read(int replies) {
      requests.request(replies);
    }

    PingMessage take() throws InterruptedException {
      PingMessage reply = replies.poll(30, TimeUnit.SECONDS);
      assertTrue(reply != null, "a reply within 30 s; the stream ended: " + ended.getNow(null));
      return reply;
    }

    @Override
    public void onNext(PingMessage reply) {
      replies.add(reply);
    }

    @Override
    public void onError(Throwable t) {
      ended.complete(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
      ended.complete(Status.OK);
    }
  }

  @Test
  void echoesEachMessageInOrderWithItsReceiveTimeAndEndsWhenTheClientDoes() throws Exception {
    Stream stream = Stream.open(channel, true);
    long before = WallClock.nanos();
    long[] delaysMillis = {300, 0, 100, 0, 200}; // later replies due sooner still come after earlier ones
    for (int i = 0; i < delaysMillis.length; i++) {
      stream.send(i + 1, "message " + (i + 1), delaysMillis[i]);
    }
    stream.requests.onCompleted();
    for (int i = 0; i < delaysMillis.length; i++) {
      PingMessage reply = stream.take();
      assertEquals(i + 1, reply.getSeq());
      assertEquals("message " + (i + 1), reply.getPayload());
      assertEquals(TimeUnit.MILLISECONDS.toNanos(delaysMillis[i]), reply.getDelayNanos());
      assertTrue(reply.getTs() >= before && reply.getTs() <= WallClock.nanos(), "ts at receipt: " + reply);
    }
    assertEquals(Status.OK, stream.ended.get(10, TimeUnit.SECONDS));
  }

  @Test
  void delayedMessagesOverlap() throws Exception {
    // each waits 2 s at the server: every receive stamp preceding the first answer proves they wait together
    Stream stream = Stream.open(channel, true);
    int count = 100;
    for (int i = 0; i < count; i++) {
      stream.send(i, "", 2_000);
    }
    stream.requests.onCompleted();
    PingMessage first = stream.take();
    long firstAnswerNanos = WallClock.nanos();
    List<PingMessage> replies = new ArrayList<>(List.of(first));
    for (int i = 1; i < count; i++) {
      replies.add(stream.take());
    }
    assertEquals(Status.OK, stream.ended.get(10, TimeUnit.SECONDS));
    assertTrue(replies.stream().allMatch(reply -> reply.getTs() < firstAnswerNanos),
        "the server received a message after it had answered one: delayed messages did not overlap");
  }

  @Test
  void aClientThatStopsReadingIsNoLongerReadFromAndGetsEveryReplyWhenItReadsAgain() throws Exception {
    try (RunningServer budgeted = PingServer.start("--max-inflight-bytes", "8MiB", "--warmup", "0s",
        "127.0.0.1:0")) {
      // 64 KiB of window, and no reply asked for: the server's replies stop once the window is used up
      ManagedChannel slowReader = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
          .forTarget(budgeted.target()).usePlaintext().flowControlWindow(65_535).build();
      ManagedChannel other = TestSupport.plaintext(budgeted.target());
      try {
        Stream stream = Stream.open(slowReader, false);
        String payload = "x".repeat(64 << 10);
        int count = 400; // 25 MiB: three times the budget, were the server to read it all
        for (int i = 0; i < count; i++) {
          stream.send(i, payload, 0);
        }
        stream.requests.onCompleted();
        // meanwhile, another stream on another connection is served, message after message
        Stream served = Stream.open(other, true);
        for (int i = 0; i < 200; i++) {
          served.send(i, "other", 0);
          assertEquals(i, served.take().getSeq());
        }
        served.requests.onCompleted();
        assertEquals(Status.OK, served.ended.get(10, TimeUnit.SECONDS));
        assertTrue(budgeted.inFlightBytes() <= 16 * 2 * (64 << 10) + (1 << 20), "the server stopped reading the"
            + " stream it cannot answer; it holds " + budgeted.inFlightBytes() + " bytes");
        assertTrue(!stream.ended.isDone(), "the slow stream goes on: " + stream.ended.getNow(null));

        // it reads again: every reply comes, in order, and the stream ends well
        stream.read(count);
        for (int i = 0; i < count; i++) {
          assertEquals(i, stream.take().getSeq());
        }
        assertEquals(Status.OK, stream.ended.get(30, TimeUnit.SECONDS));
      } finally {
        TestSupport.close(slowReader);
        TestSupport.close(other);
      }
    }
  }

  @Test
  void aStreamHoldsNothingOnceItsRepliesAreSentCompressedOrNot() throws Exception {
    for (String compression : List.of("identity", "gzip")) {
      Stream stream = new Stream(true);
      PingStreamGrpc.newStub(channel).withCompression(compression).withDeadlineAfter(60, TimeUnit.SECONDS)
          .echo(stream);
      for (int i = 0; i < 100; i++) {
        stream.send(i, "x".repeat(i * 10), 0); // gzip makes the small ones bigger on the wire than whole
        assertEquals(i, stream.take().getSeq());
      }
      // the stream is still open: what its messages held was given back as their replies went
      TestSupport.await(() -> server.inFlightBytes() == 0, 10, compression + ": nothing held by an idle stream");
      stream.requests.onCompleted();
      assertEquals(Status.OK, stream.ended.get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void aDrainSendsEveryReplyDueThenEndsOpenStreamsWithUnavailable() throws Exception {
    RunningServer draining = PingServer.start("--warmup", "0s", "127.0.0.1:0");
    ManagedChannel drainingChannel = TestSupport.plaintext(draining.target());
    try {
      Stream stream = Stream.open(drainingChannel, true);
      stream.send(1, "now", 0);
      assertEquals(1, stream.take().getSeq()); // the stream is open at the server
      stream.send(2, "later", 5_000);
      stream.send(3, "later", 5_000);
      long twoHeld = 2 * 2 * TestSupport.message(2, "later", TimeUnit.SECONDS.toNanos(5)).getSerializedSize();
      TestSupport.await(() -> draining.inFlightBytes() == twoHeld, 10, "two delayed messages held");
      CompletableFuture<Integer> cut = new CompletableFuture<>();
      new Thread(() -> cut.complete(draining.drain(java.time.Duration.ofSeconds(20))), "drain").start();
      TestSupport.await(() -> draining.drain.draining(), 10, "the drain begun");
      // it began while both messages waited out their delay: their replies are the drain's to send
      assertTrue(stream.replies.isEmpty() && draining.inFlightBytes() == twoHeld, "replied before the drain");
      assertEquals(2, stream.take().getSeq());
      assertEquals(3, stream.take().getSeq());
      Status status = stream.ended.get(20, TimeUnit.SECONDS);
      assertEquals(Status.Code.UNAVAILABLE, status.getCode(), status.toString());
      assertEquals(PingStreamService.DRAINED, status.getDescription());
      assertEquals(0, cut.get(20, TimeUnit.SECONDS), "calls cut by the drain");
    } finally {
      TestSupport.close(drainingChannel);
      draining.stopNow();
    }
  }

  @Test
  void aStreamWhoseMessagesGoBeyondTheBudgetEndsWithResourceExhausted() throws Exception {
    try (RunningServer budgeted = PingServer.start("--max-inflight-bytes", "8MiB", "--max-delay", "60s",
        "--warmup", "0s", "127.0.0.1:0")) {
      ManagedChannel budgetedChannel = TestSupport.plaintext(budgeted.target());
      try {
        Stream stream = Stream.open(budgetedChannel, true);
        String payload = "x".repeat(1 << 20);
        for (int i = 0; i < 8; i++) { // each held with its echo for 30 s: the fourth is beyond 7 MiB
          stream.send(i, payload, 30_000);
        }
        Status status = stream.ended.get(30, TimeUnit.SECONDS);
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getCode(), status.toString());
        assertTrue(status.getDescription().contains("--max-inflight-bytes 8MiB"), status.toString());
        assertTrue(stream.replies.isEmpty(), "no reply after the refusal");
        TestSupport.await(() -> budgeted.inFlightBytes() == 0, 10, "the refused stream's bytes given back");
      } finally {
        TestSupport.close(budgetedChannel);
      }
    }
  }

  private static final String PYTHON_CLIENT = """
      import sys, grpc, ping_pb2, ping_stream_pb2_grpc
      stub = ping_stream_pb2_grpc.PingStreamStub(grpc.insecure_channel(sys.argv[1]))
      delays = [300, 0, 100, 0, 200]
      requests = (ping_pb2.PingMessage(seq=i + 1, payload="python %d" % (i + 1), delayNanos=d * 1_000_000)
                  for i, d in enumerate(delays))
      for reply in stub.Echo(requests, timeout=30):
          print(reply.seq, reply.payload, reply.delayNanos, reply.ts > 0)
      """;

  @Test
  void anIndependentImplementationStreamsToIt() throws Exception {
    java.nio.file.Path dir = TestSupport.pythonGrpc();
    java.nio.file.Files.writeString(dir.resolve("stream.py"), PYTHON_CLIENT);
    String output = TestSupport.run(dir, TestSupport.PYTHON, "stream.py", server.target());
    assertEquals(List.of("1 python 1 300000000 True", "2 python 2 0 True", "3 python 3 100000000 True",
        "4 python 4 0 True", "5 python 5 200000000 True"), output.strip().lines()
        .filter(line -> line.matches("\\d+ .*")).collect(Collectors.toList()), output);
  }

  @Test
  void reflectionDescribesTheStreamingService() throws Exception {
    var responses = new LinkedBlockingQueue<io.grpc.reflection.v1.ServerReflectionResponse>();
    var done = new CompletableFuture<Void>();
    var call = io.grpc.reflection.v1.ServerReflectionGrpc.newStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .serverReflectionInfo(TestSupport.collector(responses, done));
    call.onNext(io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("").build());
    call.onNext(io.grpc.reflection.v1.ServerReflectionRequest.newBuilder()
        .setFileContainingSymbol("pingkit.PingStream").build());
    call.onCompleted();
    done.get(10, TimeUnit.SECONDS);
    var services = responses.take().getListServicesResponse().getServiceList().stream()
        .map(io.grpc.reflection.v1.ServiceResponse::getName).collect(Collectors.toSet());
    assertTrue(services.contains("pingkit.PingStream"), services.toString());
    var files = responses.take().getFileDescriptorResponse().getFileDescriptorProtoList().stream()
        .map(bytes -> {
          try {
            return com.google.protobuf.DescriptorProtos.FileDescriptorProto.parseFrom(bytes);
          } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
          }
        }).collect(Collectors.toMap(file -> file.getName(), file -> file));
    var file = files.get("ping_stream.proto");
    assertEquals("pingkit", file.getPackage(), files.keySet().toString());
    assertEquals(List.of("ping.proto"), file.getDependencyList());
    var echo = file.getService(0).getMethod(0);
    assertEquals("PingStream/Echo", file.getService(0).getName() + "/" + echo.getName());
    assertEquals(".fgrpc.PingMessage", echo.getInputType());
    assertEquals(".fgrpc.PingMessage", echo.getOutputType());
    assertTrue(echo.getClientStreaming() && echo.getServerStreaming(), echo.toString());
    assertTrue(files.containsKey("ping.proto"), "its import comes along: " + files.keySet());
  }
}
