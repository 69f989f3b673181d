// A server-streaming call read one message at a time (health-check.java's --watch pulls this file with //SOURCES).

import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A server-streaming call, made by {@link Connection#serverStream}, read as a blocking iterator: {@link #hasNext}
 * waits for the next message or the stream's end, until the stream's deadline; {@link #cancel} (from any thread:
 * a Ctrl-C handler) ends the wait at once, and so does {@link #close}. A failure of the server's is thrown by
 * {@link #hasNext} as gRPC's blocking calls throw it (a StatusRuntimeException). Messages are asked for one at a
 * time, as they are read: a reader that stops reading stops the server's sending (flow control), nothing piles up.
 */
final class ServerStream<R> implements Iterator<R>, AutoCloseable {
  /** What the call's listener hands over: a message, or the end of the stream (its status). */
  private record Event<R>(R message, Status end, Metadata trailers) {}

  private final LinkedBlockingQueue<Event<R>> events = new LinkedBlockingQueue<>();
  private final Runnable onMessage;
  private final long deadlineNanos;
  private ClientCall<?, R> call;
  private volatile boolean cancelled;
  private R next;
  private boolean ended;

  /** A stream ending at {@code deadlineNanos} (System.nanoTime()); {@code onMessage} runs for each message read. */
  ServerStream(long deadlineNanos, Runnable onMessage) {
    this.onMessage = onMessage;
    this.deadlineNanos = deadlineNanos;
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
   * reached its deadline. Throws the server's failure of the stream.
   */
  @Override
  public boolean hasNext() {
    while (next == null && !ended) {
      Event<R> event;
      try {
        event = events.poll(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        event = null;
      }
      if (event == null) {
        cancel(); // the deadline, or an interrupt: the stream ends here, as if cancelled
        ended = true;
      } else if (event.end() != null) {
        ended = true;
        if (!event.end().isOk() && !cancelled) {
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

  /** Ends the stream: a waiting {@link #hasNext} returns false at once. Safe from any thread, and twice. */
  void cancel() {
    cancelled = true;
    call.cancel("cancelled by the client", null); // the listener's onClose wakes the reader
  }

  @Override
  public void close() {
    cancel();
  }
}
