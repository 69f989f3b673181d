// How a load run's calls ended.

package pingkit.load;

import io.grpc.Status;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** How the calls of one phase of a run (warm-up, measured) ended: answers and failures by name, without locks. */
final class LoadTally {
  private final ConcurrentHashMap<String, LongAdder> outcomeCounts = new ConcurrentHashMap<>();
  private final LongAdder failedCalls = new LongAdder();
  private volatile Throwable lastFailure;

  /** A call ended with {@code answer} ("SERVING", ...), or with {@code failure}, counted by its status. */
  void count(String answer, Throwable failure) {
    if (failure != null) {
      failedCalls.increment();
      lastFailure = failure;
      answer = Status.fromThrowable(failure).getCode().name();
    }
    outcomeCounts.computeIfAbsent(answer, k -> new LongAdder()).increment();
  }

  /** The calls that ended as {@code outcome} (an answer, or a status code's name). */
  long calls(String outcome) {
    LongAdder calls = outcomeCounts.get(outcome);
    return calls == null ? 0 : calls.sum();
  }

  /** The calls answered, whatever the answer. */
  long answered() {
    return outcomeCounts.values().stream().mapToLong(LongAdder::sum).sum() - failedCalls.sum();
  }

  long failedCalls() {
    return failedCalls.sum();
  }

  /** The last failure, in one line (null: none). */
  String lastFailure() {
    Throwable failure = lastFailure;
    return failure == null ? null : pingkit.Pingkit.oneLine(failure);
  }

  /** The counts by outcome, in the order of their names. */
  Map<String, Long> outcomes() {
    Map<String, Long> counts = new LinkedHashMap<>();
    outcomeCounts.entrySet().stream().sorted(Map.Entry.comparingByKey())
        .forEach(e -> counts.put(e.getKey(), e.getValue().sum()));
    return counts;
  }
}
