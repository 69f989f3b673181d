///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
// AOT cache: trained by the ./jbang launcher on lib/Training.java's command lines
//SOURCES lib/Pingkit.java lib/Pem.java lib/ServerFlags.java lib/Drain.java lib/HealthCommands.java
//SOURCES lib/CallLogger.java lib/MemoryReturn.java lib/ServerLoops.java lib/InFlightBudget.java lib/ServerWarmUp.java
//SOURCES lib/PingStreamService.java lib/RunningServer.java
// Memory (B6) and throughput (B2), A/B runs in bench/RESULTS.md: the serial collector, a fixed young generation, a
// heap that starts small and takes at most 40% of the container's memory (network buffers may take as much), and
// after a burst the free heap given back in one collection that leaves the old generation at most 40% free.
//JAVA_OPTIONS -XX:+UseSerialGC -Xms48m -Xmn32m -XX:MaxRAMPercentage=40 -XX:-ShrinkHeapInSteps
//JAVA_OPTIONS -XX:MinHeapFreeRatio=20 -XX:MaxHeapFreeRatio=40
// Network buffers: Netty's per-thread caches would keep a burst's share of the pool after it
//JAVA_OPTIONS -Dio.grpc.netty.shaded.io.netty.allocator.smallCacheSize=0
//JAVA_OPTIONS -Dio.grpc.netty.shaded.io.netty.allocator.normalCacheSize=0

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;
import pingkit.stream.PingStreamGrpc;

@Command(name = "ping-server", mixinStandardHelpOptions = true, sortOptions = false,
    versionProvider = Pingkit.Version.class,
    description = {
        "Serves Fortio's gRPC ping (/fgrpc.PingServer/Ping), pingkit's streaming ping",
        "(/pingkit.PingStream/Echo), grpc.health.v1 and server reflection (v1, v1alpha).",
        "Once listening it prints one line, 'listening on tcp HOST:PORT' or 'listening",
        "on unix PATH'; logs go to stderr. SIGINT/SIGTERM drain: new calls are refused,",
        "health turns NOT_SERVING, calls in flight are answered and streams end after",
        "their replies due, then it exits 0 (a second signal stops at once).", ""},
    footer = {"", "Examples:",
        "  ping-server 0                              a free port on all interfaces",
        "  ping-server 127.0.0.1:8079 -v              loopback only, logging each call",
        "  ping-server /tmp/ping.sock                 a Unix domain socket",
        "  ping-server 8443 --cert c.pem --key k.pem --cacert ca.pem   mutual TLS",
        "",
        "Exit codes:",
        "  0  stopped cleanly",
        "  1  invalid arguments or unreadable files",
        "  2  cannot listen (port in use, socket path exists, unknown host)",
        "  130  a second signal stopped it without waiting for calls in flight"})
class PingServer implements Callable<Integer> {
  // ---- the service: Fortio's ping -----------------------------------------------------------------------

  /**
   * Fortio's {@code PingServer/Ping}: the request echoed ({@code seq}, {@code payload}) with {@code ts} set to this
   * server's wall clock at receipt, sent {@code delayNanos} later, and {@code delayNanos} the delay applied (at
   * most --max-delay, none for a negative one), so that a client knows the wait it measured. A delayed reply is a
   * timer entry of the event loop the call arrived on (handlers run there), never a thread.
   */
  static final class PingService extends PingServerGrpc.PingServerImplBase {
    private final long maxDelayNanos;
    private final boolean logCalls;
    private final ServerLoops loops;

    PingService(Duration maxDelay, boolean logCalls, ServerLoops loops) {
      this.maxDelayNanos = maxDelay.toNanos();
      this.logCalls = logCalls;
      this.loops = loops;
    }

    @Override
    public void ping(PingMessage request, StreamObserver<PingMessage> responseObserver) {
      long delayNanos = Math.max(0, Math.min(request.getDelayNanos(), maxDelayNanos));
      PingMessage reply = request.toBuilder().setTs(Pingkit.wallClockNanos()).setDelayNanos(delayNanos).build();
      if (logCalls) {
        log.info("ping seq=" + request.getSeq() + " payload=" + request.getPayload().length() + "B delay="
            + Pingkit.formatDuration(Duration.ofNanos(delayNanos)));
      }
      if (delayNanos == 0) {
        responseObserver.onNext(reply);
        responseObserver.onCompleted();
        return;
      }
      var call = (ServerCallStreamObserver<PingMessage>) responseObserver;
      call.setOnCancelHandler(loops.schedule(() -> {
        call.onNext(reply);
        call.onCompleted();
      }, delayNanos));
    }
  }

