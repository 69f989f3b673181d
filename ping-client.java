///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
// AOT cache: trained by the ./jbang launcher on lib/pingkit/Training.java's command lines
//SOURCES lib/pingkit/*.java lib/pingkit/wire/*.java lib/pingkit/net/*.java lib/pingkit/report/*.java lib/pingkit/load/*.java lib/pingkit/method/*.java lib/pingkit/ping/*.java

import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import pingkit.Pingkit;
import pingkit.load.Load;
import pingkit.load.LoadResult;
import pingkit.method.MethodResult;
import pingkit.method.ServiceList;
import pingkit.ping.PingClient;
import pingkit.ping.PingResult;
import pingkit.report.Merge;
import pingkit.report.Session;

@Command(name = "ping-client", mixinStandardHelpOptions = true, sortOptions = false,
    versionProvider = Pingkit.Version.class,
    description = {
        "Pings a Fortio-compatible gRPC ping server (/fgrpc.PingServer/Ping) and",
        "measures round-trip time and clock skew like Fortio's grpcping: a warm-up",
        "call, then per iteration two calls giving three RTT samples and one skew",
        "sample. Prints both histograms (microseconds) and the average RTT.",
        "With --method, calls any unary method of the server instead, its types",
        "found through the server's reflection (or --protoset), the request given",
        "as JSON; --list shows what the server offers.", ""},
    footer = {"", "Examples:",
        "  ping-client -n 10 localhost:8079",
        "  ping-client -n 0 --delay 100ms 127.0.0.1:8079      continuous, until Ctrl-C",
        "  ping-client --cacert ca.pem -H 'x-user: me' https://server:8443",
        "  ping-client --merge host1.json host2.json         runs of many hosts as one",
        "  ping-client --method pkg.Shop/GetOrder -d '{\"id\": 7}' -n 10 localhost:8079",
        Pingkit.EXIT_CODES_FOOTER})
class PingClientCommand implements Callable<Integer> {
  @Mixin
  PingClient flags = new PingClient();

  public static void main(String[] args) {
    System.exit(Pingkit.execute(PingClientCommand::new, args));
  }

  @Override
  public Integer call() {
    Session session = Session.start("ping-client", flags.connection, flags.report);
    if (flags.report.merging()) {
      return session.finishMerged(Merge.read("ping-client", flags.report.mergeFiles,
          List.of(PingResult.KIND, LoadResult.kind("Ping", "GRPC Ping"), MethodResult.KIND,
              LoadResult.kind("Custom gRPC Method", "Custom GRPC Method"))), flags.load.hgrmFile,
          flags.load.allowErrors);
    }
    if (flags.method.listing()) {
      ServiceList services = flags.methodClient().list();
      session.print(services.text(), services::json);
      return Pingkit.EXIT_OK;
    }
    if (flags.load.active()) {
      return Load.execute(session, flags.load, flags.loadRun());
    }
    boolean lineEach = flags.iterations() == 0 || flags.connection.verbose();
    Consumer<String> eachLine = lineEach && !session.jsonOnStdout() ? System.out::println : null;
    session.finish(flags.method.active() ? flags.callMethod(session.stop, eachLine)
        : flags.measure(session.stop, eachLine));
    return Pingkit.EXIT_OK;
  }
}
