// ping-server's network threads: the event loops it owns, and which of them runs the handler at hand, so that a delay
// or a close is scheduled there without a thread.

package pingkit.server;

import io.grpc.netty.shaded.io.netty.channel.EventLoop;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import io.grpc.netty.shaded.io.netty.util.concurrent.FastThreadLocal;
import java.net.SocketAddress;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import pingkit.Pingkit;

/**
 * The server's own event loops (epoll on Linux, NIO elsewhere; a Unix socket needs epoll): one that accepts, the
 * others serve the connections, and with the server's direct executor every handler runs on its connection's
 * loop. {@link #current} says which, with Netty's public API only.
 */
public final class ServerLoops {
  private static final FastThreadLocal<EventLoop> CURRENT = new FastThreadLocal<>();
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final Class<? extends ServerChannel> channelType;

  private ServerLoops(EventLoopGroup boss, EventLoopGroup workers, Class<? extends ServerChannel> channelType) {
    this.boss = boss;
    this.workers = workers;
    this.channelType = channelType;
  }

  /** Loops for a server on {@code address}: a TCP address, or a Unix socket (which needs epoll). */
  public static ServerLoops forAddress(SocketAddress address) {
    boolean unix = address instanceof DomainSocketAddress;
    if (unix && !Epoll.isAvailable()) {
      throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, "Unix domain sockets need Linux (epoll): "
          + Pingkit.oneLine(Epoll.unavailabilityCause()));
    }
    var handlers = Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("ping-server-accept", true),
        handlers);
    // as many as Netty's default (twice the cores), as gRPC's shared loops had
    EventLoopGroup workers = new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory("ping-server", true),
        handlers);
    return new ServerLoops(boss, workers, unix ? EpollServerDomainSocketChannel.class
        : Epoll.isAvailable() ? EpollServerSocketChannel.class : NioServerSocketChannel.class);
  }

  /** The listening channel's type, of the loops' transport. */
  Class<? extends ServerChannel> channelType() {
    return channelType;
  }

  /** A TCP listening channel of the loops' transport (the warm-up's, whatever the server listens on). */
  Class<? extends ServerChannel> tcpChannelType() {
    return channelType == NioServerSocketChannel.class ? channelType : EpollServerSocketChannel.class;
  }

  /** The loop that accepts connections. */
  EventLoopGroup accepting() {
    return boss;
  }

  /** The loops that serve the connections. */
  public EventLoopGroup serving() {
    return workers;
  }

  /** The loop the calling thread runs, or null when it runs none of this server's (a test's own thread). */
  EventLoop current() {
    EventLoop known = CURRENT.get();
    if (known != null && known.parent() == workers) {
      return known;
    }
    for (EventExecutor loop : workers) {
      if (loop.inEventLoop()) {
        CURRENT.set((EventLoop) loop);
        return (EventLoop) loop;
      }
    }
    return null;
  }

  /**
   * Runs {@code action} {@code delayNanos} from now on the calling thread's loop, a timer entry that holds no
   * thread; off the server's loops (which a gRPC change could bring), on a timer thread of its own, said once.
   * Returns what cancels it.
   */
  public Runnable schedule(Runnable action, long delayNanos) {
    EventLoop loop = current();
    try {
      ScheduledFuture<?> pending = loop != null ? loop.schedule(action, delayNanos, TimeUnit.NANOSECONDS)
          : offLoopTimer().schedule(action, delayNanos, TimeUnit.NANOSECONDS);
      return () -> pending.cancel(false);
    } catch (java.util.concurrent.RejectedExecutionException stopping) {
      return () -> {}; // the server is stopping: its calls are being cut, this one with them
    }
  }

  private static ScheduledThreadPoolExecutor offLoopTimer;

  private static synchronized ScheduledThreadPoolExecutor offLoopTimer() {
    if (offLoopTimer == null) {
      Logger.getLogger("pingkit.server").warning("a call's handler ran off the server's network threads: its delay"
          + " is timed on a thread of its own");
      offLoopTimer = new ScheduledThreadPoolExecutor(1, new DefaultThreadFactory("ping-server-timer", true));
      offLoopTimer.setRemoveOnCancelPolicy(true);
    }
    return offLoopTimer;
  }

  /** Ends the loops, once the server has stopped. */
  public void release() {
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
