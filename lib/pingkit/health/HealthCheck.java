// The health client: its flags (a picocli mixin of health-check.java, and a builder in JShell) and its runs:
// checks one after the other, a health load, --wait-for-serving and --watch.

package pingkit.health;

import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import pingkit.Pingkit;
import pingkit.load.Load;
import pingkit.load.LoadResult;
import pingkit.load.LoadRun;
import pingkit.net.Connection;
import pingkit.net.ConnectionOptions;
import pingkit.net.Dialer;
import pingkit.net.ServerStream;
import pingkit.report.Backends;
import pingkit.report.HistogramJson;
import pingkit.report.Overhead;
import pingkit.report.ReportOptions;
import pingkit.report.SampleHistogram;
import pingkit.report.Session;

/**
 * A health client as its flags describe it. From JShell: {@code HealthCheck.to("127.0.0.1:8079").service("ping")
 * .times(3).check()} checks, {@code .load(load -> load.connections(2).qps(100))} loads; any
 * health-check command line works too: {@code HealthCheck.run("-n", "5", "--service", "ping", "host:8079")}.
 */
public final class HealthCheck {
  @Mixin
  public ConnectionOptions connection = new ConnectionOptions();

  @Option(names = {"--service", "-healthservice"}, paramLabel = "NAME", defaultValue = "",
      description = "service to check (default: \"\", the whole server)")
  String service;

  @Option(names = "-n", paramLabel = "N", description = "checks, one after the other (default: 1); load: exact calls")
  Integer checks;

  @Option(names = "--watch",
      description = "stream Health/Watch: a timestamped line per change, until Ctrl-C or --timeout; a server that"
          + " answers nothing (checked every --connect-timeout) ends it with exit 2")
  public boolean watch;

  @Option(names = "--wait-for-serving",
      description = "check until SERVING, for at most --timeout (default then: 60s)")
  public boolean waitForServing;

  @Mixin
  public ReportOptions report = new ReportOptions();

  @Mixin
  public Load.Options load = new Load.Options();

  private static final java.util.logging.Logger log = java.util.logging.Logger.getLogger("pingkit.health");
  private static final Duration WAIT_FOR_SERVING_DEFAULT = Duration.ofSeconds(60);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(250);

  /** A health client of {@code target} with the defaults, to change before {@link #check()} or {@link #load(Consumer)}. */
  public static HealthCheck to(String target) {
    return Pingkit.parse(new HealthCheck(), target);
  }

  /**
   * Checks with health-check's arguments, e.g. {@code run("-n", "5", "--service", "ping", "host:8079")}. A run
   * that fails after its first check returns the answers before, and the failure.
   */
  public static HealthResult run(String... commandLine) {
    return Pingkit.parse(new HealthCheck(), commandLine).check();
  }

  /** The health service to check ("" by default: the server as a whole). */
  public HealthCheck service(String name) {
    service = name;
    return this;
  }

  /** Checks (-n), one after the other; in load mode, calls. */
  public HealthCheck times(int n) {
    checks = n;
    return this;
  }

  /** Checks as set: the count per status and the RTT histogram. */
  public HealthResult check() {
    return check(new CountDownLatch(1));
  }

  /**
   * Loads (Fortio's load -grpc) with the load flags {@code settings} sets, e.g. {@code load(load ->
   * load.connections(2).qps(100).duration(Duration.ofSeconds(5)))}: the calls, their rate and latencies.
   */
  public LoadResult load(Consumer<Load.Options> settings) {
    settings.accept(load);
    return Load.measure(load, this::loadRun);
  }

  // ---- checks ---------------------------------------------------------------------------------------------

