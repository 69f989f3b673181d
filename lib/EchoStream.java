// A client's stream of echoes (ping-client.java pulls this file with //SOURCES): messages sent on one long-lived
// call, each answered by one message in the order sent, each timed at the socket.

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

/**
 * One bidirectional call to a server that answers each message with one message, in order
 * (pingkit.PingStream/Echo). {@link #send} is asynchronous: any number of messages may be in flight, and each
 * one's answer, or the status that ended the stream, goes to its own callback. {@link #exchange} sends one and
 * waits for its answer. Each message's times are read from the stream's socket times when its answer comes
 * ({@link WireClock.MessageClock}), by where its bytes lie in the stream: each message takes its gRPC prefix (5
 * bytes) and its encoding (this client compresses nothing).
 */
final class EchoStream<M extends MessageLite> implements AutoCloseable {
  /** An answer and the times of the message it answers. */
  record Echo<M>(M reply, WireClock.MessageClock clock) {}

  /** How a message ended: exactly one of {@code reply} and {@code failure} is null; its times (null: none). */
  interface Answered<M> {
    void accept(M reply, Throwable failure, WireClock.MessageClock clock);
  }

  /** How the stream ended: its status, and how many messages were in flight then (lost, unless it is OK). */
  interface Ended {
    void accept(Status status, int messagesInFlight);
  }

  private record InFlight<M>(WireClock.MessageClock clock, long requestEndBytes, Answered<M> answered) {}

  private static final int GRPC_PREFIX_BYTES = 5;

  private final ClientCall<M, M> call;
  // the messages sent and not answered, oldest first; the lock also keeps gRPC's calls on the call one at a time
  private final ArrayDeque<InFlight<M>> inFlight = new ArrayDeque<>();
  private final CompletableFuture<Status> end = new CompletableFuture<>();
  private boolean ending;
  private Status endFailure; // what a message sent after the end fails with
  private long sentBytes; // the stream's DATA bytes so far, each way
  private long answerBytes;

  /**
   * Starts {@code call}, timed by {@code streamClock} (its tracer); {@code answered} hears of each answer,
   * {@code ended} (null: nobody) of the stream's end.
   */
  EchoStream(ClientCall<M, M> call, WireClock.CallClock streamClock, Runnable answered, Ended ended) {
    this.call = call;
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(M reply) {
        InFlight<M> message;
        synchronized (EchoStream.this) {
          message = inFlight.poll();
          if (message == null) {
            call.cancel("an answer to no message", null); // onClose reports it as CANCELLED
            return;
          }
        }
        long answerStartBytes = answerBytes;
        answerBytes += GRPC_PREFIX_BYTES + reply.getSerializedSize();
        StreamTimes times = streamClock.stream();
        message.clock.received(times, message.requestEndBytes, answerStartBytes);
        if (times != null) {
          times.sent.forgetUpTo(message.requestEndBytes);
          times.received.forgetBefore(answerBytes);
        }
        answered.run();
        message.answered.accept(reply, null, message.clock);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
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
        end.complete(status);
        lost.forEach(message -> message.answered.accept(null, failure.asRuntimeException(), null));
      }
    }, new Metadata());
    call.request(1); // one answer more than the messages sent: an answer to no message shows, and ends the stream
  }

  /** Whether the stream has ended, or is ending: it takes no more messages. */
  synchronized boolean ended() {
    return ending;
  }

  /** Sends {@code message}; {@code answered} gets its answer, or the failure that ended the stream first. */
  void send(M message, Answered<M> answered) {
    Status refused;
    synchronized (this) {
      if (!ending) {
        sentBytes += GRPC_PREFIX_BYTES + message.getSerializedSize();
        inFlight.add(new InFlight<>(new WireClock.MessageClock(), sentBytes, answered));
        try {
          call.request(1);
          call.sendMessage(message);
          return;
        } catch (IllegalStateException endedMeanwhile) {
          return; // onClose is on its way, and fails the message with the stream's status
        }
      }
      refused = endFailure != null ? endFailure : Status.FAILED_PRECONDITION.withDescription("the stream has ended");
    }
    answered.accept(null, refused.asRuntimeException(), null);
  }

  /**
   * Sends {@code message} and waits for its answer within {@code timeout}; a stream that ended, failed or did
   * not answer in time throws as gRPC's blocking calls throw (a StatusRuntimeException).
   */
  Echo<M> exchange(M message, Duration timeout) {
    CompletableFuture<Echo<M>> echo = new CompletableFuture<>();
    send(message, (reply, failure, clock) -> {
      if (failure == null) {
        echo.complete(new Echo<>(reply, clock));
      } else {
        echo.completeExceptionally(failure);
      }
    });
    try {
      return echo.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      throw (RuntimeException) e.getCause();
    } catch (TimeoutException e) {
      cancel("no answer in time");
      throw Status.DEADLINE_EXCEEDED.withDescription("no answer within " + Pingkit.formatDuration(timeout))
          .asRuntimeException();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      cancel("interrupted");
      throw new Pingkit.UserError(Pingkit.EXIT_INTERRUPTED, "interrupted");
    }
  }

  /**
   * Ends the stream: the client is done sending, and the server ends it in turn, once the messages in flight are
   * answered; past {@code wait}, it is cancelled (messages still in flight are lost, with CANCELLED).
   */
  void finish(Duration wait) {
    synchronized (this) {
      if (!ending) {
        ending = true;
        try {
          call.halfClose();
        } catch (IllegalStateException alreadyOver) {
          // onClose is on its way
        }
      }
    }
    try {
      end.get(wait.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | ExecutionException e) {
      cancel("the client is done");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      cancel("interrupted");
    }
  }

  /** The same within a second. */
  @Override
  public void close() {
    finish(Duration.ofSeconds(1));
  }

  private synchronized void cancel(String why) {
    ending = true;
    call.cancel(why, null); // a no-op once the stream is over
  }
}
