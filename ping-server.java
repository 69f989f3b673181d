///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
// AOT cache: trained by the ./jbang launcher on lib/pingkit/Training.java's command lines
//SOURCES lib/pingkit/*.java lib/pingkit/server/*.java
// Memory (B6) and throughput (B2), A/B runs in bench/RESULTS.md: the serial collector, a fixed young generation, a
// heap that starts small and takes at most 40% of the container's memory (network buffers may take as much), and
// after a burst the free heap given back in one collection that leaves the old generation at most 40% free.
//JAVA_OPTIONS -XX:+UseSerialGC -Xms48m -Xmn32m -XX:MaxRAMPercentage=40 -XX:-ShrinkHeapInSteps
//JAVA_OPTIONS -XX:MinHeapFreeRatio=20 -XX:MaxHeapFreeRatio=40
// Network buffers: Netty's per-thread caches would keep a burst's share of the pool after it
//JAVA_OPTIONS -Dio.grpc.netty.shaded.io.netty.allocator.smallCacheSize=0
//JAVA_OPTIONS -Dio.grpc.netty.shaded.io.netty.allocator.normalCacheSize=0

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import pingkit.Logs;
import pingkit.Pingkit;
import pingkit.server.HealthCommands;
import pingkit.server.PingServer;
import pingkit.server.RunningServer;

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
class PingServerCommand implements Callable<Integer> {
  @Mixin
  PingServer flags = new PingServer();

  private static final Logger log = Logger.getLogger("pingkit.server");

  public static void main(String[] args) {
    System.exit(Pingkit.execute(PingServerCommand::new, args));
  }

  @Override
  public Integer call() throws InterruptedException {
    Logs.configure("ping-server", flags.verbosity(), true);
    CountDownLatch stopRequested = new CountDownLatch(1);
    RunningServer server = flags.start();
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
    HealthCommands.accept(System.in, server::setHealth, server.drain::draining);
    stopRequested.await();
    log.info("draining: health is NOT_SERVING, new calls are refused");
    int cut = server.drain(flags.drainTimeout());
    if (signals.get() > 1) {
      return Pingkit.EXIT_INTERRUPTED;
    }
    if (cut > 0) {
      log.warning(cut + " call(s) still in flight after --drain-timeout "
          + Pingkit.formatDuration(flags.drainTimeout()) + " were cut");
    }
    return Pingkit.EXIT_OK;
  }
}
