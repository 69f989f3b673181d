// ping-server's warm-up: right after it listens, a fresh server drives its own call path, so that the first clients
// measure the network and a compiled server, not its JIT warming.

package pingkit.server;

import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import pingkit.Pingkit;
import pingkit.fgrpc.PingMessage;

/**
 * A private server on a loopback port with the ping service, called over the real transport (Netty, HTTP/2, gRPC,
 * the service) for a bounded time by a client that only writes and reads HTTP/2 frames: the JIT compiles the
 * server's path as it goes (the listening server's calls share it), and the JVM loads no gRPC client, whose
 * classes and threads would stay resident. It gives way when a real call comes or the server drains (its calls in
 * flight answered first), and prints a line on stderr when it starts and when it ends.
 */
final class ServerWarmUp implements Runnable {
  /** Calls in flight at once: enough to keep the server's path busy, few enough to leave a core to the rest. */
  private static final int STREAMS = 4;
  private static final byte[] CLIENT_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final int DATA = 0;
  private static final int HEADERS = 1;
  private static final int SETTINGS = 4;
  private static final int PING = 6;
  private static final int GOAWAY = 7;
  private static final int WINDOW_UPDATE = 8;
  private static final int END_STREAM = 0x1;
  private static final int ACK = 0x1;
  private static final int END_HEADERS = 0x4;

  private final ServerServiceDefinition pingService;
  private final int maxMessageBytes;
  private final ServerLoops loops;
  private final Duration limit;
  private final BooleanSupplier giveWay;
  private final Thread thread;
  private volatile boolean stopped;
  private Socket socket;

  private ServerWarmUp(ServerServiceDefinition pingService, int maxMessageBytes, ServerLoops loops, Duration limit,
      BooleanSupplier giveWay) {
    this.pingService = pingService;
    this.maxMessageBytes = maxMessageBytes;
    this.loops = loops;
    this.limit = limit;
    this.giveWay = giveWay;
    this.thread = new Thread(this, "ping-server-warm-up");
    thread.setDaemon(true);
  }

  /**
   * Starts a warm-up of at most {@code limit} in the background, its private server on the listening server's
   * {@code loops}; {@code giveWay} says when to stop early.
   */
  static ServerWarmUp start(ServerServiceDefinition pingService, int maxMessageBytes, ServerLoops loops,
      Duration limit, BooleanSupplier giveWay) {
    ServerWarmUp warmUp = new ServerWarmUp(pingService, maxMessageBytes, loops, limit, giveWay);
    warmUp.thread.start();
    return warmUp;
  }