  // ---- the command --------------------------------------------------------------------------------------

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
  Map<String, String> initialHealth = new java.util.LinkedHashMap<>();

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
      converter = ServerFlags.ByteSizeConverter.class,
      description = "largest request accepted, e.g. 65536, 512KiB, 4MiB (default: ${DEFAULT-VALUE})")
  int maxMessageBytes;

  @Option(names = "--max-inflight-bytes", paramLabel = "BYTES", converter = ServerFlags.ByteSizeConverter.class,
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

  private static final Logger log = Logger.getLogger("pingkit.server");
  /** A connection's and each stream's HTTP/2 flow-control window: what may be sent to the server unasked for. */
  static final int FLOW_CONTROL_WINDOW_BYTES = 64 << 10;

  public static void main(String[] args) {
    System.exit(Pingkit.execute(new PingServer(), args));
  }

  @Override
  public Integer call() throws InterruptedException {
    Pingkit.configureLogging("ping-server", verbose.length, true);
    CountDownLatch stopRequested = new CountDownLatch(1);
    RunningServer server = start();
    AtomicInteger signals = new AtomicInteger();
    Pingkit.onStopSignal(() -> {
      if (signals.incrementAndGet() > 1) {
        log.warning("second signal: stopping now, cutting calls in flight");
        server.stopNow();
      }
      stopRequested.countDown();
    });
    System.out.println("listening on " + server.address());
    System.out.flush();
    server.warmUp(warmup);
    HealthCommands.accept(System.in, server::setHealth, server.drain::draining);
    stopRequested.await();
    log.info("draining: health is NOT_SERVING, new calls are refused");
    int cut = server.drain(drainTimeout);
    if (signals.get() > 1) {
      return Pingkit.EXIT_INTERRUPTED;
    }
    if (cut > 0) {
      log.warning(cut + " call(s) still in flight after --drain-timeout " + Pingkit.formatDuration(drainTimeout)
          + " were cut");
    }
    return Pingkit.EXIT_OK;
  }

  // ---- static API, for JShell and tests (mirrors Fortio's PingServer and PingServerTCP) ------------------

  private static final Map<Integer, RunningServer> startedByPort = new ConcurrentHashMap<>();

  /**
   * Starts a ping server on {@code listen} (as on the command line: "0", "127.0.0.1:0", "/tmp/ping.sock");
   * {@code certFile}/{@code keyFile} may be null (plaintext); {@code maxStreams} 0 = no limit.
   */
  static RunningServer start(String listen, String certFile, String keyFile, String healthServiceName, int maxStreams) {
    List<String> args = new ArrayList<>();
    if (certFile != null) {
      args.addAll(List.of("--cert", certFile, "--key", keyFile));
    }
    args.addAll(List.of("--health-service", healthServiceName, "--max-streams", "" + maxStreams, listen));
    return start(args.toArray(String[]::new));
  }

  /**
   * Starts a ping server with command-line arguments, e.g. {@code start("--max-delay", "1s", "127.0.0.1:0")};
   * it warms up as the command does.
   */
  static RunningServer start(String... commandLineArgs) {
    PingServer command = Pingkit.parse(new PingServer(), commandLineArgs);
    RunningServer server = command.start();
    server.warmUp(command.warmup);
    return server;
  }

  /** Starts a TCP ping server on {@code port} (0 = free) of every interface and returns the bound port. */
  static int startTcp(int port, String certFile, String keyFile, String healthServiceName, int maxStreams) {
    RunningServer server = start("" + port, certFile, keyFile, healthServiceName, maxStreams);
    startedByPort.put(server.port(), server);
    return server.port();
  }

  /** Stops the server that {@link #startTcp} started on {@code port}, answering its calls in flight first. */
  static void stop(int port) {
    RunningServer server = startedByPort.remove(port);
    if (server != null) {
      server.stop();
    }
  }

  // ---- the server ---------------------------------------------------------------------------------------

  /** The server the flags describe, listening: one builder chain, then the handle. */
  private RunningServer start() {
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
    return new RunningServer(server, health, drain, budget, memory, socketPath, loops,
        new PingService(maxDelay, false, loops).bindService(), maxMessageBytes);
  }

  @SuppressWarnings("deprecation") // v1alpha is what many tools still ask for; the v1 service is added too
  private static BindableService legacyReflection() {
    return io.grpc.protobuf.services.ProtoReflectionService.newInstance();
  }
}
