// First in each client connection's pipeline: the times of the socket's flushes and reads, and when a read's first
// bytes arrived.

package pingkit.wire;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.ChannelDuplexHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;

/**
 * First in the pipeline, next to the socket: when a flush began to hand bytes over, when the latest read returned
 * them, and when that read's first bytes arrived (noted by the {@link ArrivalWatch}, else the read's time). The
 * arrival belongs to the first bytes of the read only: the frame tap gives it to a frame that begins the read,
 * once, and the read's time to every other. Under TLS a read's first bytes are known to be the first plaintext
 * handed up only when the read begins exactly one TLS record (of several, the first may carry no data).
 */
final class SocketClock extends ChannelDuplexHandler {
  private final boolean watchArrivals;
  private final TlsRecords records;
  private ArrivalWatch.Socket watched;
  FrameTap tapAboveTls;
  long flushNanos;
  long readNanos;
  private long firstBytesNanos;
  private boolean firstBytesClaimable;

  SocketClock(boolean watchArrivals, boolean tls) {
    this.watchArrivals = watchArrivals;
    this.records = tls ? new TlsRecords() : null;
  }

  /** Whether a watch notes this socket's arrivals now (else they are timed when read). */
  boolean watching() {
    return watched != null && watched.live();
  }

  /**
   * When the first bytes of the read being handed up arrived, to the first taker during that read (the frame
   * that begins it); else when the read returned: later than any of its bytes arrived, never earlier.
   */
  long claimFirstBytes() {
    if (!firstBytesClaimable) {
      return readNanos;
    }
    firstBytesClaimable = false;
    return firstBytesNanos;
  }

  @Override
  public void channelActive(ChannelHandlerContext context) {
    if (watchArrivals) {
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
    firstBytesClaimable = records == null || message instanceof ByteBuf bytes && records.beginsOne(bytes);
    try {
      context.fireChannelRead(message);
    } finally {
      firstBytesClaimable = false;
    }
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
    context.write(message, promise);
  }

  @Override
  public void flush(ChannelHandlerContext context) {
    if (watched != null) {
      watched.arm(); // before the bytes go: an answer cannot come sooner
    }
    flushNanos = System.nanoTime();
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