  /** Stops the warm-up: its calls in flight are answered (a second at most), then its server closes. */
  void stop() {
    stopped = true;
    try {
      thread.join(1_000);
      closeSocket();
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void run() {
    long startNanos = System.nanoTime();
    Server server = null;
    long calls = 0;
    String why = "";
    try {
      server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
          .channelType(loops.tcpChannelType()).bossEventLoopGroup(loops.accepting())
          .workerEventLoopGroup(loops.serving())
          .directExecutor().maxInboundMessageSize(maxMessageBytes).addService(pingService).build().start();
      int port = ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
      System.err.println("ping-server: warming up: calling itself on loopback port " + port + " for up to "
          + Pingkit.formatDuration(limit));
      calls = pings(port, startNanos + limit.toNanos());
      why = stopped || giveWay.getAsBoolean() ? " (it gave way: a client called, or a drain began)" : "";
    } catch (IOException | RuntimeException e) {
      why = stopped ? " (it gave way: a drain began)" : " (it ended early: " + Pingkit.oneLine(e) + ")";
    } finally {
      closeSocket();
      if (server != null) {
        server.shutdownNow();
      }
    }
    System.err.printf(java.util.Locale.ROOT, "ping-server: warmed up: %d calls in %.2f s%s%n", calls,
        (System.nanoTime() - startNanos) / 1e9, why);
  }

  /**
   * Pings over one HTTP/2 connection, {@link #STREAMS} at a time, until {@code deadlineNanos} or a reason to stop,
   * and until the calls in flight are answered; returns how many were.
   */
  private long pings(int port, long deadlineNanos) throws IOException {
    synchronized (this) {
      socket = new Socket(InetAddress.getLoopbackAddress(), port);
    }
    socket.setTcpNoDelay(true);
    OutputStream out = socket.getOutputStream();
    DataInputStream in = new DataInputStream(socket.getInputStream());
    byte[] headerBlock = requestHeaders(port);
    byte[] message = grpcMessage(PingMessage.newBuilder().setPayload("warm-up").build().toByteArray());
    out.write(CLIENT_PREFACE);
    writeFrame(out, SETTINGS, 0, 0, new byte[0]);
    int nextStream = 1;
    for (int i = 0; i < STREAMS; i++, nextStream += 2) {
      writeRequest(out, nextStream, headerBlock, message);
    }
    out.flush();
    long answered = 0;
    int inFlight = STREAMS;
    long unacknowledgedBytes = 0;
    byte[] header = new byte[9];
    while (inFlight > 0) {
      in.readFully(header);
      int length = (header[0] & 0xff) << 16 | (header[1] & 0xff) << 8 | (header[2] & 0xff);
      int type = header[3] & 0xff;
      int flags = header[4] & 0xff;
      byte[] payload = new byte[length];
      in.readFully(payload);
      if (type == SETTINGS && (flags & ACK) == 0) {
        writeFrame(out, SETTINGS, ACK, 0, new byte[0]);
      } else if (type == PING && (flags & ACK) == 0) {
        writeFrame(out, PING, ACK, 0, payload);
      } else if (type == GOAWAY) {
        return answered;
      } else if (type == DATA) {
        unacknowledgedBytes += length;
        if (unacknowledgedBytes > 16_384) {
          // give the connection's receive window back, or the server stops sending answers
          writeFrame(out, WINDOW_UPDATE, 0, 0, int32((int) unacknowledgedBytes));
          unacknowledgedBytes = 0;
        }
      } else if (type == HEADERS && (flags & END_STREAM) != 0) {
        answered++; // the trailers: one call done; another goes, unless the warm-up ends (its calls answered first)
        inFlight--;
        if (!stopped && System.nanoTime() < deadlineNanos && !giveWay.getAsBoolean() && nextStream < 1 << 30) {
          writeRequest(out, nextStream, headerBlock, message);
          nextStream += 2;
          inFlight++;
        }
      }
      out.flush();
    }
    return answered;
  }

  private static void writeRequest(OutputStream out, int stream, byte[] headerBlock, byte[] message)
      throws IOException {
    writeFrame(out, HEADERS, END_HEADERS, stream, headerBlock);
    writeFrame(out, DATA, END_STREAM, stream, message);
  }

  private static void writeFrame(OutputStream out, int type, int flags, int stream, byte[] payload)
      throws IOException {
    out.write(new byte[] {(byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length,
        (byte) type, (byte) flags});
    out.write(int32(stream));
    out.write(payload);
  }

  /**
   * A ping's request headers in HPACK, with no dynamic table (the same bytes for every call): indexed fields of
   * the static table where it has them, the others literal without indexing.
   */
  private static byte[] requestHeaders(int port) {
    ByteArrayOutputStream block = new ByteArrayOutputStream();
    block.write(0x83); // :method POST (static index 3)
    block.write(0x86); // :scheme http (6)
    literal(block, 4, "/fgrpc.PingServer/Ping"); // :path
    literal(block, 1, "127.0.0.1:" + port); // :authority
    literal(block, 31, "application/grpc"); // content-type
    integer(block, 0x00, 4, 0); // te, a name the static table has not: literal name and value
    string(block, "te");
    string(block, "trailers");
    return block.toByteArray();
  }

  /** A literal field without indexing, its name by its index in the static table. */
  private static void literal(ByteArrayOutputStream block, int nameIndex, String value) {
    integer(block, 0x00, 4, nameIndex);
    string(block, value);
  }

  private static void string(ByteArrayOutputStream block, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
    integer(block, 0x00, 7, bytes.length); // not Huffman-coded
    block.writeBytes(bytes);
  }

  /** HPACK's integer: {@code prefixBits} bits in the first byte (after {@code flags}), then 7 bits a byte. */
  private static void integer(ByteArrayOutputStream block, int flags, int prefixBits, int value) {
    int max = (1 << prefixBits) - 1;
    if (value < max) {
      block.write(flags | value);
      return;
    }
    block.write(flags | max);
    for (value -= max; value >= 128; value >>>= 7) {
      block.write((value & 0x7f) | 0x80);
    }
    block.write(value);
  }

  /** gRPC's framing of a message: not compressed, its length, its bytes. */
  private static byte[] grpcMessage(byte[] message) {
    ByteArrayOutputStream framed = new ByteArrayOutputStream();
    framed.write(0);
    framed.writeBytes(int32(message.length));
    framed.writeBytes(message);
    return framed.toByteArray();
  }

  private static byte[] int32(int value) {
    return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
  }

  private synchronized void closeSocket() {
    if (socket != null) {
      try {
        socket.close(); // a read waiting for the server ends with an exception: the warm-up is over
      } catch (IOException e) {
        // closing our own socket: nothing to do about it
      }
    }
  }
}
