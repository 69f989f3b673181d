// First in each client connection's pipeline (ping-client.java and health-check.java pull this file with
// //SOURCES): the times of the socket's flushes, reads and arrivals, which the frame tap gives to its streams.

import io.grpc.netty.shaded.io.netty.channel.ChannelDuplexHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;

/**
 * First in the pipeline, next to the socket: when a flush handed bytes over, when the latest read returned
 * bytes, and when they arrived (watched, when there is a watch and it saw them; else the read's time).
 */
final class SocketClock extends ChannelDuplexHandler {
  private final boolean watchArrivals;
  private ArrivalWatch watch;
  FrameTap tapAboveTls;
  long flushNanos;
  long readNanos;
  long arrivedNanos;

  SocketClock(boolean watchArrivals) {
    this.watchArrivals = watchArrivals;
  }

  @Override
  public void channelActive(ChannelHandlerContext context) {
    if (watchArrivals) {
      watch = ArrivalWatch.of(context.channel());
    }
    context.fireChannelActive();
  }

  @Override
  public void channelInactive(ChannelHandlerContext context) {
    if (watch != null) {
      watch.close();
    }
    context.fireChannelInactive();
  }

  @Override
  public void channelRead(ChannelHandlerContext context, Object message) {
    readNanos = System.nanoTime();
    long watchedNanos = watch == null ? 0 : watch.take();
    arrivedNanos = watchedNanos > flushNanos && watchedNanos < readNanos ? watchedNanos : readNanos;
    context.fireChannelRead(message);
  }

  @Override
  public void write(ChannelHandlerContext context, Object message, ChannelPromise promise) {
    if (tapAboveTls != null) {
      // TLS's first record (its hello) comes from the TLS handler: the tap goes right above it, in plaintext
      ChannelHandlerContext tls = context.pipeline().context(SslHandler.class);
      if (tls != null) {
        context.pipeline().addAfter(tls.name(), "pingkit-frame-tap", tapAboveTls);
        tapAboveTls = null;
      }
    }
    context.write(message, promise);
  }

  @Override
  public void flush(ChannelHandlerContext context) {
    if (watch != null) {
      watch.arm(); // before the bytes go: an answer cannot come sooner
    }
    flushNanos = System.nanoTime();
    context.flush();
  }
}
