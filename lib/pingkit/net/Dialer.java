// How the clients connect: the connection flags checked and prepared once, then any number of connections opened with
// them.

package pingkit.net;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NegotiationType;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.logging.Logger;
import pingkit.Pem;
import pingkit.Pingkit;
import pingkit.wire.WireClock;

/**
 * The connection flags, checked and turned once into what every connection needs (the target, the metadata, the
 * TLS context: -c 1000 reads the PEM files once); {@link #open} then makes a channel with them.
 */
public final class Dialer {
  private static final Logger log = Logger.getLogger("pingkit.client");

  public final Target target;
  private final ConnectionOptions options;
  private final SslContext tls;
  private final Metadata metadata = new Metadata();
  private final String authority;
  private final String userAgent;
  private final Path socket;
  /** The requests' compression (null: none). */
  private final String compression;

  /** Checks the flags (one-line errors, exit code 1) and prepares the TLS context and the metadata. */
  public Dialer(ConnectionOptions options) {
    this.options = options;
    this.target = Target.parse(options.target());
    if ((options.clientCert == null) != (options.clientKey == null)) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--cert and --key go together: give both, or neither");
    }
    boolean tlsFlags = options.caCert != null || options.tls || options.clientCert != null || options.insecure;
    if (tlsFlags && Boolean.FALSE.equals(target.tls())) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, target.text() + " asks for plaintext, and --cacert, --tls,"
          + " --cert or -k for TLS: use https:// or a bare host:port, or drop the TLS flags");
    }
    String authority = options.authority;
    String userAgent = null;
    for (String header : options.headers) {
      int colon = header.indexOf(':');
      if (colon <= 0) {
        throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "-H '" + header + "': expected 'key: value'");
      }
      String key = header.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = header.substring(colon + 1).trim();
      switch (key) {
        case "host", ":authority" -> authority = authority != null ? authority : value;
        case "user-agent" -> userAgent = value;
        default -> addMetadata(key, value, header);
      }
    }
    this.tls = tlsFlags || Boolean.TRUE.equals(target.tls()) ? clientTls(options) : null;
    if (options.insecure) {
      log.warning("-k: the server's certificate is not verified; anyone on the path can impersonate it");
    }
    this.socket = options.unixSocket != null ? options.unixSocket : target.unixSocket();
    this.authority = authority != null || socket == null ? authority : target.authority();
    this.userAgent = userAgent;
    if (!List.of("pick_first", "round_robin").contains(options.loadBalancing)) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--lb '" + options.loadBalancing + "': pick_first or"
          + " round_robin");
    }
    this.compression = compression(options);
    if (socket != null && !options.loadBalancing.equals("pick_first")) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--lb is for a name's addresses: a Unix socket is one");
    }
    if (socket == null) {
      WireClock.prepare();
    }
  }

  /** --connect-timeout. */
  public Duration connectTimeout() {
    return options.connectTimeout;
  }

  /** A connection opened and connected within --connect-timeout (see {@link Connection#connect}). */
  public Connection connect(int maxMessageBytes, boolean watchArrivals) {
    return open(maxMessageBytes, watchArrivals).connect();
  }

  /**
   * A channel to the target, not yet connected. {@code watchArrivals}: a thread notes when answers arrive, for
   * connections with a call or a few in flight (its wake-ups cost CPU at high rates).
   */
  public Connection open(int maxMessageBytes, boolean watchArrivals) {
    NettyChannelBuilder builder;
    Diagnosis.TransportPhases phases = null;
    if (socket != null) {
      if (!Epoll.isAvailable()) {
        throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, "Unix domain sockets need Linux (epoll)");
      }
      if (!Files.exists(socket)) {
        throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, "no Unix socket at " + socket);
      }
      builder = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
          .channelFactory(() -> WireClock.attach(new EpollDomainSocketChannel(), tls != null, watchArrivals),
              DomainSocketAddress.class);
    } else {
      // with -v, the phases of the first connection of the run are logged
      Diagnosis.TransportPhases watched = options.verbose() ? Diagnosis.TransportPhases.ofFirst(target.host())
          : null;
      builder = NettyChannelBuilder.forAddress(target.host(), target.port())
          .withOption(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
              Math.max(1, options.connectTimeout.toMillis())))
          .channelFactory(() -> WireClock.attach(watched == null ? newSocketChannel()
              : watched.watch(newSocketChannel()), tls != null, watchArrivals), InetSocketAddress.class);
      if (watched != null) {
        builder.addTransportFilter(watched);
      }
      phases = watched;
    }
    if (tls != null) {
      builder.sslContext(tls).negotiationType(NegotiationType.TLS);
    } else {
      builder.usePlaintext();
    }
    if (authority != null) {
      builder.overrideAuthority(authority);
    }
    if (userAgent != null) {
      builder.userAgent(userAgent);
    }
    if (metadata.keys().size() > 0) {
      builder.intercept(MetadataUtils.newAttachHeadersInterceptor(metadata));
    }
    if (compression != null) {
      builder.intercept(new ClientInterceptor() {
        @Override
        public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions callOptions,
            io.grpc.Channel next) {
          return next.newCall(method, callOptions.withCompression(compression));
        }
      });
    }
    builder.maxInboundMessageSize(Math.max(maxMessageBytes, 4 << 20))
        // every callback of ours is short and non-blocking: run it on the transport's thread
        .directExecutor()
        // a measurement is of one attempt: no hidden retry (and its bookkeeping cost a third of the load rate)
        .disableRetry()
        .eventLoopGroup(EventLoops.acquire());
    if (socket == null) {
      builder.defaultLoadBalancingPolicy(options.loadBalancing); // a socket path is one address: no policy
    }
    try {
      return new Connection(target, builder.build(), new Diagnosis(target, options, tls != null, authority),
          phases, options.connectTimeout);
    } catch (RuntimeException e) {
      EventLoops.release();
      throw e;
    }
  }

  /** --compression (or Fortio's -grpc-compression): gzip, or null for none. */
  private static String compression(ConnectionOptions options) {
    String name = options.compression != null ? options.compression : options.fortioCompression ? "gzip" : null;
    if (name == null || name.equals("identity")) {
      return null;
    }
    if (!name.equals("gzip")) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--compression '" + name + "': gzip or identity");
    }
    return name;
  }

  private void addMetadata(String key, String value, String header) {
    try {
      if (key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
        metadata.put(Metadata.Key.of(key, Metadata.BINARY_BYTE_MARSHALLER), Base64.getDecoder().decode(value));
      } else {
        metadata.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);
      }
    } catch (IllegalArgumentException e) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "-H '" + header + "': " + Pingkit.oneLine(e));
    }
  }

  private static SslContext clientTls(ConnectionOptions options) {
    try {
      SslContextBuilder builder = GrpcSslContexts.forClient().protocols("TLSv1.3", "TLSv1.2");
      if (options.insecure) {
        builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
      } else if (options.caCert != null) {
        builder.trustManager(Pem.readCertificates("--cacert", options.caCert));
      }
      if (options.clientCert != null) {
        var chain = Pem.readCertificates("--cert", options.clientCert);
        var key = Pem.readPrivateKey("--key", options.clientKey);
        Pem.checkKeyMatches(chain.get(0), key, options.clientCert, options.clientKey);
        builder.keyManager(key, chain);
      }
      return builder.build();
    } catch (IOException e) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "cannot use the TLS files: " + Pingkit.oneLine(e));
    }
  }

  /** A TCP channel of the transport the event loops use: epoll on Linux, NIO elsewhere. */
  private static Channel newSocketChannel() {
    return Epoll.isAvailable() ? new EpollSocketChannel() : new NioSocketChannel();
  }
}
