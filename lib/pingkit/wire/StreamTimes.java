// What the socket saw of one HTTP/2 stream: its times, written by the frame tap on the network thread, read by the
// stream's call.

package pingkit.wire;

/**
 * What the socket saw of one stream: when its request's last bytes went out, when its answer began, and when it
 * was let out by another stream's end (it had waited for the server's limit on streams), if it was. A stream of
 * messages ({@link #timeMessages}) also keeps the offsets of its DATA bytes each way with the times they crossed
 * the socket ({@link #sent}, {@link #received}): a message, found by where its bytes lie in the stream, gets its
 * own times however many others are in flight. Unary calls keep none of that.
 */
public final class StreamTimes {
  public volatile long outNanos;
  volatile long inNanos;
  /** The kernel's times of the same (0: none): its stamp of the send that ended the request, of the answer's arrival. */
  volatile long kernelOutNanos;
  volatile long kernelInNanos;
  volatile long streamFreedNanos;
  /**
   * Whether the answer came on a connection the {@link ArrivalWatch} watched: timed at its arrival where the watch
   * noted it before the read, else when read (else: always when read).
   */
  volatile boolean watchedConnection;
  /** The end of the DATA bytes of each flush that carried some, and its time (null: not a stream of messages). */
  public volatile ByteTimes sent;
  /** The start of each DATA frame that came back, and its time (null: not a stream of messages). */
  public volatile ByteTimes received;
  /** False once its bytes cannot be placed: a padded DATA frame, or compressed messages. */
  volatile boolean offsetsKnown = true;
  // on the network thread only: DATA payload bytes written, flushed and read so far
  long outBytes;
  long outBytesFlushed;
  long inBytes;

  /**
   * From now on, keeps the offsets of the stream's bytes and their times; on the network thread. The flushes
   * before are known by the latest alone (the stream's headers are reported sent right after their flush).
   */
  void timeMessages() {
    ByteTimes flushed = new ByteTimes();
    if (outBytesFlushed > 0) {
      flushed.add(outBytesFlushed, outNanos, kernelOutNanos);
    }
    sent = flushed;
    received = new ByteTimes();
  }

  /**
   * Byte offsets of one direction of a stream, in order, each with the socket's time and the kernel's (0: none);
   * written on the network thread, read and trimmed by the stream's call as its messages are answered.
   */
  public static final class ByteTimes {
    private static final int STRIDE = 3;
    private long[] entries = new long[8 * STRIDE]; // offset, time, kernel time, offset, ... from STRIDE * head
    private int head;
    private int size;

    /** Adds an entry, unless its offset is the latest's (a flush carrying the same bytes). */
    synchronized void add(long offset, long nanos, long kernelNanos) {
      if (size > 0 && offset(size - 1) == offset) {
        return;
      }
      if (STRIDE * (head + size) == entries.length) {
        long[] moved = new long[STRIDE * Math.max(8, 2 * size)];
        System.arraycopy(entries, STRIDE * head, moved, 0, STRIDE * size);
        entries = moved;
        head = 0;
      }
      entries[STRIDE * (head + size)] = offset;
      entries[STRIDE * (head + size) + 1] = nanos;
      entries[STRIDE * (head + size) + 2] = kernelNanos;
      size++;
    }

    /**
     * The kernel's time of the entry at {@code offset}, learnt after it was added; the first one it learns (a
     * later flush with no new bytes of the stream, an empty DATA frame that ends it, say, is no time of its bytes).
     */
    synchronized void stampKernel(long offset, long kernelNanos) {
      for (int i = size - 1; i >= 0 && offset(i) >= offset; i--) {
        if (offset(i) == offset && entries[STRIDE * (head + i) + 2] == 0) {
          entries[STRIDE * (head + i) + 2] = kernelNanos;
        }
      }
    }

    /** The first entry at or after {@code offset}: its socket time, or its kernel time; 0 when none. */
    synchronized long firstFrom(long offset, boolean kernel) {
      for (int i = 0; i < size; i++) {
        if (offset(i) >= offset) {
          return entries[STRIDE * (head + i) + (kernel ? 2 : 1)];
        }
      }
      return 0;
    }

    /** The last entry at or before {@code offset}: its socket time, or its kernel time; 0 when none. */
    synchronized long lastUpTo(long offset, boolean kernel) {
      long found = 0;
      for (int i = 0; i < size && offset(i) <= offset; i++) {
        found = entries[STRIDE * (head + i) + (kernel ? 2 : 1)];
      }
      return found;
    }

    /** Forgets the entries at or before {@code offset}. */
    public synchronized void forgetUpTo(long offset) {
      while (size > 0 && offset(0) <= offset) {
        forgetFirst();
      }
    }

    /** Forgets the entries before the last one at or before {@code offset}. */
    public synchronized void forgetBefore(long offset) {
      while (size > 1 && offset(1) <= offset) {
        forgetFirst();
      }
    }

    private void forgetFirst() {
      head++;
      size--;
    }

    private long offset(int i) {
      return entries[STRIDE * (head + i)];
    }
  }
}
