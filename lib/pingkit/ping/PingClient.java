// The ping client: its flags (a picocli mixin of ping-client.java, and a builder in JShell), Fortio's ping
// measurement by calls or over one stream, and its load run.

package pingkit.ping;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import pingkit.Pingkit;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;
import pingkit.load.EchoStreams;
import pingkit.load.Load;
import pingkit.load.LoadResult;
import pingkit.load.LoadRun;
import pingkit.method.MethodClient;
import pingkit.method.MethodOptions;
import pingkit.method.MethodResult;
import pingkit.net.Connection;
import pingkit.net.ConnectionOptions;
import pingkit.net.Dialer;
import pingkit.report.ReportOptions;
import pingkit.stream.PingStreamGrpc;

/**
 * A ping client as its flags describe it. From JShell: {@code PingClient.to("127.0.0.1:8079").iterations(50).ping()}
 * pings (Fortio's way), {@code .load(load -> load.connections(2).qps(100))} loads; any
 * ping-client command line works too: {@code PingClient.run("-n", "5", "--cacert", "ca.pem", "host:8443")}.
 */
public final class PingClient {
  @Mixin
  public ConnectionOptions connection = new ConnectionOptions();

  @Option(names = "-n", paramLabel = "N",
      description = "iterations (2 calls each), 0 = until Ctrl-C with a line each (default: 1); load: exact calls")
  Integer iterationsOrCalls;

  @Option(names = {"--payload", "-payload"}, paramLabel = "STR", description = "payload to send and echo")
  String payload;

  @Option(names = {"--payload-size", "-payload-size"}, paramLabel = "N",
      description = "payload of exactly N ASCII bytes, instead of --payload")
  Integer payloadSize;

  @Option(names = {"--delay", "-grpc-ping-delay"}, paramLabel = "DURATION", defaultValue = "0s",
      description = "ask the server to wait this long before each reply, e.g. 250us, 100ms, 1.5s")
  Duration delay;

  @Option(names = {"-i", "--interval"}, paramLabel = "DURATION",
      description = "wait between iterations (default: 1s with -n 0, like ICMP ping; none otherwise)")
  Duration interval;

  @Option(names = "--stream", description = "ping over one long-lived stream (/pingkit.PingStream/Echo of"
      + " ping-server) instead of a call a ping; the time to open the stream is reported on its own line. Load:"
      + " messages on -c x -s streams, sent on schedule without waiting for their echoes (open loop)")
  boolean stream;

  @Option(names = "--window", paramLabel = "N", description = "load with --stream at -qps 0: messages each stream"
      + " keeps in flight (default: 1)")
  Integer window;

  @Mixin
  public MethodOptions method = new MethodOptions();

  @Mixin
  public ReportOptions report = new ReportOptions();

  @Mixin
  public Load.Options load = new Load.Options();

  /** A client of {@code target} with the defaults, to change before {@link #ping()} or {@link #load(Consumer)}. */
  public static PingClient to(String target) {
    return Pingkit.parse(new PingClient(), target);
  }

  /**
   * Pings with ping-client's arguments, e.g. {@code run("-n", "5", "--cacert", "ca.pem", "host:8443")}. A run
   * that fails after its first iteration returns what it measured, and the failure.
   */
  public static PingResult run(String... commandLine) {
    return Pingkit.parse(new PingClient(), commandLine).ping();
  }

  /** Load mode with ping-client's arguments, e.g. {@code load("-c", "2", "-qps", "100", "-n", "500", target)}. */
  public static LoadResult load(String... commandLine) {
    PingClient client = Pingkit.parse(new PingClient(), commandLine);
    return Load.measure(client.load, client::loadRun);
  }

  /** Iterations (-n): two calls each, three RTT samples and one clock-skew sample; in load mode, calls. */
  public PingClient iterations(int n) {
    iterationsOrCalls = n;
    return this;
  }

  public PingClient payload(String text) {
    payload = text;
    return this;
  }

  /** The delay the server is asked for before each reply (--delay). */
  public PingClient delay(Duration serverDelay) {
    delay = serverDelay;
    return this;
  }

  /** Pings over one stream of messages (--stream). */
  public PingClient overStream() {
    stream = true;
    return this;
  }

