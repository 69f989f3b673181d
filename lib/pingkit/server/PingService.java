// Fortio's ping service, as ping-server serves it.

package pingkit.server;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.logging.Logger;
import pingkit.Pingkit;
import pingkit.WallClock;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;

/**
 * Fortio's {@code PingServer/Ping}: the request echoed ({@code seq}, {@code payload}) with {@code ts} set to this
 * server's wall clock at receipt, sent {@code delayNanos} later, and {@code delayNanos} the delay applied (at
 * most --max-delay, none for a negative one), so that a client knows the wait it measured. A delayed reply is a
 * timer entry of the event loop the call arrived on (handlers run there), never a thread.
 */
final class PingService extends PingServerGrpc.PingServerImplBase {
  private static final Logger log = Logger.getLogger("pingkit.server");

  private final long maxDelayNanos;
  private final boolean logCalls;
  private final ServerLoops loops;

  PingService(Duration maxDelay, boolean logCalls, ServerLoops loops) {
    this.maxDelayNanos = maxDelay.toNanos();
    this.logCalls = logCalls;
    this.loops = loops;
  }

  @Override
  public void ping(PingMessage request, StreamObserver<PingMessage> responseObserver) {
    long delayNanos = Math.max(0, Math.min(request.getDelayNanos(), maxDelayNanos));
    PingMessage reply = request.toBuilder().setTs(WallClock.nanos()).setDelayNanos(delayNanos).build();
    if (logCalls) {
      log.info("ping seq=" + request.getSeq() + " payload=" + request.getPayload().length() + "B delay="
          + Pingkit.formatDuration(Duration.ofNanos(delayNanos)));
    }
    if (delayNanos == 0) {
      responseObserver.onNext(reply);
      responseObserver.onCompleted();
      return;
    }
    var call = (ServerCallStreamObserver<PingMessage>) responseObserver;
    call.setOnCancelHandler(loops.schedule(() -> {
      call.onNext(reply);
      call.onCompleted();
    }, delayNanos));
  }
}
