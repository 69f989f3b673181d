///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
// AOT cache: trained by the ./jbang launcher on lib/pingkit/Training.java's command lines
//SOURCES lib/pingkit/*.java lib/pingkit/wire/*.java lib/pingkit/net/*.java lib/pingkit/report/*.java lib/pingkit/load/*.java lib/pingkit/health/*.java
// A probe's process ends before C2 would pay for itself: C1 only (B5 in bench/RESULTS.md, A/B with the AOT cache)
//JAVA_OPTIONS -XX:TieredStopAtLevel=1

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import pingkit.Pingkit;
import pingkit.health.HealthCheck;
import pingkit.health.HealthResult;
import pingkit.load.Load;
import pingkit.load.LoadResult;
import pingkit.report.Merge;
import pingkit.report.Session;

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
class HealthCheckCommand implements Callable<Integer> {
  @Mixin
  HealthCheck flags = new HealthCheck();

  public static void main(String[] args) {
    System.exit(Pingkit.execute(HealthCheckCommand::new, args));
  }

  @Override
  public Integer call() throws InterruptedException {
    if (flags.watch && flags.waitForServing) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--watch and --wait-for-serving: give one or the other");
    }
    if (flags.load.active() && (flags.watch || flags.waitForServing)) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, (flags.watch ? "--watch" : "--wait-for-serving")
          + " does not go with the load flags -c, -s, -qps, -t");
    }
    Session session = Session.start("health-check", flags.connection, flags.report);
    if (flags.report.merging()) {
      return session.finishMerged(Merge.read("health-check", flags.report.mergeFiles,
          List.of(HealthResult.KIND, LoadResult.kind("Health", "GRPC Health"))), flags.load.hgrmFile,
          flags.load.allowErrors);
    }
    flags.load.rejectWithoutLoad();
    if (flags.load.active()) {
      return Load.execute(session, flags.load, flags.loadRun());
    }
    if (flags.watch) {
      return flags.watch(session);
    }
    if (flags.waitForServing) {
      return flags.waitForServing(session.stop);
    }
    HealthResult result = flags.check(session.stop);
    session.finish(result);
    return result.exitCode(false);
  }
}
