// The measurement of Fortio's grpcping: what an iteration of two pings gives, and the report the iterations add up
// to.

package pingkit.ping;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Locale;
import pingkit.Host;
import pingkit.Pingkit;
import pingkit.WallClock;
import pingkit.fgrpc.PingMessage;
import pingkit.report.Backends;
import pingkit.report.Merge;
import pingkit.report.Overhead;
import pingkit.report.SampleHistogram;
import pingkit.wire.WireClock;

/**
 * Per iteration, two pings give three RTT samples and one clock-skew sample, from times taken at the socket.
 * One writer: the iterations run one after the other.
 */
public final class PingMeasurement {
  private final SampleHistogram rttHistogram = new SampleHistogram();
  private final SampleHistogram clockSkewHistogram = new SampleHistogram();
  private final Overhead overhead = new Overhead();
  private final Backends backends = new Backends();
  private final OffsetDateTime startTime = OffsetDateTime.now();
  private final long startNanos = System.nanoTime();
  private long iterations;

  /** One iteration's samples, in nanoseconds. */
  record Iteration(long seq, long rtt1Nanos, long serverRttNanos, long rtt2Nanos, long clockSkewNanos) {
    /** The line ping-client prints for it with -n 0 or -v. */
    String line() {
      return String.format(Locale.ROOT, "seq %d: rtt %s usec (avg of %s, %s, %s) clock skew %s usec", seq,
          number((rtt1Nanos + rtt2Nanos + serverRttNanos) / 3e3), number(rtt1Nanos / 1e3),
          number(serverRttNanos / 1e3), number(rtt2Nanos / 1e3), number(clockSkewNanos / 1e3));
    }
  }

  /**
   * Records iteration {@code seq}: the first ping left at t1a and its answer came back at t2a (the client's
   * clock); the server stamped t1b and t2b at its two receipts ({@code ts} of its replies), and answered the first
   * one the delay its reply says it applied ({@code delayNanos}: a ping-server's is the delay clamped to its
   * --max-delay; Fortio's server echoes the delay asked for, and sleeps it when it is positive), never more than
   * that ping's round trip, which holds it (a server that clamps and echoes the delay asked for is caught so).
   */
  Iteration record(long seq, WireClock.Timed first, PingMessage firstReply, WireClock.Timed second,
      PingMessage secondReply) {
    long t1b = firstReply.getTs();
    long t2b = secondReply.getTs();
    long rtt1Nanos = first.rttNanos();
    long delayNanos = Math.max(0, Math.min(firstReply.getDelayNanos(), rtt1Nanos));
    long rtt2Nanos = second.rttNanos();
    // between its two receipts the server waited for our turnaround too: the first answer's arrival to the
    // second ping's departure is the client's own time, not the path's
    long serverRttNanos = t2b - t1b - (second.wireOutNanos() - first.wireInNanos());
    long t2a = first.wireInNanos() + WallClock.offsetNanos();
    // The server "saw" our t2a half the server-measured round trip (which holds the delay) plus half the delay
    // after t1b. With no delay this is Fortio's (t1b + rtR/2) - t2a.
    long clockSkewNanos = t1b + (serverRttNanos + delayNanos) / 2 - t2a;
    rttHistogram.record(rtt1Nanos);
    rttHistogram.record(rtt2Nanos);
    rttHistogram.record(serverRttNanos);
    clockSkewHistogram.record(clockSkewNanos);
    overhead.record(first);
    overhead.record(second);
    backends.record(first.backend(), rtt1Nanos, false);
    backends.record(second.backend(), rtt2Nanos, false);
    iterations = seq;
    return new Iteration(seq, rtt1Nanos, serverRttNanos, rtt2Nanos, clockSkewNanos);
  }

  /** Iterations recorded. */
  long iterations() {
    return iterations;
  }

  /** The run's result; {@code streamOpenNanos}: over one stream, the time it took to open (else -1). */
  PingResult result(String target, int payloadBytes, Duration delay, long streamOpenNanos, Pingkit.UserError failure) {
    Duration duration = Duration.ofNanos(System.nanoTime() - startNanos);
    return new PingResult(target, iterations, payloadBytes, delay, streamOpenNanos >= 0, streamOpenNanos, rttHistogram,
        clockSkewHistogram, overhead, backends.results(), List.of(new Merge.Run(Host.name(), startTime,
            duration, rttHistogram.count())), failure);
  }


  private static String number(double value) {
    return SampleHistogram.number(value);
  }
}
