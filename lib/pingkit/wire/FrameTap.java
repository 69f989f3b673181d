// The clients' Netty handlers at the socket: a clock next to the socket, and the HTTP/2 frame tap that says which
// stream, that is which call, the bytes at the socket belong to.

package pingkit.wire;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.ChannelDuplexHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.util.collection.IntObjectHashMap;
import io.grpc.netty.shaded.io.netty.util.concurrent.FastThreadLocal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Follows the HTTP/2 frames of the connection, both ways, reading only their 9-byte headers: a request's
 * headers open its stream's times, the flush that carries its last frame is its time out, and the first frame of
 * its answer its time in: when the read's first bytes arrived if that frame begins the read, else when the read
 * returned (a frame further in may have come later than the first bytes: a flow-control PING, say, then the
 * answer). So no time in is ever earlier than its frame's arrival. Bytes that are not HTTP/2 as a client sees it
 * (a proxy's handshake, say) end the timing of the connection: its calls then fall back to the application's
 * times.
 */
final class FrameTap extends ChannelDuplexHandler {
  /** The stream whose headers' write is completing on this thread (gRPC reports them sent from there). */
  static final FastThreadLocal<StreamTimes> headersCompleting = new FastThreadLocal<>();

  private static final byte[] CLIENT_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final int DATA = 0;
  private static final int HEADERS = 1;
  private static final int RST_STREAM = 3;
  private static final int SETTINGS = 4;
  private static final int CONTINUATION = 9;
  private static final int END_STREAM = 0x1;
  private static final int END_HEADERS = 0x4;
  private static final int PADDED = 0x8;

  private final SocketClock clock;
  private final IntObjectHashMap<StreamTimes> streams = new IntObjectHashMap<>();
  private final List<StreamTimes> endedSinceFlush = new ArrayList<>();
  private long streamEndedNanos; // when the latest frame that ended a stream, in the read being handed up, came
  private StreamTimes opening;
  private StreamTimes headersEnded;
  private boolean lost;
  private boolean reading;

  private final FrameWalk outbound = new FrameWalk(CLIENT_PREFACE.length) {
    @Override
    boolean started() {
      if (type == HEADERS && (streamId & 1) == 1 && !streams.containsKey(streamId)) {
        opening = new StreamTimes();
        streams.put(streamId, opening);
        if (reading) {
          // a new stream's headers sent while an answer is read: it waited for the server's limit on streams,
          // and the end of that answer's stream let it out (new calls are sent from the write queue, later)
          opening.streamFreedNanos = streamEndedNanos;
        }
      } else if (type == RST_STREAM) {
        streams.remove(streamId);
      }
      return true;
    }

    @Override
    void ended() {
      if ((type == HEADERS || type == CONTINUATION) && (flags & END_HEADERS) != 0 && opening != null) {
        headersEnded = opening;
        opening = null;
      }
      // a request's last frame, or a message's bytes: the flush that carries them is their time out
      if (type == DATA || type == HEADERS && (flags & END_STREAM) != 0) {
        StreamTimes times = streams.get(streamId);
        if (times != null) {
          times.outBytes += type == DATA ? payloadBytes : 0;
          endedSinceFlush.add(times);
        }
      }
    }
  };

  private final FrameWalk inbound = new FrameWalk(0) {
    private boolean settingsSeen;

    @Override
    boolean started() {
      if (!settingsSeen) {
        settingsSeen = type == SETTINGS && streamId == 0; // a server's first frame
        return settingsSeen;
      }
      StreamTimes times = streams.get(streamId);
      if (times != null) {
        // an answer begins: the call's first frame back (not a WINDOW_UPDATE of its upload)
        if (times.inNanos == 0 && (type == HEADERS || type == DATA || type == RST_STREAM)) {
          times.watchedConnection = clock.watching();
          times.kernelInNanos = frameKernelNanos;
          times.inNanos = frameNanos;
        }
        StreamTimes.ByteTimes received = times.received;
        if (type == DATA && payloadBytes > 0 && received != null) { // an empty one has no byte of a message
          received.add(times.inBytes, frameNanos, frameKernelNanos);
          times.inBytes += payloadBytes;
          times.offsetsKnown &= (flags & PADDED) == 0; // its padding would count as message bytes
        }
        if (type == RST_STREAM || (flags & END_STREAM) != 0 && (type == HEADERS || type == DATA)) {
          streams.remove(streamId);
          streamEndedNanos = frameNanos;
        }
      }
      return true;
    }
  };

  FrameTap(SocketClock clock) {
    this.clock = clock;
  }

  @Override
  public void write(ChannelHandlerContext context, Object message, ChannelPromise promise) {
    headersEnded = null;
    if (!lost && message instanceof ByteBuf bytes && !outbound.walk(bytes)) {
      lose();
    }
    StreamTimes times = headersEnded;
    if (times == null || promise.isVoid()) {
      context.write(message, promise);
      return;
    }
    // gRPC reports a stream's headers sent when their write completes: in that report, this is the stream
    ChannelPromise written = context.newPromise();
    written.addListener(done -> {
      headersCompleting.set(times);
      try {
        if (done.isSuccess()) {
          promise.trySuccess();
        } else {
          promise.tryFailure(done.cause());
        }
      } finally {
        headersCompleting.remove();
      }
    });
    context.write(message, written);
  }

  @Override
  public void flush(ChannelHandlerContext context) {
    long tapNanos = System.nanoTime();
    context.flush();
    long flushedNanos = System.nanoTime();
    // the clock's time, when the flush reached the socket during ours (under TLS: after encryption)
    boolean atSocket = clock.flushNanos >= tapNanos;
    long outNanos = atSocket ? clock.flushNanos : tapNanos;
    for (StreamTimes times : endedSinceFlush) {
      times.outNanos = outNanos;
      times.outBytesFlushed = times.outBytes;
      StreamTimes.ByteTimes sent = times.sent;
      if (sent != null) {
        sent.add(times.outBytes, outNanos, 0);
      }
      if (atSocket) {
        clock.awaitSendStamp(times, times.outBytes, flushedNanos);
      }
    }
    endedSinceFlush.clear();
    clock.takeSendStamps(); // over loopback, and most devices, the send's stamp is back already
  }

  @Override
  public void channelRead(ChannelHandlerContext context, Object message) {
    streamEndedNanos = clock.readNanos; // a stream let out by this read by no stream's end (a new limit): then
    boolean first = clock.claimFirstBytes();
    if (!lost && message instanceof ByteBuf bytes && !inbound.walk(bytes, first ? clock.firstBytesNanos
        : clock.readNanos, clock.readNanos, first ? clock.firstBytesKernelNanos : 0, clock.lastBytesKernelNanos,
        clock.stampedBytes)) {
      lose();
    }
    reading = true;
    try {
      context.fireChannelRead(message);
    } finally {
      reading = false;
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext context) {
    streams.clear();
    endedSinceFlush.clear();
    context.fireChannelInactive();
  }

  private void lose() {
    lost = true;
    streams.clear();
    endedSinceFlush.clear();
    opening = null;
    headersEnded = null;
  }

  /**
   * Walks a byte stream given piece by piece as HTTP/2 frames: reads each frame's header, skips its payload, and
   * knows when each frame's first byte came.
   */
  abstract static class FrameWalk {
    private final byte[] header = new byte[9];
    private int prefaceLeft;
    private int headerFill;
    private int payloadLeft;
    int type;
    int flags;
    int streamId;
    int payloadBytes;
    /** When the current frame's first byte came: the piece's first bytes' time if it begins it, else the piece's. */
    long frameNanos;
    /** The kernel's stamp of the same (0: none), no earlier than its first byte's arrival. */
    long frameKernelNanos;

    FrameWalk(int prefaceBytes) {
      this.prefaceLeft = prefaceBytes;
    }

    /** A frame's header was read (type, flags, streamId); false: not the HTTP/2 expected. */
    abstract boolean started();

    /** The frame's last byte went by. */
    void ended() {}

    /** Walks {@code bytes} without consuming them; false when they are not HTTP/2 as expected. */
    final boolean walk(ByteBuf bytes) {
      return walk(bytes, 0, 0, 0, 0, 0);
    }

    /**
     * The same, for a piece whose first bytes came at {@code firstBytesNanos} (the kernel's stamp:
     * {@code firstBytesKernelNanos}, 0 if none known) and whose others by {@code pieceNanos}; by the kernel's
     * stamps, its first {@code stampedBytes} came by {@code lastBytesKernelNanos}.
     */
    final boolean walk(ByteBuf bytes, long firstBytesNanos, long pieceNanos, long firstBytesKernelNanos,
        long lastBytesKernelNanos, int stampedBytes) {
      int start = bytes.readerIndex();
      int index = start;
      int end = bytes.writerIndex();
      while (index < end) {
        if (prefaceLeft > 0) {
          if (bytes.getByte(index++) != CLIENT_PREFACE[CLIENT_PREFACE.length - prefaceLeft--]) {
            return false;
          }
        } else if (payloadLeft > 0) {
          int skipped = Math.min(payloadLeft, end - index);
          index += skipped;
          payloadLeft -= skipped;
          if (payloadLeft == 0) {
            ended();
          }
        } else {
          if (headerFill == 0) {
            frameNanos = index == start ? firstBytesNanos : pieceNanos;
            frameKernelNanos = index == start && firstBytesKernelNanos != 0 ? firstBytesKernelNanos
                : index - start < stampedBytes ? lastBytesKernelNanos : 0;
          }
          header[headerFill++] = bytes.getByte(index++);
          if (headerFill == header.length) {
            headerFill = 0;
            payloadLeft = (header[0] & 0xff) << 16 | (header[1] & 0xff) << 8 | (header[2] & 0xff);
            payloadBytes = payloadLeft;
            type = header[3] & 0xff;
            flags = header[4] & 0xff;
            streamId = (header[5] & 0x7f) << 24 | (header[6] & 0xff) << 16 | (header[7] & 0xff) << 8
                | (header[8] & 0xff);
            if (!started()) {
              return false;
            }
            if (payloadLeft == 0) {
              ended();
            }
          }
        }
      }
      return true;
    }
  }
}
