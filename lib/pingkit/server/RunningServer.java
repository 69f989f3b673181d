// ping-server's handle on a listening server: where it listens, its health, its warm-up, and the ways to stop it.

package pingkit.server;

import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/** A listening server: where it listens, its health, and the ways to stop it (a drain, or at once). */
public final class RunningServer implements AutoCloseable {
  private final Server server;
  private final HealthStatusManager health;
  public final Drain drain;
  private final InFlightBudget budget;
  private final MemoryReturn memory;
  private final Path socketPath;
  private final ServerLoops loops;
  private final ServerServiceDefinition warmUpService;
  private final int maxMessageBytes;
  private final AtomicBoolean released = new AtomicBoolean();
  private volatile ServerWarmUp warmUp;

  /**
   * The handle of {@code server}, listening; {@code warmUpService} is what {@link #warmUp} calls (the ping
   * service), {@code memory} what gives memory back after a burst, {@code loops} its network threads and
   * {@code socketPath} (null: TCP) what it releases when it stops.
   */
  public RunningServer(Server server, HealthStatusManager health, Drain drain, InFlightBudget budget, MemoryReturn memory,
      Path socketPath, ServerLoops loops, ServerServiceDefinition warmUpService, int maxMessageBytes) {
    this.server = server;
    this.health = health;
    this.drain = drain;
    this.budget = budget;
    this.memory = memory;
    this.socketPath = socketPath;
    this.loops = loops;
    this.warmUpService = warmUpService;
    this.maxMessageBytes = maxMessageBytes;
  }

  @Override
  public String toString() {
    return "PingServer listening on " + address();
  }

  /** "tcp HOST:PORT" or "unix PATH", as printed on start. */
  public String address() {
    return socketPath != null ? "unix " + socketPath
        : "tcp " + ServerFlags.hostPort((InetSocketAddress) server.getListenSockets().get(0));
  }

  /** The bound TCP port (-1 for a Unix socket). */
  public int port() {
    return socketPath != null ? -1 : ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
  }

  /** A target for clients: "127.0.0.1:PORT" for a TCP server (of any interface), "unix:PATH" for a socket. */
  public String target() {
    if (socketPath != null) {
      return "unix:" + socketPath;
    }
    InetSocketAddress bound = (InetSocketAddress) server.getListenSockets().get(0);
    return bound.getAddress().isAnyLocalAddress() ? "127.0.0.1:" + bound.getPort() : ServerFlags.hostPort(bound);
  }

  /** Sets the health a service reports (a no-op once draining: health stays NOT_SERVING). */
  public void setHealth(String service, ServingStatus status) {
    health.setStatus(service, status);
  }

  /** Unary calls (pings, health checks) received and not yet answered. */
  public int callsInFlight() {
    return drain.callsInFlight();
  }

  /** Bytes that calls in flight hold against --max-inflight-bytes. */
  public long inFlightBytes() {
    return budget.usedBytes();
  }

  /** Calls refused because --max-inflight-bytes was full. */
  public long refusedForBytes() {
    return budget.refusals();
  }

  /**
   * Calls itself over loopback for {@code limit} (0: not at all) in the background, giving way to the first
   * client and to a drain ({@link ServerWarmUp}).
   */
  public void warmUp(Duration limit) {
    if (!limit.isZero() && !limit.isNegative()) {
      warmUp = ServerWarmUp.start(warmUpService, maxMessageBytes, loops, limit,
          () -> drain.called() || drain.draining());
    }
  }

  /** Drains (health NOT_SERVING, no new calls, calls in flight answered) within 30 s. */
  public void stop() {
    drain(Duration.ofSeconds(30));
  }

  @Override
  public void close() {
    stop();
  }

  /** Stops at once: calls in flight are cancelled. */
  public void stopNow() {
    stopWarmUp();
    server.shutdownNow();
    drain.cut();
    try {
      // the transports close on the loops: released before that, the server's end would wait for nothing
      server.awaitTermination(1, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    release();
  }

  /**
   * Health turns NOT_SERVING, new calls are refused, and calls in flight (delayed pings too) are answered
   * within {@code timeout}; then long-lived streams (health watches) end. Returns how many calls were cut.
   */
  public int drain(Duration timeout) {
    stopWarmUp();
    int cut = drain.drain(server, health, timeout);
    release();
    return cut;
  }

  private void stopWarmUp() {
    if (warmUp != null) {
      warmUp.stop();
    }
  }

  private void release() {
    if (!released.getAndSet(true)) {
      memory.close();
      loops.release();
      ServerFlags.removeSocketFile(socketPath);
    }
  }
}
