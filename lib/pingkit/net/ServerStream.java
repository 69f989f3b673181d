// A server-streaming call read one message at a time.

package pingkit.net;

import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.time.Duration;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A server-streaming call, made by {@link Connection#serverStream}, read as a blocking iterator: {@link #hasNext}
 * waits for the next message or the stream's end, until the stream's time limit; {@link #cancel} (from any
 * thread: a Ctrl-C handler) ends the wait at once, and {@link #close} ends the stream. A failure of the server's
 * is thrown by {@link #hasNext} as gRPC's blocking calls throw it (a StatusRuntimeException). Messages are asked
 * for one at a time, as they are read: a reader that stops reading stops the server's sending (flow control).
 * The call itself is only touched by the reading thread (a ClientCall is not thread-safe).
 */
public final class ServerStream<R> implements Iterator<R>, AutoCloseable {
  /** What the reader is handed: a message, the end of the stream (its status), or a cancel. */
  private record Event<R>(R message, Status end, Metadata trailers) {}

  private final LinkedBlockingQueue<Event<R>> events = new LinkedBlockingQueue<>();
  private final Runnable onMessage;
  private final long deadlineNanos;
  private final boolean limited;
  private ClientCall<?, R> call;
  private volatile boolean cancelled;
  private R next;
  private boolean ended;

  /** A stream that ends after {@code limit} (null: no limit); {@code onMessage} runs for each message read. */
  ServerStream(Duration limit, Runnable onMessage) {
    this.onMessage = onMessage;
    this.limited = limit != null;
    this.deadlineNanos = limited ? System.nanoTime() + limit.toNanos() : 0;
  }

  /** Starts {@code call} with {@code request}; once. */
  <Q> void start(ClientCall<Q, R> call, Q request) {
    this.call = call;
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(R message) {
        events.add(new Event<>(message, null, null));
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        events.add(new Event<>(null, status, trailers));
      }
    }, new Metadata());
    call.sendMessage(request);
    call.halfClose();
    call.request(1);
  }

  /**
   * Waits for the next message: true when there is one; false when the stream ended normally, was cancelled or
   * reached its time limit. Throws the server's failure of the stream.
   */
  @Override
  public boolean hasNext() {
    while (next == null && !ended) {
      Event<R> event = nextEvent();
      if (event == null || cancelled) {
        end(); // the time limit, an interrupt or a cancel: nothing more is read, not even what came already
      } else if (event.end() != null) {
        ended = true;
        if (!event.end().isOk()) {
          throw event.end().asRuntimeException(event.trailers());
        }
      } else {
        onMessage.run();
        next = event.message();
      }
    }
    return next != null;
  }

  @Override
  public R next() {
    if (!hasNext()) {
      throw new NoSuchElementException("the stream has ended");
    }
    R message = next;
    next = null;
    call.request(1);
    return message;
  }

  /** Ends the stream from any thread: the reader's {@link #hasNext} returns false at once. */
  public void cancel() {
    cancelled = true;
    events.add(new Event<>(null, Status.CANCELLED, new Metadata())); // wakes the reader, who cancels the call
  }

  /** Ends the stream (the reader's thread). */
  @Override
  public void close() {
    if (!ended) {
      end();
    }
  }

  private Event<R> nextEvent() {
    try {
      return limited ? events.poll(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS)
          : events.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private void end() {
    ended = true;
    next = null;
    call.cancel("the client ended the stream", null);
  }
}
