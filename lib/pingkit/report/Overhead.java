// The client's own time per call, left out of every RTT.

package pingkit.report;

import com.google.gson.JsonObject;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import pingkit.wire.WireClock;

/**
 * The client's own time per call, left out of every RTT: before the wire (building, encoding, sending) and
 * after it (reading, decoding, handing over). One writer, like {@link SampleHistogram}.
 */
public final class Overhead {
  public final SampleHistogram total;
  private long beforeWireNanos;
  private long afterWireNanos;
  private long offWireCalls;
  private long readTimedCalls;

  public Overhead() {
    this(new SampleHistogram(), 0, 0, 0, 0);
  }

  /**
   * From a total histogram and the sums of its two phases, recorded elsewhere (the load engine); {@code offWireCalls}
   * had no wire times, {@code readTimedCalls} had answers timed when read rather than by the arrival watch.
   */
  public Overhead(SampleHistogram total, long beforeWireNanos, long afterWireNanos, long offWireCalls, long readTimedCalls) {
    this.total = total;
    this.beforeWireNanos = beforeWireNanos;
    this.afterWireNanos = afterWireNanos;
    this.offWireCalls = offWireCalls;
    this.readTimedCalls = readTimedCalls;
  }

  /** An answered call's times. */
  public void record(WireClock.Timed clock) {
    long before = clock.sendOverheadNanos();
    long after = clock.receiveOverheadNanos();
    total.record(before + after);
    beforeWireNanos += before;
    afterWireNanos += after;
    offWireCalls += clock.onWire() ? 0 : 1;
    readTimedCalls += clock.onWire() && !clock.onWatchedConnection() ? 1 : 0;
  }

  /** Read back from a report's JSON ({@link #putJson}, or {@link #putFortioJson} when {@code fortio}). */
  public static Overhead fromJson(JsonObject json, boolean fortio) {
    SampleHistogram total = HistogramJson.read(json.getAsJsonObject(fortio ? "ClientOverheadHistogram"
        : "clientOverheadMicros"), fortio);
    if (total == null) {
      throw new IllegalArgumentException("no client overhead histogram with its encoding");
    }
    double unitNanos = (fortio ? SampleHistogram.Unit.SECONDS : SampleHistogram.Unit.MICROS).nanos * total.count();
    String avg = fortio ? "ClientOverhead%sWireAvg" : "clientOverhead%sWireMicrosAvg";
    var clock = json.get(fortio ? "WireClock" : "wireClock");
    boolean readTimed = clock != null && clock.isJsonPrimitive() && clock.getAsString().equals(NETWORK_READ);
    return new Overhead(total, Math.round(json.get(avg.formatted("Before")).getAsDouble() * unitNanos),
        Math.round(json.get(avg.formatted("After")).getAsDouble() * unitNanos),
        json.get(fortio ? "WireTimes" : "wireTimes").getAsBoolean() ? 0 : 1, readTimed ? 1 : 0);
  }

  /** Both runs' times, as if one run's (into this one's histogram: a merge owns what it read). */
  public Overhead plus(Overhead other) {
    return new Overhead(total.add(other.total), beforeWireNanos + other.beforeWireNanos,
        afterWireNanos + other.afterWireNanos,
        offWireCalls + other.offWireCalls, readTimedCalls + other.readTimedCalls);
  }

  /** Whether every answered call was timed at the wire (else some RTTs hold the client's own time). */
  public boolean wireTimes() {
    return offWireCalls == 0;
  }

  public static final String ARRIVAL_WATCH = "arrival-watch";
  static final String NETWORK_READ = "network-read";
  static final String APPLICATION = "application";

  /**
   * The clock that timed the answers, the least exact one that any call had: {@value #ARRIVAL_WATCH} (noted as
   * they reached the socket), {@value #NETWORK_READ} (when the network thread read them: later on a busy
   * client), {@value #APPLICATION} (no wire times: the calls' whole times).
   */
  public String wireClock() {
    return offWireCalls > 0 ? APPLICATION : readTimedCalls > 0 ? NETWORK_READ : ARRIVAL_WATCH;
  }

  double beforeWireAvg(SampleHistogram.Unit unit) {
    return total.count() == 0 ? 0 : beforeWireNanos / unit.nanos / total.count();
  }

  double afterWireAvg(SampleHistogram.Unit unit) {
    return total.count() == 0 ? 0 : afterWireNanos / unit.nanos / total.count();
  }

  /** One line (two with {@code byPhase}, -v): the client's time per call, apart from the RTT. */
  public String format(SampleHistogram.Unit unit, boolean byPhase) {
    return format(unit, byPhase, "calls");
  }

  /** The same, of {@code timed} ("calls", "messages"). */
  public String format(SampleHistogram.Unit unit, boolean byPhase, String timed) {
    String name = unit == SampleHistogram.Unit.MICROS ? "usec" : "seconds";
    String line = String.format(Locale.ROOT, "Client overhead %s : avg %s p50 %s p99 %s max %s over %d %s"
        + " (not in the RTT)%n", name, SampleHistogram.number(total.avg(unit)),
        SampleHistogram.number(total.percentile(50, unit)), SampleHistogram.number(total.percentile(99, unit)),
        SampleHistogram.number(total.max(unit)), total.count(), timed);
    return !byPhase ? line : line + String.format(Locale.ROOT, "Client overhead %s by phase : before the wire"
        + " avg %s, after the wire avg %s%n", name, SampleHistogram.number(beforeWireAvg(unit)),
        SampleHistogram.number(afterWireAvg(unit)));
  }

  /** pingkit's JSON: the histogram in microseconds, and the average of each phase. */
  public void putJson(Map<String, Object> json, List<Double> percentiles) {
    json.put("wireTimes", wireTimes());
    json.put("wireClock", wireClock());
    json.put("clientOverheadMicros", HistogramJson.pingkit(total, percentiles));
    json.put("clientOverheadBeforeWireMicrosAvg", HistogramJson.round(beforeWireAvg(SampleHistogram.Unit.MICROS)));
    json.put("clientOverheadAfterWireMicrosAvg", HistogramJson.round(afterWireAvg(SampleHistogram.Unit.MICROS)));
  }

  /** Fortio-styled JSON: the histogram in seconds, and the average of each phase. */
  public void putFortioJson(Map<String, Object> json, List<Double> percentiles) {
    json.put("WireTimes", wireTimes());
    json.put("WireClock", wireClock());
    json.put("ClientOverheadHistogram", HistogramJson.fortio(total, percentiles));
    json.put("ClientOverheadBeforeWireAvg", beforeWireAvg(SampleHistogram.Unit.SECONDS));
    json.put("ClientOverheadAfterWireAvg", afterWireAvg(SampleHistogram.Unit.SECONDS));
  }
}
