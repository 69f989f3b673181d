// The kernel's own times of a client socket's packets (Linux SO_TIMESTAMPING), read through Java's Foreign
// Function & Memory API: when each send left for the network device, when the data waiting to be read came in.

package pingkit.wire;

import io.grpc.netty.shaded.io.netty.channel.ChannelException;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.IntegerUnixChannelOption;
import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;
import pingkit.Pingkit;

/**
 * One TCP socket's kernel timestamps: software stamps taken where a packet leaves for the device and where one
 * comes in from it, the times a packet capture sees. Sends are stamped by their last byte's offset and come back
 * on the socket's error queue ({@link #drainSent}); the stamp of the data waiting to be read comes with a peek of
 * its first byte ({@link #peekArrival}). Kernel times are the wall clock's: they are handed out in
 * {@link System#nanoTime()}'s, by an offset measured when the socket is set up.
 *
 * <p>A peek gives the stamp of the first packet the socket holds unread, or, where TCP merged packets that came
 * while nothing read them, of the newest of those: never earlier than the first byte's arrival, possibly later.
 *
 * <p>The option is set through Netty's; recvmsg is looked up through the JDK's linker ({@link Recvmsg}), off the
 * caller's thread, while the client connects.
 */
final class KernelStamps {
  // Linux's generic values (x86-64 and arm64 alike), and its 64-bit structure layouts
  private static final int SOL_SOCKET = 1;
  private static final int SO_TIMESTAMPING = 37; // also SCM_TIMESTAMPING: struct timespec ts[3]
  private static final IntegerUnixChannelOption TIMESTAMPING = new IntegerUnixChannelOption("SO_TIMESTAMPING",
      SOL_SOCKET, SO_TIMESTAMPING);
  private static final int SOL_IP = 0;
  private static final int IP_RECVERR = 11;
  private static final int SOL_IPV6 = 41;
  private static final int IPV6_RECVERR = 25;
  private static final int SO_EE_ORIGIN_TIMESTAMPING = 4;
  private static final int SCM_TSTAMP_SND = 0;
  private static final int MSG_PEEK = 0x2;
  private static final int MSG_TRUNC = 0x20;
  static final int MSG_DONTWAIT = 0x40;
  private static final int MSG_ERRQUEUE = 0x2000;
  private static final int EAGAIN = 11;
  static final long ERRNO_OFFSET = Linker.Option.captureStateLayout().byteOffset(
      MemoryLayout.PathElement.groupElement("errno"));
  private static final int TX_SOFTWARE = 1 << 1;
  private static final int RX_SOFTWARE = 1 << 3;
  private static final int SOFTWARE = 1 << 4;
  private static final int OPT_ID = 1 << 7;
  private static final int OPT_TSONLY = 1 << 11;
  static final int MSGHDR_BYTES = 56;
  private static final int CONTROL_BYTES = 256;
  private static final int PEEK_BYTES_MAX = 64 << 10;
  /** Where a peek that copies nothing points (a thread's own, in case a kernel copied after all). */
  private static final ThreadLocal<MemorySegment> scratch = ThreadLocal.withInitial(
      () -> Arena.ofAuto().allocate(PEEK_BYTES_MAX, 8));

  private static final Logger log = Logger.getLogger("pingkit.client");
  private static final AtomicBoolean failureSaid = new AtomicBoolean();

  private final EpollSocketChannel channel;
  private final int fd;
  private MethodHandle recvmsg; // null until the lookup is done
  private boolean failed;
  private final MemorySegment callState; // where recvmsg's errno is kept
  private int socketError; // an error a peek took from the socket, to be reported as its read's (0: none)
  private final MemorySegment message; // struct msghdr
  private final MemorySegment vector; // its struct iovec
  private final MemorySegment control;
  private final long wallMinusNanoTime;

  private KernelStamps(EpollSocketChannel channel, Arena arena) {
    this.channel = channel;
    this.fd = channel.fd().intValue();
    callState = arena.allocate(Linker.Option.captureStateLayout());
    message = arena.allocate(MSGHDR_BYTES, 8);
    vector = arena.allocate(16, 8);
    control = arena.allocate(CONTROL_BYTES, 8);
    message.set(ValueLayout.ADDRESS, 16, vector);
    message.set(ValueLayout.JAVA_LONG, 24, 1);
    message.set(ValueLayout.ADDRESS, 32, control);
    wallMinusNanoTime = wallMinusNanoTime();
  }

