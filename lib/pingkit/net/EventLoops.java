// The clients' network threads.

package pingkit.net;

import io.grpc.netty.shaded.io.netty.channel.EventLoop;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import pingkit.wire.ArrivalWatch;

/**
 * The network threads of all open connections, and the thread that watches their arrivals ({@link ArrivalWatch}),
 * ended with the last one. gRPC's own shared threads outlive
 * the channels by a second, and on Java 17 a JVM exiting while a thread waits in epoll waits for it: a third
 * of a health check's run.
 */
public final class EventLoops {
  private static EventLoopGroup group;
  private static int users;

  private EventLoops() {}

  /**
   * The network thread of one more connection, the threads taken in turn. A channel is given its one thread,
   * not the group: gRPC schedules each call's deadline timer on the channel's group, and the group's
   * {@code next()} would put it on any thread (a cross-thread wake-up to set it and one to cancel it), and
   * timers scheduled from other threads took turns with the channels, so that all of a run's connections
   * shared one thread.
   */
  public static synchronized EventLoop acquire() {
    if (users++ == 0) {
      ThreadFactory daemons = new DefaultThreadFactory("pingkit-client", true);
      group = new MultiThreadIoEventLoopGroup(Runtime.getRuntime().availableProcessors(), daemons,
          Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    }
    return group.next();
  }

  public static synchronized void release() {
    if (--users == 0) {
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS).awaitUninterruptibly(1, TimeUnit.SECONDS);
      group = null;
      ArrivalWatch.stop(); // its thread waits in epoll too
    }
  }
}
