// The ping server: its flags (a picocli mixin of ping-server.java, and a builder in JShell) and the one builder
// chain that makes it listen.

package pingkit.server;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import pingkit.Pingkit;
import pingkit.fgrpc.PingServerGrpc;
import pingkit.stream.PingStreamGrpc;

/**
 * A ping server as its flags describe it: Fortio's ping, pingkit's streaming ping, health and reflection.
 * {@code PingServer.start("127.0.0.1:0")} starts one (any ping-server command line will do:
 * {@code start("--max-delay", "1s", "127.0.0.1:0")}), and so does the builder:
 * {@code PingServer.listen("127.0.0.1:0").healthService("echo").maxDelay(Duration.ofSeconds(1)).start()}.
 * It warms up as the command does (--warmup) before it is returned.
 */
public final class PingServer {
  @Parameters(paramLabel = "LISTEN", arity = "0..1", defaultValue = "8079",
      description = "PORT, :PORT, HOST:PORT, [V6]:PORT, or a Unix socket path (contains '/'); port 0 picks a free"
          + " port; no HOST = all interfaces (default: ${DEFAULT-VALUE})")
  String listen;

  @Option(names = {"--health-service", "-healthservice"}, paramLabel = "NAME", defaultValue = "ping",
      description = "health service reported SERVING, besides \"\"; NAME_down reports NOT_SERVING"
          + " (default: ${DEFAULT-VALUE})")
  String healthServiceName;

  @Option(names = "--health-status", paramLabel = "SERVICE=STATUS",
      description = "start with SERVICE (empty: the server as a whole) reporting STATUS: SERVING, NOT_SERVING or"
          + " SERVICE_UNKNOWN; repeatable. While running, 'set SERVICE STATUS' on stdin changes it")
  Map<String, String> initialHealth = new LinkedHashMap<>();

  @Option(names = {"--cert", "-cert"}, paramLabel = "FILE", description = "PEM certificate (chain): serve TLS")
  Path certFile;

  @Option(names = {"--key", "-key"}, paramLabel = "FILE", description = "PEM (PKCS#8) private key of --cert")
  Path keyFile;

  @Option(names = {"--cacert", "-cacert"}, paramLabel = "FILE",
      description = "PEM CA: clients must present a certificate it signed (mutual TLS)")
  Path clientCaFile;

  @Option(names = "--mtls",
      description = "require client certificates (verified with --cacert, or the JDK's trusted CAs without it)")
  boolean requireClientCert;

  @Option(names = {"--max-streams", "-grpc-max-streams"}, paramLabel = "N", defaultValue = "0",
      description = "max concurrent streams per connection; more calls queue at the client (0 = no limit)")
  int maxStreams;

  @Option(names = "--max-message-size", paramLabel = "BYTES", defaultValue = "4MiB",
      converter = Pingkit.ByteSizeConverter.class,
      description = "largest request accepted, e.g. 65536, 512KiB, 4MiB (default: ${DEFAULT-VALUE})")
  int maxMessageBytes;

  @Option(names = "--max-inflight-bytes", paramLabel = "BYTES", converter = Pingkit.ByteSizeConverter.class,
      description = "what all calls in flight may hold: requests as they are read, echoes until sent; a call"
          + " beyond it is refused with RESOURCE_EXHAUSTED, and its last 1/8 is kept for calls of up to 64KiB"
          + " (default: an eighth of the container's or machine's memory, at most 128MiB)")
  Integer maxInFlightBytes;

  @Option(names = "--max-delay", paramLabel = "DURATION", defaultValue = "10s",
      description = "longer requested delays are clamped to this (default: ${DEFAULT-VALUE})")
  Duration maxDelay;

  @Option(names = "--handshake-timeout", paramLabel = "DURATION", defaultValue = "10s",
      description = "a connection that has not completed its HTTP/2 (and TLS) handshake by then is closed"
          + " (default: ${DEFAULT-VALUE})")
  Duration handshakeTimeout;

  @Option(names = "--drain-timeout", paramLabel = "DURATION", defaultValue = "30s",
      description = "on SIGINT/SIGTERM, how long calls in flight may take before they are cut"
          + " (default: ${DEFAULT-VALUE})")
  Duration drainTimeout;

  @Option(names = "--warmup", paramLabel = "DURATION", defaultValue = "1.5s",
      description = "after listening, call itself over loopback this long so that its JIT has compiled the call"
          + " path before clients measure it; a client's call or a drain stops it (0s: none; default:"
          + " ${DEFAULT-VALUE})")
  Duration warmup;

  @Option(names = {"-v", "--verbose"},
      description = "log each call (peer, metadata, delay) to stderr; -vv adds gRPC's own debug logs")
  boolean[] verbose = new boolean[0];

  /** A connection's and each stream's HTTP/2 flow-control window: what may be sent to the server unasked for. */
  static final int FLOW_CONTROL_WINDOW_BYTES = 64 << 10;

  /** A server started with ping-server's arguments, e.g. {@code start("--max-delay", "1s", "127.0.0.1:0")}. */
  public static RunningServer start(String... commandLine) {
    return Pingkit.parse(new PingServer(), commandLine).start();
  }

