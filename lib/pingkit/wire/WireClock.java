// The clients' clock at the socket: each call timed where its bytes leave and reach the process, apart from the
// client's own work before and after.

package pingkit.wire;

import io.grpc.Attributes;
import io.grpc.ClientStreamTracer;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * Times calls on the wire. Each connection gets two Netty handlers: a {@link SocketClock} first in the pipeline,
 * which notes when a flush hands bytes to the socket and when bytes came back, and a {@link FrameTap} that follows
 * the HTTP/2 frames (right after the clock, or right after TLS, whose records it cannot read) and gives those
 * times to the streams the frames belong to. A call's {@link CallClock}, a gRPC stream tracer, learns its stream
 * when gRPC reports the stream's headers sent: the tap runs that report inside the completion of the write that
 * ended them. On Linux the kernel stamps a TCP connection's packets ({@link KernelStamps}): a call's round trip
 * is then the wire's, from the stamp of the send that ended its request to that of its answer's arrival, which
 * is what a packet capture sees. Without them, arrivals are taken by an {@link ArrivalWatch} where there is one:
 * the network thread may be busy with the client's own work when an answer comes, and would read it late.
 */
public final class WireClock {
  private static final Logger log = Logger.getLogger("pingkit.client");
  private static final AtomicBoolean unavailableSaid = new AtomicBoolean();
  /** The system property that turns the kernel's packet times off ("off"): calls are then timed at the socket. */
  public static final String KERNEL_STAMPS_SWITCH = "pingkit.kernelStamps";

  private WireClock() {}

  /**
   * {@code channel}, with a clock and a tap in its pipeline; with TLS, the tap goes above TLS once it is there.
   * {@code watchArrivals}: the arrival watch notes when its answers arrive (for connections with few calls).
   */
  public static <C extends Channel> C attach(C channel, boolean tls, boolean watchArrivals) {
    SocketClock clock = new SocketClock(watchArrivals, tls, channel);
    FrameTap tap = new FrameTap(clock);
    channel.pipeline().addFirst("pingkit-socket-clock", clock);
    if (tls) {
      clock.tapAboveTls = tap;
    } else {
      channel.pipeline().addAfter("pingkit-socket-clock", "pingkit-frame-tap", tap);
    }
    return channel;
  }

  /**
   * What timed a call's round trip, from the most exact to the least: the kernel's packet times
   * ({@code kernel}), the socket's, with the answer's arrival noted by the {@link ArrivalWatch}
   * ({@code arrival-watch}) or when the network thread read it ({@code network-read}), or the application's
   * ({@code application}: no wire times, the call's whole time).
   */
  public enum Kind {
    KERNEL("kernel"), ARRIVAL_WATCH("arrival-watch"), NETWORK_READ("network-read"), APPLICATION("application");

    /** Its name in JSON documents. */
    public final String json;

    Kind(String json) {
      this.json = json;
    }

    /** The kind named {@code json} in a document (null: none of them). */
    public static Kind of(String json) {
      for (Kind kind : values()) {
        if (kind.json.equals(json)) {
          return kind;
        }
      }
      return null;
    }
  }

  /**
   * Readies what the kernel's packet times need, off the caller's thread: a client calls this as it begins to
   * connect over TCP, so that its first connection does not wait for it.
   */
  public static void prepare() {
    KernelStamps.prepare();
  }

  /**
   * A call's or a message's times, in {@link System#nanoTime()} nanoseconds: at the application, and on the wire
   * (by the kernel's packet times, else the socket's).
   */
  public interface Timed {
    /** Whether the socket's times were taken: the request went out, and an answer came back. */
    boolean onWire();

    /**
     * When the request's last bytes left: the kernel's stamp of their send, else when they were handed to the
     * socket (without wire times: when it was sent).
     */
    long wireOutNanos();

    /**
     * When the answer's first bytes came back: the kernel's stamp of their arrival, else when the socket had them
     * (without wire times: when it was handed over).
     */
    long wireInNanos();

    /** The network's and the server's time: from the request's last bytes leaving to its answer's first back. */
    default long rttNanos() {
      return wireInNanos() - wireOutNanos();
    }

    /** How long the request waited for the server to allow it on the connection (its max concurrent streams). */
    default long serverQueueNanos() {
      return 0;
    }

