// First in each client connection's pipeline: the times of the socket's flushes and reads, and when a read's first
// bytes arrived.

package pingkit.wire;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelDuplexHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.channel.RecvByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.Errors;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * First in the pipeline, next to the socket: when a flush began to hand bytes over, when the latest read returned
 * them, and when that read's first bytes arrived: by the kernel's stamp of their packet ({@link KernelStamps},
 * peeked right before the read by {@link PeekBeforeRead}), else as noted by the {@link ArrivalWatch}, else the
 * read's time. The arrival belongs to the first bytes of the read only: the frame tap gives it to a frame that
 * begins the read, once; every other frame gets the kernel's latest stamp among the bytes read, else the read's
 * time. Under TLS a read's first bytes are known to be the first plaintext handed up only when the read begins
 * exactly one TLS record (of several, the first may carry no data). With kernel stamps, the flushes that carried
 * a stream's request bytes learn when the kernel sent them, by their last byte's offset.
 */
final class SocketClock extends ChannelDuplexHandler {
  private static final Logger log = Logger.getLogger("pingkit.client");
  private static final AtomicBoolean refusalSaid = new AtomicBoolean();
  private static final int PENDING_SENDS_MAX = 4096;
  private final boolean watchArrivals;
  private final TlsRecords records;
  private ArrivalWatch.Socket watched;
  private KernelStamps stamps;
  FrameTap tapAboveTls;
  long flushNanos;
  long readNanos;
  long firstBytesNanos;
  long firstBytesKernelNanos; // 0: no kernel stamp
  /**
   * The kernel's latest stamp among the read's first {@link #stampedBytes} bytes (under TLS: of the plaintext it
   * hands up, all or none).
   */
  long lastBytesKernelNanos;
  int stampedBytes;
  // peeked before the read under way
  private long arrivalKernelNanos;
  private long lastArrivalKernelNanos;
  private int peekedBytes;
  private boolean firstBytesClaimable;
  private long bytesWritten; // since the socket connected: kernel send stamps name their bytes by this offset
  /** The offset of the last byte of the latest flush. */
  long flushEndOffset = -1;
  private long stampedThrough = -1; // the offset of the last byte of the latest send stamped
  private final ArrayDeque<PendingSend> pendingSends = new ArrayDeque<>();

  /**
   * A stream's request bytes, up to {@code streamBytes} of its DATA, that end by the socket's {@code endOffset},
   * in a flush that returned at {@code flushedNanos}.
   */
  private record PendingSend(long endOffset, StreamTimes times, long streamBytes, long flushedNanos) {}

  SocketClock(boolean watchArrivals, boolean tls, Channel channel) {
    this.watchArrivals = watchArrivals;
    this.records = tls ? new TlsRecords() : null;
    if (watchArrivals && channel instanceof EpollSocketChannel && !KernelStamps.switchedOff()) {
      // the kernel's arrival stamps are peeked right before each read
      RecvByteBufAllocator reads = channel.config().getRecvByteBufAllocator();
      channel.config().setRecvByteBufAllocator(new PeekBeforeRead(reads, this));
    }
  }

  /** Whether a watch notes this socket's arrivals now (else they are timed when read). */
  boolean watching() {
    return watched != null && watched.live();
  }

  /**
   * Whether the first bytes of the read being handed up are the caller's, the first to ask during that read (the
   * frame that begins it): their times are {@link #firstBytesNanos} and {@link #firstBytesKernelNanos}; every
   * other frame of the read came by {@link #readNanos} and, within {@link #stampedBytes}, by
   * {@link #lastBytesKernelNanos}.
   */
  boolean claimFirstBytes() {
    boolean claimed = firstBytesClaimable;
    firstBytesClaimable = false;
    return claimed;
  }

  /**
   * {@code times}' request bytes, {@code streamBytes} of its DATA so far, went in the latest flush, which returned
   * at {@code flushedNanos}: they learn when the kernel sent them when its stamp comes back.
   */
  void awaitSendStamp(StreamTimes times, long streamBytes, long flushedNanos) {
    if (stamps == null) {
      return;
    }
    if (pendingSends.size() == PENDING_SENDS_MAX) {
      pendingSends.poll(); // its stamp did not come: that stream keeps the socket's times
    }
    pendingSends.add(new PendingSend(flushEndOffset, times, streamBytes, flushedNanos));
  }

  /**
   * Takes the send stamps back from the kernel (each flush's, all of them: the kernel keeps them against the
   * socket's receive buffer), and hands them to the streams waiting for them.
   */
  void takeSendStamps() {
    if (stamps != null && !stamps.usable()) {
      stamps = null; // no stamps after all: the socket's times
      pendingSends.clear();
    }
    if (stamps != null && flushEndOffset > stampedThrough) {
      stamps.drainSent(this::sent);
    }
  }

