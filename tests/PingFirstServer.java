import io.grpc.netty.shaded.io.netty.bootstrap.ServerBootstrap;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInitializer;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.SimpleChannelInboundHandler;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.SocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2DataFrame;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Frame;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2FrameStream;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2HeadersFrame;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import pingkit.WallClock;
import pingkit.fgrpc.PingMessage;

/**
 * A gRPC ping server made of Netty's HTTP/2 codec rather than of gRPC, for the tests of wire times: it sends an
 * HTTP/2 PING as soon as a request (or a stream's message) is whole, as a server's flow control may, and answers
 * it the delay it asks for later: Fortio's unary ping, and pingkit's stream of echoes. A client whose network
 * thread is busy reads the PING and the answer together, the PING first.
 */
final class PingFirstServer implements AutoCloseable {
  private final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel listening;

  PingFirstServer() throws InterruptedException {
    listening = new ServerBootstrap().group(loop).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel channel) {
            channel.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(), new Answers());
          }
        })
        .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
  }

  String target() {
    return "127.0.0.1:" + ((InetSocketAddress) listening.localAddress()).getPort();
  }

  @Override
  public void close() {
    listening.close().awaitUninterruptibly();
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /** One connection's streams: the bytes of each one's messages as they come, then its echoes. */
  private static final class Answers extends SimpleChannelInboundHandler<Http2Frame> {
    /** A stream: a unary call or a stream of echoes, its bytes not yet read, and its answers so far. */
    private static final class Call {
      final boolean unary;
      final ByteBuf bytes = Unpooled.buffer();
      boolean answered;
      long lastDelayNanos;

      Call(boolean unary) {
        this.unary = unary;
      }
    }

    private final Map<Http2FrameStream, Call> calls = new HashMap<>();
    private long pings;

    @Override
    protected void channelRead0(ChannelHandlerContext context, Http2Frame frame) throws Exception {
      if (frame instanceof Http2HeadersFrame headers && headers.headers().path() != null) {
        calls.put(headers.stream(), new Call(headers.headers().path().toString().equals("/fgrpc.PingServer/Ping")));
      } else if (frame instanceof Http2DataFrame data) {
        Call call = calls.get(data.stream());
        call.bytes.writeBytes(data.content());
        context.write(new DefaultHttp2WindowUpdateFrame(data.initialFlowControlledBytes()).stream(data.stream()));
        while (call.bytes.readableBytes() >= 5
            && call.bytes.readableBytes() >= 5 + call.bytes.getInt(call.bytes.readerIndex() + 1)) {
          call.bytes.skipBytes(1);
          byte[] message = new byte[call.bytes.readInt()];
          call.bytes.readBytes(message);
          answer(context, data.stream(), call, PingMessage.parseFrom(message));
        }
        call.bytes.discardReadBytes();
        context.flush();
        if (data.isEndStream() && !call.unary) {
          // after the echoes due: the last one is due as late, and a loop's equal deadlines keep their order
          context.executor().schedule(() -> end(context, data.stream()), call.lastDelayNanos, TimeUnit.NANOSECONDS);
        }
      }
    }

    private void answer(ChannelHandlerContext context, Http2FrameStream stream, Call call, PingMessage request) {
      long delayNanos = Math.max(0, request.getDelayNanos());
      call.lastDelayNanos = delayNanos;
      byte[] echo = request.toBuilder().setTs(WallClock.nanos()).setDelayNanos(delayNanos).build()
          .toByteArray();
      context.write(new DefaultHttp2PingFrame(++pings));
      context.executor().schedule(() -> {
        if (!call.answered) {
          call.answered = true;
          context.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
              .set("content-type", "application/grpc")).stream(stream));
        }
        ByteBuf framed = Unpooled.buffer(5 + echo.length).writeByte(0).writeInt(echo.length).writeBytes(echo);
        context.write(new DefaultHttp2DataFrame(framed).stream(stream));
        if (call.unary) {
          end(context, stream);
        }
        context.flush();
      }, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void end(ChannelHandlerContext context, Http2FrameStream stream) {
      context.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().set("grpc-status", "0"), true)
          .stream(stream));
      calls.remove(stream).bytes.release();
    }
  }
}