    /** The time the server is answerable for: waiting for a stream it allowed, then the round trip. */
    default long latencyNanos() {
      return serverQueueNanos() + rttNanos();
    }

    /** The client's own time before the wire: building, encoding and queueing the request. */
    long sendOverheadNanos();

    /** The client's own time after the wire: reading, decoding and handing over the answer. */
    long receiveOverheadNanos();

    /** The server address the call went to (null: it reached none, e.g. failed without a connection). */
    SocketAddress backend();

    /** What timed its round trip. */
    Kind kind();
  }

  /**
   * Whether a call on the wire ({@code onWire}) has both kernel times, in order with the application's: sent,
   * left, back, received. Else it keeps the socket's.
   */
  private static boolean kernelFits(boolean onWire, long appSendNanos, long kernelOutNanos, long kernelInNanos,
      long appReceiveNanos) {
    return onWire && kernelOutNanos != 0 && kernelInNanos != 0 && appSendNanos <= kernelOutNanos
        && kernelOutNanos <= kernelInNanos && kernelInNanos <= appReceiveNanos;
  }

  /** One call's times; for a stream of messages, the socket times its messages are found in. */
  public static final class CallClock extends ClientStreamTracer implements Timed {
    private static final Metadata.Key<String> ENCODING = Metadata.Key.of("grpc-encoding",
        Metadata.ASCII_STRING_MARSHALLER);
    public final long appSendNanos = System.nanoTime();
    private final boolean messages;
    private volatile StreamTimes stream;
    private volatile SocketAddress backend;
    private long appReceiveNanos;
    // the kernel's times, taken when the call ended (0: none, or not in order): a stamp that came later changes
    // nothing already reported
    private long kernelOutNanos;
    private long kernelInNanos;

    /** The clock of a call; {@code messages}: of a stream of messages, each to be timed. */
    public CallClock(boolean messages) {
      this.messages = messages;
    }

    /** What gives gRPC this clock as the call's stream tracer (call options take a factory). */
    public ClientStreamTracer.Factory factory() {
      return new ClientStreamTracer.Factory() {
        @Override
        public ClientStreamTracer newClientStreamTracer(ClientStreamTracer.StreamInfo info, Metadata headers) {
          return CallClock.this;
        }
      };
    }

    @Override
    public void streamCreated(Attributes transportAttributes, Metadata headers) {
      backend = transportAttributes.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    }

    @Override
    public SocketAddress backend() {
      return backend;
    }

    @Override
    public void outboundHeaders() {
      StreamTimes times = FrameTap.headersCompleting.get();
      if (messages && times != null) {
        times.timeMessages();
      }
      stream = times;
    }

    @Override
    public void inboundHeaders(Metadata headers) {
      StreamTimes times = stream;
      String encoding = headers.get(ENCODING);
      if (messages && times != null && encoding != null && !encoding.equals("identity")) {
        times.offsetsKnown = false; // compressed answers: their size on the wire is not their encoding's
      }
    }

    /** The call ended for the application (answered: with a reply): its end is being handed over now. */
    public void received(boolean answered) {
      appReceiveNanos = System.nanoTime();
      StreamTimes times = stream;
      if (times != null && kernelFits(onWire(), appSendNanos, times.kernelOutNanos, times.kernelInNanos,
          appReceiveNanos)) {
        kernelOutNanos = times.kernelOutNanos;
        kernelInNanos = times.kernelInNanos;
      }
      if (answered && !onWire()) {
        sayUnavailable();
      }
    }

    /** The socket's times of the call's stream (null: not known yet, or not on the wire). */
    public StreamTimes stream() {
      return stream;
    }

    @Override
    public boolean onWire() {
      // an answer that began before the request's last bytes left (its headers sent early, by some servers) is not
      // a round trip the socket can time
      return stream != null && stream.outNanos != 0 && stream.inNanos >= stream.outNanos;
    }

    /**
     * Whether the server's answer (its headers, a reply or its status) came back on the call's stream: the call's
     * status is then the server's, whenever it came, even before the request had all left.
     */
    public boolean serverAnswered() {
      return stream != null && stream.inNanos != 0;
    }

