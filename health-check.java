///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
// AOT cache: trained by the ./jbang launcher on lib/Training.java's command lines
//SOURCES lib/Pingkit.java lib/Pem.java lib/Target.java lib/ConnectionOptions.java lib/ReportOptions.java
//SOURCES lib/SampleHistogram.java lib/HistogramJson.java lib/EpollNatives.java lib/ArrivalWatch.java
//SOURCES lib/StreamTimes.java
//SOURCES lib/SocketClock.java lib/FrameTap.java lib/WireClock.java lib/Overhead.java lib/Diagnosis.java
//SOURCES lib/EventLoops.java lib/ServerStream.java lib/EchoStream.java lib/Connection.java lib/Dialer.java
//SOURCES lib/Session.java lib/Merge.java lib/Recording.java lib/Backends.java lib/HealthResult.java lib/LoadRun.java
//SOURCES lib/Pacer.java lib/LoadResult.java lib/IntervalLog.java lib/LoadProgress.java lib/LoadTally.java
//SOURCES lib/LoadEngine.java
//SOURCES lib/Load.java
// A probe's process ends before C2 would pay for itself: C1 only (B5 in bench/RESULTS.md, A/B with the AOT cache)
//JAVA_OPTIONS -XX:TieredStopAtLevel=1

import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "health-check", mixinStandardHelpOptions = true, sortOptions = false,
    versionProvider = Pingkit.Version.class,
    description = {
        "Calls grpc.health.v1.Health/Check N times (Fortio's grpc health check) and",
        "prints an RTT histogram (microseconds) and a count per status; exits 0 only",
        "when every answer was SERVING. --watch streams Health/Watch instead;",
        "--wait-for-serving checks until SERVING (for scripts and compose files).",
        "Any of -c, -s, -qps, -t runs a health load instead (Fortio's load -grpc).", ""},
    footer = {"", "Examples:",
        "  health-check localhost:8079",
        "  health-check --service ping -n 100 127.0.0.1:8079",
        "  health-check -c 2 -s 4 -qps 0 -t 10s 127.0.0.1:8079   load, flat out",
        "  health-check --wait-for-serving --timeout 30s localhost:8079",
        "  health-check --watch --service ping --cacert ca.pem https://server:8443",
        Pingkit.EXIT_CODES_FOOTER})
class HealthCheck implements Callable<Integer> {
  @Mixin
  ConnectionOptions connection = new ConnectionOptions();

  @Option(names = {"--service", "-healthservice"}, paramLabel = "NAME", defaultValue = "",
      description = "service to check (default: \"\", the whole server)")
  String service;

  @Option(names = "-n", paramLabel = "N", description = "checks, one after the other (default: 1); load: exact calls")
  Integer checks;

  @Option(names = "--watch",
      description = "stream Health/Watch: a timestamped line per change, until Ctrl-C or --timeout; a server that"
          + " answers nothing (checked every --connect-timeout) ends it with exit 2")
  boolean watch;

  @Option(names = "--wait-for-serving",
      description = "check until SERVING, for at most --timeout (default then: 60s)")
  boolean waitForServing;

  @Mixin
  ReportOptions report = new ReportOptions();

  @Mixin
  Load.Options load = new Load.Options();

  private static final java.util.logging.Logger log = java.util.logging.Logger.getLogger("pingkit.health");
  private static final Duration WAIT_FOR_SERVING_DEFAULT = Duration.ofSeconds(60);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(250);

  public static void main(String[] args) {
    System.exit(Pingkit.execute(new HealthCheck(), args));
  }

  @Override
  public Integer call() throws InterruptedException {
    if (watch && waitForServing) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--watch and --wait-for-serving: give one or the other");
    }
    if (load.active() && (watch || waitForServing)) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, (watch ? "--watch" : "--wait-for-serving")
          + " does not go with the load flags -c, -s, -qps, -t");
    }
    Session session = Session.start("health-check", connection, report);
    if (report.merging()) {
      return session.finishMerged(Merge.read("health-check", report.mergeFiles,
          List.of(HealthResult.KIND, LoadResult.kind("Health", "GRPC Health"))), load.hgrmFile, load.allowErrors);
    }
    load.rejectWithoutLoad();
    if (load.active()) {
      return runLoad(session);
    }
    if (watch) {
      return watch(session);
    }
    if (waitForServing) {
      return waitForServing(session.stop);
    }
    HealthResult result = check(session.stop);
    session.finish(result);
    return result.exitCode(false);
  }

  // ---- static API, for JShell and tests (mirrors Fortio's GrpcHealthCheck) ---------------------------------

  /** Checks {@code service} at {@code target} n times and returns the count per status. */
  static Map<ServingStatus, Long> check(String target, String service, int n) {
    HealthResult result = run("--service", service, "-n", "" + n, target);
    if (result.failure() != null) {
      throw result.failure();
    }
    return result.statusCounts();
  }

  /**
   * Runs checks with command-line arguments, e.g. {@code run("-n", "5", "--service", "ping", "host:8079")}. A run
   * that fails after its first check returns the answers before, and the failure.
   */
  static HealthResult run(String... args) {
    return Pingkit.parse(new HealthCheck(), args).check(new CountDownLatch(1));
  }

  // ---- checks ---------------------------------------------------------------------------------------------

  private HealthResult check(CountDownLatch stop) {
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

  private int runLoad(Session session) {
    HealthCheckRequest request = HealthCheckRequest.newBuilder().setService(service).build();
    Dialer dialer = new Dialer(connection);
    LoadRun.Plan plan = Load.plan(load, "GRPC Health for '" + service + "'", dialer.target.display(), checks, 1);
    LoadRun.Calls healthChecks = new LoadRun.Calls("Health", LoadRun.unaryCall(HealthGrpc.getCheckMethod(), request,
        connection.callTimeout(Duration.ZERO), response -> response.getStatus().name()), "SERVING", false, null);
    return Load.execute(session, load, new LoadRun(plan, dialer, 0, healthChecks));
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

  private int waitForServing(CountDownLatch stop) throws InterruptedException {
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

  private int watch(Session session) {
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
