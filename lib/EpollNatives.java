// Netty's epoll natives that the arrival watch needs and Netty does not make public (ping-client.java and
// health-check.java pull this file with //SOURCES).

import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventArray;
import io.grpc.netty.shaded.io.netty.channel.epoll.Native;
import io.grpc.netty.shaded.io.netty.channel.unix.FileDescriptor;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Netty's epoll natives that are not public (its event array, and a wait with a timeout in milliseconds), looked
 * up once: a Netty that changed them leaves {@link #failure} saying why, and the watch off.
 */
record EpollNatives(MethodHandle newEvents, MethodHandle fd, MethodHandle await, String failure) {
  static EpollNatives lookUp() {
    try {
      if (!Epoll.isAvailable()) {
        return new EpollNatives(null, null, null, "no epoll: " + Pingkit.oneLine(Epoll.unavailabilityCause()));
      }
      MethodHandles.Lookup events = MethodHandles.privateLookupIn(EpollEventArray.class, MethodHandles.lookup());
      MethodHandles.Lookup nativeCalls = MethodHandles.privateLookupIn(Native.class, MethodHandles.lookup());
      return new EpollNatives(
          events.findConstructor(EpollEventArray.class, MethodType.methodType(void.class, int.class)),
          events.findVirtual(EpollEventArray.class, "fd", MethodType.methodType(int.class, int.class)),
          nativeCalls.findStatic(Native.class, "epollWait", MethodType.methodType(int.class, FileDescriptor.class,
              EpollEventArray.class, int.class)), null);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return new EpollNatives(null, null, null, "Netty's epoll natives changed: " + Pingkit.oneLine(e));
    }
  }

  EpollEventArray newEvents(int size) throws Throwable {
    return (EpollEventArray) newEvents.invokeExact(size);
  }

  int fd(EpollEventArray events, int index) throws Throwable {
    return (int) fd.invokeExact(events, index);
  }

  /** epoll_wait: -1 waits for ever, 0 not at all. */
  int await(FileDescriptor epoll, EpollEventArray events, int timeoutMillis) throws Throwable {
    return (int) await.invokeExact(epoll, events, timeoutMillis);
  }
}
