// Latencies of many threads in one histogram.

package pingkit.report;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

/**
 * Latencies recorded without locks or shared counters: each recording thread (a network thread, the pacer)
 * writes its own recorder, and the one reader sums them. A shared Recorder's counters are atomics that every
 * writer updates: one cache line passed between the network threads at each call.
 */
public final class Recording {
  private final List<SingleWriterRecorder> recorders = new CopyOnWriteArrayList<>();
  private final ThreadLocal<SingleWriterRecorder> threadRecorder = ThreadLocal.withInitial(() -> {
    SingleWriterRecorder recorder = new SingleWriterRecorder(3);
    recorders.add(recorder);
    return recorder;
  });
  private final Histogram total = new Histogram(3);
  private final Histogram interval = new Histogram(3);
  private final Histogram threadInterval = new Histogram(3);

  public void record(long nanos) {
    threadRecorder.get().recordValue(Math.max(0, nanos));
  }

  /** The calls since the last call of this method (also added to the total); one reader thread only. */
  public synchronized Histogram sinceLast() {
    interval.reset();
    for (SingleWriterRecorder recorder : recorders) {
      recorder.getIntervalHistogramInto(threadInterval);
      interval.add(threadInterval);
    }
    total.add(interval);
    return interval;
  }

  public synchronized Histogram total() {
    sinceLast();
    return total;
  }
}
