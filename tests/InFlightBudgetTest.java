import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;

/** ping-server's in-flight byte budget: what a client can make the server hold is bounded, and the rest served. */
class InFlightBudgetTest {
  private static final int MIB = 1 << 20;

  /** Starts a ping of {@code payloadBytes} asking for {@code delayMillis}; the future ends with its status. */
  private static CompletableFuture<Status> ping(ManagedChannel channel, int payloadBytes, long delayMillis) {
    CompletableFuture<Status> ended = new CompletableFuture<>();
    PingMessage request = PingMessage.newBuilder().setPayload("x".repeat(payloadBytes))
        .setDelayNanos(TimeUnit.MILLISECONDS.toNanos(delayMillis)).build();
    PingServerGrpc.newStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS).ping(request, new StreamObserver<>() {
      private int replies;

      @Override
      public void onNext(PingMessage reply) {
        replies++;
      }

      @Override
      public void onError(Throwable t) {
        ended.complete(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        ended.complete(replies == 1 ? Status.OK : Status.INTERNAL.withDescription(replies + " replies"));
      }
    });
    return ended;
  }

  /** Waits for {@code condition}, checking it every millisecond, for at most {@code seconds}. */
  private static void await(java.util.function.BooleanSupplier condition, int seconds, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "not within " + seconds + " s: " + what);
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
  }

  @Test
  void bigDelayedPingsBeyondTheBudgetAreRefusedAtOnceWhileSmallCallsAreStillAnswered() throws Exception {
    // 8 MiB, of which 7 MiB for big calls; a 1 MiB ping holds 2 MiB (its request, then its echo): 3 fit
    try (RunningServer server = PingServer.start("--max-inflight-bytes", "8MiB", "--warmup", "0s", "127.0.0.1:0")) {
      ManagedChannel channel = TestSupport.plaintext(server.target());
      try {
        List<CompletableFuture<Status>> accepted = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          accepted.add(ping(channel, MIB, 10_000));
        }
        await(() -> server.inFlightBytes() >= 6L * MIB, 30, "3 pings of 1 MiB held");

        List<CompletableFuture<Status>> beyond = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
          beyond.add(ping(channel, MIB, 10_000));
        }
        for (CompletableFuture<Status> call : beyond) {
          // at once: long before the accepted pings' 10 s delay is over
          Status status = call.get(9, TimeUnit.SECONDS);
          assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getCode(), status.toString());
          assertTrue(status.getDescription().contains("--max-inflight-bytes 8MiB"), status.toString());
        }
        assertEquals(7, server.refusedForBytes());
        assertTrue(server.inFlightBytes() <= 7L * MIB, server.inFlightBytes() + " bytes held");

        // the budget is full of big calls: a small ping and a health check are answered all the same
        assertEquals(Status.OK, ping(channel, 100, 0).get(30, TimeUnit.SECONDS));
        assertEquals(ServingStatus.SERVING, TestSupport.health(channel, "ping"));
        assertFalse(accepted.stream().anyMatch(CompletableFuture::isDone), "the accepted pings are still delayed");

        // every accepted ping is answered, exactly once
        for (CompletableFuture<Status> call : accepted) {
          assertEquals(Status.OK, call.get(60, TimeUnit.SECONDS));
        }
      } finally {
        TestSupport.close(channel);
      }
      await(() -> server.inFlightBytes() == 0, 10, "nothing held once every call has ended");
    }
  }
}
