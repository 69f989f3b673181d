// The clients' clock at the socket (ping-client.java and health-check.java pull it through Client.java): each
// call timed where its bytes leave and reach the process, apart from the client's own work before and after.

import io.grpc.ClientStreamTracer;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelDuplexHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventArray;
import io.grpc.netty.shaded.io.netty.channel.epoll.Native;
import io.grpc.netty.shaded.io.netty.channel.unix.FileDescriptor;
import io.grpc.netty.shaded.io.netty.channel.unix.UnixChannel;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.util.collection.IntObjectHashMap;
import io.grpc.netty.shaded.io.netty.util.concurrent.FastThreadLocal;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * Times calls at the socket. Each connection gets two Netty handlers: a {@link SocketClock} first in the pipeline,
 * which notes when a flush hands bytes to the socket and when bytes came back, and a {@link FrameTap} that follows
 * the HTTP/2 frames (right after the clock, or right after TLS, whose records it cannot read) and gives those times
 * to the streams the frames belong to. A call's {@link CallClock}, a gRPC stream tracer, learns its stream when
 * gRPC reports the stream's headers sent: the tap runs that report inside the completion of the write that ended
 * them. Arrivals are taken by an {@link ArrivalWatch} where there is one: the network thread may be busy with the
 * client's own work when an answer comes, and would read it late.
 */
final class WireClock {
  private static final Logger log = Logger.getLogger("pingkit.client");
  private static final AtomicBoolean unavailableSaid = new AtomicBoolean();
  /** The stream whose headers' write is completing on this thread (gRPC reports them sent from there). */
  private static final FastThreadLocal<StreamTimes> headersCompleting = new FastThreadLocal<>();

  private WireClock() {}

  /**
   * {@code channel}, with a clock and a tap in its pipeline; with TLS, the tap goes above TLS once it is there.
   * {@code watchArrivals}: a thread of its own notes when answers arrive (for connections with few calls).
   */
  static <C extends Channel> C attach(C channel, boolean tls, boolean watchArrivals) {
    SocketClock clock = new SocketClock(watchArrivals);
    FrameTap tap = new FrameTap(clock);
    channel.pipeline().addFirst("pingkit-socket-clock", clock);
    if (tls) {
      clock.tapAboveTls = tap;
    } else {
      channel.pipeline().addAfter("pingkit-socket-clock", "pingkit-frame-tap", tap);
    }
    return channel;
  }

  /** One call's times, in {@link System#nanoTime()} nanoseconds: at the application and at the socket. */
  static final class CallClock extends ClientStreamTracer {
    final long appSendNanos = System.nanoTime();
    private StreamTimes stream;
    private long appReceiveNanos;

    /** What gives gRPC this clock as the call's stream tracer (call options take a factory). */
    ClientStreamTracer.Factory factory() {
      return new ClientStreamTracer.Factory() {
        @Override
        public ClientStreamTracer newClientStreamTracer(ClientStreamTracer.StreamInfo info, Metadata headers) {
          return CallClock.this;
        }
      };
    }

    @Override
    public void outboundHeaders() {
      stream = headersCompleting.get();
    }

    /** The call ended for the application (answered: with a reply): its end is being handed over now. */
    void received(boolean answered) {
      appReceiveNanos = System.nanoTime();
      if (answered && !onWire() && unavailableSaid.compareAndSet(false, true)) {
        log.warning("no wire times on this connection: its RTTs include the client's own time");
      }
    }

    /** Whether the socket's times were taken: the request went out, and an answer came back. */
    boolean onWire() {
      return stream != null && stream.outNanos != 0 && stream.inNanos != 0;
    }

    /** When the request's last bytes were handed to the socket (without wire times: when the call started). */
    long wireOutNanos() {
      return onWire() ? stream.outNanos : appSendNanos;
    }

    /** When the answer's first bytes came back (without wire times: when the call ended). */
    long wireInNanos() {
      return onWire() ? stream.inNanos : appReceiveNanos;
    }

    long appReceiveNanos() {
      return appReceiveNanos;
    }

    /** The network's and the server's time: from the request handed to the socket to the answer back. */
    long rttNanos() {
      return wireInNanos() - wireOutNanos();
    }

    /**
     * How long the call waited for the server to allow one more stream on the connection (its max concurrent
     * streams): from its start to the answer that freed a stream for it.
     */
    long serverQueueNanos() {
      return onWire() && stream.streamFreedNanos != 0 ? Math.max(0, stream.streamFreedNanos - appSendNanos) : 0;
    }

    /** The time the server is answerable for: waiting for a stream it allowed, then the round trip. */
    long latencyNanos() {
      return serverQueueNanos() + rttNanos();
    }

    /** The client's own time before the wire: building, encoding and queueing the request. */
    long sendOverheadNanos() {
      return wireOutNanos() - appSendNanos - serverQueueNanos();
    }

