// recvmsg from the C library, reached through Java's Foreign Function & Memory API: looked up once, on a thread of
// its own, since that costs a fresh JVM tens of milliseconds.

package pingkit.wire;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicBoolean;
import pingkit.Pingkit;

/**
 * The C library's recvmsg, as {@link KernelStamps} calls it: {@code (callState, fd, msghdr, flags) -> long}, errno
 * captured. Looked up once, on a thread of its own started by {@link #prepare}, and nobody waits for it: until it
 * is {@link #done}, sockets go unread.
 */
final class Recvmsg {
  /** Why kernel stamps cannot be read on this system (null: they can). */
  static final String UNSUPPORTED = unsupported();
  private static final FutureTask<MethodHandle> LOOKUP = new FutureTask<>(Recvmsg::lookUp);
  private static final AtomicBoolean started = new AtomicBoolean();

  private Recvmsg() {}

  /**
   * Starts the lookup on a thread of its own (once), with a first call: a client calls this as it begins to
   * connect.
   */
  static void prepare() {
    if (UNSUPPORTED == null && started.compareAndSet(false, true)) {
      Thread lookUp = new Thread(LOOKUP, "pingkit-kernel-stamps");
      lookUp.setDaemon(true);
      lookUp.start();
    }
  }

  static boolean done() {
    return LOOKUP.isDone();
  }

  /** Why the lookup failed (null: it did not), once it is {@link #done}. */
  static String failure() {
    try {
      LOOKUP.get();
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    } catch (ExecutionException e) {
      return "the C library's recvmsg: " + Pingkit.oneLine(e.getCause());
    }
  }

  /** The handle, once {@link #done} without a {@link #failure}. */
  static MethodHandle handle() {
    return LOOKUP.resultNow();
  }

  private static String unsupported() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "");
    return os.startsWith("linux") && (arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64"))
        ? null : "not 64-bit Linux on x86-64 or arm64";
  }

  /**
   * recvmsg from the C library, run once on nothing (a descriptor that is none) with the memory accesses a
   * socket's reads make: a fresh JVM builds what they need here, not on a network thread.
   */
  private static MethodHandle lookUp() {
    Linker linker = Linker.nativeLinker();
    // never blocks (KernelStamps.MSG_DONTWAIT): a critical call, without the thread state changes of one that may
    MethodHandle recvmsg = linker.downcallHandle(linker.defaultLookup().find("recvmsg").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
        Linker.Option.critical(false), Linker.Option.captureCallState("errno"));
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment callState = arena.allocate(Linker.Option.captureStateLayout());
      MemorySegment message = arena.allocate(KernelStamps.MSGHDR_BYTES, 8);
      message.set(ValueLayout.ADDRESS, 16, message);
      message.set(ValueLayout.JAVA_LONG, 24, message.get(ValueLayout.JAVA_LONG, 40));
      message.set(ValueLayout.JAVA_INT, 48, message.get(ValueLayout.JAVA_INT, 8) + message.get(ValueLayout.JAVA_BYTE, 0));
      long refused = (long) recvmsg.invokeExact(callState, -1, message, KernelStamps.MSG_DONTWAIT); // EBADF
      message.set(ValueLayout.JAVA_INT, 48, callState.get(ValueLayout.JAVA_INT, KernelStamps.ERRNO_OFFSET));
    } catch (Throwable e) {
      throw new IllegalStateException("a first call failed", e);
    }
    return recvmsg;
  }
}
