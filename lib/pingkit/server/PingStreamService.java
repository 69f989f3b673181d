// pingkit's streaming ping service, /pingkit.PingStream/Echo: each message echoed on its stream, in order, its delay
// a timer, and no more read than the client takes back.

package pingkit.server;

import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import pingkit.Pingkit;
import pingkit.WallClock;
import pingkit.fgrpc.PingMessage;
import pingkit.stream.PingStreamGrpc;

/**
 * Each request is answered on its stream by its echo, {@code ts} set to this server's wall clock at receipt, sent
 * {@code delayNanos} later and never before the replies of the requests before it, {@code delayNanos} the delay
 * applied (at most --max-delay, none for a negative one). A stream
 * runs on its connection's event loop (the server's handlers run there): its delays are timers, never threads.
 * Flow control: a message is asked for only while fewer than {@link #MAX_PENDING_REPLIES} replies wait and the
 * client takes what is sent (the call is ready), so a client that stops reading is no longer read from.
 */
public final class PingStreamService extends PingStreamGrpc.PingStreamImplBase {
  static final int MAX_PENDING_REPLIES = 256;
  public static final String DRAINED = "ping-server is draining: the stream ended after every reply due was sent";
  private static final Logger log = Logger.getLogger("pingkit.server");

  private final long maxDelayNanos;
  private final boolean logMessages;
  private final ServerLoops loops;
  private final Set<Echo> open = ConcurrentHashMap.newKeySet();
  private volatile boolean draining;

  public PingStreamService(Duration maxDelay, boolean logMessages, ServerLoops loops) {
    this.maxDelayNanos = maxDelay.toNanos();
    this.logMessages = logMessages;
    this.loops = loops;
  }

  @Override
  public StreamObserver<PingMessage> echo(StreamObserver<PingMessage> responseObserver) {
    var call = (ServerCallStreamObserver<PingMessage>) responseObserver;
    EventExecutor loop = loops.current();
    if (loop == null) {
      // its replies are ordered and timed on its loop alone: off the server's loops (a gRPC change) it cannot be
      log.warning("a stream's handler ran off the server's network threads: the stream was refused");
      call.onError(Status.INTERNAL.withDescription("ping-server cannot serve this stream off its network threads")
          .asRuntimeException());
      return new StreamObserver<>() {
        @Override
        public void onNext(PingMessage value) {}

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
      };
    }
    call.disableAutoRequest();
    Echo stream = new Echo(call, InFlightBudget.currentCall(), loop);
    open.add(stream);
    stream.bytes.onRefused(stream::ended); // what it holds is let go at once, not when its trailers have gone
    call.setOnReadyHandler(stream::ready);
    call.setOnCancelHandler(stream::ended);
    call.setOnCloseHandler(stream::ended); // closed by the server: ended, or refused by the budget
    if (draining) {
      stream.drain();
    } else {
      stream.ready();
    }
    return stream;
  }

  /** The drain: open streams read no more, send every reply due, then end with UNAVAILABLE ({@link #DRAINED}). */
  public void drain() {
    draining = true;
    open.forEach(stream -> stream.loop.execute(stream::drain));
  }

  /** One stream: its replies waiting, in the order of their requests. Touched on its event loop only. */
  private final class Echo implements StreamObserver<PingMessage> {
    private final ServerCallStreamObserver<PingMessage> call;
    private final StreamBytes bytes;
    private final EventExecutor loop;
    private final ArrayDeque<Reply> pending = new ArrayDeque<>();
    private boolean requested;
    private boolean halfClosed;
    private boolean ended;
    private boolean drained;
    private long unsentBytes; // of replies handed to gRPC while the client was not taking them
    private ScheduledFuture<?> timer;

    private record Reply(PingMessage message, long dueNanos, long heldBytes) {}

    Echo(ServerCallStreamObserver<PingMessage> call, StreamBytes bytes, EventExecutor loop) {
      this.call = call;
      this.bytes = bytes;
      this.loop = loop;
    }

    @Override
    public void onNext(PingMessage request) {
      requested = false;
      // stamped first, then timed: its delay counts from no sooner than the stamp a client subtracts it from
      long receivedWallNanos = WallClock.nanos();
      long receivedNanos = System.nanoTime();
      long delayNanos = Math.max(0, Math.min(request.getDelayNanos(), maxDelayNanos));
      PingMessage reply = request.toBuilder().setTs(receivedWallNanos).setDelayNanos(delayNanos).build();
      if (logMessages) {
        log.info("stream message seq=" + request.getSeq() + " payload=" + request.getPayload().length()
            + "B delay=" + Pingkit.formatDuration(Duration.ofNanos(delayNanos)));
      }
      pending.add(new Reply(reply, receivedNanos + delayNanos, bytes.messageBytes()));
      sendDue();
      readMore();
    }

    @Override
    public void onError(Throwable t) {
      ended(); // the client cancelled (its handler ran first)
    }

    @Override
    public void onCompleted() {
      halfClosed = true;
      endIfDone();
    }

    /** Sends the replies now due, in order; a timer waits for the next one. */
    private void sendDue() {
      if (ended || bytes.refused()) {
        return;
      }
      long now = System.nanoTime();
      while (!pending.isEmpty() && pending.peek().dueNanos() <= now) {
        Reply reply = pending.poll();
        call.onNext(reply.message());
        unsentBytes += reply.heldBytes(); // held until the client has taken it (the call is ready again)
      }
      if (unsentBytes > 0 && call.isReady()) {
        bytes.release(unsentBytes);
        unsentBytes = 0;
      }
      if (!pending.isEmpty() && timer == null) {
        timer = loop.schedule(() -> {
          timer = null;
          sendDue();
          readMore();
          endIfDone();
        }, pending.peek().dueNanos() - now, TimeUnit.NANOSECONDS);
      }
    }

    /** The client takes what is sent (gRPC's onReady): what was held for it is given back, one more is read. */
    void ready() {
      if (call.isReady() && unsentBytes > 0) {
        bytes.release(unsentBytes);
        unsentBytes = 0;
      }
      readMore();
    }

    /** Asks for one more message, if the client takes what is sent and few replies wait. */
    private void readMore() {
      if (!requested && !halfClosed && !drained && !ended && !bytes.refused()
          && pending.size() < MAX_PENDING_REPLIES && call.isReady()) {
        requested = true;
        call.request(1);
      }
    }

    void drain() {
      drained = true;
      endIfDone();
    }

    /** Ends the stream once the client has half-closed, or a drain began, and every reply was sent. */
    private void endIfDone() {
      if (ended || !pending.isEmpty() || bytes.refused() || !(halfClosed || drained)) {
        return;
      }
      ended = true;
      open.remove(this);
      if (halfClosed) {
        call.onCompleted();
      } else {
        call.onError(Status.UNAVAILABLE.withDescription(DRAINED).asRuntimeException());
      }
    }

    /** The stream is over, whatever ended it (the client, the server, the budget): nothing more is sent. */
    void ended() {
      ended = true;
      open.remove(this);
      if (timer != null) {
        timer.cancel(false);
      }
      pending.clear(); // the budget gives the call's bytes back when its stream closes
    }
  }
}
