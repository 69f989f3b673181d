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
      flushed.add(outBytesFlushed, outNanos);
    }
    sent = flushed;
    received = new ByteTimes();
  }

  /**
   * Byte offsets of one direction of a stream, in order, each with a time; written on the network thread, read
   * and trimmed by the stream's call as its messages are answered.
   */
  public static final class ByteTimes {
    private long[] entries = new long[16]; // offset, time, offset, time, ... from index 2 * head
    private int head;
    private int size;

    /** Adds an entry, unless its offset is the latest's (a flush carrying the same bytes). */
    synchronized void add(long offset, long nanos) {
      if (size > 0 && offset(size - 1) == offset) {
        return;
      }
      if (2 * (head + size) == entries.length) {
        long[] moved = new long[Math.max(16, 4 * size)];
        System.arraycopy(entries, 2 * head, moved, 0, 2 * size);
        entries = moved;
        head = 0;
      }
      entries[2 * (head + size)] = offset;
      entries[2 * (head + size) + 1] = nanos;
      size++;
    }

    /** The time of the first entry at or after {@code offset}, or 0. */
    synchronized long firstFrom(long offset) {
      for (int i = 0; i < size; i++) {
        if (offset(i) >= offset) {
          return nanos(i);
        }
      }
      return 0;
    }

    /** The time of the last entry at or before {@code offset}, or 0. */
    synchronized long lastUpTo(long offset) {
      long found = 0;
      for (int i = 0; i < size && offset(i) <= offset; i++) {
        found = nanos(i);
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
      return entries[2 * (head + i)];
    }

    private long nanos(int i) {
      return entries[2 * (head + i) + 1];
    }
  }
}