  private void sent(int lastByteOffset, long nanos) {
    // the stamp names its last byte by 32 bits: the latest offset flushed that agrees with them
    long offset = flushEndOffset - ((int) flushEndOffset - lastByteOffset & 0xffffffffL);
    stampedThrough = Math.max(stampedThrough, offset);
    for (PendingSend pending = pendingSends.peek(); pending != null && pending.endOffset <= offset;
        pending = pendingSends.peek()) {
      pendingSends.poll();
      // a stamp is the time of the last packet of its send: it is the time of the flush's bytes only when the
      // kernel sent them during the flush (bytes it held back, for the congestion window, say, or a stamp that
      // stands for an earlier one it dropped, came later: those keep the socket's time)
      boolean duringFlush = nanos <= pending.flushedNanos;
      pending.times.kernelOutNanos = duringFlush ? nanos : 0; // the stream's latest flush decides
      StreamTimes.ByteTimes sent = pending.times.sent;
      if (sent != null && duringFlush) {
        sent.stampKernel(pending.streamBytes, nanos);
      }
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext context) {
    if (watchArrivals && context.channel() instanceof EpollSocketChannel socket
        && socket.config().getRecvByteBufAllocator() instanceof PeekBeforeRead) {
      try {
        stamps = KernelStamps.enable(socket);
      } catch (java.io.IOException refused) {
        if (refusalSaid.compareAndSet(false, true)) {
          log.warning("no kernel packet times (" + refused.getMessage() + "): calls are timed at the socket");
        }
      }
    }
    if (watchArrivals && stamps == null) {
      watched = ArrivalWatch.watch(context.channel());
    }
    context.fireChannelActive();
  }

  @Override
  public void channelInactive(ChannelHandlerContext context) {
    if (watched != null) {
      watched.close();
      watched = null;
    }
    context.fireChannelInactive();
  }

  @Override
  public void channelRead(ChannelHandlerContext context, Object message) {
    readNanos = System.nanoTime();
    firstBytesNanos = watched == null ? readNanos : watched.take(readNanos);
    boolean stamped = arrivalKernelNanos != 0 && lastArrivalKernelNanos <= readNanos;
    firstBytesKernelNanos = stamped ? arrivalKernelNanos : 0;
    lastBytesKernelNanos = stamped ? lastArrivalKernelNanos : 0;
    // all the frames of a read the peek saw whole (under TLS too: what TLS hands up during a read came in by
    // then, in that read or before); of a read that took more, those in the bytes the peek saw (none under TLS,
    // whose frames lie in plaintext)
    int readBytes = message instanceof ByteBuf bytes ? bytes.readableBytes() : Integer.MAX_VALUE;
    stampedBytes = !stamped ? 0 : readBytes <= peekedBytes ? Integer.MAX_VALUE : records == null ? peekedBytes : 0;
    arrivalKernelNanos = 0;
    firstBytesClaimable = records == null || message instanceof ByteBuf bytes && records.beginsOne(bytes);
    try {
      context.fireChannelRead(message);
    } finally {
      firstBytesClaimable = false;
    }
  }

  /**
   * Right before each read of the socket, of up to {@code bytes}, on its network thread: how many of them wait,
   * stamped (0: none, or no stamps).
   */
  int beforeRead(int bytes) {
    takeSendStamps();
    if (stamps != null) {
      arrivalKernelNanos = stamps.peekArrival();
      // the read may hold several packets: the latest stamp of those it will read is no earlier than any of them
      // (TCP may have merged packets that came out of order under an older one's stamp: never below the first's)
      lastArrivalKernelNanos = arrivalKernelNanos == 0 ? 0
          : Math.max(arrivalKernelNanos, stamps.peekLastArrival(bytes));
      peekedBytes = lastArrivalKernelNanos == 0 ? 0 : stamps.peekedBytes;
    }
    return peekedBytes;
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext context) {
    int socketError = stamps == null ? 0 : stamps.takeSocketError();
    if (socketError != 0) {
      // what Netty's read would have reported, had the peek not taken it first
      context.fireExceptionCaught(new Errors.NativeIoException("recvmsg", -socketError));
    }
    context.fireChannelReadComplete();
  }

  @Override
  public void write(ChannelHandlerContext context, Object message, ChannelPromise promise) {
    if (tapAboveTls != null) {
      // TLS's first record (its hello) comes from the TLS handler: the tap goes right above it, in plaintext
      ChannelHandlerContext tls = context.pipeline().context(SslHandler.class);
      if (tls != null) {
        context.pipeline().addAfter(tls.name(), "pingkit-frame-tap", tapAboveTls);
        tapAboveTls = null;
      }
    }
    if (message instanceof ByteBuf bytes) {
      bytesWritten += bytes.readableBytes();
    }
    context.write(message, promise);
  }

  @Override
  public void flush(ChannelHandlerContext context) {
    if (watched != null) {
      watched.arm(); // before the bytes go: an answer cannot come sooner
    }
    flushNanos = System.nanoTime();
    flushEndOffset = bytesWritten - 1;
    context.flush();
  }

  /**
   * Follows the TLS records coming in, reading only their 5-byte headers; bytes that are not TLS records (a
   * proxy's handshake before them) end it, and no read is claimed again.
   */
  private static final class TlsRecords {
    private final byte[] header = new byte[5];
    private int headerFill;
    private int bodyLeft;
    private boolean lost;

    /** Walks a read's bytes: true when it begins a record, at its first byte, and begins no other. */
    boolean beginsOne(ByteBuf bytes) {
      boolean atBoundary = headerFill == 0 && bodyLeft == 0;
      int begun = 0;
      for (int index = bytes.readerIndex(), end = bytes.writerIndex(); index < end; ) {
        if (bodyLeft > 0) {
          int skipped = Math.min(bodyLeft, end - index);
          index += skipped;
          bodyLeft -= skipped;
        } else {
          begun += headerFill == 0 ? 1 : 0;
          header[headerFill++] = bytes.getByte(index++);
          if (headerFill == header.length) {
            headerFill = 0;
            bodyLeft = (header[3] & 0xff) << 8 | (header[4] & 0xff);
            // a record's type is 20-24 and its version 3.x
            lost |= header[0] < 20 || header[0] > 24 || header[1] != 3;
          }
        }
      }
      return !lost && atBoundary && begun == 1;
    }
  }
}