    @Override
    public Kind kind() {
      return kernelInNanos != 0 ? Kind.KERNEL : !onWire() ? Kind.APPLICATION
          : stream.watchedConnection ? Kind.ARRIVAL_WATCH : Kind.NETWORK_READ;
    }

    @Override
    public long wireOutNanos() {
      return kernelInNanos != 0 ? kernelOutNanos : onWire() ? stream.outNanos : appSendNanos;
    }

    @Override
    public long wireInNanos() {
      return kernelInNanos != 0 ? kernelInNanos : onWire() ? stream.inNanos : appReceiveNanos;
    }

    public long appReceiveNanos() {
      return appReceiveNanos;
    }

    /**
     * How long the call waited for the server to allow one more stream on the connection (its max concurrent
     * streams): from its start to the answer that freed a stream for it.
     */
    @Override
    public long serverQueueNanos() {
      return onWire() && stream.streamFreedNanos != 0 ? Math.max(0, stream.streamFreedNanos - appSendNanos) : 0;
    }

    @Override
    public long sendOverheadNanos() {
      return wireOutNanos() - appSendNanos - serverQueueNanos();
    }

    @Override
    public long receiveOverheadNanos() {
      return appReceiveNanos - wireInNanos();
    }
  }

  /**
   * One message's times on a stream of messages: found in the stream's socket times by where its bytes lie, the
   * flush that carried its request's last byte and the read that brought the first byte of its answer.
   */
  public static final class MessageClock implements Timed {
    public final long appSendNanos = System.nanoTime();
    private final CallClock streamClock;
    private long wireOutNanos;
    private long wireInNanos;
    private long appReceiveNanos;
    private boolean onWire;
    private boolean kernelTimed;

    /** The clock of a message sent on the stream that {@code streamClock} times. */
    public MessageClock(CallClock streamClock) {
      this.streamClock = streamClock;
    }

    @Override
    public SocketAddress backend() {
      return streamClock.backend();
    }

    /**
     * Its answer is being handed over now; {@code stream}: the stream's socket times (null: none); its request's
     * bytes ended at {@code requestEndBytes} of the stream's DATA, its answer's began at {@code answerStartBytes}.
     */
    public void received(StreamTimes stream, long requestEndBytes, long answerStartBytes) {
      appReceiveNanos = System.nanoTime();
      boolean placed = stream != null && stream.offsetsKnown && stream.sent != null;
      long outNanos = placed ? stream.sent.firstFrom(requestEndBytes, false) : 0;
      long inNanos = placed ? stream.received.lastUpTo(answerStartBytes, false) : 0;
      onWire = outNanos >= appSendNanos && inNanos >= outNanos;
      long kernelOutNanos = placed ? stream.sent.firstFrom(requestEndBytes, true) : 0;
      long kernelInNanos = placed ? stream.received.lastUpTo(answerStartBytes, true) : 0;
      kernelTimed = kernelFits(onWire, appSendNanos, kernelOutNanos, kernelInNanos, appReceiveNanos);
      wireOutNanos = kernelTimed ? kernelOutNanos : onWire ? outNanos : appSendNanos;
      wireInNanos = kernelTimed ? kernelInNanos : onWire ? inNanos : appReceiveNanos;
      if (!onWire) {
        sayUnavailable();
      }
    }

    @Override
    public boolean onWire() {
      return onWire;
    }

    @Override
    public Kind kind() {
      StreamTimes stream = streamClock.stream();
      return kernelTimed ? Kind.KERNEL : !onWire ? Kind.APPLICATION
          : stream != null && stream.watchedConnection ? Kind.ARRIVAL_WATCH : Kind.NETWORK_READ;
    }

    @Override
    public long wireOutNanos() {
      return wireOutNanos;
    }

    @Override
    public long wireInNanos() {
      return wireInNanos;
    }

    @Override
    public long sendOverheadNanos() {
      return wireOutNanos - appSendNanos;
    }

    @Override
    public long receiveOverheadNanos() {
      return appReceiveNanos - wireInNanos;
    }
  }

  private static void sayUnavailable() {
    if (unavailableSaid.compareAndSet(false, true)) {
      log.warning("no wire times on this connection: its RTTs include the client's own time");
    }
  }
}
