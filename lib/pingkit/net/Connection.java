// A client's connection: one channel to the target, its calls each timed at the socket, and what a failure means.

package pingkit.net;

import com.google.protobuf.MessageLite;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import pingkit.Pingkit;
import pingkit.wire.WireClock;

/**
 * One channel to the target, made by a {@link Dialer}: a unary call made two ways (asynchronous, and blocking),
 * each timed at the socket ({@link WireClock}), and a server-streaming call read as an iterator
 * ({@link ServerStream}); all keep the connection's bookkeeping (whether the server has answered, so that a
 * later failure is the RPC's and not the connection's); {@link #failure} explains a failure.
 */
public final class Connection implements AutoCloseable {
  public final Target target;
  public final ManagedChannel channel;
  private final Diagnosis diagnosis;
  private final Diagnosis.TransportPhases phases;
  private final Duration connectTimeout;
  private volatile boolean answered;

  Connection(Target target, ManagedChannel channel, Diagnosis diagnosis, Diagnosis.TransportPhases phases,
      Duration connectTimeout) {
    this.target = target;
    this.channel = channel;
    this.diagnosis = diagnosis;
    this.phases = phases;
    this.connectTimeout = connectTimeout;
  }

  /**
   * Connects within --connect-timeout. Returns when the channel is ready, or has failed (the next call then
   * fails at once with the transport's error, which {@link #failure} explains); throws when it is still
   * connecting at the limit (a silent or non-gRPC server, or a black hole).
   */
  Connection connect() {
    long deadline = System.nanoTime() + connectTimeout.toNanos();
    ConnectivityState state = channel.getState(true);
    while (state == ConnectivityState.IDLE || state == ConnectivityState.CONNECTING) {
      CountDownLatch changed = new CountDownLatch(1);
      channel.notifyWhenStateChanged(state, changed::countDown);
      try {
        if (!changed.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
          close();
          throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, diagnosis.noConnectionInTime());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        close();
        throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, "interrupted while connecting");
      }
      state = channel.getState(true);
    }
    return this;
  }

  /** Call options for one call: a deadline of {@code timeout}. */
  CallOptions callOptions(Duration timeout) {
    return CallOptions.DEFAULT.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** How a call ended: the reply or the failure (the other null), and its times. */
  public interface Ended<R> {
    void accept(R reply, Throwable failure, WireClock.CallClock clock);
  }

  /**
   * Starts a unary call within {@code timeout}; {@code ended} gets the reply or the failure (the other null),
   * and the call's times, on the connection's network thread: it must not block.
   */
  public <Q, R> void call(MethodDescriptor<Q, R> method, Q request, Duration timeout, Ended<R> ended) {
    WireClock.CallClock clock = new WireClock.CallClock(false);
    ClientCall<Q, R> call = channel.newCall(method, callOptions(timeout).withStreamTracerFactory(clock.factory()));
    call.start(new UnaryListener<>(call, clock, ended), new Metadata());
    try {
      call.request(2); // one more than a unary reply: a second one is the server's error, and is reported
      call.sendMessage(request);
      call.halfClose();
    } catch (RuntimeException e) {
      call.cancel("the request could not be sent", e); // the listener hears of it, with this cause
    }
  }

  /**
   * A unary call's end, straight from gRPC's listener: the load client's hot path, where the stub's
   * StreamObserver adapters cost two more objects and calls a call (ClientCalls.asyncUnaryCall).
   */
  private final class UnaryListener<Q, R> extends ClientCall.Listener<R> {
    private final ClientCall<Q, R> call;
    private final WireClock.CallClock clock;
    private final Ended<R> ended;
    private R reply;

    UnaryListener(ClientCall<Q, R> call, WireClock.CallClock clock, Ended<R> ended) {
      this.call = call;
      this.clock = clock;
      this.ended = ended;
    }

    @Override
    public void onMessage(R message) {
      if (reply != null) {
        call.cancel("more than one reply to a unary call", null); // onClose reports it as CANCELLED
        return;
      }
      reply = message;
    }

    @Override
    public void onClose(Status status, Metadata trailers) {
      clock.received(status.isOk() && reply != null);
      if (status.isOk() && reply != null) {
        answered();
      }
      if (!status.isOk()) {
        ended.accept(null, status.asRuntimeException(trailers), clock);
      } else if (reply == null) {
        // the blocking calls' words for it (ClientCalls), so that every mode names it alike
        ended.accept(null, Status.INTERNAL.withDescription("No value received for unary call")
            .asRuntimeException(trailers), clock);
      } else {
        ended.accept(reply, null, clock);
      }
    }
  }

  /** A call's reply and its times. */
  public record Answer<R>(R reply, WireClock.CallClock clock) {}

  /** How a call ended: its reply or its failure (the other null), and its times. */
  public record Outcome<R>(R reply, Throwable failure, WireClock.CallClock clock) {}

  /** Makes a unary call within {@code timeout} and waits for it to end, however it ends. */
  public <Q, R> Outcome<R> callAndWait(MethodDescriptor<Q, R> method, Q request, Duration timeout) {
    CompletableFuture<Outcome<R>> ended = new CompletableFuture<>();
    call(method, request, timeout, (reply, failure, clock) -> ended.complete(new Outcome<>(reply, failure, clock)));
    try {
      return ended.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause()); // never: the future is only completed with an outcome
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Outcome<>(null, Status.CANCELLED.withDescription("interrupted").asRuntimeException(), null);
    }
  }

  /**
   * Makes a unary call within {@code timeout} and waits for it; its failure is thrown as gRPC's blocking calls
   * throw it (a StatusRuntimeException), for the caller to explain ({@link #failure}).
   */
  public <Q, R> Answer<R> callBlocking(MethodDescriptor<Q, R> method, Q request, Duration timeout) {
    Outcome<R> outcome = callAndWait(method, request, timeout);
    if (outcome.failure() != null) {
      throw outcome.failure() instanceof RuntimeException e ? e : new IllegalStateException(outcome.failure());
    }
    return new Answer<>(outcome.reply(), outcome.clock());
  }

  /**
   * Starts a server-streaming call, read with a blocking iterator that ends it after {@code limit} at the latest
   * (null: no limit); its messages count as answers of the server.
   */
  public <Q, R> ServerStream<R> serverStream(MethodDescriptor<Q, R> method, Q request, Duration limit) {
    ServerStream<R> stream = new ServerStream<>(limit, this::answered);
    stream.start(channel.newCall(method, CallOptions.DEFAULT), request);
    return stream;
  }

  /**
   * Opens a stream of echoes on {@code method}, each message to be answered within {@code answerTimeout}; its
   * answers count as the server's; {@code ended} (null: nobody) hears how it ended.
   */
  public <M extends MessageLite> EchoStream<M> echoStream(MethodDescriptor<M, M> method, Duration answerTimeout,
      EchoStream.Ended ended) {
    WireClock.CallClock streamClock = new WireClock.CallClock(true);
    return new EchoStream<>(channel.newCall(method, CallOptions.DEFAULT.withStreamTracerFactory(
        streamClock.factory())), streamClock, answerTimeout, this::answered, ended);
  }

  /** Records that the server answered a call: later failures are the RPC's, not the connection's. */
  void answered() {
    if (!answered && phases != null) {
      phases.answered();
    }
    answered = true;
  }

  /**
   * The one-line error and exit code for a failed call: a connection problem (2) or a failed RPC (3). A call that
   * timed out on a server that had answered before is the connection's when the server answers nothing more, not
   * even a health check within --connect-timeout (stopped, frozen, or its host gone): blocks that long, so never
   * on the network thread.
   */
  public Pingkit.UserError failure(String what, Throwable error) {
    boolean connected = answered || channel.getState(false) == ConnectivityState.READY;
    if (connected && Status.fromThrowable(error).getCode() == Status.Code.DEADLINE_EXCEEDED) {
      CompletableFuture<Boolean> silent = new CompletableFuture<>();
      checkSilence(silent::complete);
      try {
        if (silent.get()) {
          return silentServer(what + " failed");
        }
      } catch (ExecutionException e) {
        // no answer either way: explained as the call's own failure
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return explain(what, error);
  }

  /** The same, without asking the server anything: for callers that go on trying, within a time of their own. */
  public Pingkit.UserError explain(String what, Throwable error) {
    return diagnosis.failure(what, error, answered || channel.getState(false) == ConnectivityState.READY);
  }

  /** A server that stopped answering, said in one line (exit 2). */
  public Pingkit.UserError silentServer(String what) {
    return new Pingkit.UserError(Pingkit.EXIT_CONNECTION, what + ": the server at " + target.display()
        + " answers nothing, not even a health check within " + Pingkit.formatDuration(connectTimeout)
        + " (--connect-timeout): its process is stopped or frozen, or its host is gone");
  }

  /**
   * Sends a health check on this connection and tells {@code silent} whether the server answered nothing within
   * --connect-timeout though the check reached it. Any answer counts, UNIMPLEMENTED too; a check that never left
   * (the server's streams all taken) or a refused connection (a draining server) is no sign of silence.
   */
  private void checkSilence(java.util.function.Consumer<Boolean> silent) {
    call(HealthGrpc.getCheckMethod(), HealthCheckRequest.getDefaultInstance(), connectTimeout,
        (reply, failure, clock) -> silent.accept(failure != null
            && Status.fromThrowable(failure).getCode() == Status.Code.DEADLINE_EXCEEDED
            && clock.stream() != null && clock.stream().outNanos != 0));
  }

  /**
   * While a long call runs (a watch), checks every {@code interval} that the server still answers; one that answers
   * nothing within --connect-timeout ({@link #checkSilence}) is told to {@code silent}, once. Closing it ends the
   * checks.
   */
  public Heartbeat heartbeat(Duration interval, Runnable silent) {
    java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
    Runnable[] beat = new Runnable[1];
    beat[0] = () -> CompletableFuture.delayedExecutor(interval.toNanos(), TimeUnit.NANOSECONDS).execute(() -> {
      if (!ended.get()) {
        checkSilence(silentNow -> {
          if (!silentNow) {
            beat[0].run();
          } else if (!ended.getAndSet(true)) {
            silent.run();
          }
        });
      }
    });
    beat[0].run();
    return () -> ended.set(true);
  }

  /** The checks of {@link #heartbeat}: closing them ends them. */
  public interface Heartbeat extends AutoCloseable {
    @Override
    void close();
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    EventLoops.release();
  }
}
