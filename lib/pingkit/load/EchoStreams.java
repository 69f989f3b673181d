// The streams of echoes of a load run with --stream: one per stream of the run, opened by its first message and again
// after a break, and what became of them.

package pingkit.load;

import com.google.protobuf.MessageLite;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import pingkit.net.Connection;
import pingkit.net.EchoStream;

/**
 * Sends a load run's messages on streams of echoes: the run's stream N is an {@link EchoStream} on its
 * connection, opened when its first message goes out; one that breaks (the server ended it with an error, or
 * the connection was lost) is counted by its status, with the messages it had in flight, and the next message
 * opens a new one. At the end of the run each stream is finished: its messages in flight are answered within the
 * messages' timeout, then the client ends it.
 */
public final class EchoStreams<M extends MessageLite> implements LoadRun.CallStarter, LoadRun.MessageStreams {
  private final MethodDescriptor<M, M> method;
  private final M message;
  private final Duration timeout;
  private final Slot<M>[] slots;
  private final LongAdder opened = new LongAdder();
  private final LongAdder messagesLost = new LongAdder();
  private final ConcurrentHashMap<String, LongAdder> failedByStatus = new ConcurrentHashMap<>();
  private volatile boolean finishing;
  private volatile boolean stopped;

  private static final class Slot<M extends MessageLite> {
    EchoStream<M> stream;
  }

  /** {@code streams} streams of {@code method}, each message {@code message}, answered within {@code timeout}. */
  @SuppressWarnings("unchecked")
  public EchoStreams(MethodDescriptor<M, M> method, M message, Duration timeout, int streams) {
    this.method = method;
    this.message = message;
    this.timeout = timeout;
    this.slots = new Slot[streams];
    for (int i = 0; i < streams; i++) {
      slots[i] = new Slot<>();
    }
  }

  @Override
  public void start(Connection server, int stream, LoadRun.Ended ended) {
    EchoStream<M> echoes;
    Slot<M> slot = slots[stream];
    synchronized (slot) {
      if (slot.stream == null || slot.stream.ended()) {
        slot.stream = server.echoStream(method, timeout, this::ended);
        opened.increment();
      }
      echoes = slot.stream;
    }
    // every answer of a ping server is an echo: Fortio counts them as "Ping SERVING"
    echoes.send(message, (reply, failure, clock) -> ended.accept(failure == null ? "SERVING" : null, failure, clock));
  }

  private void ended(Status status, int messagesInFlight) {
    if (status.isOk() || finishing && status.getCode() == Status.Code.CANCELLED && (messagesInFlight == 0 || stopped)) {
      return;
    }
    failedByStatus.computeIfAbsent(status.getCode().name(), code -> new LongAdder()).increment();
    messagesLost.add(messagesInFlight);
  }

  @Override
  public void finish(Duration limit, boolean stopped) {
    this.stopped |= stopped;
    finishing = true;
    List<EchoStream<M>> open = new ArrayList<>();
    for (Slot<M> slot : slots) {
      synchronized (slot) {
        if (slot.stream != null) {
          open.add(slot.stream);
        }
      }
    }
    open.forEach(EchoStream::halfClose);
    long deadlineNanos = System.nanoTime() + Math.min(timeout.toNanos(), limit.toNanos());
    open.forEach(echoes -> echoes.awaitEnd(deadlineNanos));
  }

  @Override
  public LoadRun.StreamCounts counts() {
    Map<String, Long> failed = new LinkedHashMap<>();
    failedByStatus.entrySet().stream().sorted(Map.Entry.comparingByKey())
        .forEach(e -> failed.put(e.getKey(), e.getValue().sum()));
    return new LoadRun.StreamCounts(opened.sum(), failed, messagesLost.sum());
  }
}
