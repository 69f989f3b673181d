// ping-server's budget for the bytes of calls in flight: memory is what a client can take from an echo server, so
// what calls hold is counted, and a call beyond it is refused.

package pingkit.server;

import io.grpc.Context;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.logging.Logger;
import pingkit.Pingkit;

/**
 * The bytes of calls in flight, against a budget. A call's request counts from the moment its bytes are read off
 * the connection (gRPC tells a stream tracer as a message's body comes in, before the message is whole; a
 * compressed one counts its size whole once it is parsed) until the call ends; a ping's reply, an echo, counts
 * as much again from when its request is whole (it is held for its delay, then until the client has read it).
 * Other calls' messages (health, reflection) are handled at once and count only while they are read. A call that
 * would go over the budget is refused at once with RESOURCE_EXHAUSTED, and what it had read is let go. A stream of
 * echoes counts each message like a ping, and its service gives the message's bytes back once its reply is sent
 * ({@link #currentCall}); a message beyond the budget ends the stream with RESOURCE_EXHAUSTED. The last
 * {@link #SMALL_CALLS_SHARE} of the budget is kept for small calls (up to {@link #SMALL_CALL_BYTES}): while big
 * pings fill the rest, small pings, health checks and reflection are still answered.
 */
public final class InFlightBudget implements ServerInterceptor {
  static final long SMALL_CALL_BYTES = 64 << 10;
  static final double SMALL_CALLS_SHARE = 0.125;
  private static final Logger log = Logger.getLogger("pingkit.server");
  private static final Context.Key<CallBytes> CALL_BYTES = Context.key("pingkit-call-bytes");

  private final long limitBytes;
  private final long bigCallsLimitBytes;
  private final String flag;
  private final String echoMethod;
  private final String streamEchoMethod;
  private final AtomicLong usedBytes = new AtomicLong();
  private final AtomicLong refusals = new AtomicLong();
  private final AtomicLong refusalsToReport = new AtomicLong();
  private final ServerLoops loops;
  private final LongConsumer changed;

  /**
   * A budget of {@code limitBytes} (--max-inflight-bytes) for requests of up to {@code maxMessageBytes}; replies of
   * {@code echoMethod} and {@code streamEchoMethod} (full method names) are counted as the size of their request;
   * a refused call is closed on its own thread of {@code loops}; {@code changed} is told the bytes in flight after
   * each change.
   */
  InFlightBudget(long limitBytes, long maxMessageBytes, String echoMethod, String streamEchoMethod,
      ServerLoops loops, LongConsumer changed) {
    this.limitBytes = limitBytes;
    this.bigCallsLimitBytes = (long) (limitBytes * (1 - SMALL_CALLS_SHARE));
    this.flag = "--max-inflight-bytes " + Pingkit.formatByteSize(limitBytes);
    this.echoMethod = echoMethod;
    this.streamEchoMethod = streamEchoMethod;
    this.loops = loops;
    this.changed = changed;
    if (2 * maxMessageBytes > bigCallsLimitBytes) {
      log.warning("a ping of --max-message-size " + Pingkit.formatByteSize(maxMessageBytes) + " and its echo"
          + " do not fit in " + flag + " (less its 1/8 for small calls): such pings will be refused");
    }
  }