  /** A server on {@code listen} ("0", "127.0.0.1:0", "/tmp/ping.sock") with the defaults, to change before {@link #start()}. */
  public static PingServer listen(String listen) {
    return Pingkit.parse(new PingServer(), listen);
  }

  public PingServer healthService(String name) {
    healthServiceName = name;
    return this;
  }

  /** {@code service} ("" for the server as a whole) starts reporting {@code status}. */
  public PingServer health(String service, ServingStatus status) {
    initialHealth.put(service, status.name());
    return this;
  }

  public PingServer tls(Path certificate, Path key) {
    certFile = certificate;
    keyFile = key;
    return this;
  }

  public PingServer maxStreams(int streamsPerConnection) {
    maxStreams = streamsPerConnection;
    return this;
  }

  public PingServer maxDelay(Duration delay) {
    maxDelay = delay;
    return this;
  }

  public PingServer warmup(Duration duration) {
    warmup = duration;
    return this;
  }

  /** How long a drain lets calls in flight take (--drain-timeout). */
  public Duration drainTimeout() {
    return drainTimeout;
  }

  /** How many -v were given: 1 logs each call, 2 adds gRPC's own debug logs. */
  public int verbosity() {
    return verbose.length;
  }

  /** Listens, warms up (--warmup), and returns the handle. */
  /** The server the flags describe, listening: one builder chain, then the handle. */
  public RunningServer start() {
    if (maxStreams < 0) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--max-streams must be 0 (no limit) or more");
    }
    if (handshakeTimeout.isZero()) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--handshake-timeout must be more than 0");
    }
    SslContext tls = ServerFlags.serverTls(certFile, keyFile, clientCaFile, requireClientCert);
    SocketAddress address = ServerFlags.listenAddress(listen);
    HealthStatusManager health = HealthCommands.initial(healthServiceName, initialHealth);
    ServerLoops loops = ServerLoops.forAddress(address);
    PingStreamService streams = new PingStreamService(maxDelay, verbose.length > 0, loops);
    String streamMethod = PingStreamGrpc.getEchoMethod().getFullMethodName();
    Drain drain = new Drain(streamMethod, streams::drain);
    MemoryReturn memory = new MemoryReturn();
    InFlightBudget budget = new InFlightBudget(
        maxInFlightBytes != null ? maxInFlightBytes : ServerFlags.defaultInFlightBytes(), maxMessageBytes,
        PingServerGrpc.getPingMethod().getFullMethodName(), streamMethod, loops, memory::changed);

    NettyServerBuilder builder = NettyServerBuilder.forAddress(address)
        .channelType(loops.channelType())
        .bossEventLoopGroup(loops.accepting())
        .workerEventLoopGroup(loops.serving())
        // every handler here is non-blocking (delays are scheduled), so calls run on the transport's threads
        .directExecutor()
        .maxInboundMessageSize(maxMessageBytes)
        // what a connection may send that no call has asked for yet is outside the budget: a fixed window bounds it
        // (gRPC's 1 MiB, grown by its BDP pings, let 200 connections of unread streams hold 480 MB)
        .flowControlWindow(FLOW_CONTROL_WINDOW_BYTES)
        // a connection left silent (or dribbling) before its handshake holds a socket: gRPC's default is 120 s
        .handshakeTimeout(handshakeTimeout.toNanos(), TimeUnit.NANOSECONDS)
        .maxConcurrentCallsPerConnection(maxStreams > 0 ? maxStreams : Integer.MAX_VALUE)
        // reads of one HTTP/2 frame at most: a call assembling its request holds slices of the reads, and a read
        // shared with other streams' frames stays whole while any slice does (beyond what the budget counts)
        .withChildOption(ChannelOption.RECVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(64, 2048, 16 << 10))
        .addService(new PingService(maxDelay, verbose.length > 0, loops))
        .addService(streams)
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance())
        .addService(legacyReflection())
        .addStreamTracerFactory(budget.tracerFactory())
        .intercept(drain)
        .intercept(budget);
    if (verbose.length > 0) {
      builder.intercept(new CallLogger());
    }
    if (tls != null) {
      builder.sslContext(tls);
    }
    Server server;
    try {
      server = builder.build().start();
    } catch (IOException | RuntimeException e) {
      loops.release();
      if (e instanceof RuntimeException unexpected) {
        throw unexpected;
      }
      throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION,
          "cannot listen on " + ServerFlags.describe(address) + ": " + ServerFlags.bindFailure((IOException) e));
    }
    Path socketPath = address instanceof DomainSocketAddress socket ? Path.of(socket.path()) : null;
    RunningServer running = new RunningServer(server, health, drain, budget, memory, socketPath, loops,
        new PingService(maxDelay, false, loops).bindService(), maxMessageBytes);
    running.warmUp(warmup);
    return running;
  }

  @SuppressWarnings("deprecation") // v1alpha is what many tools still ask for; the v1 service is added too
  private static BindableService legacyReflection() {
    return io.grpc.protobuf.services.ProtoReflectionService.newInstance();
  }
}
