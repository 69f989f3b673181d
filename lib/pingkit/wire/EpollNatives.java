// Netty's epoll natives that the arrival watch needs and Netty does not make public.

package pingkit.wire;

import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventArray;
import io.grpc.netty.shaded.io.netty.channel.epoll.Native;
import io.grpc.netty.shaded.io.netty.channel.unix.FileDescriptor;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import pingkit.Pingkit;

/**
 * Netty's epoll natives that are not public (its event array, and a wait with a timeout in milliseconds), looked
 * up once: a Netty that changed them leaves {@link #failure} saying why, and the watch off.
 */
record EpollNatives(MethodHandle newEventsHandle, MethodHandle fdHandle, MethodHandle eventsHandle,
    MethodHandle awaitHandle, String failure) {
  static EpollNatives lookUp() {
    try {
      if (!Epoll.isAvailable()) {
        return new EpollNatives(null, null, null, null, "no epoll: " + Pingkit.oneLine(Epoll.unavailabilityCause()));
      }
      MethodHandles.Lookup events = MethodHandles.privateLookupIn(EpollEventArray.class, MethodHandles.lookup());
      MethodHandles.Lookup nativeCalls = MethodHandles.privateLookupIn(Native.class, MethodHandles.lookup());
      return new EpollNatives(
          events.findConstructor(EpollEventArray.class, MethodType.methodType(void.class, int.class)),
          events.findVirtual(EpollEventArray.class, "fd", MethodType.methodType(int.class, int.class)),
          events.findVirtual(EpollEventArray.class, "events", MethodType.methodType(int.class, int.class)),
          nativeCalls.findStatic(Native.class, "epollWait", MethodType.methodType(int.class, FileDescriptor.class,
              EpollEventArray.class, int.class)), null);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return new EpollNatives(null, null, null, null, "Netty's epoll natives changed: " + Pingkit.oneLine(e));
    }
  }

  EpollEventArray newEvents(int size) throws Throwable {
    return (EpollEventArray) newEventsHandle.invokeExact(size);
  }

  /** The descriptor of the event at {@code index}. */
  int fd(EpollEventArray events, int index) throws Throwable {
    return (int) fdHandle.invokeExact(events, index);
  }

  /** Whether the event at {@code index} says its descriptor is readable (not only hung up, or in error). */
  boolean readable(EpollEventArray events, int index) throws Throwable {
    return ((int) eventsHandle.invokeExact(events, index) & Native.EPOLLIN) != 0;
  }

  /** epoll_wait: -1 waits for ever, 0 not at all. */
  int await(FileDescriptor epoll, EpollEventArray events, int timeoutMillis) throws Throwable {
    return (int) awaitHandle.invokeExact(epoll, events, timeoutMillis);
  }
}
