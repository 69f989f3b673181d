import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;

/**
 * One ping-server process against hostile and careless peers: after each, it still answers ping and health
 * promptly, its threads and memory stay bounded, and (checked last) it never logged a stack trace.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HostilePeerTest {
  private static final int MAX_STREAMS = 10;
  private static final long MAX_DELAY_NANOS = TimeUnit.SECONDS.toNanos(2);
  private static final int HANDSHAKE_TIMEOUT_SECONDS = 3;
  /** The server's threads: its network threads (twice the cores) and the JVM's own; never one per connection. */
  private static final int MAX_THREADS = 2 * Runtime.getRuntime().availableProcessors() + 40;
  private static final long MAX_RSS_KILOBYTES = 400 * 1024;
  /**
   * How long a healthy server may take to answer, or to close a connection past its handshake timeout, on a
   * loaded machine: a limit against a hang, not a speed.
   */
  private static final int ANSWER_SECONDS = 30;
  /** The client's HTTP/2 connection preface (RFC 9113, 3.4), before its first SETTINGS frame. */
  private static final byte[] HTTP2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final int FRAME_SETTINGS = 4;
  private static final int FRAME_PING = 6;
  private static final int FLAG_ACK = 1;

  private static TestSupport.ScriptProcess server;
  private static String target;

  @BeforeAll
  static void startServer() {
    server = TestSupport.ScriptProcess.java("PingServerCommand", "--max-streams", "" + MAX_STREAMS,
        "--max-delay", TimeUnit.NANOSECONDS.toSeconds(MAX_DELAY_NANOS) + "s",
        "--handshake-timeout", HANDSHAKE_TIMEOUT_SECONDS + "s", "127.0.0.1:0");
    target = "127.0.0.1:" + server.awaitListeningPort();
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  @Test
  void randomBytesOnRawTcp() throws IOException {
    byte[] noise = new byte[1024];
    new Random(5).nextBytes(noise);
    try (Socket socket = connect()) {
      socket.getOutputStream().write(noise);
      assertServerCloses(socket, ANSWER_SECONDS);
    }
    assertStillServing("random bytes");
  }

  @Test
  void http11Request() throws IOException {
    try (Socket socket = connect()) {
      socket.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + target + "\r\nConnection: keep-alive\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      assertServerCloses(socket, ANSWER_SECONDS);
    }
    assertStillServing("an HTTP/1.1 request");
  }

  @Test
  void http2PrefaceThenGarbage() throws IOException {
    byte[] garbage = new byte[1024];
    new Random(7).nextBytes(garbage);
    try (Socket socket = connect()) {
      socket.getOutputStream().write(HTTP2_PREFACE);
      socket.getOutputStream().write(garbage);
      assertServerCloses(socket, ANSWER_SECONDS);
    }
    assertStillServing("the HTTP/2 preface then garbage");
  }

  @Test
  void silentConnectionIsClosedAfterTheHandshakeTimeout() throws IOException {
    try (Socket socket = connect()) {
      assertServerCloses(socket, HANDSHAKE_TIMEOUT_SECONDS + ANSWER_SECONDS);
    }
    assertStillServing("a silent connection");
  }

  @Test
  void thousandConnectionsAtOnce() throws IOException {
    List<Socket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < 1000; i++) {
        Socket socket = connect();
        sockets.add(socket);
        OutputStream out = socket.getOutputStream();
        out.write(HTTP2_PREFACE);
        writeFrame(out, FRAME_SETTINGS, 0, new byte[0]);
      }
      // each handshake completes (the server acknowledges our SETTINGS), so the handshake timeout spares them
      for (Socket socket : sockets) {
        awaitFrame(socket, FRAME_SETTINGS, FLAG_ACK);
      }
      assertStillServing("1,000 open connections");
      for (Socket socket : sockets) {
        writeFrame(socket.getOutputStream(), FRAME_PING, 0, new byte[8]);
        awaitFrame(socket, FRAME_PING, FLAG_ACK); // proves the connection stayed open during the check above
      }
    } finally {
      for (Socket socket : sockets) {
        socket.close();
      }
    }
    assertStillServing("1,000 connections closed");
  }

  @Test
  void floodOfStreamsBeyondMaxStreamsQueuesAtTheClientAndAllSucceed() throws Exception {
    ManagedChannel channel = TestSupport.plaintext(target);
    try {
      var stub = PingServerGrpc.newFutureStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
      List<ListenableFuture<PingMessage>> calls = new ArrayList<>();
      for (int seq = 0; seq < 500; seq++) {
        calls.add(stub.ping(TestSupport.message(seq, "flood", TimeUnit.MILLISECONDS.toNanos(100))));
      }
      List<Long> receivedNanos = new ArrayList<>();
      for (int seq = 0; seq < calls.size(); seq++) {
        PingMessage reply = calls.get(seq).get(60, TimeUnit.SECONDS);
        assertEquals(seq, reply.getSeq());
        receivedNanos.add(reply.getTs());
      }
      // MAX_STREAMS at a time: a ping is received only once one of the MAX_STREAMS before it was answered
      java.util.Collections.sort(receivedNanos);
      for (int i = MAX_STREAMS; i < receivedNanos.size(); i++) {
        long apartNanos = receivedNanos.get(i) - receivedNanos.get(i - MAX_STREAMS);
        assertTrue(apartNanos >= TimeUnit.MILLISECONDS.toNanos(100), "ping " + i + " received " + apartNanos / 1e6
            + " ms after the " + MAX_STREAMS + "th before it: more than " + MAX_STREAMS + " streams at once");
      }
    } finally {
      TestSupport.close(channel);
    }
    assertStillServing("500 streams on one connection with --max-streams " + MAX_STREAMS);
  }

  @Test
  void oversizedMessageIsResourceExhausted() {
    String payload = "x".repeat(4 * 1024 * 1024 + 1); // the default --max-message-size is 4 MiB
    ManagedChannel channel = TestSupport.plaintext(target);
    try {
      var failure = assertThrows(StatusRuntimeException.class,
          () -> TestSupport.ping(channel).ping(TestSupport.message(1, payload, 0)));
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, failure.getStatus().getCode(), failure.toString());
    } finally {
      TestSupport.close(channel);
    }
    assertStillServing("an oversized message");
  }

  @Test
  void delayOfAYearIsClampedToMaxDelay() {
    ManagedChannel channel = TestSupport.plaintext(target);
    try {
      long startNanos = System.nanoTime();
      // the stub's 10 s deadline bounds the wait: only a clamped delay is answered within it
      PingMessage reply = TestSupport.ping(channel).ping(TestSupport.message(1, "year", TimeUnit.DAYS.toNanos(365)));
      long elapsedNanos = System.nanoTime() - startNanos;
      assertEquals(1, reply.getSeq());
      assertTrue(elapsedNanos >= MAX_DELAY_NANOS, "answered after " + elapsedNanos + " ns, before --max-delay");
    } finally {
      TestSupport.close(channel);
    }
    assertStillServing("a delay of a year");
  }

  @Test
  void negativeDelayIsAnsweredAtOnce() {
    ManagedChannel channel = TestSupport.plaintext(target);
    try {
      TestSupport.ping(channel).ping(TestSupport.message(0, "", 0)); // connects, so that only the call is timed
      for (long delayNanos : new long[] {-1, -TimeUnit.SECONDS.toNanos(1), Long.MIN_VALUE}) {
        long startNanos = System.nanoTime();
        PingMessage reply = TestSupport.ping(channel).ping(TestSupport.message(2, "negative", delayNanos));
        long elapsedNanos = System.nanoTime() - startNanos;
        assertEquals(2, reply.getSeq());
        assertEquals(0, reply.getDelayNanos(), "the delay applied to " + delayNanos);
        // read as a positive one, it would be clamped to --max-delay and answered no sooner
        assertTrue(elapsedNanos < MAX_DELAY_NANOS, "delayNanos " + delayNanos + " answered after "
            + elapsedNanos + " ns");
      }
    } finally {
      TestSupport.close(channel);
    }
    assertStillServing("negative delays");
  }

  @Test
  void callsCancelledMidDelay() throws Exception {
    List<ManagedChannel> channels = new ArrayList<>();
    List<ListenableFuture<PingMessage>> delayed = new ArrayList<>();
    try {
      for (int c = 0; c < 10; c++) {
        ManagedChannel channel = TestSupport.plaintext(target);
        channels.add(channel);
        var stub = PingServerGrpc.newFutureStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        List<ListenableFuture<PingMessage>> ofThisChannel = new ArrayList<>();
        for (int i = 0; i < MAX_STREAMS - 1; i++) {
          ofThisChannel.add(stub.ping(TestSupport.message(i, "cancel me", MAX_DELAY_NANOS)));
        }
        // the server reads a connection's streams in order: once this undelayed ping is answered, the delayed
        // pings sent before it on the same connection are in flight at the server; they are cancelled at once
        assertEquals(99, TestSupport.ping(channel).ping(TestSupport.message(99, "marker", 0)).getSeq());
        boolean answeredAlready = ofThisChannel.stream().anyMatch(ListenableFuture::isDone);
        channel.shutdownNow(); // cancels every call still in flight
        assertFalse(answeredAlready, "a delayed ping ended before the cancel");
        delayed.addAll(ofThisChannel);
      }
    } finally {
      channels.forEach(ManagedChannel::shutdownNow); // cancels every call still in flight
    }
    for (var call : delayed) {
      var failure = assertThrows(ExecutionException.class, () -> call.get(10, TimeUnit.SECONDS));
      assertEquals(Status.Code.UNAVAILABLE, Status.fromThrowable(failure).getCode(), failure.toString());
    }
    for (ManagedChannel channel : channels) {
      assertTrue(channel.awaitTermination(10, TimeUnit.SECONDS), "channel still open");
    }
    assertStillServing("90 calls cancelled mid-delay");
  }

  /** Last: a drain finds no call left in flight by the peers above, and nothing logged was a stack trace. */
  @Test
  @Order(Integer.MAX_VALUE)
  void afterAllPeersTheServerDrainsAtOnceExitsZeroAndLoggedNoStackTrace() {
    server.signal("TERM");
    assertEquals(0, server.awaitExit(60), "stderr: " + server.stderr);
    assertTrue(server.stderr.stream().noneMatch(line -> line.contains("Exception") || line.startsWith("\tat ")),
        "stack trace on stderr: " + String.join("\n", server.stderr));
    assertTrue(server.stderr.stream().noneMatch(line -> line.contains("still in flight")),
        "calls left in flight: " + server.stderr);
  }

  // ---- helpers ------------------------------------------------------------------------------------------

  private static Socket connect() throws IOException {
    return new Socket(InetAddress.getLoopbackAddress(), Integer.parseInt(target.substring(target.indexOf(':') + 1)));
  }

  /** Reads whatever the server sends until it closes the connection (EOF or reset) within {@code seconds}. */
  private static void assertServerCloses(Socket socket, int seconds) throws IOException {
    long deadlineNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    InputStream in = socket.getInputStream();
    byte[] buffer = new byte[8192];
    try {
      while (true) {
        long leftMillis = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
        if (leftMillis <= 0) {
          fail("the server kept the connection open for more than " + seconds + " s");
        }
        socket.setSoTimeout((int) leftMillis);
        if (in.read(buffer) == -1) {
          return;
        }
      }
    } catch (SocketTimeoutException e) {
      fail("the server kept the connection open for more than " + seconds + " s");
    } catch (SocketException e) {
      // a reset is the server closing too
    }
  }

  private static void writeFrame(OutputStream out, int type, int flags, byte[] payload) throws IOException {
    byte[] header = {(byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length,
        (byte) type, (byte) flags, 0, 0, 0, 0};
    out.write(header);
    out.write(payload);
    out.flush();
  }

  /** Reads frames until one of {@code type} with {@code flags}, acknowledging the server's SETTINGS on the way. */
  private static void awaitFrame(Socket socket, int type, int flags) throws IOException {
    socket.setSoTimeout(ANSWER_SECONDS * 1000);
    DataInputStream in = new DataInputStream(socket.getInputStream());
    try {
      while (true) {
        int length = in.readUnsignedShort() << 8 | in.readUnsignedByte();
        int frameType = in.readUnsignedByte();
        int frameFlags = in.readUnsignedByte();
        in.readInt(); // stream id
        in.skipNBytes(length);
        if (frameType == FRAME_SETTINGS && (frameFlags & FLAG_ACK) == 0) {
          writeFrame(socket.getOutputStream(), FRAME_SETTINGS, FLAG_ACK, new byte[0]);
        }
        if (frameType == type && frameFlags == flags) {
          return;
        }
      }
    } catch (EOFException | SocketException e) {
      fail("the server closed a connection that completed its handshake: " + e);
    }
  }

  /** Ping and health answer promptly over a fresh channel, and the server's threads and memory are bounded. */
  private static void assertStillServing(String after) {
    ManagedChannel channel = TestSupport.plaintext(target);
    try {
      var stub = PingServerGrpc.newBlockingStub(channel).withDeadlineAfter(ANSWER_SECONDS, TimeUnit.SECONDS);
      assertEquals(42, stub.ping(TestSupport.message(42, "still there?", 0)).getSeq(), "ping after " + after);
      assertEquals(ServingStatus.SERVING, TestSupport.health(channel, "ping"), "health after " + after);
    } finally {
      TestSupport.close(channel);
    }
    long threads = procStatus("Threads:");
    long rssKilobytes = procStatus("VmRSS:");
    assertTrue(threads < MAX_THREADS, threads + " threads after " + after);
    assertTrue(rssKilobytes < MAX_RSS_KILOBYTES, rssKilobytes + " kB resident after " + after);
  }

  /** A number from the server's /proc/PID/status, e.g. "Threads:" or "VmRSS:" (in kB). */
  private static long procStatus(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", "" + server.process.pid(), "status"))) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException e) {
      fail("cannot read the server's /proc status: " + e);
    }
    throw new AssertionError(field + " not in /proc/" + server.process.pid() + "/status");
  }
}
