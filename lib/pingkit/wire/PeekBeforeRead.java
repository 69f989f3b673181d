// The clients' read buffers, each made right before its read: where a socket's arrival stamps are peeked, and each
// read cut to what waited.

package pingkit.wire;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.ChannelConfig;
import io.grpc.netty.shaded.io.netty.channel.RecvByteBufAllocator;
import io.grpc.netty.shaded.io.netty.util.UncheckedBooleanSupplier;

/**
 * The channel's read buffer allocator, with a handle that peeks at the kernel's stamps right before each read
 * (Netty allocates the buffer of each read just before it, and reads at most what it can hold): each read takes
 * no more than the peek saw waiting, so every byte it takes is stamped. Bytes that come after the peek are read
 * next, after their own peek: their arrival wakes the network thread again (epoll, edge-triggered too).
 */
@SuppressWarnings("deprecation") // Netty's Handle is deprecated for ExtendedHandle, which extends it
record PeekBeforeRead(RecvByteBufAllocator reads, SocketClock clock) implements RecvByteBufAllocator {
  @Override
  public Handle newHandle() {
    ExtendedHandle handle = (ExtendedHandle) reads.newHandle();
    return new HandedOnHandle(handle) {
      private boolean tookAllWaiting; // the latest read was cut to what waited, fewer bytes than it could take

      @Override
      public ByteBuf allocate(ByteBufAllocator allocator) {
        int bytes = handle.guess();
        int waiting = clock.beforeRead(bytes);
        tookAllWaiting = waiting > 0 && waiting < bytes;
        return allocator.ioBuffer(waiting > 0 ? waiting : bytes);
      }

      @Override
      public boolean continueReading() {
        return !tookAllWaiting && handle.continueReading(); // not a read only to find nothing
      }

      @Override
      public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
        return !tookAllWaiting && handle.continueReading(maybeMoreDataSupplier);
      }
    };
  }

  /** Every method of a read handle but the allocation, handed on (Netty's epoll needs an extended handle). */
  @SuppressWarnings("deprecation") // Netty's Handle is deprecated for ExtendedHandle, which extends it
  private abstract static class HandedOnHandle implements RecvByteBufAllocator.ExtendedHandle {
    private final RecvByteBufAllocator.ExtendedHandle handle;

    HandedOnHandle(RecvByteBufAllocator.ExtendedHandle handle) {
      this.handle = handle;
    }

    @Override
    public int guess() {
      return handle.guess();
    }

    @Override
    public void reset(ChannelConfig config) {
      handle.reset(config);
    }

    @Override
    public void incMessagesRead(int messages) {
      handle.incMessagesRead(messages);
    }

    @Override
    public void lastBytesRead(int bytes) {
      handle.lastBytesRead(bytes);
    }

    @Override
    public int lastBytesRead() {
      return handle.lastBytesRead();
    }

    @Override
    public void attemptedBytesRead(int bytes) {
      handle.attemptedBytesRead(bytes);
    }

    @Override
    public int attemptedBytesRead() {
      return handle.attemptedBytesRead();
    }

    @Override
    public boolean continueReading() {
      return handle.continueReading();
    }

    @Override
    public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
      return handle.continueReading(maybeMoreDataSupplier);
    }

    @Override
    public void readComplete() {
      handle.readComplete();
    }
  }
}
