///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
// AOT cache: trained by the ./jbang launcher on lib/Training.java's command lines
//SOURCES lib/Pingkit.java lib/Pem.java lib/Target.java lib/ConnectionOptions.java lib/ReportOptions.java
//SOURCES lib/SampleHistogram.java lib/HistogramJson.java lib/EpollNatives.java lib/ArrivalWatch.java
//SOURCES lib/StreamTimes.java
//SOURCES lib/SocketClock.java lib/FrameTap.java lib/WireClock.java lib/Overhead.java lib/Diagnosis.java
//SOURCES lib/EventLoops.java lib/ServerStream.java lib/EchoStream.java lib/Connection.java lib/Dialer.java
//SOURCES lib/Session.java lib/Merge.java lib/Recording.java lib/Backends.java lib/PingMeasurement.java
//SOURCES lib/PingIterations.java lib/LoadRun.java lib/EchoStreams.java lib/Pacer.java lib/LoadResult.java
//SOURCES lib/IntervalLog.java lib/LoadProgress.java lib/LoadTally.java lib/LoadEngine.java lib/Load.java

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;
import pingkit.stream.PingStreamGrpc;

@Command(name = "ping-client", mixinStandardHelpOptions = true, sortOptions = false,
    versionProvider = Pingkit.Version.class,
    description = {
        "Pings a Fortio-compatible gRPC ping server (/fgrpc.PingServer/Ping) and",
        "measures round-trip time and clock skew like Fortio's grpcping: a warm-up",
        "call, then per iteration two calls giving three RTT samples and one skew",
        "sample. Prints both histograms (microseconds) and the average RTT.", ""},
    footer = {"", "Examples:",
        "  ping-client -n 10 localhost:8079",
        "  ping-client -n 0 --delay 100ms 127.0.0.1:8079      continuous, until Ctrl-C",
        "  ping-client --cacert ca.pem -H 'x-user: me' https://server:8443",
        "  ping-client --stream -n 100 localhost:8079              over one stream of messages",
        "  ping-client --merge host1.json host2.json         runs of many hosts as one",
        Pingkit.EXIT_CODES_FOOTER})
class PingClient implements Callable<Integer> {
  @Mixin
  ConnectionOptions connection = new ConnectionOptions();

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
  ReportOptions report = new ReportOptions();

  @Mixin
  Load.Options load = new Load.Options();

  public static void main(String[] args) {
    System.exit(Pingkit.execute(new PingClient(), args));
  }

  @Override
  public Integer call() {
    Session session = Session.start("ping-client", connection, report);
    if (report.merging()) {
      return session.finishMerged(Merge.read("ping-client", report.mergeFiles,
          List.of(PingMeasurement.Result.KIND, LoadResult.kind("Ping", "GRPC Ping"))), load.hgrmFile, load.allowErrors);
    }
    load.rejectWithoutLoad();
    if (window != null && !(stream && load.active())) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--window is for load mode over streams: --stream with -c,"
          + " -s, -qps or -t");
    }
    if (load.active()) {
      return runLoad(session);
    }
    boolean lineEach = iterations() == 0 || connection.verbose();
    session.finish(measure(session.stop, lineEach && !session.jsonOnStdout() ? System.out::println : null));
    return Pingkit.EXIT_OK;
  }

  // ---- static API, for JShell and tests (mirrors Fortio's PingClientCall) ----------------------------------

  /** Pings {@code target} n times (Fortio's way) and returns the average RTT in seconds. */
  static double ping(String target, int n, String payload, Duration delay) {
    return averageRttSeconds(run("-n", "" + n, "--payload", payload, "--delay", delay.toNanos() + "ns", target));
  }

  /** The same over one stream of messages (pingkit.PingStream/Echo): the average per-message RTT in seconds. */
  static double stream(String target, int n, String payload, Duration delay) {
    return averageRttSeconds(run("--stream", "-n", "" + n, "--payload", payload, "--delay", delay.toNanos() + "ns",
        target));
  }

  /**
   * Runs load mode with command-line arguments, e.g. {@code load("-c", "2", "-qps", "100", "-n", "500", target)},
   * and returns what it measured (its report: {@code format(...)}, {@code toJson(...)}).
   */
  static LoadResult load(String... args) {
    PingClient command = Pingkit.parse(new PingClient(), args);
    if (!command.load.active()) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "load mode takes -c, -s, -qps or -t");
    }
    return Load.run(command.loadRun(), new CountDownLatch(1), null, null);
  }

  private static double averageRttSeconds(PingMeasurement.Result result) {
    if (result.failure() != null) {
      throw result.failure();
    }
    return result.averageRttSeconds();
  }

  /**
   * Runs with command-line arguments, e.g. {@code run("-n", "5", "--cacert", "ca.pem", "host:8443")}. A run
   * that fails after its first iteration returns what it measured, and the failure.
   */
  static PingMeasurement.Result run(String... args) {
    PingClient command = Pingkit.parse(new PingClient(), args);
    if (command.iterations() == 0) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "-n 0 (continuous) is for the command line");
    }
    return command.measure(new CountDownLatch(1), null);
  }

  // ---- the measurement ------------------------------------------------------------------------------------

  private int iterations() {
    return iterationsOrCalls == null ? 1 : iterationsOrCalls;
  }

  /** Pings as the flags say; {@code eachIteration} gets a line per iteration (null: no lines are made). */
  private PingMeasurement.Result measure(CountDownLatch stop, Consumer<String> eachIteration) {
    int iterations = iterations();
    if (iterations < 0) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "-n must be 0 (until Ctrl-C) or more");
    }
    Duration pause = interval != null ? interval : iterations == 0 ? Duration.ofSeconds(1) : Duration.ZERO;
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

  // ---- load mode (Fortio's load -grpc -ping) ----------------------------------------------------------------

  private int runLoad(Session session) {
    return Load.execute(session, load, loadRun());
  }

  /** The load run the flags describe. */
  private LoadRun loadRun() {
    String payloadText = payloadText();
    PingMessage message = PingMessage.newBuilder().setPayload(payloadText).setDelayNanos(delay.toNanos()).build();
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
      pings = new LoadRun.Calls("Ping", echoStreams, "SERVING", true, echoStreams);
    } else {
      // every answer of a ping server is an echo: Fortio counts them as "Ping SERVING"
      pings = new LoadRun.Calls("Ping", LoadRun.unaryCall(PingServerGrpc.getPingMethod(), message, timeout,
          reply -> "SERVING"), "SERVING", true, null);
    }
    return new LoadRun(plan, dialer, utf8Bytes(payloadText) + 1024, pings);
  }

  private static int utf8Bytes(String text) {
    return text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
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