  /** Whether kernel stamps were turned off by hand ({@link WireClock#KERNEL_STAMPS_SWITCH}). */
  static boolean switchedOff() {
    return "off".equals(System.getProperty(WireClock.KERNEL_STAMPS_SWITCH));
  }

  /** Starts looking recvmsg up ({@link Recvmsg#prepare}), unless kernel stamps are off. */
  static void prepare() {
    if (!switchedOff()) {
      Recvmsg.prepare();
    }
  }

  /**
   * Asks the kernel to stamp the connected TCP socket of {@code channel} from its next byte on (on its network
   * thread, before it sends any); the stamps, or an exception saying why not. They are read once recvmsg is
   * looked up: until then the kernel keeps the send stamps, and the reads go unstamped.
   */
  static KernelStamps enable(EpollSocketChannel channel) throws java.io.IOException {
    if (switchedOff()) {
      throw new java.io.IOException("-D" + WireClock.KERNEL_STAMPS_SWITCH + "=off");
    }
    if (Recvmsg.UNSUPPORTED != null) {
      throw new java.io.IOException(Recvmsg.UNSUPPORTED);
    }
    if (Recvmsg.done() && Recvmsg.failure() != null) {
      throw new java.io.IOException(Recvmsg.failure());
    }
    Recvmsg.prepare();
    boolean taken;
    try {
      taken = channel.config().setOption(TIMESTAMPING, TX_SOFTWARE | RX_SOFTWARE | SOFTWARE | OPT_ID | OPT_TSONLY);
    } catch (ChannelException e) {
      throw new java.io.IOException("the kernel refused SO_TIMESTAMPING: " + Pingkit.oneLine(e), e);
    }
    if (!taken) {
      throw new java.io.IOException("Netty set no SO_TIMESTAMPING on this socket");
    }
    return new KernelStamps(channel, Arena.ofAuto());
  }

  /** False once the stamps cannot be read (recvmsg could not be looked up): the kernel was told to stop. */
  boolean usable() {
    ready();
    return !failed;
  }


  /**
   * Whether the stamps can be read now; false until recvmsg is looked up, and for good if that failed (the
   * kernel is then told to stop stamping, since nobody would read its send stamps).
   */
  private boolean ready() {
    if (recvmsg != null || failed || !Recvmsg.done()) {
      return recvmsg != null;
    }
    String failure = Recvmsg.failure();
    if (failure == null) {
      recvmsg = Recvmsg.handle();
      return true;
    }
    failed = true;
    try {
      channel.config().setOption(TIMESTAMPING, 0);
    } catch (ChannelException e) {
      // the connection is closing
    }
    if (failureSaid.compareAndSet(false, true)) {
      log.warning("no kernel packet times (" + failure + "): calls are timed at the socket");
    }
    return false;
  }

  /**
   * When the first bytes waiting to be read came in, in nanoTime's nanoseconds (0: nothing waits, or no stamp);
   * on the socket's network thread, right before it reads.
   */
  long peekArrival() {
    if (!ready()) {
      return 0;
    }
    setVector(1);
    if (receive(MSG_PEEK | MSG_DONTWAIT) >= 0) {
      return stampNanos;
    }
    // with nothing to read, recvmsg returns the socket's pending error (a reset, say), and clears it: the read
    // that follows finds only the end of the stream
    int errno = callState.get(ValueLayout.JAVA_INT, ERRNO_OFFSET);
    socketError = errno == EAGAIN ? socketError : errno;
    return 0;
  }

  /** The error a peek took from the socket since the last call (errno; 0: none), which its read did not see. */
  int takeSocketError() {
    int error = socketError;
    socketError = 0;
    return error;
  }

