// The client side shared by ping-client.java and health-check.java (each pulls it with //SOURCES): targets,
// connection flags, channels, failure diagnosis, histograms and JSON.
//SOURCES Pingkit.java WireClock.java

import com.google.common.net.InetAddresses;
import com.google.gson.GsonBuilder;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ClientTransportFilter;
import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NegotiationType;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.ChannelOutboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.channel.EventLoop;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Stack;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Logger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.IParameterPreprocessor;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** What ping-client and health-check share: where to connect, how, and how to report. */
final class Client {
  static final int DEFAULT_PORT = 8079;
  private static final Logger log = Logger.getLogger("pingkit.client");

  private Client() {}

  // ---- targets ------------------------------------------------------------------------------------------

  /**
   * Where to connect: {@code host}, {@code host:port}, {@code [v6]:port}, a v6 literal, {@code http://host[:port]}
   * (plaintext, port 80), {@code https://host[:port]} (TLS, port 443), {@code unix:/path} or {@code unix:///path};
   * no port means 8079. {@code tls} is what the scheme asks for (null: no scheme).
   */
  record Target(String text, String host, int port, Path unixSocket, Boolean tls) {
    static Target parse(String text) {
      String lower = text.toLowerCase(Locale.ROOT);
      if (lower.startsWith("unix:")) {
        String path = text.substring("unix:".length());
        path = path.startsWith("//") ? path.substring(2) : path;
        if (path.isEmpty()) {
          throw bad(text, "no socket path after unix:");
        }
        return new Target(text, null, -1, Path.of(path), null);
      }
      String rest = text;
      Boolean tls = null;
      int defaultPort = DEFAULT_PORT;
      if (lower.startsWith("http://")) {
        rest = text.substring("http://".length());
        tls = false;
        defaultPort = 80;
      } else if (lower.startsWith("https://")) {
        rest = text.substring("https://".length());
        tls = true;
        defaultPort = 443;
      } else if (lower.contains("://")) {
        throw bad(text, "only http://, https:// and unix: are understood");
      }
      rest = rest.endsWith("/") ? rest.substring(0, rest.length() - 1) : rest;
      String host;
      String port = null;
      if (rest.startsWith("[")) {
        int close = rest.indexOf(']');
        if (close < 0) {
          throw bad(text, "'[' without ']'");
        }
        host = rest.substring(1, close);
        String after = rest.substring(close + 1);
        if (!after.isEmpty() && !after.startsWith(":")) {
          throw bad(text, "expected :PORT after ']'");
        }
        port = after.isEmpty() ? null : after.substring(1);
        if (!InetAddresses.isInetAddress(host) || !host.contains(":")) {
          throw bad(text, "'" + host + "' is not an IPv6 address");
        }
      } else if (rest.indexOf(':') != rest.lastIndexOf(':')) {
        if (!InetAddresses.isInetAddress(rest)) {
          throw bad(text, "too many ':' (an IPv6 address with a port is written [::1]:8079)");
        }
        host = rest;
      } else if (rest.contains(":")) {
        host = rest.substring(0, rest.indexOf(':'));
        port = rest.substring(rest.indexOf(':') + 1);
      } else {
        host = rest;
      }
      if (host.isEmpty()) {
        host = "localhost";
      }
      if (!host.contains(":") && !host.matches("[A-Za-z0-9._-]+")) {
        throw bad(text, "'" + host + "' is not a host name or address");
      }
      return new Target(text, host, port == null ? defaultPort : parsePort(text, port), null, tls);
    }