    /** The client's own time after the wire: reading, decoding and handing over the answer. */
    long receiveOverheadNanos() {
      return appReceiveNanos - wireInNanos();
    }
  }

  /**
   * What the socket saw of one stream: when its request's last bytes went out, when its answer began, and when
   * it was let out by another stream's end (it had waited for the server's limit on streams), if it was.
   */
  private static final class StreamTimes {
    volatile long outNanos;
    volatile long inNanos;
    volatile long streamFreedNanos;
  }

  /**
   * First in the pipeline, next to the socket: when a flush handed bytes over, when the latest read returned
   * bytes, and when they arrived (watched, when there is a watch and it saw them; else the read's time).
   */
  private static final class SocketClock extends ChannelDuplexHandler {
    private final boolean watchArrivals;
    private ArrivalWatch watch;
    FrameTap tapAboveTls;
    long flushNanos;
    long readNanos;
    long arrivedNanos;

    SocketClock(boolean watchArrivals) {
      this.watchArrivals = watchArrivals;
    }

    @Override
    public void channelActive(ChannelHandlerContext context) {
      if (watchArrivals) {
        watch = ArrivalWatch.of(context.channel());
      }
      context.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
      if (watch != null) {
        watch.close();
      }
      context.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object message) {
      readNanos = System.nanoTime();
      long watchedNanos = watch == null ? 0 : watch.take();
      arrivedNanos = watchedNanos > flushNanos && watchedNanos < readNanos ? watchedNanos : readNanos;
      context.fireChannelRead(message);
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
      if (watch != null) {
        watch.arm(); // before the bytes go: an answer cannot come sooner
      }
      flushNanos = System.nanoTime();
      context.flush();
    }
  }

  /**
   * Follows the HTTP/2 frames of the connection, both ways, reading only their 9-byte headers: a request's
   * headers open its stream's times, the flush that carries its last frame is its time out, and the read that
   * brings the first frame of its answer its time in (the watched arrival only when the read begins one answer
   * alone: of several, some came later). Bytes that are not HTTP/2 as a client sees it (a proxy's handshake, say)
   * end the timing of the connection: its calls then fall back to the application's times.
   */
  private static final class FrameTap extends ChannelDuplexHandler {
    private static final byte[] CLIENT_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int DATA = 0;
    private static final int HEADERS = 1;
    private static final int RST_STREAM = 3;
    private static final int SETTINGS = 4;
    private static final int CONTINUATION = 9;
    private static final int END_STREAM = 0x1;
    private static final int END_HEADERS = 0x4;

