// What a load run is: the plan its flags describe, and its calls: what they are and what their answers mean.

package pingkit.load;

import io.grpc.MethodDescriptor;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.function.Function;
import pingkit.Pingkit;
import pingkit.net.Connection;
import pingkit.net.Dialer;
import pingkit.wire.WireClock;

/** One load run: its plan, how to dial, the largest answer expected, and its calls. */
public record LoadRun(Plan plan, Dialer dialer, int maxMessageBytes, Calls calls) {

  /**
   * What a run is asked to do; {@code window}: how many calls each stream keeps in flight flat out (more than
   * one: messages on a stream of echoes); {@code startAt}: when measuring starts (null: once warmed up).
   */
  public record Plan(String runType, String target, int connections, int streams, double qps, Duration duration,
      long exactCalls, Duration warmup, int window, OffsetDateTime startAt) {

    public int slots() {
      return connections * streams;
    }

    String requestedDuration() {
      return exactCalls > 0 ? "exactly " + exactCalls + " calls"
          : duration.isZero() ? "until interrupted" : Pingkit.formatDuration(duration);
    }
  }

  /**
   * The calls of a run and what their answers mean, as the client's role says: their {@code name} in the report
   * ("Ping SERVING : 9"), how to {@code start} one, and the {@code goodAnswer} (any other is counted, and exits
   * 4); {@code fortioPing}: Fortio's JSON field "Ping"; {@code streams}: the streams that carry them when they
   * are messages on streams (null: each is a call of its own); {@code warmUpCall}: each connection's first call
   * is one of them, unmeasured (false for a user's method, whose every call may change something: a health check
   * then proves the connection, whatever it answers, and -n N makes N calls of the method).
   */
  public record Calls(String name, CallStarter start, String goodAnswer, boolean fortioPing, MessageStreams streams,
      boolean warmUpCall) {
    /** What one of them is called in the report. */
    String unit() {
      return streams == null ? "calls" : "messages";
    }
  }

  /** The streams that carry a run's calls as messages (EchoStreams.java). */
  interface MessageStreams {
    /**
     * Ends every stream once its messages in flight are answered, or cancels it past their timeout or
     * {@code limit}, whichever comes first; {@code stopped}: the run was stopped, and the messages it cancels are
     * left out (not lost to the server).
     */
    void finish(Duration limit, boolean stopped);

    /** What became of them so far. */
    StreamCounts counts();
  }

  /** What became of a run's streams: how many were opened, how many broke by status, the messages they lost. */
  record StreamCounts(long opened, Map<String, Long> failedByStatus, long messagesLost) {
    long failed() {
      return failedByStatus.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /**
   * Starts one call on a connection and tells {@code ended} how it ended: with the answer counted ("SERVING",
   * "NOT_SERVING", ...), or with the failure, counted by its status code. A callback, not a future: at full rate
   * the futures and their listeners were a tenth of the load client's work.
   */
  interface CallStarter {
    /** Starts a call of the run's stream {@code stream} (0 to C*S-1), on its connection {@code server}. */
    void start(Connection server, int stream, Ended ended);
  }

  /** How a call ended: exactly one of {@code answer} and {@code failure} is null; its times (null: none). */
  interface Ended {
    void accept(String answer, Throwable failure, WireClock.Timed clock);
  }

  /** Calls a unary method with the same request each time; {@code answer} names what the reply counts as. */
  public static <Q, R> CallStarter unaryCall(MethodDescriptor<Q, R> method, Q request, Duration timeout,
      Function<R, String> answer) {
    return (server, stream, ended) -> server.call(method, request, timeout,
        (reply, failure, clock) -> ended.accept(failure == null ? answer.apply(reply) : null, failure, clock));
  }
}
