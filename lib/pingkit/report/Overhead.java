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
  private final long[] callsByClock; // by WireClock.Kind's ordinal

  public Overhead() {
    this(new SampleHistogram(), 0, 0, new long[WireClock.Kind.values().length]);
  }

  /**
   * From a total histogram and the sums of its two phases, recorded elsewhere (the load engine), and how many
   * calls each clock timed ({@link WireClock.Kind}'s order; the array is the overhead's from now on).
   */
  public Overhead(SampleHistogram total, long beforeWireNanos, long afterWireNanos, long[] callsByClock) {
    this.total = total;
    this.beforeWireNanos = beforeWireNanos;
    this.afterWireNanos = afterWireNanos;
    this.callsByClock = callsByClock;
  }

  /** An answered call's times. */
  public void record(WireClock.Timed clock) {
    long before = clock.sendOverheadNanos();
    long after = clock.receiveOverheadNanos();
    total.record(before + after);
    beforeWireNanos += before;
    afterWireNanos += after;
    callsByClock[clock.kind().ordinal()]++;
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
    long[] callsByClock = new long[WireClock.Kind.values().length];
    var counts = json.get(fortio ? "WireClockCalls" : "wireClockCalls");
    if (counts != null && counts.isJsonObject()) {
      for (var count : counts.getAsJsonObject().entrySet()) {
        WireClock.Kind clock = WireClock.Kind.of(count.getKey());
        if (clock == null) {
          throw new IllegalArgumentException("no wire clock is called \"" + count.getKey() + "\"");
        }
        callsByClock[clock.ordinal()] = count.getValue().getAsLong();
      }
    } else { // a document of before the counts: all its calls by the clock it names
      var clockName = json.get(fortio ? "WireClock" : "wireClock");
      WireClock.Kind clock = clockName != null && clockName.isJsonPrimitive()
          ? WireClock.Kind.of(clockName.getAsString()) : null;
      boolean wireTimes = json.get(fortio ? "WireTimes" : "wireTimes").getAsBoolean();
      callsByClock[(clock != null ? clock : wireTimes ? WireClock.Kind.NETWORK_READ
          : WireClock.Kind.APPLICATION).ordinal()] = total.count();
    }
    return new Overhead(total, Math.round(json.get(avg.formatted("Before")).getAsDouble() * unitNanos),
        Math.round(json.get(avg.formatted("After")).getAsDouble() * unitNanos), callsByClock);
  }

  /** Both runs' times, as if one run's (into this one's histogram: a merge owns what it read). */
  public Overhead plus(Overhead other) {
    long[] callsByClock = this.callsByClock.clone();
    for (int i = 0; i < callsByClock.length; i++) {
      callsByClock[i] += other.callsByClock[i];
    }
    return new Overhead(total.add(other.total), beforeWireNanos + other.beforeWireNanos,
        afterWireNanos + other.afterWireNanos, callsByClock);
  }

  /** Whether every answered call was timed at the wire (else some RTTs hold the client's own time). */
  public boolean wireTimes() {
    return callsByClock[WireClock.Kind.APPLICATION.ordinal()] == 0;
  }

  /**
   * The clock that timed the round trips, the least exact one that any call had ({@link WireClock.Kind}; with no
   * call, the most exact).
   */
  public WireClock.Kind wireClock() {
    WireClock.Kind[] kinds = WireClock.Kind.values();
    for (int i = kinds.length - 1; i > 0; i--) {
      if (callsByClock[i] > 0) {
        return kinds[i];
      }
    }
    return kinds[0];
  }

  /** How many calls {@code clock} timed. */
  public long calls(WireClock.Kind clock) {
    return callsByClock[clock.ordinal()];
  }

  /** Which clock timed the RTTs: "RTT clock: kernel", or with several "RTT clocks: kernel 9998, network-read 2". */
  private String clocks() {
    Map<String, Long> calls = callsByClockName();
    if (calls.size() <= 1) {
      return "RTT clock: " + wireClock().json;
    }
    java.util.StringJoiner line = new java.util.StringJoiner(", ", "RTT clocks: ", "");
    calls.forEach((clock, count) -> line.add(clock + " " + count));
    return line.toString();
  }

  /** The calls each clock timed, the clocks that timed none left out: for the JSON. */
  private Map<String, Long> callsByClockName() {
    Map<String, Long> calls = new java.util.LinkedHashMap<>();
    for (WireClock.Kind clock : WireClock.Kind.values()) {
      if (callsByClock[clock.ordinal()] > 0) {
        calls.put(clock.json, callsByClock[clock.ordinal()]);
      }
    }
    return calls;
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
        + " (not in the RTT; %s)%n", name, SampleHistogram.number(total.avg(unit)),
        SampleHistogram.number(total.percentile(50, unit)), SampleHistogram.number(total.percentile(99, unit)),
        SampleHistogram.number(total.max(unit)), total.count(), timed, clocks());
    return !byPhase ? line : line + String.format(Locale.ROOT, "Client overhead %s by phase : before the wire"
        + " avg %s, after the wire avg %s%n", name, SampleHistogram.number(beforeWireAvg(unit)),
        SampleHistogram.number(afterWireAvg(unit)));
  }

  /** pingkit's JSON: the histogram in microseconds, and the average of each phase. */
  public void putJson(Map<String, Object> json, List<Double> percentiles) {
    json.put("wireTimes", wireTimes());
    json.put("wireClock", wireClock().json);
    json.put("wireClockCalls", callsByClockName());
    json.put("clientOverheadMicros", HistogramJson.pingkit(total, percentiles));
    json.put("clientOverheadBeforeWireMicrosAvg", HistogramJson.round(beforeWireAvg(SampleHistogram.Unit.MICROS)));
    json.put("clientOverheadAfterWireMicrosAvg", HistogramJson.round(afterWireAvg(SampleHistogram.Unit.MICROS)));
  }

  /** Fortio-styled JSON: the histogram in seconds, and the average of each phase. */
  public void putFortioJson(Map<String, Object> json, List<Double> percentiles) {
    json.put("WireTimes", wireTimes());
    json.put("WireClock", wireClock().json);
    json.put("WireClockCalls", callsByClockName());
    json.put("ClientOverheadHistogram", HistogramJson.fortio(total, percentiles));
    json.put("ClientOverheadBeforeWireAvg", beforeWireAvg(SampleHistogram.Unit.SECONDS));
    json.put("ClientOverheadAfterWireAvg", afterWireAvg(SampleHistogram.Unit.SECONDS));
  }
}