    private final SocketClock clock;
    private final IntObjectHashMap<StreamTimes> streams = new IntObjectHashMap<>();
    private final List<StreamTimes> endedSinceFlush = new ArrayList<>();
    private final List<StreamTimes> answersBegun = new ArrayList<>();
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
            opening.streamFreedNanos = clock.arrivedNanos;
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
        if ((type == HEADERS || type == DATA) && (flags & END_STREAM) != 0) {
          StreamTimes times = streams.get(streamId);
          if (times != null) {
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
          if (times.inNanos == 0 && !answersBegun.contains(times)) {
            answersBegun.add(times);
          }
          if (type == RST_STREAM || (flags & END_STREAM) != 0 && (type == HEADERS || type == DATA)) {
            streams.remove(streamId);
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
      // the clock's time, when the flush reached the socket during ours (under TLS: after encryption)
      long outNanos = clock.flushNanos >= tapNanos ? clock.flushNanos : tapNanos;
      for (StreamTimes times : endedSinceFlush) {
        times.outNanos = outNanos;
      }
      endedSinceFlush.clear();
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object message) {
      if (!lost && message instanceof ByteBuf bytes) {
        if (!inbound.walk(bytes)) {
          lose();
        }
        for (StreamTimes times : answersBegun) {
          times.inNanos = answersBegun.size() == 1 ? clock.arrivedNanos : clock.readNanos;
        }
        answersBegun.clear();
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
      answersBegun.clear();
      context.fireChannelInactive();
    }

    private void lose() {
      lost = true;
      streams.clear();
      endedSinceFlush.clear();
      answersBegun.clear();
      opening = null;
      headersEnded = null;
    }
  }

  /**
   * A thread of its own that notes when bytes arrive on one socket, while the network thread may still be busy
   * with the client's own work (a fresh JVM's takes a tenth of a millisecond or more after each write). It waits in
   * an epoll set of its own (Linux), armed for one arrival at each flush and taken at each read.
   */
  private static final class ArrivalWatch implements Runnable {
    private static final int EPOLLONESHOT = 1 << 30;
    private static final AtomicBoolean unwatchedSaid = new AtomicBoolean();
    private final int socketFd;
    private final FileDescriptor epoll;
    private final FileDescriptor wake;
    private final FileDescriptor timer;
    private final EpollEventArray events;
    private final AtomicLong arrivedNanos = new AtomicLong();
    private volatile boolean closed;

    private ArrivalWatch(int socketFd, EpollEventArray events, FileDescriptor epoll, FileDescriptor wake,
        FileDescriptor timer) {
      this.socketFd = socketFd;
      this.events = events;
      this.epoll = epoll;
      this.wake = wake;
      this.timer = timer;
    }

    /** A watch of {@code channel}'s socket, or null (not Linux, or Netty's internals changed: read times then). */
    static ArrivalWatch of(Channel channel) {
      if (!(channel instanceof UnixChannel unix) || !Epoll.isAvailable()) {
        return null;
      }
      List<FileDescriptor> opened = new ArrayList<>();
      try {
        // Netty's own array of epoll events, whose constructor is not public
        Constructor<EpollEventArray> newEvents = EpollEventArray.class.getDeclaredConstructor(int.class);
        newEvents.setAccessible(true);
        EpollEventArray events = newEvents.newInstance(2);
        FileDescriptor epoll = opened(opened, Native.newEpollCreate());
        FileDescriptor wake = opened(opened, Native.newEventFd());
        FileDescriptor timer = opened(opened, Native.newTimerFd());
        Native.epollCtlAdd(epoll.intValue(), wake.intValue(), Native.EPOLLIN);
        Native.epollCtlAdd(epoll.intValue(), unix.fd().intValue(), 0);
        ArrivalWatch watch = new ArrivalWatch(unix.fd().intValue(), events, epoll, wake, timer);
        Thread thread = new Thread(watch, "pingkit-arrivals");
        thread.setDaemon(true);
        thread.start();
        return watch;
      } catch (IOException | ReflectiveOperationException | RuntimeException e) {
        closeAll(opened);
        if (unwatchedSaid.compareAndSet(false, true)) {
          log.info("arrivals are not watched (" + Pingkit.oneLine(e) + "): answers are timed when read");
        }
        return null;
      }
    }

    private static FileDescriptor opened(List<FileDescriptor> opened, FileDescriptor fd) {
      opened.add(fd);
      return fd;
    }

    private static void closeAll(List<FileDescriptor> fds) {
      for (FileDescriptor fd : fds) {
        try {
          fd.close();
        } catch (IOException e) {
          // closing our own descriptors: nothing to do about it
        }
      }
    }

    @Override
    @SuppressWarnings("deprecation") // Netty's epollWait with a timer descriptor: the one public way to wait
    public void run() {
      try {
        while (!closed) {
          int ready = Native.epollWait(epoll, events, timer, Integer.MAX_VALUE, 0); // no time limit
          long nowNanos = System.nanoTime();
          if (ready > 0 && !closed) {
            arrivedNanos.compareAndSet(0, nowNanos);
          }
        }
      } catch (IOException e) {
        log.fine("arrival watch ended: " + Pingkit.oneLine(e)); // reads are timed when read from now on
      } finally {
        closeAll(List.of(epoll, wake, timer));
      }
    }

    /** Watches for the next arrival (the network thread, before a flush). */
    void arm() {
      arrivedNanos.set(0);
      try {
        Native.epollCtlMod(epoll.intValue(), socketFd, Native.EPOLLIN | EPOLLONESHOT);
      } catch (IOException e) {
        // the socket is closing: its reads are timed when read
      }
    }

    /** When bytes arrived since the last flush, or 0 (the network thread, at a read). */
    long take() {
      return arrivedNanos.getAndSet(0);
    }

    void close() {
      closed = true;
      try {
        Native.eventFdWrite(wake.intValue(), 1);
      } catch (RuntimeException e) {
        // the watch has ended already
      }
    }
  }

  /** Walks a byte stream given piece by piece as HTTP/2 frames: reads each frame's header, skips its payload. */
  private abstract static class FrameWalk {
    private final byte[] header = new byte[9];
    private int prefaceLeft;
    private int headerFill;
    private int payloadLeft;
    int type;
    int flags;
    int streamId;

    FrameWalk(int prefaceBytes) {
      this.prefaceLeft = prefaceBytes;
    }

    /** A frame's header was read (type, flags, streamId); false: not the HTTP/2 expected. */
    abstract boolean started();

    /** The frame's last byte went by. */
    void ended() {}

    /** Walks {@code bytes} without consuming them; false when they are not HTTP/2 as expected. */
    final boolean walk(ByteBuf bytes) {
      int index = bytes.readerIndex();
      int end = bytes.writerIndex();
      while (index < end) {
        if (prefaceLeft > 0) {
          if (bytes.getByte(index++) != FrameTap.CLIENT_PREFACE[FrameTap.CLIENT_PREFACE.length - prefaceLeft--]) {
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
          header[headerFill++] = bytes.getByte(index++);
          if (headerFill == header.length) {
            headerFill = 0;
            payloadLeft = (header[0] & 0xff) << 16 | (header[1] & 0xff) << 8 | (header[2] & 0xff);
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
