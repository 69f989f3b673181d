// The clients' arrival watch (ping-client.java and health-check.java pull this file with //SOURCES): when an
// answer's bytes reach the socket, noted by a thread of its own while the network thread may be busy.

import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventArray;
import io.grpc.netty.shaded.io.netty.channel.epoll.Native;
import io.grpc.netty.shaded.io.netty.channel.unix.FileDescriptor;
import io.grpc.netty.shaded.io.netty.channel.unix.UnixChannel;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * A thread of its own that notes when bytes arrive on one socket, while the network thread may still be busy
 * with the client's own work (a fresh JVM's work after each write runs in the interpreter). It waits in
 * an epoll set of its own (Linux), armed for one arrival at each flush and taken at each read.
 */
final class ArrivalWatch implements Runnable {
  private static final Logger log = Logger.getLogger("pingkit.client");
  private static final int EPOLLONESHOT = 1 << 30;
  private static final AtomicBoolean unwatchedSaid = new AtomicBoolean();
  private final int socketFd;
  private final FileDescriptor epoll;
  private final FileDescriptor wake;
  private final FileDescriptor timer;
  private final EpollEventArray events;
  private final AtomicLong arrivedNanos = new AtomicLong();
  private volatile boolean closed;

  private ArrivalWatch(int socketFd, EpollEventArray events, FileDescriptor epoll, FileDescriptor wake,
      FileDescriptor timer) {
    this.socketFd = socketFd;
    this.events = events;
    this.epoll = epoll;
    this.wake = wake;
    this.timer = timer;
  }

  /** A watch of {@code channel}'s socket, or null (not Linux, or Netty's internals changed: read times then). */
  static ArrivalWatch of(Channel channel) {
    if (!(channel instanceof UnixChannel unix) || !Epoll.isAvailable()) {
      return null;
    }
    List<FileDescriptor> opened = new ArrayList<>();
    try {
      // Netty's own array of epoll events, whose constructor is not public
      Constructor<EpollEventArray> newEvents = EpollEventArray.class.getDeclaredConstructor(int.class);
      newEvents.setAccessible(true);
      EpollEventArray events = newEvents.newInstance(2);
      FileDescriptor epoll = opened(opened, Native.newEpollCreate());
      FileDescriptor wake = opened(opened, Native.newEventFd());
      FileDescriptor timer = opened(opened, Native.newTimerFd());
      Native.epollCtlAdd(epoll.intValue(), wake.intValue(), Native.EPOLLIN);
      Native.epollCtlAdd(epoll.intValue(), unix.fd().intValue(), 0);
      ArrivalWatch watch = new ArrivalWatch(unix.fd().intValue(), events, epoll, wake, timer);
      Thread thread = new Thread(watch, "pingkit-arrivals");
      thread.setDaemon(true);
      thread.start();
      return watch;
    } catch (IOException | ReflectiveOperationException | RuntimeException e) {
      closeAll(opened);
      if (unwatchedSaid.compareAndSet(false, true)) {
        log.info("arrivals are not watched (" + Pingkit.oneLine(e) + "): answers are timed when read");
      }
      return null;
    }
  }

  private static FileDescriptor opened(List<FileDescriptor> opened, FileDescriptor fd) {
    opened.add(fd);
    return fd;
  }

  private static void closeAll(List<FileDescriptor> fds) {
    for (FileDescriptor fd : fds) {
      try {
        fd.close();
      } catch (IOException e) {
        // closing our own descriptors: nothing to do about it
      }
    }
  }

  @Override
  @SuppressWarnings("deprecation") // Netty's epollWait with a timer descriptor: the one public way to wait
  public void run() {
    try {
      while (!closed) {
        int ready = Native.epollWait(epoll, events, timer, Integer.MAX_VALUE, 0); // no time limit
        long nowNanos = System.nanoTime();
        if (ready > 0 && !closed) {
          arrivedNanos.compareAndSet(0, nowNanos);
        }
      }
    } catch (IOException e) {
      log.fine("arrival watch ended: " + Pingkit.oneLine(e)); // reads are timed when read from now on
    } finally {
      closeAll(List.of(epoll, wake, timer));
    }
  }

  /** Watches for the next arrival (the network thread, before a flush). */
  void arm() {
    arrivedNanos.set(0);
    try {
      Native.epollCtlMod(epoll.intValue(), socketFd, Native.EPOLLIN | EPOLLONESHOT);
    } catch (IOException e) {
      // the socket is closing: its reads are timed when read
    }
  }

  /** When bytes arrived since the last flush, or 0 (the network thread, at a read). */
  long take() {
    return arrivedNanos.getAndSet(0);
  }

  void close() {
    closed = true;
    try {
      Native.eventFdWrite(wake.intValue(), 1);
    } catch (RuntimeException e) {
      // the watch has ended already
    }
  }
}
