// A client's stream of echoes: messages sent on one long-lived call, each answered by one message in the order sent,
// each timed at the socket.

package pingkit.net;

import com.google.protobuf.MessageLite;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import pingkit.Pingkit;
import pingkit.wire.StreamTimes;
import pingkit.wire.WireClock;

/**
 * One bidirectional call to a server that answers each message with one message, in order
 * (pingkit.PingStream/Echo). {@link #send} is asynchronous: any number of messages may be in flight, and each
 * one's answer, or the status that ended the stream, goes to its own callback; a message not answered within the
 * stream's answer timeout ends the stream (DEADLINE_EXCEEDED), so that no message waits for ever. {@link #exchange}
 * sends one and waits for its answer. Each message's times are read from the stream's socket times when its answer
 * comes ({@link WireClock.MessageClock}), by where its bytes lie in the stream: each message takes its gRPC prefix
 * (5 bytes) and its encoding (this client compresses nothing).
 */
public final class EchoStream<M extends MessageLite> implements AutoCloseable {
  /** An answer and the times of the message it answers. */
  public record Echo<M>(M reply, WireClock.MessageClock clock) {}

  /** How a message ended: exactly one of {@code reply} and {@code failure} is null; its times (null: none). */
  public interface Answered<M> {
    void accept(M reply, Throwable failure, WireClock.MessageClock clock);
  }

  /** How the stream ended: its status, and how many messages were in flight then (lost, unless it is OK). */
  public interface Ended {
    void accept(Status status, int messagesInFlight);
  }

  private record InFlight<M>(WireClock.MessageClock clock, long requestEndBytes, Answered<M> answered) {}

  private static final int GRPC_PREFIX_BYTES = 5;

  private final ClientCall<M, M> call;
  private final WireClock.CallClock streamClock; // its messages' clocks take their backend from it
  private final long answerTimeoutNanos;
  // the messages sent and not answered, oldest first; the lock also keeps gRPC's calls on the call one at a time
  private final ArrayDeque<InFlight<M>> inFlight = new ArrayDeque<>();
  private final CompletableFuture<Status> end = new CompletableFuture<>();
  private volatile boolean ending;
  private Status endFailure; // what a message sent after the end fails with
  private boolean watching; // a check of the oldest message's deadline is scheduled
  private volatile String overdue; // why the client cancelled the stream: a message was not answered in time
  private long sentBytes; // the stream's DATA bytes so far, each way
  private long answerBytes;

