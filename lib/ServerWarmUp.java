// ping-server's warm-up (ping-server.java pulls it with //SOURCES): right after it listens, a fresh server drives
// its own call path, so that the first clients measure the network and a compiled server, not its JIT warming.

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;

/**
 * A private server on a loopback port with the ping service, called by a client in this JVM over the real
 * transport (Netty, HTTP/2, gRPC, the service) on a few streams, for a bounded time. The JIT compiles that path as
 * it goes; the listening server's calls share it. It gives way at once when a real call comes or the server
 * drains, and prints a line on stderr when it starts and when it ends.
 */
final class ServerWarmUp implements Runnable {
  /** Calls in flight at once: enough to keep the path busy, few enough to leave a core to the rest. */
  private static final int STREAMS = 2;
  private static final PingMessage PING = PingMessage.newBuilder().setPayload("warm-up").build();

  private final ServerServiceDefinition pingService;
  private final int maxMessageBytes;
  private final Duration limit;
  private final BooleanSupplier giveWay;
  private final AtomicLong calls = new AtomicLong();
  private final CountDownLatch ended = new CountDownLatch(1);
  private volatile boolean stopped;

  private ServerWarmUp(ServerServiceDefinition pingService, int maxMessageBytes, Duration limit,
      BooleanSupplier giveWay) {
    this.pingService = pingService;
    this.maxMessageBytes = maxMessageBytes;
    this.limit = limit;
    this.giveWay = giveWay;
  }

  /** Starts a warm-up of at most {@code limit} in the background; {@code giveWay} says when to stop early. */
  static ServerWarmUp start(ServerServiceDefinition pingService, int maxMessageBytes, Duration limit,
      BooleanSupplier giveWay) {
    ServerWarmUp warmUp = new ServerWarmUp(pingService, maxMessageBytes, limit, giveWay);
    Thread thread = new Thread(warmUp, "ping-server-warm-up");
    thread.setDaemon(true);
    thread.start();
    return warmUp;
  }

  /** Stops the warm-up and waits (briefly) for its server and client to close. */
  void stop() {
    stopped = true;
    try {
      ended.await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void run() {
    long startNanos = System.nanoTime();
    Server server = null;
    ManagedChannel channel = null;
    try {
      server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
          .directExecutor().maxInboundMessageSize(maxMessageBytes).addService(pingService).build().start();
      int port = ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
      System.err.println("ping-server: warming up: calling itself on loopback port " + port + " for up to "
          + Pingkit.formatDuration(limit));
      channel = NettyChannelBuilder.forAddress(InetAddress.getLoopbackAddress().getHostAddress(), port)
          .usePlaintext().directExecutor().build();
      long deadline = startNanos + limit.toNanos();
      CountDownLatch streamsDone = new CountDownLatch(STREAMS);
      for (int i = 0; i < STREAMS; i++) {
        call(channel, deadline, streamsDone);
      }
      streamsDone.await();
      String why = stopped || giveWay.getAsBoolean() ? " (it gave way: a client called, or a drain began)" : "";
      System.err.printf(java.util.Locale.ROOT, "ping-server: warmed up: %d calls in %.2f s%s%n", calls.get(),
          (System.nanoTime() - startNanos) / 1e9, why);
    } catch (IOException | RuntimeException e) {
      System.err.println("ping-server: warm-up skipped: " + Pingkit.oneLine(e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (channel != null) {
        channel.shutdownNow();
      }
      if (server != null) {
        server.shutdownNow();
      }
      ended.countDown();
    }
  }

  /** One stream of calls, each made when the previous one is answered, until the deadline or a reason to stop. */
  private void call(ManagedChannel channel, long deadline, CountDownLatch streamDone) {
    if (stopped || System.nanoTime() >= deadline || giveWay.getAsBoolean()) {
      streamDone.countDown();
      return;
    }
    ClientCalls.asyncUnaryCall(channel.newCall(PingServerGrpc.getPingMethod(), io.grpc.CallOptions.DEFAULT), PING,
        new StreamObserver<>() {
          @Override
          public void onNext(PingMessage reply) {
            calls.incrementAndGet();
          }

          @Override
          public void onError(Throwable t) {
            streamDone.countDown(); // the warm-up is only an optimisation: a failing stream just ends
          }

          @Override
          public void onCompleted() {
            call(channel, deadline, streamDone);
          }
        });
  }
}