  /**
   * When the last of the first {@code bytes} waiting to be read came in, by the latest stamp among them (0: none);
   * {@link #peekedBytes} says how many wait, up to {@code bytes}. Nothing is copied (MSG_TRUNC).
   */
  long peekLastArrival(int bytes) {
    if (!ready()) {
      return 0;
    }
    setVector(Math.min(bytes, PEEK_BYTES_MAX));
    long waiting = receive(MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
    peekedBytes = (int) Math.max(0, waiting);
    return waiting > 0 ? stampNanos : 0;
  }

  /** How many bytes the latest {@link #peekLastArrival} found waiting. */
  int peekedBytes;

  /** Receives what a send's stamp says: the offset of its last byte (32 bits, wrapping), and when it left. */
  interface Sent {
    void left(int lastByteOffset, long nanos);
  }

  /** Hands every send stamp waiting on the error queue to {@code sent}, oldest first; on the network thread. */
  void drainSent(Sent sent) {
    if (!ready()) {
      return;
    }
    setVector(1);
    while (receive(MSG_ERRQUEUE | MSG_DONTWAIT) >= 0) {
      if (sendStamped && stampNanos != 0) {
        sent.left(sentOffset, stampNanos);
      }
    }
  }

  // what the latest receive found: its software stamp (nanoTime's; 0: none), and whether it stamped a send, whose
  // last byte's offset it names
  private long stampNanos;
  private boolean sendStamped;
  private int sentOffset;

  private void setVector(int bytes) {
    vector.set(ValueLayout.ADDRESS, 0, scratch.get());
    vector.set(ValueLayout.JAVA_LONG, 8, bytes);
  }

  /** One recvmsg, its control messages read into the fields above; what it returned (-1: nothing was there). */
  private long receive(int flags) {
    message.set(ValueLayout.JAVA_LONG, 40, CONTROL_BYTES);
    message.set(ValueLayout.JAVA_INT, 48, 0);
    long received;
    try {
      received = (long) recvmsg.invokeExact(callState, fd, message, flags);
    } catch (Throwable e) {
      return -1;
    }
    if (received < 0) {
      return -1;
    }
    stampNanos = 0;
    sendStamped = false;
    long controlBytes = message.get(ValueLayout.JAVA_LONG, 40);
    for (long at = 0; at + 16 <= controlBytes; ) {
      long length = control.get(ValueLayout.JAVA_LONG, at);
      int level = control.get(ValueLayout.JAVA_INT, at + 8);
      int type = control.get(ValueLayout.JAVA_INT, at + 12);
      if (length < 16 || at + length > controlBytes) {
        break;
      }
      if (level == SOL_SOCKET && type == SO_TIMESTAMPING && length >= 16 + 16) {
        long seconds = control.get(ValueLayout.JAVA_LONG, at + 16); // ts[0], the software stamp
        long nanos = control.get(ValueLayout.JAVA_LONG, at + 24);
        stampNanos = seconds == 0 && nanos == 0 ? 0 : seconds * 1_000_000_000L + nanos - wallMinusNanoTime;
      } else if ((level == SOL_IP && type == IP_RECVERR || level == SOL_IPV6 && type == IPV6_RECVERR)
          && length >= 16 + 16) {
        // struct sock_extended_err: errno, origin, type, code, pad, info, data
        sendStamped = control.get(ValueLayout.JAVA_BYTE, at + 20) == SO_EE_ORIGIN_TIMESTAMPING
            && control.get(ValueLayout.JAVA_INT, at + 24) == SCM_TSTAMP_SND;
        sentOffset = control.get(ValueLayout.JAVA_INT, at + 28);
      }
      at += (length + 7) & ~7L;
    }
    return received;
  }

  /** The wall clock's time minus nanoTime, from the closest of a few readings of both. */
  private static long wallMinusNanoTime() {
    long best = Long.MAX_VALUE;
    long offset = 0;
    for (int i = 0; i < 5; i++) {
      long before = System.nanoTime();
      Instant wall = Instant.now();
      long after = System.nanoTime();
      if (after - before < best) {
        best = after - before;
        offset = wall.getEpochSecond() * 1_000_000_000L + wall.getNano() - (before + (after - before) / 2);
      }
    }
    return offset;
  }
}
