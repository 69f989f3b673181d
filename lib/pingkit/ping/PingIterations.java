// Fortio's grpcping iterations over a connection: by unary calls, or over one stream of messages.

package pingkit.ping;

import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import pingkit.Pingkit;
import pingkit.WallClock;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;
import pingkit.net.Connection;
import pingkit.net.EchoStream;
import pingkit.stream.PingStreamGrpc;
import pingkit.wire.WireClock;

/**
 * Fortio's iterations: a warm-up, then per iteration two pings of the same message (seq and ts set), the
 * second's echo being the next iteration's message; each gives {@link PingMeasurement} its samples.
 */
public final class PingIterations {
  private PingIterations() {}

  /**
   * A run: its first message, each ping's time limit, the last iteration (0: until stopped), the pause between
   * iterations, the stop signal, and where each iteration's line goes (null: no lines are made).
   */
  public record Plan(PingMessage message, Duration callTimeout, long lastIteration, Duration pause, CountDownLatch stop,
      Consumer<String> eachIteration) {

    PingResult result(PingMeasurement measurement, Connection server, long streamOpenNanos,
        Pingkit.UserError failure) {
      return measurement.result(server.target.display(), message.getPayloadBytes().size(),
          Duration.ofNanos(message.getDelayNanos()), streamOpenNanos, failure);
    }
  }

  /**
   * By unary calls, each started from the previous one's callback on the connection's event loop: no call waits
   * for a thread to wake up, which a blocking call does twice (B1, bench/rtt.java). After a warm-up call.
   */
  static PingResult byCalls(Connection server, Plan plan) {
    try {
      server.callBlocking(PingServerGrpc.getPingMethod(), plan.message(), plan.callTimeout());
    } catch (StatusRuntimeException e) {
      throw server.failure("warm-up ping", e);
    }
    Calls run = new Calls(server, plan.message(), plan.callTimeout(), plan.lastIteration(), plan.stop(),
        plan.eachIteration());
    try {
      // without a pause the iterations follow each other on the event loop; with one, this thread waits it
      boolean more;
      do {
        more = await(run.start(plan.pause().isZero() ? Long.MAX_VALUE : 1));
      } while (more && !Pingkit.awaitStop(plan.stop(), plan.pause()));
    } catch (FailedPing failed) {
      return cutShort(plan, run, server.failure("ping " + failed.seq, failed.getCause()));
    } catch (Pingkit.UserError failure) {
      return cutShort(plan, run, failure);
    }
    return plan.result(run.measurement, server, -1, null);
  }

  /** What was measured before {@code failure}; the failure itself when nothing was. */
  private static PingResult cutShort(Plan plan, Calls run, Pingkit.UserError failure) {
    if (run.measurement.iterations() == 0) {
      throw failure;
    }
    return plan.result(run.measurement, run.server, -1, failure);
  }

  /** A ping that failed (its number and its failure), as the network thread hands it to the waiting one. */
  private static final class FailedPing extends RuntimeException {
    final long seq;

    FailedPing(long seq, Throwable failure) {
      super(failure.getMessage(), failure, false, false);
      this.seq = seq;
    }
  }

  /**
   * The iterations by calls. Only one call is in flight at a time, so the fields need no lock; {@link #start}'s
   * future publishes them.
   */
  private static final class Calls {
    private final Connection server;
    private final Duration callTimeout;
    private final long lastIteration; // 0: until stopped
    private final CountDownLatch stop;
    private final Consumer<String> eachIteration;
    private final PingMeasurement measurement = new PingMeasurement();
    private PingMessage message;
    private long leftInRun;
    private CompletableFuture<Boolean> running;

    Calls(Connection server, PingMessage message, Duration callTimeout, long lastIteration,
        CountDownLatch stop, Consumer<String> eachIteration) {
      this.server = server;
      this.message = message;
      this.callTimeout = callTimeout;
      this.lastIteration = lastIteration;
      this.stop = stop;
      this.eachIteration = eachIteration;
    }

