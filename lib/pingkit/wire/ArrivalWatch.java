// The clients' arrival watch: when an answer's bytes reached the socket, noted by one thread for every connection
// while the network threads are busy.

package pingkit.wire;

import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventArray;
import io.grpc.netty.shaded.io.netty.channel.epoll.Native;
import io.grpc.netty.shaded.io.netty.channel.unix.FileDescriptor;
import io.grpc.netty.shaded.io.netty.channel.unix.UnixChannel;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.logging.Logger;
import pingkit.Pingkit;

/**
 * One thread that notes when bytes arrive on the clients' sockets, all of them, while their network threads may
 * still be busy with the client's own work (a fresh JVM's work after each write runs in the interpreter). Each
 * socket is armed for one arrival at each flush (EPOLLONESHOT in an epoll set of the watch's own) and taken at
 * each read.
 *
 * <p>A time it notes is never earlier than the first byte of the read that takes it: the thread only keeps a
 * time after it has seen, in a second epoll set, that the socket still holds unread bytes, and only if the
 * socket's state did not change meanwhile (no read, no new arming: each arming is a new state object, so a
 * compare-and-set cannot be fooled). A wake-up for bytes that a read took already, however late the thread runs,
 * is dropped. This holds because each read that returns bytes is taken ({@link Socket#take}, in the socket clock's
 * channelRead) before the next read of the same socket, as Netty's epoll read loop does. What needs Netty's
 * non-public natives is looked up once; when that fails, or the thread fails, answers are timed when read, and the
 * client says so once.
 */
public final class ArrivalWatch implements Runnable {
  private static final Logger log = Logger.getLogger("pingkit.client");
  private static final int EPOLLONESHOT = 1 << 30;
  private static final int EVENTS = 64;
  private static final AtomicBoolean unwatchedSaid = new AtomicBoolean();
  /** The system property that turns the watch off ("off"): answers are then timed when read. */
  public static final String SWITCH = "pingkit.arrivalWatch";
  private static final EpollNatives NATIVES = EpollNatives.lookUp();
  private static ArrivalWatch shared; // the running watch, while connections are open (EventLoops)

  private final FileDescriptor armed; // sockets armed for their next arrival (one-shot)
  private final FileDescriptor probe; // a socket is put here to see whether it still holds unread bytes
  private final FileDescriptor wake;
  private final Thread thread;
  private volatile AtomicReferenceArray<Socket> socketsByFd = new AtomicReferenceArray<>(1024);
  private volatile boolean closed;
  private volatile boolean failed;

