// ping-server's drain: the calls in flight counted, so that a stop can answer them all before it ends.

package pingkit.server;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.protobuf.services.HealthStatusManager;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts unary calls (pings, health checks) and streams of echoes from their start until their status is sent or
 * they are cancelled: what a drain must wait for (the streams are told to end once their replies due are sent).
 * Other streams (health watches, reflection) are long-lived and are cut by the drain. It also notes that a
 * client has called at all (the warm-up gives way then).
 */
public final class Drain implements ServerInterceptor {
  private final AtomicInteger callsInFlight = new AtomicInteger();
  private final CompletableFuture<Void> drained = new CompletableFuture<>();
  private final AtomicBoolean draining = new AtomicBoolean();
  private final String echoStreamMethod;
  private final Runnable endEchoStreams;
  private volatile boolean called;

  /** A drain that waits for the streams of {@code echoStreamMethod} (a full name) too, ended by the hook given. */
  Drain(String echoStreamMethod, Runnable endEchoStreams) {
    this.echoStreamMethod = echoStreamMethod;
    this.endEchoStreams = endEchoStreams;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    if (!called) {
      called = true;
    }
    boolean counted = call.getMethodDescriptor().getType() == MethodDescriptor.MethodType.UNARY
        || call.getMethodDescriptor().getFullMethodName().equals(echoStreamMethod);
    if (counted) {
      callsInFlight.incrementAndGet(); // before the check: a drain that begins now waits for it
    }
    if (draining.get()) {
      // gRPC's graceful GOAWAY lets a connection start streams until the client has acknowledged it: a call
      // that slips in then is refused here, as the drain promises
      if (counted) {
        ended();
      }
      call.close(Status.UNAVAILABLE.withDescription("the server is draining: new calls are refused"),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    if (!counted) {
      return next.startCall(call, headers);
    }
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
      @Override
      public void onComplete() {
        ended();
        super.onComplete();
      }

      @Override
      public void onCancel() {
        ended();
        super.onCancel();
      }
    };
  }

  /** Whether any client has called. */
  boolean called() {
    return called;
  }

  public boolean draining() {
    return draining.get();
  }

  /** Unary calls received and not yet answered, and streams of echoes open. */
  int callsInFlight() {
    return callsInFlight.get();
  }

  /**
   * Drains {@code server}: new calls are refused (GOAWAY on every connection), then {@code health} turns
   * NOT_SERVING (a watcher told so finds new calls on its connection already refused), the calls in flight are
   * answered and the streams of echoes ended within {@code timeout}, and what is left (long-lived streams, late
   * calls) is cut. Returns how many calls were cut; a second drain returns 0 at once.
   */
  int drain(Server server, HealthStatusManager health, Duration timeout) {
    if (!draining.compareAndSet(false, true)) {
      return 0;
    }
    server.shutdown();
    health.enterTerminalState();
    endEchoStreams.run();
    if (callsInFlight.get() > 0) {
      try {
        drained.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      } catch (TimeoutException | ExecutionException e) {
        // the time is up: what is still in flight is cut
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    int cut = callsInFlight.get();
    server.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return cut;
  }

  /** Ends the wait at once (a second signal). */
  void cut() {
    drained.complete(null);
  }

  private void ended() {
    if (callsInFlight.decrementAndGet() == 0 && draining.get()) {
      drained.complete(null);
    }
  }
}
