// A client's stream of echoes (ping-client.java pulls this file with //SOURCES): messages sent one at a time on
// one long-lived call, each answered by one message, each timed at the socket.

import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One bidirectional call to a server that answers each message with one message (pingkit.PingStream/Echo), used
 * one message at a time: {@link #exchange} sends and waits for the answer. Each message's times are read from
 * the stream's socket times when its answer comes ({@link WireClock.MessageClock}).
 */
final class EchoStream<M> implements AutoCloseable {
  /** An answer and the times of the message it answers. */
  record Echo<M>(M reply, WireClock.MessageClock clock) {}

  private final ClientCall<M, M> call;
  // answers as they come, or the status that ended the stream; one message is in flight at a time
  private final LinkedBlockingQueue<Object> arrivals = new LinkedBlockingQueue<>();
  private volatile WireClock.MessageClock inFlight;
  private volatile boolean closed;
  private boolean ended;

  /** Starts {@code call}, timed by {@code streamClock} (its tracer); {@code answered} hears of each answer. */
  EchoStream(ClientCall<M, M> call, WireClock.CallClock streamClock, Runnable answered) {
    this.call = call;
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(M reply) {
        WireClock.MessageClock clock = inFlight;
        if (clock == null) {
          call.cancel("an answer to no message", null); // onClose reports it as CANCELLED
          return;
        }
        inFlight = null;
        clock.received(streamClock.stream());
        answered.run();
        arrivals.add(new Echo<>(reply, clock));
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        closed = true;
        arrivals.add(status.isOk() ? Status.INTERNAL.withDescription("the server ended the stream") : status);
      }
    }, new Metadata());
    call.request(1); // one answer more than the messages sent: an answer to no message shows, and ends the stream
  }

  /**
   * Sends {@code message} and waits for its answer within {@code timeout}; a stream that ended, failed or did
   * not answer in time throws as gRPC's blocking calls throw (a StatusRuntimeException).
   */
  Echo<M> exchange(M message, Duration timeout) {
    if (ended) {
      throw Status.FAILED_PRECONDITION.withDescription("the stream has ended").asRuntimeException();
    }
    Object arrival = closed ? arrivals.poll() : null; // ended by the server while no message was in flight
    if (arrival == null) {
      inFlight = new WireClock.MessageClock();
      call.request(1);
      try {
        call.sendMessage(message);
        arrival = arrivals.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
      } catch (IllegalStateException endedMeanwhile) {
        Object queued = arrivals.poll(); // how it ended, if onClose has told already
        arrival = queued != null ? queued : Status.CANCELLED.withDescription("the stream ended before the message");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        ended = true;
        call.cancel("interrupted", null);
        throw new Pingkit.UserError(Pingkit.EXIT_INTERRUPTED, "interrupted");
      }
    }
    if (arrival == null) {
      call.cancel("no answer in time", null);
      arrival = Status.DEADLINE_EXCEEDED.withDescription("no answer within " + Pingkit.formatDuration(timeout));
    }
    if (arrival instanceof Status status) {
      ended = true;
      throw status.asRuntimeException();
    }
    @SuppressWarnings("unchecked")
    Echo<M> echo = (Echo<M>) arrival;
    return echo;
  }

  /** Ends the stream: the client is done sending, and the server ends it in turn (at most a second is waited). */
  @Override
  public void close() {
    if (ended) {
      return;
    }
    ended = true;
    try {
      call.halfClose();
      arrivals.poll(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IllegalStateException | StatusRuntimeException e) {
      // already over
    }
    call.cancel("the client is done", null); // a no-op once the server has ended it
  }
}
