///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES lib/Pingkit.java lib/ServerWarmUp.java
// class-data sharing: a cached run starts ~0.3 s sooner (bench/startup.sh); its JVM notes stay off stdout
//CDS
//JAVA_OPTIONS -Xlog:cds=off -Xlog:cds+dynamic=off
// Memory (B6, bench/server.java) and throughput (B2): a ping server's live data is a few MB, so the serial
// collector (no concurrent GC threads; young pauses well under a millisecond here) with a fixed 32 MB young
// generation (smaller, it collects hundreds of times a second under load: 12% fewer calls; larger, it only
// adds resident memory) in a heap that starts at 48 MB. The JVM's default start, 1/64 of RAM, is filled by the
// first burst and stays resident (1,000 open streams: 277 MB with G1 and defaults). The maximum stays the JVM's
// default (1/4 of RAM), so that --max-message-size echoes are never refused for want of heap.
//JAVA_OPTIONS -XX:+UseSerialGC -Xms48m -Xmn32m

import io.grpc.ForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.util.internal.ThreadExecutorMap;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;

@Command(name = "ping-server", mixinStandardHelpOptions = true, sortOptions = false,
    versionProvider = Pingkit.Version.class,
    description = {
        "Serves Fortio's gRPC ping (/fgrpc.PingServer/Ping), grpc.health.v1 and",
        "server reflection (v1, v1alpha). Once listening it prints one line,",
        "'listening on tcp HOST:PORT' or 'listening on unix PATH'; logs go to stderr.",
        "SIGINT/SIGTERM drain: new calls are refused, health turns NOT_SERVING, calls",
        "in flight are answered, then it exits 0 (a second signal stops at once).", ""},
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
      converter = Pingkit.ByteSizeConverter.class,
      description = "largest request accepted, e.g. 65536, 512KiB, 4MiB (default: ${DEFAULT-VALUE})")
  int maxMessageBytes;

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

  public static void main(String[] args) {
    System.exit(Pingkit.execute(new PingServer(), args));
  }

  @Override
  public Integer call() throws InterruptedException {
    Pingkit.configureLogging("ping-server", verbose.length, true);
    CountDownLatch stopRequested = new CountDownLatch(1);
    Running server = start();
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
    server.acceptHealthCommands(System.in);
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

  private static final Map<Integer, Running> startedByPort = new ConcurrentHashMap<>();

  /**
   * Starts a ping server on {@code listen} (as on the command line: "0", "127.0.0.1:0", "/tmp/ping.sock");
   * {@code certFile}/{@code keyFile} may be null (plaintext); {@code maxStreams} 0 = no limit.
   */
  static Running start(String listen, String certFile, String keyFile, String healthServiceName, int maxStreams) {
    var args = new java.util.ArrayList<String>();
    if (certFile != null) {
      args.addAll(java.util.List.of("--cert", certFile, "--key", keyFile));
    }
    args.addAll(java.util.List.of("--health-service", healthServiceName, "--max-streams", "" + maxStreams));
    args.add(listen);
    return start(args.toArray(String[]::new));
  }

  /** Starts a ping server with command-line arguments, e.g. {@code start("--max-delay", "1s", "127.0.0.1:0")}. */
  static Running start(String... commandLineArgs) {
    PingServer command = new PingServer();
    Pingkit.parse(command, commandLineArgs);
    return command.start();
  }

  /** Starts a TCP ping server on {@code port} (0 = free) of every interface and returns the bound port. */
  static int startTcp(int port, String certFile, String keyFile, String healthServiceName, int maxStreams) {
    Running server = start("" + port, certFile, keyFile, healthServiceName, maxStreams);
    startedByPort.put(server.port(), server);
    return server.port();
  }

  /** Stops the server that {@link #startTcp} started on {@code port}, answering its calls in flight first. */
  static void stop(int port) {
    Running server = startedByPort.remove(port);
    if (server != null) {
      server.stop();
    }
  }

  // ---- the server ---------------------------------------------------------------------------------------

  private Running start() {
    if ((certFile == null) != (keyFile == null)) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--cert and --key go together: give both, or neither");
    }
    if ((clientCaFile != null || requireClientCert) && certFile == null) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--cacert and --mtls need TLS: add --cert FILE --key FILE");
    }
    if (maxStreams < 0) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--max-streams must be 0 (no limit) or more");
    }
    if (handshakeTimeout.isZero()) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--handshake-timeout must be more than 0");
    }
    SslContext tls = certFile == null ? null
        : Pingkit.serverTls(certFile, keyFile, clientCaFile, requireClientCert);
    SocketAddress address = listenAddress(listen);

    HealthStatusManager health = new HealthStatusManager();
    health.setStatus(healthServiceName, ServingStatus.SERVING);
    health.setStatus(healthServiceName + "_down", ServingStatus.NOT_SERVING);
    initialHealth.forEach((service, status) -> health.setStatus(service, servingStatus(status, "--health-status")));
    Running running = new Running(health, maxDelay.toNanos());

    NettyServerBuilder builder = NettyServerBuilder.forAddress(address)
        // every handler here is non-blocking (delays are scheduled), so calls run on the transport's threads
        .directExecutor()
        .maxInboundMessageSize(maxMessageBytes)
        // a connection left silent (or dribbling) before its handshake holds a socket: gRPC's default is 120 s
        .handshakeTimeout(handshakeTimeout.toNanos(), TimeUnit.NANOSECONDS)
        .addService(running.pingService(verbose.length > 0))
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance())
        .addService(legacyReflection());
    if (maxStreams > 0) {
      builder.maxConcurrentCallsPerConnection(maxStreams);
    }
    if (tls != null) {
      builder.sslContext(tls);
    }
    builder.intercept(running.inFlightCounter());
    if (verbose.length > 0) {
      builder.intercept(new CallLogger());
    }
    if (address instanceof DomainSocketAddress socket) {
      if (!Epoll.isAvailable()) {
        throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, "Unix domain sockets need Linux (epoll): "
            + Pingkit.oneLine(Epoll.unavailabilityCause()));
      }
      running.bossGroup = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
      running.workerGroup = new MultiThreadIoEventLoopGroup(EpollIoHandler.newFactory());
      builder.channelType(EpollServerDomainSocketChannel.class)
          .bossEventLoopGroup(running.bossGroup)
          .workerEventLoopGroup(running.workerGroup);
      running.socketPath = Path.of(socket.path());
    }
    running.server = builder.build();
    try {
      running.server.start();
      running.boundSocket = running.socketPath != null;
    } catch (IOException e) {
      running.releaseResources();
      throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION,
          "cannot listen on " + describe(address) + ": " + bindFailure(e));
    }
    running.address = running.socketPath != null ? "unix " + running.socketPath
        : "tcp " + hostPort((InetSocketAddress) running.server.getListenSockets().get(0));
    if (!warmup.isZero() && !warmup.isNegative()) {
      running.warmUp = ServerWarmUp.start(running.pingService(false).bindService(), maxMessageBytes, warmup,
          () -> running.clientCalled || running.draining);
    }
    return running;
  }

  @SuppressWarnings("deprecation") // v1alpha is what many tools still ask for; the v1 service is added too
  private static io.grpc.BindableService legacyReflection() {
    return io.grpc.protobuf.services.ProtoReflectionService.newInstance();
  }

  /** A started server: its address, and the ways to stop it. */
  static final class Running implements AutoCloseable {
    private final HealthStatusManager health;
    private final long maxDelayNanos;
    private final AtomicInteger callsInFlight = new AtomicInteger();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private volatile boolean draining;
    private final java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
    private Server server;
    private String address;
    private Path socketPath;
    private boolean boundSocket;
    private EventLoopGroup bossGroup;
    private EventLoopGroup workerGroup;

    private ServerWarmUp warmUp;
    private volatile boolean clientCalled;

    private Running(HealthStatusManager health, long maxDelayNanos) {
      this.health = health;
      this.maxDelayNanos = maxDelayNanos;
    }

    @Override
    public String toString() {
      return "PingServer listening on " + address;
    }

    /** "tcp HOST:PORT" or "unix PATH", as printed on start. */
    String address() {
      return address;
    }

    /** The bound TCP port (-1 for a Unix socket). */
    int port() {
      return socketPath != null ? -1 : ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
    }

    /** A target for clients: "127.0.0.1:PORT" for a TCP server (of any interface), "unix:PATH" for a socket. */
    String target() {
      if (socketPath != null) {
        return "unix:" + socketPath;
      }
      InetSocketAddress bound = (InetSocketAddress) server.getListenSockets().get(0);
      return bound.getAddress().isAnyLocalAddress() ? "127.0.0.1:" + bound.getPort() : hostPort(bound);
    }

    /** Sets the health a service reports (a no-op once draining: health stays NOT_SERVING). */
    void setHealth(String service, ServingStatus status) {
      health.setStatus(service, status);
    }

    /**
     * Reads lines 'set SERVICE STATUS' (SERVICE "" for the server as a whole) from {@code commands} until it
     * ends, so that probes and load balancers can be tried by hand; each change is confirmed on stderr.
     */
    void acceptHealthCommands(java.io.InputStream commands) {
      Thread reader = new Thread(() -> {
        try (var lines = new java.io.BufferedReader(
            new java.io.InputStreamReader(commands, java.nio.charset.StandardCharsets.UTF_8))) {
          for (String line; (line = lines.readLine()) != null; ) {
            String[] words = line.trim().split("\\s+");
            if (words.length == 1 && words[0].isEmpty()) {
              continue;
            }
            try {
              if (words.length != 3 || !words[0].equals("set")) {
                throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "expected 'set SERVICE STATUS'");
              }
              String service = words[1].equals("\"\"") ? "" : words[1];
              setHealth(service, servingStatus(words[2], "set"));
              System.err.println("ping-server: health of '" + service + "' is now " + words[2].toUpperCase(
                  java.util.Locale.ROOT) + (draining ? " (ignored: draining, health stays NOT_SERVING)" : ""));
            } catch (Pingkit.UserError e) {
              System.err.println("ping-server: stdin: '" + line + "': " + e.getMessage());
            }
          }
        } catch (IOException e) {
          // stdin closed or unreadable: no more commands
        }
      }, "health-commands");
      reader.setDaemon(true);
      reader.start();
    }

    /** Unary calls (pings, health checks) received and not yet answered. */
    int callsInFlight() {
      return callsInFlight.get();
    }

    /** Drains (health NOT_SERVING, no new calls, calls in flight answered) within 30 s. */
    void stop() {
      drain(Duration.ofSeconds(30));
    }

    @Override
    public void close() {
      stop();
    }

    /** Stops at once: calls in flight are cancelled. */
    void stopNow() {
      stopWarmUp();
      server.shutdownNow();
      drained.complete(null);
      releaseResources();
    }

    /**
     * Health turns NOT_SERVING, new calls are refused, and calls in flight (delayed pings too) are answered
     * within {@code timeout}; then long-lived streams (health watches) end. Returns how many calls were cut.
     */
    int drain(Duration timeout) {
      if (draining) {
        return 0;
      }
      // refusing new calls comes first (GOAWAY on every connection), then health turns NOT_SERVING: a watcher
      // told NOT_SERVING finds new calls on its connection already refused
      server.shutdown();
      draining = true;
      stopWarmUp();
      health.enterTerminalState();
      if (callsInFlight.get() > 0) {
        try {
          drained.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
          // the deadline passed: what is still in flight is cut below
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      int cut = callsInFlight.get();
      server.shutdownNow();
      try {
        server.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      releaseResources();
      return cut;
    }

    private void stopWarmUp() {
      if (warmUp != null) {
        warmUp.stop();
      }
    }

    private void releaseResources() {
      if (released.getAndSet(true)) {
        return;
      }
      if (bossGroup != null) {
        bossGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        workerGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      }
      if (boundSocket) {
        try {
          Files.deleteIfExists(socketPath);
        } catch (IOException e) {
          log.warning("cannot remove the socket file " + socketPath + ": " + Pingkit.oneLine(e));
        }
      }
    }

    private void callEnded() {
      if (callsInFlight.decrementAndGet() == 0 && draining) {
        drained.complete(null);
      }
    }

    /** The ping service; {@code logCalls}: a line per ping (-v). */
    private PingServerGrpc.PingServerImplBase pingService(boolean logCalls) {
      return new PingServerGrpc.PingServerImplBase() {
        @Override
        public void ping(PingMessage request, StreamObserver<PingMessage> responseObserver) {
          PingMessage reply = request.toBuilder().setTs(Pingkit.wallClockNanos()).build();
          long delayNanos = Math.min(request.getDelayNanos(), maxDelayNanos);
          if (logCalls) {
            log.info("ping seq=" + request.getSeq() + " payload=" + request.getPayload().length() + "B delay="
                + Pingkit.formatDuration(Duration.ofNanos(Math.max(delayNanos, 0))));
          }
          if (delayNanos <= 0) {
            responseObserver.onNext(reply);
            responseObserver.onCompleted();
            return;
          }
          var call = (ServerCallStreamObserver<PingMessage>) responseObserver;
          // A delayed ping is a timer entry of the event loop its call arrived on (handlers run there: the server
          // uses directExecutor), never a thread; the reply is then written from that loop, with no hand-off
          // between threads and no timer thread of our own.
          ScheduledFuture<?> pending = Objects.requireNonNull(ThreadExecutorMap.currentExecutor(),
              "the ping handler runs on its call's event loop").schedule(() -> {
            call.onNext(reply);
            call.onCompleted();
          }, delayNanos, TimeUnit.NANOSECONDS);
          call.setOnCancelHandler(() -> pending.cancel(false));
        }
      };
    }

    /**
     * Counts unary calls from their start until their status is sent (or they are cancelled), which is what a
     * drain must wait for; streams (health watches, reflection) are long-lived and are ended by the drain.
     */
    private ServerInterceptor inFlightCounter() {
      return new ServerInterceptor() {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
          if (!clientCalled) {
            clientCalled = true; // the warm-up gives way
          }
          if (call.getMethodDescriptor().getType() != MethodDescriptor.MethodType.UNARY) {
            return next.startCall(call, headers);
          }
          callsInFlight.incrementAndGet();
          return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
              next.startCall(call, headers)) {
            @Override
            public void onComplete() {
              callEnded();
              super.onComplete();
            }

            @Override
            public void onCancel() {
              callEnded();
              super.onCancel();
            }
          };
        }
      };
    }
  }

  /** With -v: one line per call, with the peer and the metadata (secrets redacted). */
  private static final class CallLogger implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      SocketAddress peer = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
      String metadata = headers.keys().stream().sorted()
          .map(key -> key + "=" + printable(headers, key))
          .collect(Collectors.joining(" "));
      log.info(call.getMethodDescriptor().getFullMethodName() + " from " + peer + " authority="
          + call.getAuthority() + " " + metadata);
      return next.startCall(call, headers);
    }

    private static String printable(Metadata headers, String key) {
      if (Pingkit.SECRET_METADATA_KEY.matcher(key).matches()) {
        return "<redacted>";
      }
      if (key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
        var values = headers.getAll(Metadata.Key.of(key, Metadata.BINARY_BYTE_MARSHALLER));
        return values == null ? "" : StreamSupport.stream(values.spliterator(), false)
            .map(v -> "<" + v.length + " bytes>").collect(Collectors.joining(","));
      }
      var values = headers.getAll(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
      return values == null ? "" : String.join(",", values);
    }
  }

  // ---- helpers ------------------------------------------------------------------------------------------

  private static final java.util.List<String> SETTABLE_STATUSES = java.util.List.of("SERVING", "NOT_SERVING",
      "SERVICE_UNKNOWN");

  private static ServingStatus servingStatus(String text, String where) {
    String name = text.toUpperCase(java.util.Locale.ROOT);
    if (!SETTABLE_STATUSES.contains(name)) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, where + ": '" + text + "' is not a health status (one of "
          + String.join(", ", SETTABLE_STATUSES) + ")");
    }
    return ServingStatus.valueOf(name);
  }

  private static final Pattern HOST_PORT = Pattern.compile("(?:\\[([^\\]]+)\\]|([^:\\[\\]]*)):(\\d{1,5})");

  /** PORT, :PORT, HOST:PORT, [V6]:PORT, or a path with '/' (Unix socket). */
  static SocketAddress listenAddress(String listen) {
    if (listen.contains("/")) {
      Path path = Path.of(listen).toAbsolutePath();
      if (Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, "cannot listen on unix " + path
            + ": the path exists (remove it if it is a stale socket)");
      }
      if (!Files.isDirectory(path.getParent())) {
        throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, "cannot listen on unix " + path + ": no directory "
            + path.getParent());
      }
      return new DomainSocketAddress(path.toString());
    }
    String host = "";
    String port = listen;
    Matcher hostPort = HOST_PORT.matcher(listen);
    if (hostPort.matches()) {
      host = hostPort.group(1) != null ? hostPort.group(1) : hostPort.group(2);
      port = hostPort.group(3);
    }
    if (!port.matches("\\d{1,5}") || Integer.parseInt(port) > 65535) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "LISTEN '" + listen
          + "' is not PORT (0-65535), HOST:PORT, [V6]:PORT or a Unix socket path");
    }
    if (host.isEmpty()) {
      return new InetSocketAddress(Integer.parseInt(port));
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(host), Integer.parseInt(port));
    } catch (UnknownHostException e) {
      throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, "cannot listen on " + host + ": unknown host");
    }
  }

  private static String hostPort(InetSocketAddress address) {
    InetAddress ip = address.getAddress();
    String host = ip.isAnyLocalAddress() ? "[::]"
        : ip instanceof Inet6Address ? "[" + com.google.common.net.InetAddresses.toAddrString(ip) + "]"
        : ip.getHostAddress();
    return host + ":" + address.getPort();
  }

  private static String describe(SocketAddress address) {
    return address instanceof InetSocketAddress tcp ? "tcp " + hostPort(tcp)
        : "unix " + ((DomainSocketAddress) address).path();
  }

  private static String bindFailure(IOException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String message = String.valueOf(t.getMessage()).toLowerCase(java.util.Locale.ROOT);
      if (t instanceof BindException || message.contains("address already in use")) {
        return message.contains("in use") ? "address already in use (pick another port, or 0 for a free one)"
            : Pingkit.oneLine(t);
      }
      if (message.contains("permission denied") || message.contains("access denied")) {
        return "permission denied (ports below 1024 need privileges)";
      }
    }
    return Pingkit.oneLine(e);
  }
}