  /**
   * Starts {@code call}, timed by {@code streamClock} (its tracer), each message to be answered within
   * {@code answerTimeout}; {@code answered} hears of each answer, {@code ended} (null: nobody) of the stream's end.
   */
  EchoStream(ClientCall<M, M> call, WireClock.CallClock streamClock, Duration answerTimeout, Runnable answered,
      Ended ended) {
    this.call = call;
    this.streamClock = streamClock;
    this.answerTimeoutNanos = answerTimeout.toNanos();
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(M reply) {
        InFlight<M> message;
        synchronized (EchoStream.this) {
          message = inFlight.poll();
        }
        if (message == null) {
          cancel("an answer to no message"); // onClose reports it as CANCELLED
          return;
        }
        long answerStartBytes = answerBytes;
        answerBytes += GRPC_PREFIX_BYTES + reply.getSerializedSize();
        StreamTimes times = streamClock.stream();
        message.clock.received(times, message.requestEndBytes, answerStartBytes);
        if (times != null && times.sent != null) {
          times.sent.forgetUpTo(message.requestEndBytes);
          times.received.forgetBefore(answerBytes);
        }
        answered.run();
        message.answered.accept(reply, null, message.clock);
      }

      @Override
      public void onClose(Status closeStatus, Metadata trailers) {
        String overdueMessage = overdue;
        Status status = overdueMessage != null && closeStatus.getCode() == Status.Code.CANCELLED
            ? Status.DEADLINE_EXCEEDED.withDescription(overdueMessage) : closeStatus;
        Status failure = status.isOk() ? Status.INTERNAL.withDescription("the server ended the stream") : status;
        ArrayDeque<InFlight<M>> lost;
        synchronized (EchoStream.this) {
          ending = true;
          endFailure = failure;
          lost = new ArrayDeque<>(inFlight);
          inFlight.clear();
        }
        if (ended != null) {
          ended.accept(lost.isEmpty() ? status : failure, lost.size());
        }
        lost.forEach(message -> message.answered.accept(null, failure.asRuntimeException(), null));
        end.complete(status); // after the lost messages: whoever waits for the end has them counted
      }
    }, new Metadata());
    call.request(1); // one answer more than the messages sent: an answer to no message shows, and ends the stream
  }

  /** Whether the stream has ended, or is ending: it takes no more messages. */
  public boolean ended() {
    return ending;
  }

  /** Sends {@code message}; {@code answered} gets its answer, or the failure that ended the stream first. */
  public void send(M message, Answered<M> answered) {
    Status refused;
    boolean watch = false;
    synchronized (this) {
      if (!ending) {
        sentBytes += GRPC_PREFIX_BYTES + message.getSerializedSize();
        inFlight.add(new InFlight<>(new WireClock.MessageClock(streamClock), sentBytes, answered));
        watch = !watching;
        watching = true;
        try {
          call.request(1);
          call.sendMessage(message);
          refused = null;
        } catch (IllegalStateException endedMeanwhile) {
          refused = null; // onClose is on its way, and fails the message with the stream's status
        }
      } else {
        refused = endFailure != null ? endFailure : Status.FAILED_PRECONDITION.withDescription("the stream has ended");
      }
    }
    if (watch) {
      watchDeadline(answerTimeoutNanos);
    }
    if (refused != null) {
      answered.accept(null, refused.asRuntimeException(), null);
    }
  }

  /** Checks, {@code afterNanos} from now, that the oldest message in flight is not past its answer timeout. */
  private void watchDeadline(long afterNanos) {
    CompletableFuture.delayedExecutor(afterNanos, TimeUnit.NANOSECONDS).execute(() -> {
      boolean inFlightStill;
      long overdueInNanos;
      synchronized (this) {
        InFlight<M> oldest = inFlight.peek();
        inFlightStill = oldest != null && !end.isDone();
        watching = inFlightStill;
        overdueInNanos = !inFlightStill ? 0 : oldest.clock.appSendNanos + answerTimeoutNanos - System.nanoTime();
      }
      if (inFlightStill && overdueInNanos <= 0) {
        overdue = "no answer within " + Pingkit.formatDuration(Duration.ofNanos(answerTimeoutNanos));
        cancel(overdue);
      } else if (inFlightStill) {
        watchDeadline(overdueInNanos);
      }
    });
  }

  /**
   * Sends {@code message} and waits for its answer (within the stream's answer timeout); a stream that ended,
   * failed or did not answer in time throws as gRPC's blocking calls throw (a StatusRuntimeException).
   */
  public Echo<M> exchange(M message) {
    CompletableFuture<Echo<M>> echo = new CompletableFuture<>();
    send(message, (reply, failure, clock) -> {
      if (failure == null) {
        echo.complete(new Echo<>(reply, clock));
      } else {
        echo.completeExceptionally(failure);
      }
    });
    try {
      return echo.get();
    } catch (ExecutionException e) {
      throw (RuntimeException) e.getCause();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      cancel("interrupted");
      throw new Pingkit.UserError(Pingkit.EXIT_INTERRUPTED, "interrupted");
    }
  }

  /** The client is done sending: the server ends the stream once the messages in flight are answered. */
  public void halfClose() {
    synchronized (this) {
      if (ending) {
        return;
      }
      ending = true;
      try {
        call.halfClose();
      } catch (IllegalStateException alreadyOver) {
        // onClose is on its way
      }
    }
  }

  /**
   * Waits for the stream's end until {@code deadlineNanos} ({@link System#nanoTime()}), then cancels it: its
   * messages still in flight are lost (CANCELLED). Returns once they are all counted.
   */
  public void awaitEnd(long deadlineNanos) {
    try {
      try {
        end.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        cancel("the client is done");
        end.get(5, TimeUnit.SECONDS); // cancelling closes the call's listener at once, on its executor
      }
    } catch (TimeoutException | ExecutionException e) {
      // not closed even so: what it had in flight is left uncounted
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      cancel("interrupted");
    }
  }

  /** Half-closes, and waits for the end a second at most. */
  @Override
  public void close() {
    halfClose();
    awaitEnd(System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
  }

  private void cancel(String why) {
    ending = true;
    call.cancel(why, null); // outside the lock: the listener's onClose may run on this thread
  }
}