  private ArrivalWatch(FileDescriptor armed, FileDescriptor probe, FileDescriptor wake) throws Exception {
    this.armed = armed;
    this.probe = probe;
    this.wake = wake;
    Native.epollCtlAdd(armed.intValue(), wake.intValue(), Native.EPOLLIN);
    this.thread = new Thread(this, "pingkit-arrivals");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Watches {@code channel}'s socket (on its network thread, once connected); null when it cannot be watched
   * (not Linux's epoll, or Netty's internals changed): its answers are then timed when read, as said once.
   */
  static Socket watch(io.grpc.netty.shaded.io.netty.channel.Channel channel) {
    if ("off".equals(System.getProperty(SWITCH))) {
      sayUnwatched("-D" + SWITCH + "=off");
      return null;
    }
    if (!(channel instanceof UnixChannel unix)) {
      sayUnwatched("not an epoll socket");
      return null;
    }
    ArrivalWatch watch;
    try {
      watch = running();
    } catch (Exception | LinkageError e) {
      sayUnwatched(Pingkit.oneLine(e));
      return null;
    }
    return watch == null ? null : watch.add(unix.fd());
  }

  /** Ends the watch (the last connection closed): its thread and descriptors. */
  public static synchronized void stop() {
    ArrivalWatch watch = shared;
    shared = null;
    if (watch != null) {
      watch.close();
    }
  }

  private static synchronized ArrivalWatch running() throws Exception {
    if (shared == null || shared.failed) {
      if (NATIVES.failure() != null) {
        sayUnwatched(NATIVES.failure());
        return null;
      }
      if (shared != null) {
        return null; // it failed and said so: read times from now on
      }
      FileDescriptor armed = Native.newEpollCreate();
      FileDescriptor probe = null;
      FileDescriptor wake = null;
      try {
        probe = Native.newEpollCreate();
        wake = Native.newEventFd();
        shared = new ArrivalWatch(armed, probe, wake);
      } catch (Exception | LinkageError e) {
        closeQuietly(armed, probe, wake);
        throw e;
      }
    }
    return shared;
  }

  private Socket add(FileDescriptor fd) {
    Socket socket = new Socket(this, fd);
    int number = fd.intValue();
    synchronized (this) {
      AtomicReferenceArray<Socket> sockets = socketsByFd;
      if (number >= sockets.length()) {
        AtomicReferenceArray<Socket> grown = new AtomicReferenceArray<>(Math.max(2 * sockets.length(), number + 1));
        for (int i = 0; i < sockets.length(); i++) {
          grown.set(i, sockets.get(i));
        }
        socketsByFd = sockets = grown;
      }
      sockets.set(number, socket); // a descriptor number reused after a close: the new socket is the one here
    }
    try {
      // one-shot with no event: a hang-up (always reported) is reported once, not on every wait after it
      Native.epollCtlAdd(armed.intValue(), number, EPOLLONESHOT);
      Native.epollCtlAdd(probe.intValue(), number, EPOLLONESHOT);
      return socket;
    } catch (Exception | LinkageError e) {
      remove(socket);
      try {
        Native.epollCtlDel(armed.intValue(), number);
      } catch (Exception | LinkageError notAdded) {
        // it was not in the set
      }
      sayUnwatched(Pingkit.oneLine(e));
      return null;
    }
  }

  private synchronized void remove(Socket socket) {
    socketsByFd.compareAndSet(socket.fd.intValue(), socket, null);
    // the kernel takes a closed socket out of both epoll sets itself: nothing else is done with its number,
    // which another connection may have by now
  }

  @Override
  public void run() {
    try {
      EpollEventArray ready = NATIVES.newEvents(EVENTS);
      EpollEventArray probed = NATIVES.newEvents(4);
      while (!closed) {
        int count = NATIVES.await(armed, ready, -1);
        for (int i = 0; i < count && !closed; i++) {
          int fd = NATIVES.fd(ready, i);
          AtomicReferenceArray<Socket> sockets = socketsByFd;
          Socket socket = fd >= 0 && fd < sockets.length() ? sockets.get(fd) : null;
          if (socket != null) {
            noteArrival(socket, probed);
          }
        }
      }
    } catch (Throwable e) {
      if (!closed) {
        failed = true;
        sayUnwatched("the watch failed: " + Pingkit.oneLine(e));
      }
    }
  }

  /** A socket was seen readable: its arrival time, if its bytes are still unread now and nothing changed. */
  private void noteArrival(Socket socket, EpollEventArray probed) throws Throwable {
    Object seen = socket.state.get();
    if (!(seen instanceof Armed)) {
      return; // read since it was armed, or timed already
    }
    int fd = socket.fd.intValue();
    try {
      Native.epollCtlMod(probe.intValue(), fd, Native.EPOLLIN | EPOLLONESHOT);
    } catch (java.io.IOException closedMeanwhile) {
      return;
    }
    boolean unread = false;
    int count = NATIVES.await(probe, probed, 0);
    for (int i = 0; i < count; i++) {
      unread |= NATIVES.fd(probed, i) == fd && NATIVES.readable(probed, i);
    }
    long nowNanos = System.nanoTime();
    if (unread) {
      socket.state.compareAndSet(seen, new Arrived(nowNanos));
    } else {
      try {
        Native.epollCtlMod(probe.intValue(), fd, EPOLLONESHOT); // not left to fire into a later probe
      } catch (java.io.IOException closedMeanwhile) {
        // the kernel has taken it out
      }
    }
  }

  private void close() {
    closed = true;
    try {
      Native.eventFdWrite(wake.intValue(), 1);
      thread.join(1000);
    } catch (RuntimeException | InterruptedException e) {
      // the thread is a daemon: it ends with the JVM
    }
    if (!thread.isAlive()) {
      closeQuietly(armed, probe, wake); // never under a thread that may still use them
    }
  }

  private static void closeQuietly(FileDescriptor... fds) {
    for (FileDescriptor fd : fds) {
      try {
        if (fd != null) {
          fd.close();
        }
      } catch (java.io.IOException e) {
        // our own descriptors: nothing to do about it
      }
    }
  }

  private static void sayUnwatched(String why) {
    if (unwatchedSaid.compareAndSet(false, true)) {
      log.warning("arrivals are not watched (" + why + "): answers are timed when the network thread reads them,"
          + " which a busy client does late (JSON: \"wireClock\": \"network-read\")");
    }
  }

  /** Armed for an arrival, none seen yet: a new object at each arming, so that a stale compare-and-set fails. */
  private static final class Armed {}

  private record Arrived(long nanos) {}

  private static final Object TAKEN = new Object();

  /** One watched socket: armed at each flush, taken at each read, both on its network thread. */
  static final class Socket {
    private final ArrivalWatch watch;
    private final FileDescriptor fd;
    private final AtomicReference<Object> state = new AtomicReference<>(TAKEN);

    private Socket(ArrivalWatch watch, FileDescriptor fd) {
      this.watch = watch;
      this.fd = fd;
    }

    /** Whether arrivals are noted for it (false once the watch failed: its reads are timed when read). */
    boolean live() {
      return !watch.failed && !watch.closed;
    }

    /** Watches for the next arrival (before a flush: an answer cannot come sooner). */
    void arm() {
      if (!fd.isOpen() || !live()) {
        return; // closed: its number may be another socket's by now
      }
      state.set(new Armed());
      try {
        Native.epollCtlMod(watch.armed.intValue(), fd.intValue(), Native.EPOLLIN | EPOLLONESHOT);
      } catch (Exception | LinkageError e) {
        // the socket is closing: its reads are timed when read
      }
    }

    /**
     * When the first bytes of the read just made arrived: the time noted for them, or {@code readNanos} when
     * none was (or it came later than the read).
     */
    long take(long readNanos) {
      Object noted = state.getAndSet(TAKEN);
      return noted instanceof Arrived arrived && arrived.nanos() < readNanos ? arrived.nanos() : readNanos;
    }

    /** The connection closed. */
    void close() {
      state.set(TAKEN);
      watch.remove(this);
    }
  }
}
