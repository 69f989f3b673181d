// What a stream of echoes holds of ping-server's in-flight byte budget, as its service sees it.

package pingkit.server;

/** What a stream's service needs of the budget: its call's bytes. */
interface StreamBytes {
  /** What the message being handed to the service holds: to be given back once its reply is sent. */
  long messageBytes();

  /** Gives back {@code bytes} of the stream's messages, once their replies are sent. */
  void release(long bytes);

  /** Whether the budget refused the stream (and closed it): nothing more may be sent on it. */
  boolean refused();

  /** Runs {@code hook} on the stream's thread if the budget refuses the stream. */
  void onRefused(Runnable hook);

  /** The bytes of a call this budget does not count (not one of this server's streams). */
  StreamBytes NOT_COUNTED = new StreamBytes() {
    @Override
    public long messageBytes() {
      return 0;
    }

    @Override
    public void release(long bytes) {}

    @Override
    public boolean refused() {
      return false;
    }

    @Override
    public void onRefused(Runnable hook) {}
  };
}