  /** The tracer factory the server must carry: it counts each call's bytes as they are read. */
  ServerStreamTracer.Factory tracerFactory() {
    return new ServerStreamTracer.Factory() {
      @Override
      public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
        return new CallBytes();
      }
    };
  }

  /** The bytes of the call whose handler runs now (for a call outside this budget: nothing counted). */
  static StreamBytes currentCall() {
    CallBytes bytes = CALL_BYTES.get();
    if (bytes == null) {
      return StreamBytes.NOT_COUNTED;
    }
    return bytes;
  }

  /** Bytes held by calls in flight now. */
  long usedBytes() {
    return usedBytes.get();
  }

  /** Calls refused so far. */
  long refusals() {
    return refusals.get();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    CallBytes bytes = CALL_BYTES.get();
    if (bytes == null) {
      return next.startCall(call, headers); // not one of this server's streams (a test's in-process call)
    }
    String method = call.getMethodDescriptor().getFullMethodName();
    boolean echo = method.equals(echoMethod); // held until the call ends
    boolean streamEcho = method.equals(streamEchoMethod); // each message held until its service gives it back
    // a stream's service may have closed it (a drain) when a later message is refused: one close only
    ServerCall<Q, R> closingOnce = streamEcho ? closingOnce(call) : call;
    // with the server's direct executor, a call's callbacks run on its connection's event loop (off it, which a
    // gRPC change could bring, a refusal closes the call at once, from the callback that refused it)
    Executor loop = loops.current();
    bytes.attach(closingOnce, loop != null ? loop : Runnable::run);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
        next.startCall(closingOnce, headers)) {
      @Override
      public void onMessage(Q message) {
        if (bytes.refused()) {
          return;
        }
        // the message whole is more than its wire bytes when it came compressed; and the reply of an echo is as
        // big as its request: both counted now, so that a delayed echo is refused at once
        long messageBytes = message instanceof com.google.protobuf.MessageLite m ? m.getSerializedSize() : 0;
        long wireBytes = bytes.messageWireBytes();
        long uncounted = Math.max(0, messageBytes - wireBytes);
        long echoBytes = echo || streamEcho ? messageBytes : 0;
        if (!bytes.take(uncounted + echoBytes)) {
          return;
        }
        bytes.messageBytes = wireBytes + uncounted + echoBytes;
        super.onMessage(message);
        if (!echo && !streamEcho) {
          bytes.release(); // handled at once (health, reflection): a stream's earlier messages are not held
        }
      }

      @Override
      public void onHalfClose() {
        if (!bytes.refused()) {
          super.onHalfClose();
        }
      }
    };
  }

  /** {@code call}, closed once only: a second close is dropped. */
  private static <Q, R> ServerCall<Q, R> closingOnce(ServerCall<Q, R> call) {
    return new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      private boolean closed; // touched on the call's thread only

      @Override
      public void close(Status status, Metadata trailers) {
        if (!closed) {
          closed = true;
          super.close(status, trailers);
        }
      }
    };
  }

  /** One call's bytes: taken from the budget as they come, given back when the stream closes, whatever the end. */
  private final class CallBytes extends ServerStreamTracer implements StreamBytes {
    private final AtomicLong heldBytes = new AtomicLong();
    private final AtomicLong messageWireBytes = new AtomicLong();
    private final AtomicBoolean refused = new AtomicBoolean();
    private volatile ServerCall<?, ?> call;
    private volatile Executor callThread;
    private volatile Runnable onRefused;
    private long messageBytes; // of the message being handed to the service, on the call's thread

    @Override
    public Context filterContext(Context context) {
      return context.withValue(CALL_BYTES, this);
    }

    void attach(ServerCall<?, ?> call, Executor callThread) {
      this.call = call;
      this.callThread = callThread;
    }

    @Override
    public void inboundWireSize(long bytes) {
      messageWireBytes.addAndGet(bytes);
      take(bytes);
    }

    /** The bytes read off the connection for the message now whole (a message is read only once asked for). */
    long messageWireBytes() {
      return messageWireBytes.getAndSet(0);
    }

    @Override
    public void streamClosed(Status status) {
      release();
    }

    /** Gives back what this call holds. */
    void release() {
      long held = heldBytes.getAndSet(0);
      if (held > 0) {
        changed.accept(usedBytes.addAndGet(-held));
      }
    }

    @Override
    public long messageBytes() {
      return messageBytes;
    }

    @Override
    public void onRefused(Runnable hook) {
      onRefused = hook;
    }

    @Override
    public void release(long bytes) {
      for (long held = heldBytes.get(); held > 0; held = heldBytes.get()) {
        long given = Math.min(held, bytes);
        if (heldBytes.compareAndSet(held, held - given)) {
          changed.accept(usedBytes.addAndGet(-given));
          return;
        }
      }
    }

    @Override
    public boolean refused() {
      return refused.get();
    }

    /** Takes {@code bytes} for this call, or refuses it (false). */
    boolean take(long bytes) {
      if (refused.get()) {
        return false;
      }
      long limit = heldBytes.get() + bytes <= SMALL_CALL_BYTES ? limitBytes : bigCallsLimitBytes;
      for (long used = usedBytes.get(); used + bytes <= limit; used = usedBytes.get()) {
        if (usedBytes.compareAndSet(used, used + bytes)) {
          heldBytes.addAndGet(bytes);
          changed.accept(used + bytes);
          return true;
        }
      }
      refuse();
      return false;
    }

    private void refuse() {
      if (refused.getAndSet(true)) {
        return;
      }
      refusals.incrementAndGet();
      if (refusalsToReport.getAndIncrement() == 0) {
        reportRefusalsLater();
      }
      String why = "ping-server's in-flight byte budget is full (" + flag + "): try again later";
      log.info(() -> "refused a call (" + heldBytes.get() + " of its bytes read): " + why);
      release(); // what it read is let go now, not when its stream has closed
      // closed on the call's own thread once gRPC's reading of this very stream is done (a call reads no bytes
      // before the interceptor has attached it); the service never sees a refused call (its message and
      // half-close are held back), so this close is the call's only one
      ServerCall<?, ?> refusedCall = call;
      Runnable hook = onRefused;
      try {
        callThread.execute(() -> {
          refusedCall.close(Status.RESOURCE_EXHAUSTED.withDescription(why), new Metadata());
          if (hook != null) {
            hook.run();
          }
        });
      } catch (java.util.concurrent.RejectedExecutionException stopping) {
        // the server is stopping: its calls are being cut, this one with them
      }
    }
  }

  /** One line on stderr for the refusals of the last second, at most once a second. */
  private void reportRefusalsLater() {
    java.util.concurrent.CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS).execute(() -> {
      long count = refusalsToReport.getAndSet(0);
      log.warning("refused " + count + " call(s) in the last second: the in-flight byte budget (" + flag
          + ") was full");
    });
  }
}