    private static int parsePort(String text, String port) {
      if (!port.matches("\\d{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
        throw bad(text, "port '" + port + "' is not 1-65535");
      }
      return Integer.parseInt(port);
    }

    private static Pingkit.UserError bad(String text, String why) {
      return new Pingkit.UserError(Pingkit.EXIT_USAGE, "target '" + text + "': " + why);
    }

    /** host:port with IPv6 in brackets, or the socket path: what messages name. */
    String authority() {
      if (unixSocket != null) {
        return "localhost";
      }
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    String display() {
      return unixSocket != null ? "unix:" + unixSocket : authority();
    }
  }

  // ---- connection flags (a picocli mixin of both clients) ------------------------------------------------

  /** The flags both clients share; Fortio's single-dash spellings are aliases. */
  static final class ConnectionOptions {
    @Parameters(paramLabel = "TARGET", arity = "1",
        description = "host, host:port, [v6]:port, http://host[:port], https://host[:port], unix:/path"
            + " (no port: 8079)")
    String target;

    @Option(names = {"--unix-socket", "-unix-socket"}, paramLabel = "PATH",
        description = "dial this Unix socket instead; TARGET stays the authority")
    Path unixSocket;

    @Option(names = {"--cacert", "-cacert"}, paramLabel = "FILE", description = "TLS, trusting this PEM CA")
    Path caCert;

    @Option(names = "--tls", description = "TLS, trusting the JDK's CAs (implied by https://)")
    boolean tls;

    @Option(names = {"-k", "--insecure"}, description = "TLS without verifying the server's certificate")
    boolean insecure;

    @Option(names = {"--cert", "-cert"}, paramLabel = "FILE", description = "client certificate (mTLS), PEM")
    Path clientCert;

    @Option(names = {"--key", "-key"}, paramLabel = "FILE", description = "key of --cert, PKCS#8 PEM")
    Path clientKey;

    @Option(names = "--authority", paramLabel = "NAME",
        description = ":authority to send, and the name the server's certificate must have")
    String authority;

    @Option(names = {"-H", "--header"}, paramLabel = "'KEY: VALUE'",
        description = "metadata to send (repeatable); 'host' sets the authority, 'user-agent' the user agent")
    List<String> headers = new ArrayList<>();

    @Option(names = "--connect-timeout", paramLabel = "DURATION", defaultValue = "5s",
        description = "limit for connecting, TLS included (default: ${DEFAULT-VALUE})")
    Duration connectTimeout;

    @Option(names = "--timeout", paramLabel = "DURATION",
        description = "limit for each call (default: 5s, plus the requested delay for pings)")
    Duration timeout;

    @Option(names = {"-v", "--verbose"}, description = "more detail: per-call lines, and the causes of errors")
    boolean[] verbose = new boolean[0];

    boolean verbose() {
      return verbose.length > 0;
    }

    /** --timeout, or 5 s plus {@code expectedDelay} (a ping's requested delay) when not given. */
    Duration callTimeout(Duration expectedDelay) {
      return timeout != null ? timeout : Duration.ofSeconds(5).plus(expectedDelay);
    }
  }

  /** How results are printed: the flags both clients share. */
  static final class ReportOptions {
    @Option(names = "-p", paramLabel = "P,P,...", defaultValue = "50,75,90,99,99.9",
        description = "percentiles to print (default: ${DEFAULT-VALUE})")
    String percentiles;

    @Option(names = "--json", arity = "0..1", paramLabel = "FILE", preprocessor = JsonFileArgument.class,
        description = "JSON (fields in the README) instead of text on stdout; --json FILE writes it to FILE"
            + " and keeps the text (- = stdout)")
    String json;

    private PrintStream jsonFile;

    List<Double> percentiles() {
      return parsePercentiles(percentiles);
    }

    /** Whether stdout gets JSON, not text. */
    boolean jsonOnStdout() {
      return "-".equals(json);
    }

    /**
     * Opens --json FILE before any work starts (truncating it), so that a long run never ends unable to save what
     * it measured.
     */
    void openJsonFile() {
      if (json == null || jsonOnStdout()) {
        return;
      }
      try {
        jsonFile = new PrintStream(java.nio.file.Files.newOutputStream(Path.of(json)), false, StandardCharsets.UTF_8);
      } catch (IOException | RuntimeException e) {
        throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--json: cannot write " + json + ": " + Pingkit.oneLine(e));
      }
    }

    /** Prints a report: {@code text} on stdout unless it gets JSON, and the JSON where --json says. */
    void print(String text, Supplier<String> jsonText) {
      if (jsonOnStdout()) {
        System.out.println(jsonText.get());
      } else {
        System.out.print(text);
      }
      if (jsonFile != null) {
        jsonFile.println(jsonText.get());
        jsonFile.flush();
        if (jsonFile.checkError()) {
          throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--json: writing " + json + " failed");
        }
      }
    }
  }

  /**
   * Whether the word after a bare --json is its FILE: it is when it is "-", or when a TARGET is still to come
   * after it (or was given before), so that both {@code --json TARGET} and {@code --json out.json TARGET} read
   * as meant. {@code --json=FILE} always names a file.
   */
  static final class JsonFileArgument implements IParameterPreprocessor {
    @Override
    public boolean preprocess(Stack<String> args, CommandSpec command, ArgSpec json, Map<String, Object> info) {
      boolean attached = !" ".equals(info.get("separator"));
      String value = "-";
      if (attached || (!args.isEmpty() && (args.peek().equals("-")
          || (!args.peek().startsWith("-") && targetGivenOrToCome(args, command))))) {
        value = args.pop();
      }
      json.setValue(value);
      return true;
    }

    private static boolean targetGivenOrToCome(Stack<String> args, CommandSpec command) {
      if (command.positionalParameters().stream().anyMatch(target -> target.getValue() != null)) {
        return true;
      }
      // the words after the candidate FILE, in command-line order (the stack's top is the next word)
      List<String> later = new ArrayList<>(args);
      java.util.Collections.reverse(later);
      for (int i = 1; i < later.size(); i++) {
        String word = later.get(i);
        if (word.equals("--")) {
          return i + 1 < later.size();
        }
        OptionSpec option = command.findOption(word.contains("=") ? word.substring(0, word.indexOf('=')) : word);
        if (option != null) {
          if (!word.contains("=") && option.arity().max() > 0 && option.arity().min() > 0) {
            i++; // its value
          }
        } else if (!word.startsWith("-") || word.equals("-")) {
          return true;
        }
      }
      return false;
    }
  }

  // ---- connections ----------------------------------------------------------------------------------------

  /** One channel to the target, and the diagnosis of what goes wrong with it. */
  static final class Connection implements AutoCloseable {
    final Target target;
    final ManagedChannel channel;
    private final ConnectionOptions options;
    private final boolean useTls;
    private final String authority;
    private volatile boolean answered;
    private final TransportPhases phases;

    private Connection(Target target, ManagedChannel channel, ConnectionOptions options, boolean useTls,
        String authority, TransportPhases phases) {
      this.target = target;
      this.channel = channel;
      this.options = options;
      this.useTls = useTls;
      this.authority = authority;
      this.phases = phases;
    }

    /**
     * A channel to {@code options.target}, not yet connected. {@code watchArrivals}: a thread notes when answers
     * arrive, for connections with a call or a few in flight (its wake-ups cost CPU at high rates).
     */
    static Connection open(ConnectionOptions options, int maxMessageBytes, boolean watchArrivals) {
      Target target = Target.parse(options.target);
      if ((options.clientCert == null) != (options.clientKey == null)) {
        throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--cert and --key go together: give both, or neither");
      }
      boolean tlsFlags = options.caCert != null || options.tls || options.clientCert != null || options.insecure;
      if (tlsFlags && Boolean.FALSE.equals(target.tls)) {
        throw new Pingkit.UserError(Pingkit.EXIT_USAGE, target.text + " asks for plaintext, and --cacert, --tls,"
            + " --cert or -k for TLS: use https:// or a bare host:port, or drop the TLS flags");
      }
      boolean useTls = tlsFlags || Boolean.TRUE.equals(target.tls);
      Metadata metadata = new Metadata();
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
          default -> addMetadata(metadata, key, value, header);
        }
      }
      SslContext tls = useTls ? clientTls(options) : null;
      if (options.insecure) {
        log.warning("-k: the server's certificate is not verified; anyone on the path can impersonate it");
      }
      Path socket = options.unixSocket != null ? options.unixSocket : target.unixSocket;
      NettyChannelBuilder builder;
      if (socket != null) {
        if (!Epoll.isAvailable()) {
          throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, "Unix domain sockets need Linux (epoll)");
        }
        if (!java.nio.file.Files.exists(socket)) {
          throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, "no Unix socket at " + socket);
        }
        builder = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .channelFactory(() -> WireClock.attach(new EpollDomainSocketChannel(), tls != null, watchArrivals),
                DomainSocketAddress.class);
        authority = authority != null ? authority : target.authority();
      } else {
        builder = NettyChannelBuilder.forAddress(target.host, target.port)
            .withOption(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                Math.max(1, options.connectTimeout.toMillis())));
      }
      // with -v, the phases of the first connection of the run are logged
      TransportPhases phases = socket == null && options.verbose()
          && TransportPhases.firstConnectionSeen.compareAndSet(false, true) ? new TransportPhases(target.host) : null;
      if (socket == null) {
        builder.channelFactory(() -> WireClock.attach(
            phases == null ? newSocketChannel() : phases.watch(newSocketChannel()), tls != null, watchArrivals),
            InetSocketAddress.class);
      }
      if (phases != null) {
        builder.addTransportFilter(phases);
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
      builder.maxInboundMessageSize(Math.max(maxMessageBytes, 4 << 20))
          // every callback of ours is short and non-blocking: run it on the transport's thread
          .directExecutor()
          // a measurement is of one attempt: no hidden retry (and its bookkeeping cost a third of the load rate)
          .disableRetry();
      builder.eventLoopGroup(EventLoops.acquire());
      try {
        return new Connection(target, builder.build(), options, tls != null, authority, phases);
      } catch (RuntimeException e) {
        EventLoops.release();
        throw e;
      }
    }

    private static void addMetadata(Metadata metadata, String key, String value, String header) {
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
          builder.trustManager(Pingkit.readCertificates("--cacert", options.caCert));
        }
        if (options.clientCert != null) {
          var chain = Pingkit.readCertificates("--cert", options.clientCert);
          var key = Pingkit.readPrivateKey("--key", options.clientKey);
          Pingkit.checkKeyMatches(chain.get(0), key, options.clientCert, options.clientKey);
          builder.keyManager(key, chain);
        }
        return builder.build();
      } catch (IOException e) {
        throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "cannot use the TLS files: " + Pingkit.oneLine(e));
      }
    }

    /**
     * Connects within --connect-timeout. Returns when the channel is ready, or has failed (the next call then
     * fails at once with the transport's error, which {@link #failure} explains); throws when it is still
     * connecting at the limit (a silent or non-gRPC server, or a black hole).
     */
    Connection connect() {
      long deadline = System.nanoTime() + options.connectTimeout.toNanos();
      ConnectivityState state = channel.getState(true);
      while (state == ConnectivityState.IDLE || state == ConnectivityState.CONNECTING) {
        CountDownLatch changed = new CountDownLatch(1);
        channel.notifyWhenStateChanged(state, changed::countDown);
        try {
          if (!changed.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
            close();
            throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, noConnectionInTime());
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          close();
          throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, "interrupted while connecting");
        }
        state = channel.getState(true);
      }
      return this;
    }

    /** Call options for one call: a deadline of {@code timeout}. */
    CallOptions callOptions(Duration timeout) {
      return CallOptions.DEFAULT.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** How a call ended: the reply or the failure (the other null), and its times. */
    interface Ended<R> {
      void accept(R reply, Throwable failure, WireClock.CallClock clock);
    }

    /**
     * Starts a unary call within {@code timeout}; {@code ended} gets the reply or the failure (the other null),
     * and the call's times, on the connection's network thread: it must not block.
     */
    <Q, R> void call(MethodDescriptor<Q, R> method, Q request, Duration timeout, Ended<R> ended) {
      WireClock.CallClock clock = new WireClock.CallClock();
      ClientCall<Q, R> call = channel.newCall(method, callOptions(timeout).withStreamTracerFactory(clock.factory()));
      call.start(new UnaryListener<>(call, clock, ended), new Metadata());
      try {
        call.request(2); // one more than a unary reply: a second one is the server's error, and is reported
        call.sendMessage(request);
        call.halfClose();
      } catch (RuntimeException e) {
        call.cancel("the request could not be sent", e); // the listener hears of it, with this cause
      }
    }

    /**
     * A unary call's end, straight from gRPC's listener: the load client's hot path, where the stub's
     * StreamObserver adapters cost two more objects and calls a call (ClientCalls.asyncUnaryCall).
     */
    private final class UnaryListener<Q, R> extends ClientCall.Listener<R> {
      private final ClientCall<Q, R> call;
      private final WireClock.CallClock clock;
      private final Ended<R> ended;
      private R reply;

      UnaryListener(ClientCall<Q, R> call, WireClock.CallClock clock, Ended<R> ended) {
        this.call = call;
        this.clock = clock;
        this.ended = ended;
      }

      @Override
      public void onMessage(R message) {
        if (reply != null) {
          call.cancel("more than one reply to a unary call", null); // onClose reports it as CANCELLED
          return;
        }
        reply = message;
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        clock.received(status.isOk() && reply != null);
        if (status.isOk() && reply != null) {
          answered();
        }
        if (!status.isOk()) {
          ended.accept(null, status.asRuntimeException(trailers), clock);
        } else if (reply == null) {
          // the blocking calls' words for it (ClientCalls), so that every mode names it alike
          ended.accept(null, Status.INTERNAL.withDescription("No value received for unary call")
              .asRuntimeException(trailers), clock);
        } else {
          ended.accept(reply, null, clock);
        }
      }
    }

    /** A call's reply and its times. */
    record Answer<R>(R reply, WireClock.CallClock clock) {}

    /**
     * Makes a unary call within {@code timeout} and waits for it; its failure is thrown as gRPC's blocking calls
     * throw it (a StatusRuntimeException), for the caller to explain ({@link #failure}).
     */
    <Q, R> Answer<R> callBlocking(MethodDescriptor<Q, R> method, Q request, Duration timeout) {
      CompletableFuture<Answer<R>> ended = new CompletableFuture<>();
      call(method, request, timeout, (reply, failure, clock) -> {
        if (failure == null) {
          ended.complete(new Answer<>(reply, clock));
        } else {
          ended.completeExceptionally(failure);
        }
      });
      try {
        return ended.get();
      } catch (ExecutionException e) {
        throw (RuntimeException) e.getCause();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
      }
    }

    /** Records that the server answered a call: later failures are the RPC's, not the connection's. */
    void answered() {
      if (!answered && phases != null) {
        phases.answered();
      }
      answered = true;
    }

    /** The one-line error and exit code for a failed call: a connection problem (2) or a failed RPC (3). */
    Pingkit.UserError failure(String what, Throwable error) {
      Status status = Status.fromThrowable(error);
      boolean connected = answered || channel.getState(false) == ConnectivityState.READY;
      // an HTTP/1.1 server's answer to the HTTP/2 preface fails the call with INTERNAL: still a connection problem
      boolean notHttp2 = status.getCode() == Status.Code.INTERNAL && (status.getDescription() + " "
          + status.getCause()).toLowerCase(Locale.ROOT).contains("first received frame was not settings");
      if (!connected && (status.getCode() == Status.Code.UNAVAILABLE
          || status.getCode() == Status.Code.DEADLINE_EXCEEDED || notHttp2)) {
        return new Pingkit.UserError(Pingkit.EXIT_CONNECTION, connectionFailure(status), error);
      }
      String detail = status.getDescription() == null ? "" : ": " + status.getDescription();
      if (options.verbose() && status.getCause() != null) {
        detail += " (" + Pingkit.oneLine(status.getCause()) + ")";
      }
      return new Pingkit.UserError(Pingkit.EXIT_RPC_FAILED, what + " failed: " + status.getCode() + detail, error);
    }

    private String connectionFailure(Status status) {
      String where = target.display();
      String causes = (status.getDescription() + " " + Pingkit.oneLine(
          status.getCause() == null ? status.asException() : status.getCause())).toLowerCase(Locale.ROOT);
      if (causes.contains("unable to resolve host") || causes.contains("unknownhost")
          || causes.contains("name or service not known") || causes.contains("nodename nor servname")) {
        return "cannot resolve " + target.host + ": no such host (check the name)";
      }
      if (causes.contains("connection refused")) {
        return "connection refused by " + where + ": is a server listening there?";
      }
      if (causes.contains("no such file") && target.unixSocket != null || options.unixSocket != null
          && causes.contains("no such file")) {
        return "no Unix socket at " + (options.unixSocket != null ? options.unixSocket : target.unixSocket);
      }
      if (useTls) {
        String tlsProblem = tlsFailure(causes);
        if (tlsProblem != null) {
          return tlsProblem;
        }
      } else if (speaksTls()) {
        return "the server at " + where + " speaks TLS: add --cacert FILE, --tls or -k";
      }
      if (causes.contains("timed out") || status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
        return noConnectionInTime();
      }
      if (causes.contains("first received frame was not settings") || causes.contains("http/1")) {
        return where + " is not a gRPC (HTTP/2) server: it answered HTTP/2's preface with something else"
            + " (HTTP/1.1?)";
      }
      if (causes.contains("network closed for unknown reason")) {
        return where + " closed the connection before the HTTP/2 handshake: not a gRPC server, or it refused us";
      }
      return "cannot connect to " + where + ": " + Pingkit.oneLine(
          status.getCause() == null ? status.asException() : status.getCause());
    }

    private String noConnectionInTime() {
      return "no gRPC connection to " + target.display() + " within "
          + Pingkit.formatDuration(options.connectTimeout) + " (--connect-timeout): unreachable, or not a gRPC server";
    }

    private String tlsFailure(String causes) {
      String where = target.display();
      if (causes.contains("not an ssl/tls record") || causes.contains("notsslrecord")
          || causes.contains("unrecognized ssl message") || causes.contains("plaintext connection")) {
        return "the server at " + where + " speaks plaintext, not TLS: drop --cacert/--tls/-k (or use http://)";
      }
      if (causes.contains("certificateexpired") || causes.contains("validity check failed")
          || causes.contains("has expired") || causes.contains("not yet valid")) {
        return "the server's certificate at " + where + " has expired or is not yet valid";
      }
      if (causes.contains("no subject alternative") || causes.contains("doesn't match")
          || causes.contains("does not match") || causes.contains("hostname")) {
        String name = authority != null ? authority : target.host;
        return "the server's certificate does not name '" + name.replaceFirst(":\\d+$", "")
            + "': set --authority to a name it has";
      }
      if (causes.contains("pkix") || causes.contains("certification path")
          || causes.contains("unable to find valid") || causes.contains("signature check failed")) {
        return "the server's certificate at " + where + " is not signed by a trusted CA: pass its CA with"
            + " --cacert FILE (or -k to skip verification)";
      }
      if (causes.contains("certificate_required") || causes.contains("bad_certificate")
          || causes.contains("certificate required") || causes.contains("bad certificate")
          || causes.contains("unknown_ca") || causes.contains("unknown ca")) {
        return options.clientCert == null
            ? "the server at " + where + " requires a client certificate: add --cert FILE --key FILE"
            : "the server at " + where + " rejected the client certificate (is it signed by the CA it trusts?)";
      }
      if (causes.contains("handshake") || causes.contains("ssl") || causes.contains("tls")) {
        return "TLS handshake with " + where + " failed: " + causes.trim();
      }
      return null;
    }

    /** Whether a TLS handshake succeeds where plaintext gRPC failed: the reason a plaintext client is refused. */
    private boolean speaksTls() {
      if (target.unixSocket != null || options.unixSocket != null) {
        return false;
      }
      try (Socket raw = new Socket()) {
        raw.connect(new InetSocketAddress(target.host, target.port), 2000);
        raw.setSoTimeout(2000);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
        try (SSLSocket tls = (SSLSocket) context.getSocketFactory()
            .createSocket(raw, target.host, target.port, false)) {
          tls.startHandshake();
          return true;
        }
      } catch (IOException | java.security.GeneralSecurityException e) {
        return false;
      }
    }

    @Override
    public void close() {
      channel.shutdownNow();
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      EventLoops.release();
    }
  }

  /** A TCP channel of the transport the event loops use: epoll on Linux, NIO elsewhere. */
  private static Channel newSocketChannel() {
    return Epoll.isAvailable() ? new EpollSocketChannel() : new NioSocketChannel();
  }

  /**
   * With -v, what it took to reach the server, phase by phase, each with its time since the connection started:
   * name resolution, TCP connect, TLS handshake (and HTTP/2 settings), the server's certificate, first answer.
   */
  private static final class TransportPhases extends ClientTransportFilter {
    static final java.util.concurrent.atomic.AtomicBoolean firstConnectionSeen =
        new java.util.concurrent.atomic.AtomicBoolean();
    private final long startNanos = System.nanoTime();
    private volatile long tcpConnectedNanos;
    private volatile Channel channel;

    TransportPhases(String host) {
      try {
        InetAddress[] addresses = InetAddress.getAllByName(host);
        log.info("resolved " + host + " to " + java.util.Arrays.stream(addresses).map(InetAddress::getHostAddress)
            .collect(java.util.stream.Collectors.joining(", ")) + since(startNanos));
      } catch (UnknownHostException e) {
        log.info("cannot resolve " + host + since(startNanos)); // the connection reports it as its error
      }
    }

    /** {@code created}, with its TCP connect timed. */
    Channel watch(Channel created) {
      created.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
        @Override
        public void connect(ChannelHandlerContext context, SocketAddress remote, SocketAddress local,
            ChannelPromise promise) {
          long connectStartNanos = System.nanoTime();
          promise.addListener(connected -> {
            if (connected.isSuccess()) {
              tcpConnectedNanos = System.nanoTime();
              log.info("TCP connected to " + remote + " from " + context.channel().localAddress() + " in "
                  + millis(tcpConnectedNanos - connectStartNanos) + since(startNanos));
            }
          });
          context.connect(remote, local, promise);
        }
      });
      channel = created;
      return created;
    }

    @Override
    public Attributes transportReady(Attributes transport) {
      long readyNanos = System.nanoTime();
      SSLSession tls = transport.get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
      String took = millis(readyNanos - (tcpConnectedNanos != 0 ? tcpConnectedNanos : startNanos));
      if (tls == null) {
        log.info("HTTP/2 ready (plaintext; settings exchanged) in " + took + since(startNanos));
        return transport;
      }
      SslHandler handler = channel == null ? null : channel.pipeline().get(SslHandler.class);
      log.info("TLS " + tls.getProtocol() + ", " + tls.getCipherSuite() + ", ALPN "
          + (handler == null ? "?" : handler.applicationProtocol()) + ": handshake and HTTP/2 settings in " + took
          + since(startNanos));
      try {
        if (tls.getPeerCertificates()[0] instanceof X509Certificate server) {
          log.info("server certificate: subject " + server.getSubjectX500Principal().getName() + ", SANs "
              + subjectAlternativeNames(server) + ", issuer " + server.getIssuerX500Principal().getName()
              + ", expires " + server.getNotAfter().toInstant());
        }
      } catch (SSLPeerUnverifiedException | CertificateParsingException e) {
        log.info("server certificate: unreadable (" + Pingkit.oneLine(e) + ")");
      }
      return transport;
    }

    void answered() {
      log.info("first answer" + since(startNanos));
    }

    private static String subjectAlternativeNames(X509Certificate certificate) throws CertificateParsingException {
      var names = certificate.getSubjectAlternativeNames();
      return names == null ? "none" : names.stream().map(name -> name.get(1).toString()).toList().toString();
    }

    private static String since(long startNanos) {
      return " (at " + millis(System.nanoTime() - startNanos) + ")";
    }

    private static String millis(long nanos) {
      return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
    }
  }

  /**
   * The network threads of all open connections, ended with the last one. gRPC's own shared threads outlive
   * the channels by a second, and on Java 17 a JVM exiting while a thread waits in epoll spends 300 ms
   * waiting for it: a third of a health check's run.
   */
  private static final class EventLoops {
    private static EventLoopGroup group;
    private static int users;

    /**
     * The network thread of one more connection, the threads taken in turn. A channel is given its one thread,
     * not the group: gRPC schedules each call's deadline timer on the channel's group, and the group's
     * {@code next()} would put it on any thread (a cross-thread wake-up to set it and one to cancel it: half
     * the load client's rate, 58k vs 121k calls/s), and timers scheduled from other threads took turns with the
     * channels, so that all of a run's connections shared one thread.
     */
    static synchronized EventLoop acquire() {
      if (users++ == 0) {
        ThreadFactory daemons = new DefaultThreadFactory("pingkit-client", true);
        group = new MultiThreadIoEventLoopGroup(Runtime.getRuntime().availableProcessors(), daemons,
            Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
      }
      return group.next();
    }

    static synchronized void release() {
      if (--users == 0) {
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS).awaitUninterruptibly(1, TimeUnit.SECONDS);
        group = null;
      }
    }
  }

  // ---- histograms -----------------------------------------------------------------------------------------

  /** The unit a histogram is reported in: Fortio prints ping and health RTTs in µs, load latencies in s. */
  enum Unit {
    MICROS(1e3), SECONDS(1e9);

    final double nanos;

    Unit(double nanos) {
      this.nanos = nanos;
    }
  }

  /**
   * Samples in nanoseconds, kept in HdrHistogram (3 significant digits) and reported in a {@link Unit}.
   * HdrHistogram holds non-negative values, so negative samples (clock skew) are kept as magnitudes in a second
   * histogram. Not thread-safe: one writer, or one per thread and {@link #add} at the end.
   */
  static final class SampleHistogram {
    private final Histogram positive = new Histogram(3);
    private final Histogram negative = new Histogram(3);
    private long count;
    private long minNanos = Long.MAX_VALUE;
    private long maxNanos = Long.MIN_VALUE;
    // running mean and sum of squared deviations (Welford): exact enough even far from zero (clock skew)
    private double meanNanos;
    private double squaredDeviationsNanos;

    /** A copy of an HdrHistogram of non-negative nanoseconds (sum and deviation at its resolution). */
    static SampleHistogram of(Histogram nanos) {
      SampleHistogram histogram = new SampleHistogram();
      for (var bucket : nanos.recordedValues()) {
        long value = nanos.medianEquivalentValue(bucket.getValueIteratedTo());
        long times = bucket.getCountAtValueIteratedTo();
        histogram.positive.recordValueWithCount(value, times);
        histogram.addMoments(times, value, 0);
      }
      if (histogram.count > 0) {
        histogram.minNanos = nanos.getMinValue();
        histogram.maxNanos = nanos.getMaxValue();
      }
      return histogram;
    }

    void record(long nanos) {
      if (nanos >= 0) {
        positive.recordValue(nanos);
      } else {
        negative.recordValue(nanos == Long.MIN_VALUE ? Long.MAX_VALUE : -nanos);
      }
      minNanos = Math.min(minNanos, nanos);
      maxNanos = Math.max(maxNanos, nanos);
      addMoments(1, nanos, 0);
    }

    void add(SampleHistogram other) {
      positive.add(other.positive);
      negative.add(other.negative);
      minNanos = Math.min(minNanos, other.minNanos);
      maxNanos = Math.max(maxNanos, other.maxNanos);
      addMoments(other.count, other.meanNanos, other.squaredDeviationsNanos);
    }

    /** Merges {@code n} samples of mean {@code mean} and squared deviations {@code m2} (Chan et al.). */
    private void addMoments(long n, double mean, double m2) {
      if (n == 0) {
        return;
      }
      long total = count + n;
      double delta = mean - meanNanos;
      meanNanos += delta * n / total;
      squaredDeviationsNanos += m2 + delta * delta * count * n / total;
      count = total;
    }

    long count() {
      return count;
    }

    double avg(Unit unit) {
      return count == 0 ? 0 : meanNanos / unit.nanos;
    }

    /** Population standard deviation, like Fortio's. */
    double stddev(Unit unit) {
      return count == 0 ? 0 : Math.sqrt(squaredDeviationsNanos / count) / unit.nanos;
    }

    double min(Unit unit) {
      return count == 0 ? 0 : minNanos / unit.nanos;
    }

    double max(Unit unit) {
      return count == 0 ? 0 : maxNanos / unit.nanos;
    }

    double sum(Unit unit) {
      return meanNanos * count / unit.nanos;
    }

    /** The value at {@code percentile} (0-100), nearest rank, within HdrHistogram's 3 significant digits. */
    double percentile(double percentile, Unit unit) {
      if (count == 0) {
        return 0;
      }
      long negatives = negative.getTotalCount();
      // nearest rank, 1-based; the epsilon keeps 7% of 100 at rank 7 despite floating-point error
      long rank = Math.max(1, (long) Math.ceil(percentile * count / 100.0 - 1e-9));
      double nanos;
      if (rank <= negatives) {
        // ascending order starts with the largest magnitudes: rank r is the (negatives - r + 1)-th magnitude
        nanos = -negative.getValueAtPercentile(100.0 * (negatives - rank + 1) / negatives);
      } else {
        nanos = positive.getValueAtPercentile(100.0 * (rank - negatives) / positive.getTotalCount());
      }
      return Math.max(min(unit), Math.min(max(unit), nanos / unit.nanos));
    }

    /** Counts per bucket (Fortio-like bounds in the unit), the first from min and the last to max. */
    List<Bucket> buckets(Unit unit) {
      List<Bucket> buckets = new ArrayList<>();
      if (count == 0) {
        return buckets;
      }
      List<Double> bounds = bucketBounds(min(unit), max(unit));
      bounds.add(0, min(unit));
      bounds.add(max(unit));
      long countBefore = 0;
      for (int i = 0; i + 1 < bounds.size(); i++) {
        long countUpToEnd = i + 2 == bounds.size() ? count
            : Math.min(count, countAtOrBelow(Math.round(bounds.get(i + 1) * unit.nanos)));
        if (countUpToEnd > countBefore) {
          buckets.add(new Bucket(bounds.get(i), bounds.get(i + 1), 100.0 * countUpToEnd / count,
              countUpToEnd - countBefore));
          countBefore = countUpToEnd;
        }
      }
      return buckets;
    }

    /** Samples at or below {@code nanos}, at HdrHistogram's resolution. */
    private long countAtOrBelow(long nanos) {
      long negatives = negative.getTotalCount();
      if (nanos >= 0) {
        return negatives + (positive.getTotalCount() == 0 ? 0 : positive.getCountBetweenValues(0, nanos));
      }
      return negatives - (negatives == 0 ? 0 : negative.getCountBetweenValues(0, -nanos - 1));
    }

    /** 1, 1.2, 1.4 ... 8, 9, 10, 12 ... times powers of ten (and their negatives) strictly between min and max. */
    private static List<Double> bucketBounds(double min, double max) {
      double[] steps = {1, 1.2, 1.4, 1.6, 1.8, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9};
      List<Double> bounds = new ArrayList<>();
      for (int exponent = -12; exponent <= 12; exponent++) {
        for (double step : steps) {
          // decimal arithmetic, so that bounds print as 0.0018 rather than 0.0018000000000000002
          double bound = new java.math.BigDecimal(Double.toString(step)).scaleByPowerOfTen(exponent).doubleValue();
          if (bound > min && bound < max) {
            bounds.add(bound);
          }
          if (-bound > min && -bound < max) {
            bounds.add(-bound);
          }
        }
      }
      bounds.sort(Double::compare);
      return bounds;
    }

    /** Fortio's histogram text: summary, bucket table, and one "# target" line per percentile. */
    String format(String title, List<Double> percentiles, Unit unit) {
      if (count == 0) {
        return title + " : no data\n";
      }
      StringBuilder out = new StringBuilder();
      out.append(String.format(Locale.ROOT, "%s : count %d avg %s +/- %s min %s max %s sum %s%n", title, count,
          number(avg(unit)), number(stddev(unit)), number(min(unit)), number(max(unit)), number(sum(unit))));
      out.append("# range, mid point, percentile, count\n");
      String separator = ">=";
      for (Bucket bucket : buckets(unit)) {
        out.append(String.format(Locale.ROOT, "%s %s <= %s , %s , %.2f, %d%n", separator, number(bucket.start),
            number(bucket.end), number((bucket.start + bucket.end) / 2), bucket.percent, bucket.count));
        separator = ">";
      }
      for (double percentile : percentiles) {
        out.append(String.format(Locale.ROOT, "# target %s%% %s%n", number(percentile),
            number(percentile(percentile, unit))));
      }
      return out.toString();
    }

    /** pingkit's JSON for a histogram: microseconds, stable field names (documented in the README). */
    Map<String, Object> toJson(List<Double> percentiles) {
      Unit unit = Unit.MICROS;
      List<Map<String, Object>> values = new ArrayList<>();
      for (double percentile : percentiles) {
        values.add(jsonObject("percentile", percentile, "value", round(percentile(percentile, unit))));
      }
      return jsonObject("count", count, "min", round(min(unit)), "max", round(max(unit)), "avg", round(avg(unit)),
          "stddev", round(stddev(unit)), "sum", round(sum(unit)), "percentiles", values);
    }

    /** Fortio's HistogramData: seconds, its field names. */
    Map<String, Object> toFortioJson(List<Double> percentiles) {
      Unit unit = Unit.SECONDS;
      List<Map<String, Object>> data = new ArrayList<>();
      for (Bucket bucket : buckets(unit)) {
        data.add(jsonObject("Start", bucket.start, "End", bucket.end, "Percent", bucket.percent,
            "Count", bucket.count));
      }
      List<Map<String, Object>> values = new ArrayList<>();
      for (double percentile : percentiles) {
        values.add(jsonObject("Percentile", percentile, "Value", percentile(percentile, unit)));
      }
      return jsonObject("Count", count, "Min", min(unit), "Max", max(unit), "Sum", sum(unit), "Avg", avg(unit),
          "StdDev", stddev(unit), "Data", data, "Percentiles", values);
    }

    /** HdrHistogram's percentile distribution (the .hgrm format), values divided by {@code scaleNanos}. */
    void outputPercentileDistribution(java.io.PrintStream out, double scaleNanos) {
      positive.outputPercentileDistribution(out, scaleNanos);
    }

    record Bucket(double start, double end, double percent, long count) {}
  }

  /**
   * The client's own time per call, left out of every RTT: before the wire (building, encoding, sending) and
   * after it (reading, decoding, handing over). One writer, like {@link SampleHistogram}.
   */
  static final class Overhead {
    final SampleHistogram total;
    private long beforeWireNanos;
    private long afterWireNanos;
    private long offWireCalls;

    Overhead() {
      this(new SampleHistogram(), 0, 0, 0);
    }

    /** From a total histogram and the sums of its two phases, recorded elsewhere (the load engine). */
    Overhead(SampleHistogram total, long beforeWireNanos, long afterWireNanos, long offWireCalls) {
      this.total = total;
      this.beforeWireNanos = beforeWireNanos;
      this.afterWireNanos = afterWireNanos;
      this.offWireCalls = offWireCalls;
    }

    /** An answered call's times. */
    void record(WireClock.CallClock clock) {
      long before = clock.sendOverheadNanos();
      long after = clock.receiveOverheadNanos();
      total.record(before + after);
      beforeWireNanos += before;
      afterWireNanos += after;
      offWireCalls += clock.onWire() ? 0 : 1;
    }

    /** Whether every answered call was timed at the wire (else some RTTs hold the client's own time). */
    boolean wireTimes() {
      return offWireCalls == 0;
    }

    double beforeWireAvg(Unit unit) {
      return total.count() == 0 ? 0 : beforeWireNanos / unit.nanos / total.count();
    }

    double afterWireAvg(Unit unit) {
      return total.count() == 0 ? 0 : afterWireNanos / unit.nanos / total.count();
    }

    /** One line (two with {@code byPhase}, -v): the client's time per call, apart from the RTT. */
    String format(Unit unit, boolean byPhase) {
      String name = unit == Unit.MICROS ? "usec" : "seconds";
      String line = String.format(Locale.ROOT, "Client overhead %s : avg %s p50 %s p99 %s max %s over %d calls"
          + " (not in the RTT)%n", name, number(total.avg(unit)), number(total.percentile(50, unit)),
          number(total.percentile(99, unit)), number(total.max(unit)), total.count());
      return !byPhase ? line : line + String.format(Locale.ROOT, "Client overhead %s by phase : before the wire"
          + " avg %s, after the wire avg %s%n", name, number(beforeWireAvg(unit)), number(afterWireAvg(unit)));
    }

    /** pingkit's JSON: the histogram in microseconds, and the average of each phase. */
    void putJson(Map<String, Object> json, List<Double> percentiles) {
      json.put("wireTimes", wireTimes());
      json.put("clientOverheadMicros", total.toJson(percentiles));
      json.put("clientOverheadBeforeWireMicrosAvg", round(beforeWireAvg(Unit.MICROS)));
      json.put("clientOverheadAfterWireMicrosAvg", round(afterWireAvg(Unit.MICROS)));
    }

    /** Fortio-styled JSON: the histogram in seconds, and the average of each phase. */
    void putFortioJson(Map<String, Object> json, List<Double> percentiles) {
      json.put("WireTimes", wireTimes());
      json.put("ClientOverheadHistogram", total.toFortioJson(percentiles));
      json.put("ClientOverheadBeforeWireAvg", beforeWireAvg(Unit.SECONDS));
      json.put("ClientOverheadAfterWireAvg", afterWireAvg(Unit.SECONDS));
    }
  }

  /** A number as Fortio prints it: up to 6 significant digits, no trailing zeros. */
  static String number(double value) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return Double.toString(value);
    }
    return new java.math.BigDecimal(value).round(new java.math.MathContext(6)).stripTrailingZeros()
        .toPlainString();
  }

  static double round(double value) {
    return Math.round(value * 1000) / 1000.0;
  }

  /** Parses "-p 50,75,90,99,99.9". */
  static List<Double> parsePercentiles(String text) {
    List<Double> percentiles = new ArrayList<>();
    for (String part : text.split(",")) {
      try {
        double percentile = Double.parseDouble(part.trim());
        if (!(percentile > 0 && percentile <= 100)) {
          throw new NumberFormatException();
        }
        percentiles.add(percentile);
      } catch (NumberFormatException e) {
        throw new Pingkit.UserError(Pingkit.EXIT_USAGE,
            "-p '" + text + "': expected percentiles in (0, 100] separated by commas, e.g. 50,90,99.9");
      }
    }
    return percentiles;
  }

  /** A JSON object whose fields keep the order given: key, value, key, value... */
  static Map<String, Object> jsonObject(Object... keysAndValues) {
    Map<String, Object> object = new LinkedHashMap<>();
    for (int i = 0; i + 1 < keysAndValues.length; i += 2) {
      object.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return object;
  }

  static String toJson(Object value) {
    return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeSpecialFloatingPointValues()
        .create().toJson(value);
  }
}