  public HealthResult check(CountDownLatch stop) {
    int n = checks == null ? 1 : checks;
    if (n < 1) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "-n must be 1 or more");
    }
    HealthCheckRequest request = HealthCheckRequest.newBuilder().setService(service).build();
    try (Connection server = new Dialer(connection).connect(0, true)) {
      var startTime = java.time.OffsetDateTime.now();
      long startNanos = System.nanoTime();
      SampleHistogram rttHistogram = new SampleHistogram();
      Overhead overhead = new Overhead();
      Backends backends = new Backends();
      Map<ServingStatus, Long> statusCounts = new EnumMap<>(ServingStatus.class);
      for (int i = 0; i < n && stop.getCount() > 0; i++) {
        try {
          statusCounts.merge(timedCheck(server, request, rttHistogram, overhead, backends), 1L, Long::sum);
        } catch (Pingkit.UserError e) {
          if (i == 0) {
            throw e;
          }
          // the answers before the failure are the report
          return HealthResult.of(server.target.display(), service, statusCounts, rttHistogram, overhead, backends,
              startTime,
              startNanos, e);
        }
      }
      return HealthResult.of(server.target.display(), service, statusCounts, rttHistogram, overhead, backends,
          startTime,
          startNanos, null);
    }
  }

  // ---- load mode (Fortio's load -grpc) ---------------------------------------------------------------------

  /** The load run the flags describe. */
  public LoadRun loadRun() {
    HealthCheckRequest request = HealthCheckRequest.newBuilder().setService(service).build();
    Dialer dialer = new Dialer(connection);
    LoadRun.Plan plan = Load.plan(load, "GRPC Health for '" + service + "'", dialer.target.display(), checks, 1);
    LoadRun.Calls healthChecks = new LoadRun.Calls("Health", LoadRun.unaryCall(HealthGrpc.getCheckMethod(), request,
        connection.callTimeout(Duration.ZERO), response -> response.getStatus().name()), "SERVING", false, null, true);
    return new LoadRun(plan, dialer, 0, healthChecks);
  }

  private ServingStatus timedCheck(Connection server, HealthCheckRequest request,
      SampleHistogram rttHistogram, Overhead overhead, Backends backends) {
    var answer = checkOnce(server, request, connection.callTimeout(Duration.ZERO), true);
    rttHistogram.record(answer.clock().rttNanos());
    overhead.record(answer.clock());
    backends.record(answer.clock().backend(), answer.clock().rttNanos(), false);
    return answer.reply().getStatus();
  }

  /** One check; its failure explained, {@code askingWhy}: with a check of whether the server still answers. */
  private Connection.Answer<HealthCheckResponse> checkOnce(Connection server,
      HealthCheckRequest request, Duration timeout, boolean askingWhy) {
    try {
      return server.callBlocking(HealthGrpc.getCheckMethod(), request, timeout);
    } catch (StatusRuntimeException e) {
      throw healthFailure(server, e, askingWhy);
    }
  }

  private RuntimeException healthFailure(Connection server, StatusRuntimeException e, boolean askingWhy) {
    return switch (e.getStatus().getCode()) {
      case NOT_FOUND -> new Pingkit.UserError(Pingkit.EXIT_RPC_FAILED, "health service '" + service
          + "' is unknown to " + server.target.display() + " (NOT_FOUND)");
      case UNIMPLEMENTED -> new Pingkit.UserError(Pingkit.EXIT_RPC_FAILED, server.target.display()
          + " has no grpc.health.v1 health service (UNIMPLEMENTED)");
      default -> askingWhy ? server.failure("health check", e) : server.explain("health check", e);
    };
  }

  // ---- --wait-for-serving ---------------------------------------------------------------------------------

  public int waitForServing(CountDownLatch stop) throws InterruptedException {
    Duration limit = connection.timeout != null ? connection.timeout : WAIT_FOR_SERVING_DEFAULT;
    long start = System.nanoTime();
    long deadline = start + limit.toNanos();
    HealthCheckRequest request = HealthCheckRequest.newBuilder().setService(service).build();
    try (Connection server = new Dialer(connection).open(0, false)) {
      Pingkit.UserError lastFailure = null;
      ServingStatus lastStatus = null;
      int attempts = 0;
      while (stop.getCount() > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        attempts++;
        // a server that is starting refuses connections: retry at once rather than after gRPC's backoff
        server.channel.resetConnectBackoff();
        // no question of its own: the loop asks again, within --timeout
        Duration checkLimit = Duration.ofNanos(Math.min(left, Duration.ofSeconds(1).toNanos()));
        try {
          lastStatus = checkOnce(server, request, checkLimit, false).reply().getStatus();
          lastFailure = null;
          log.info("check " + attempts + ": " + lastStatus);
          if (lastStatus == ServingStatus.SERVING) {
            double waitedSeconds = (System.nanoTime() - start) / 1e9;
            int checksMade = attempts;
            report.print(String.format(java.util.Locale.ROOT, "SERVING after %.2f s (%d checks)%n", waitedSeconds,
                checksMade), () -> ReportOptions.toJson(ReportOptions.jsonObject("target", server.target.display(),
                    "service", service, "status", "SERVING", "waitedSeconds", HistogramJson.round(waitedSeconds),
                    "checks", checksMade)));
            return Pingkit.EXIT_OK;
          }
        } catch (Pingkit.UserError e) {
          lastFailure = e;
          log.info("check " + attempts + ": " + e.getMessage());
        }
        stop.await(Math.max(0, Math.min(POLL_INTERVAL.toNanos(), deadline - System.nanoTime())), TimeUnit.NANOSECONDS);
      }
      String waited = String.format(java.util.Locale.ROOT, "not SERVING after %.1f s%s",
          (System.nanoTime() - start) / 1e9, stop.getCount() == 0 ? " (stopped)" : "");
      if (lastFailure != null) {
        throw new Pingkit.UserError(lastFailure.exitCode, waited + ": " + lastFailure.getMessage());
      }
      throw new Pingkit.UserError(Pingkit.EXIT_UNHEALTHY,
          waited + (lastStatus == null ? "" : ": the last answer was " + lastStatus));
    }
  }

  // ---- --watch ---------------------------------------------------------------------------------------------

  public int watch(Session session) {
    HealthCheckRequest request = HealthCheckRequest.newBuilder().setService(service).build();
    AtomicBoolean silent = new AtomicBoolean();
    try (Connection server = new Dialer(connection).connect(0, false);
        // --timeout is how long to watch: it counts from the connection, not from the JVM's start
        ServerStream<HealthCheckResponse> updates =
            server.serverStream(HealthGrpc.getWatchMethod(), request, connection.timeout);
        // a watch hears nothing while nothing changes, not even that the server froze or its host went away
        Connection.Heartbeat beats = server.heartbeat(connection.connectTimeout, () -> {
          silent.set(true);
          updates.cancel();
        })) {
      session.onStop(updates::cancel);
      ServingStatus lastStatus = null;
      try {
        while (updates.hasNext()) {
          lastStatus = updates.next().getStatus();
          if (lastStatus == ServingStatus.SERVICE_UNKNOWN) {
            throw new Pingkit.UserError(Pingkit.EXIT_RPC_FAILED, "health service '" + service + "' is unknown to "
                + server.target.display() + " (SERVICE_UNKNOWN, the Watch form of NOT_FOUND)");
          }
          Instant now = Instant.now();
          ServingStatus status = lastStatus;
          // one compact JSON line per change (JSON Lines), for a program following the stream
          report.print(now + " " + status + "\n", () -> new com.google.gson.Gson().toJson(
              ReportOptions.jsonObject("time", now.toString(), "status", status.name())));
        }
      } catch (StatusRuntimeException e) {
        if (lastStatus == null) {
          throw healthFailure(server, e, true);
        }
        // the server ended the stream (a drain, a restart): the watch ends on the last status it told
        log.info("the watch stream ended: " + Pingkit.oneLine(e));
      }
      if (silent.get()) {
        throw server.silentServer("the watch ended");
      }
      return lastStatus == ServingStatus.SERVING ? Pingkit.EXIT_OK : Pingkit.EXIT_UNHEALTHY;
    }
  }
}