    /** Runs up to {@code iterations}; the future tells whether more are due (false: all done, or stopped). */
    CompletableFuture<Boolean> start(long iterations) {
      running = new CompletableFuture<>();
      leftInRun = iterations;
      next();
      return running;
    }

    private void next() {
      if (measurement.iterations() == lastIteration && lastIteration != 0 || stop.getCount() == 0) {
        running.complete(false);
      } else if (leftInRun-- == 0) {
        running.complete(true);
      } else {
        long seq = measurement.iterations() + 1;
        PingMessage sent = message.toBuilder().setSeq(seq).setTs(WallClock.nanos()).build();
        call(sent, seq, (first, firstClock) -> call(sent, seq, (second, secondClock) -> {
          PingMeasurement.Iteration iteration =
              measurement.record(seq, firstClock, first, secondClock, second);
          if (eachIteration != null) { // the line is not made otherwise: this is the network thread
            eachIteration.accept(iteration.line());
          }
          message = second;
          next();
        }));
      }
    }

    private void call(PingMessage request, long seq, BiConsumer<PingMessage, WireClock.CallClock> then) {
      server.call(PingServerGrpc.getPingMethod(), request, callTimeout, (reply, failure, clock) -> {
        if (failure != null) {
          // explained by the waiting thread: the network thread may not wait for a health check
          running.completeExceptionally(new FailedPing(seq, failure));
          return;
        }
        try {
          then.accept(reply, clock);
        } catch (RuntimeException | Error e) {
          running.completeExceptionally(e); // never leave the waiting thread hanging
        }
      });
    }
  }

  /**
   * Over one stream of messages: its first message (the warm-up) opens it, then each iteration sends two
   * messages, each after the echo of the one before, one at a time.
   */
  static PingResult overStream(Connection server, Plan plan) {
    PingMeasurement measurement = new PingMeasurement();
    PingMessage message = plan.message();
    try (EchoStream<PingMessage> echoes = server.echoStream(PingStreamGrpc.getEchoMethod(),
        plan.callTimeout(), null)) {
      // its first message asks for no delay: its round trip is the stream's opening, not the server's wait
      WireClock.MessageClock opening = exchange(server, echoes, message.toBuilder().setDelayNanos(0).build(),
          "the stream's first message").clock();
      long streamOpenNanos = opening.wireInNanos() - opening.appSendNanos;
      try {
        for (long seq = 1; (plan.lastIteration() == 0 || seq <= plan.lastIteration()) && plan.stop().getCount() > 0;
            seq++) {
          PingMessage sent = message.toBuilder().setSeq(seq).setTs(WallClock.nanos()).build();
          EchoStream.Echo<PingMessage> first = exchange(server, echoes, sent, "message " + seq);
          EchoStream.Echo<PingMessage> second = exchange(server, echoes, sent, "message " + seq);
          PingMeasurement.Iteration iteration = measurement.record(seq, first.clock(), first.reply(), second.clock(),
              second.reply());
          if (plan.eachIteration() != null) {
            plan.eachIteration().accept(iteration.line());
          }
          message = second.reply();
          if (!plan.pause().isZero() && Pingkit.awaitStop(plan.stop(), plan.pause())) {
            break;
          }
        }
      } catch (Pingkit.UserError e) {
        if (measurement.iterations() == 0) {
          throw e;
        }
        return plan.result(measurement, server, streamOpenNanos, e); // what was measured before the failure
      }
      return plan.result(measurement, server, streamOpenNanos, null);
    }
  }

  private static EchoStream.Echo<PingMessage> exchange(Connection server, EchoStream<PingMessage> echoes,
      PingMessage message, String what) {
    try {
      return echoes.exchange(message);
    } catch (StatusRuntimeException e) {
      throw server.failure(what, e);
    }
  }

  /** The outcome of {@code running}, rethrowing its failure as it was thrown. */
  private static boolean await(CompletableFuture<Boolean> running) {
    try {
      return running.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException failure) {
        throw failure;
      }
      throw (Error) e.getCause();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Pingkit.UserError(Pingkit.EXIT_INTERRUPTED, "interrupted");
    }
  }
}