  /** Pings as set: the RTT and clock-skew histograms (a run that fails after its first iteration: what it measured, and the failure). */
  public PingResult ping() {
    if (iterations() == 0) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "-n 0 (continuous) is for the command line");
    }
    return measure(new CountDownLatch(1), null);
  }

  /**
   * Loads (Fortio's load -grpc -ping) with the load flags {@code settings} sets, e.g. {@code load(load ->
   * load.connections(2).qps(100).duration(Duration.ofSeconds(5)))}: the calls, their rate and latencies.
   */
  public LoadResult load(Consumer<Load.Options> settings) {
    settings.accept(load);
    return Load.measure(load, this::loadRun);
  }

  // ---- the measurement ------------------------------------------------------------------------------------

  public int iterations() {
    return iterationsOrCalls == null ? 1 : iterationsOrCalls;
  }

  /** Pings as the flags say; {@code eachIteration} gets a line per iteration (null: no lines are made). */
  public PingResult measure(CountDownLatch stop, Consumer<String> eachIteration) {
    load.rejectWithoutLoad();
    method.rejectWithoutMethod();
    if (window != null) {
      throw windowWithoutStreamLoad();
    }
    int iterations = iterations();
    if (iterations < 0) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "-n must be 0 (until Ctrl-C) or more");
    }
    Duration pause = pause();
    String payloadText = payloadText();
    Duration callTimeout = connection.callTimeout(delay);
    int maxMessageBytes = utf8Bytes(payloadText) + 1024;
    try (Connection server = new Dialer(connection).connect(maxMessageBytes, true)) {
      PingMessage message = PingMessage.newBuilder()
          .setPayload(payloadText).setDelayNanos(delay.toNanos()).build();
      var plan = new PingIterations.Plan(message, callTimeout, iterations, pause, stop, eachIteration);
      return stream ? PingIterations.overStream(server, plan) : PingIterations.byCalls(server, plan);
    }
  }

  /** The wait between iterations (-i): 1 s by default with -n 0, like ICMP ping; none otherwise. */
  private Duration pause() {
    return interval != null ? interval : iterations() == 0 ? Duration.ofSeconds(1) : Duration.ZERO;
  }

  // ---- the user's own method (--method, --list) --------------------------------------------------------------

  /** The client of the user's method that --method and --list describe; the flags of pings are refused. */
  public MethodClient methodClient() {
    if (method.active() && method.listing()) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--list and --method: give one or the other");
    }
    if (!delay.isZero() || stream || window != null || payloadSize != null) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--delay, --stream, --window and --payload-size are for"
          + " pings, not with --method or --list");
    }
    connection.target = method.target(connection.target);
    return new MethodClient(connection, method, payload);
  }

  /** Calls the user's method -n times (--method); {@code eachCall} gets a line per call (null: none). */
  public MethodResult callMethod(CountDownLatch stop, Consumer<String> eachCall) {
    load.rejectWithoutLoad();
    return methodClient().call(iterations(), pause(), stop, eachCall);
  }

  // ---- load mode (Fortio's load -grpc -ping) ----------------------------------------------------------------

  /** The load run the flags describe. */
  public LoadRun loadRun() {
    if (method.active()) {
      MethodClient methodClient = methodClient();
      Dialer dialer = new Dialer(connection);
      LoadRun.Plan plan = Load.plan(load, methodClient.runType(), dialer.target.display(), iterationsOrCalls, 1);
      return new LoadRun(plan, dialer, methodClient.maxMessageBytes(), methodClient.loadCalls(dialer));
    }
    method.rejectWithoutMethod();
    String payloadText = payloadText();
    PingMessage message = PingMessage.newBuilder().setPayload(payloadText).setDelayNanos(delay.toNanos()).build();
    if (window != null && !stream) {
      throw windowWithoutStreamLoad();
    }
    int windowMessages = window == null ? 1 : window;
    if (windowMessages < 1 || windowMessages > 10_000) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--window must be 1 to 10000 messages");
    }
    if (window != null && (load.qps == null || load.qps > 0)) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--window is for -qps 0 (flat out): at a fixed rate each"
          + " message goes out on schedule, answered or not");
    }
    String runType = "GRPC Ping" + (!stream ? "" : windowMessages > 1 ? " Stream Window=" + windowMessages
        : " Stream") + (delay.isZero() ? "" : " Delay=" + Pingkit.formatDuration(delay))
        + (payloadText.isEmpty() ? "" : " PayloadLength=" + utf8Bytes(payloadText));
    Dialer dialer = new Dialer(connection);
    LoadRun.Plan plan = Load.plan(load, runType, dialer.target.display(), iterationsOrCalls, windowMessages);
    Duration timeout = connection.callTimeout(delay);
    LoadRun.Calls pings;
    if (stream) {
      var echoStreams = new EchoStreams<>(PingStreamGrpc.getEchoMethod(), message, timeout, plan.slots());
      pings = new LoadRun.Calls("Ping", echoStreams, "SERVING", true, echoStreams, true);
    } else {
      // every answer of a ping server is an echo: Fortio counts them as "Ping SERVING"
      pings = new LoadRun.Calls("Ping", LoadRun.unaryCall(PingServerGrpc.getPingMethod(), message, timeout,
          reply -> "SERVING"), "SERVING", true, null, true);
    }
    return new LoadRun(plan, dialer, utf8Bytes(payloadText) + 1024, pings);
  }

  private static Pingkit.UserError windowWithoutStreamLoad() {
    return new Pingkit.UserError(Pingkit.EXIT_USAGE, "--window is for load mode over streams: --stream with -c,"
        + " -s, -qps or -t");
  }

  private static int utf8Bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8).length;
  }

  private String payloadText() {
    if (payload != null && payloadSize != null) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--payload and --payload-size: give one or the other");
    }
    if (payloadSize == null) {
      return payload == null ? "" : payload;
    }
    if (payloadSize < 0 || payloadSize > 64 << 20) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--payload-size must be 0 to 64MiB (67108864)");
    }
    // ASCII, because the field is a proto string: every byte must stay valid UTF-8
    String pattern = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    StringBuilder text = new StringBuilder(payloadSize);
    while (text.length() < payloadSize) {
      text.append(pattern, 0, Math.min(pattern.length(), payloadSize - text.length()));
    }
    return text.toString();
  }
}
