import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import pingkit.Pingkit;
import pingkit.load.LoadResult;
import pingkit.net.Connection;
import pingkit.net.ConnectionOptions;
import pingkit.net.Dialer;
import pingkit.net.EventLoops;
import pingkit.ping.PingClient;
import pingkit.ping.PingResult;
import pingkit.report.Overhead;
import pingkit.report.SampleHistogram;
import pingkit.server.PingServer;
import pingkit.server.RunningServer;
import pingkit.wire.ArrivalWatch;
import pingkit.wire.WireClock;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;

/**
 * Calls timed at the socket: for every call, the application's send, the request handed to the socket, the
 * answer back from it and the application's receipt come in that order; what the server takes is in the RTT, and
 * the client's own time is reported apart. Orders and sums only: never how fast.
 */
class WireTimesTest {

  @Test
  void singlePingsAndHealthChecksAreTimedAtTheWireInOrder() {
    try (RunningServer server = PingServer.start("--warmup", "0s", "127.0.0.1:0");
         Connection connection = open(server.target(), true)) {
      for (int i = 0; i < 20; i++) {
        assertKernelTimed(connection.callBlocking(PingServerGrpc.getPingMethod(), ping(0), Duration.ofSeconds(5))
            .clock());
        assertKernelTimed(connection.callBlocking(HealthGrpc.getCheckMethod(),
            HealthCheckRequest.getDefaultInstance(), Duration.ofSeconds(5)).clock());
      }
    }
  }

  @Test
  void manyCallsInFlightOnOneConnectionAreEachTimedInOrder() {
    try (RunningServer server = PingServer.start("--warmup", "0s", "127.0.0.1:0");
         Connection connection = open(server.target(), false)) {
      List<CompletableFuture<WireClock.CallClock>> clocks = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        CompletableFuture<WireClock.CallClock> ended = new CompletableFuture<>();
        // a few delayed, so that answers come back out of order and several share a read
        connection.call(PingServerGrpc.getPingMethod(), ping(i % 7 == 0 ? 2_000_000 : 0), Duration.ofSeconds(10),
            (reply, failure, clock) -> {
              if (failure != null) {
                ended.completeExceptionally(failure);
              } else {
                ended.complete(clock);
              }
            });
        clocks.add(ended);
      }
      clocks.forEach(clock -> assertOrdered(clock.join()));
    }
  }

  @Test
  void aServerDelayIsInTheRttAndNotInTheClientOverhead() {
    long delayNanos = 20_000_000;
    try (RunningServer server = PingServer.start("--warmup", "0s", "127.0.0.1:0");
         Connection connection = open(server.target(), true)) {
      for (int i = 0; i < 3; i++) {
        long beforeNanos = System.nanoTime();
        WireClock.CallClock clock = connection.callBlocking(PingServerGrpc.getPingMethod(), ping(delayNanos),
            Duration.ofSeconds(5)).clock();
        long afterNanos = System.nanoTime();
        assertKernelTimed(clock);
        // the call's times lie within what this thread saw of it, and nothing waited for a stream
        assertTrue(beforeNanos <= clock.appSendNanos && clock.appReceiveNanos() <= afterNanos, "the call's times"
            + " are within the call");
        assertEquals(0, clock.serverQueueNanos());
        assertTrue(clock.rttNanos() >= delayNanos, "RTT " + clock.rttNanos() + " ns holds the 20 ms delay");
        // the delay is the server's: the client's own time is the call's less the wire's, and the wire held it
        long overheadNanos = clock.sendOverheadNanos() + clock.receiveOverheadNanos();
        assertTrue(overheadNanos >= 0 && overheadNanos <= afterNanos - beforeNanos - delayNanos,
            "the client's own time " + overheadNanos + " ns holds none of the delay");
      }
    }
  }

  /**
   * A busy client reads a server's flow-control PING and the answer behind it in one read: the answer is timed
   * by that read's latest packet (the kernel's stamps) or when it returned (the socket's), never when the PING
   * arrived; and an arrival noted for bytes that a read took already is never given to the next answer. Hundreds
   * of pings of two calls, as many messages over a stream, and near a thousand calls and messages in load mode
   * (paced: arrivals timed), each delayed 1 ms, with the client's network threads kept busy: no RTT is shorter
   * than the delay, with the kernel's stamps and with the arrival watch.
   */
  @Test
  void noRttIsShorterThanTheServersDelayWhileTheClientIsBusy() throws Exception {
    try {
      for (boolean kernelStamps : new boolean[] {true, false}) {
        System.setProperty(WireClock.KERNEL_STAMPS_SWITCH, kernelStamps ? "on" : "off");
        noRttIsShorterThanTheServersDelayWhileTheClientIsBusy(kernelStamps);
      }
    } finally {
      System.clearProperty(WireClock.KERNEL_STAMPS_SWITCH);
    }
  }

  private void noRttIsShorterThanTheServersDelayWhileTheClientIsBusy(boolean kernelStamps) throws Exception {
    double delayMicros = 1000;
    try (PingFirstServer server = new PingFirstServer(); BusyNetworkThreads busy = new BusyNetworkThreads()) {
      for (String mode : List.of("--delay", "--stream")) {
        List<String> args = new ArrayList<>(List.of("--delay", "1ms", "-n", "250", server.target()));
        if (mode.equals("--stream")) {
          args.add(0, mode);
        }
        PingResult pings = PingClient.run(args.toArray(String[]::new));
        assertEquals(750, pings.rttHistogram().count());
        assertAtLeast(delayMicros, pings.rttHistogram(), String.join(" ", args));
        assertTimedBy(kernelStamps, pings.clientOverhead(), String.join(" ", args));
      }
      for (String mode : List.of("-c", "--stream")) {
        List<String> args = new ArrayList<>(List.of("-c", "2", "-qps", "500", "-n", "900", "--delay", "1ms",
            server.target()));
        if (mode.equals("--stream")) {
          args.add(0, mode);
        }
        LoadResult load = PingClient.load(args.toArray(String[]::new));
        assertEquals(900, load.latencyHistogram().count());
        assertAtLeast(delayMicros, load.latencyHistogram(), String.join(" ", args));
        assertTimedBy(kernelStamps, load.overhead(), String.join(" ", args));
      }
    }
  }

  /**
   * With kernel stamps, some calls were timed by them (a call whose answer came while its read was under way is
   * timed by the socket); without, the arrival watch timed them all.
   */
  private static void assertTimedBy(boolean kernelStamps, Overhead overhead, String run) {
    assertTrue(overhead.wireTimes(), run + ": timed on the wire");
    if (kernelStamps) {
      assertTrue(overhead.calls(WireClock.Kind.KERNEL) > 0, run + ": timed by the kernel's stamps");
    } else {
      assertEquals(WireClock.Kind.ARRIVAL_WATCH, overhead.wireClock(), run);
    }
  }

  /** Every sample at least {@code micros}, to HdrHistogram's resolution (a thousandth). */
  private static void assertAtLeast(double micros, SampleHistogram histogram, String run) {
    double min = histogram.min(SampleHistogram.Unit.MICROS);
    assertTrue(min >= micros * 0.999, run + ": an RTT of " + min + " us, below the server's " + micros + " us");
  }

  /**
   * Keeps every network thread of the clients busy three quarters of the time, as a fresh JVM's own work after
   * each write keeps it: answers then wait in the socket while the arrival watch notes them.
   */
  private static final class BusyNetworkThreads implements AutoCloseable {
    private final List<io.grpc.netty.shaded.io.netty.channel.EventLoop> loops = new ArrayList<>();
    private volatile boolean closed;

    BusyNetworkThreads() {
      for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
        loops.add(EventLoops.acquire()); // the loops are taken in turn: each of them once
      }
      loops.forEach(loop -> loop.execute(() -> spin(loop)));
    }

    private void spin(io.grpc.netty.shaded.io.netty.channel.EventLoop loop) {
      if (closed) {
        return;
      }
      long until = System.nanoTime() + 1_500_000;
      while (System.nanoTime() < until) {
        Thread.onSpinWait();
      }
      loop.schedule(() -> spin(loop), 500, java.util.concurrent.TimeUnit.MICROSECONDS);
    }

    @Override
    public void close() {
      closed = true;
      loops.forEach(loop -> EventLoops.release());
    }
  }

  @Test
  void tlsAndUnixSocketConnectionsCarryWireTimes(@TempDir Path dir) {
    TestSupport.Certs certs = TestSupport.certs();
    try (RunningServer tls = PingServer.start("--warmup", "0s", "--cert", certs.serverCert().toString(),
             "--key", certs.serverKey().toString(), "127.0.0.1:0");
         Connection connection = open(true, "--cacert", certs.caCert().toString(), tls.target())) {
      for (int i = 0; i < 5; i++) {
        assertKernelTimed(connection.callBlocking(PingServerGrpc.getPingMethod(), ping(0), Duration.ofSeconds(5))
            .clock());
      }
    }
    String socket = dir.resolve("ping.sock").toString();
    try (RunningServer unix = PingServer.start("--warmup", "0s", socket);
         Connection connection = open(unix.target(), true)) {
      WireClock.CallClock clock = connection.callBlocking(PingServerGrpc.getPingMethod(), ping(0),
          Duration.ofSeconds(5)).clock();
      assertOrdered(clock);
      assertEquals(WireClock.Kind.ARRIVAL_WATCH, clock.kind(), "the kernel stamps TCP's packets only");
    }
  }

  @Test
  void everyJsonDocumentCarriesTheClientOverhead() {
    try (RunningServer server = PingServer.start("--warmup", "0s", "127.0.0.1:0")) {
      JsonObject ping = json("PingClientCommand", "-n", "3", "--json", server.target());
      assertEquals(6, ping.getAsJsonObject("clientOverheadMicros").get("count").getAsLong());
      assertTrue(ping.has("clientOverheadBeforeWireMicrosAvg") && ping.has("clientOverheadAfterWireMicrosAvg"));
      assertTrue(ping.get("wireTimes").getAsBoolean());
      JsonObject health = json("HealthCheckCommand", "-n", "2", "--json", server.target());
      assertEquals(2, health.getAsJsonObject("clientOverheadMicros").get("count").getAsLong());
      assertTrue(health.get("wireTimes").getAsBoolean());
      JsonObject load = json("PingClientCommand", "-c", "2", "-qps", "100", "-n", "40", "--json", server.target());
      assertEquals(40, load.getAsJsonObject("ClientOverheadHistogram").get("Count").getAsLong());
      assertEquals(40, load.getAsJsonObject("ClientStartDelayHistogram").get("Count").getAsLong());
      assertTrue(load.has("ClientOverheadBeforeWireAvg") && load.has("LateCalls") && load.has("WireTimes"));
    }
  }

  /**
   * On Linux the kernel's packet times time the calls; without them (refused here by a switch; elsewhere: not
   * Linux, a Unix socket, or the kernel said no) the socket's times do, arrivals noted by the watch; without the
   * watch too (turned off; elsewhere: Netty's natives changed) when the network thread read them, which the client
   * says once on stderr. The text names the clock once, the JSON names it and counts the calls it timed.
   */
  @Test
  void theOutputNamesTheClockThatTimedTheCalls() {
    record Way(String name, List<String> switches, String clock, int stderrLines) {}
    String kernelOff = "-D" + WireClock.KERNEL_STAMPS_SWITCH + "=off";
    String watchOff = "-D" + ArrivalWatch.SWITCH + "=off";
    try (RunningServer server = PingServer.start("--warmup", "0s", "127.0.0.1:0")) {
      for (Way way : List.of(new Way("kernel stamps", List.of(), "kernel", 0),
          new Way("kernel stamps refused", List.of(kernelOff), "arrival-watch", 0),
          new Way("kernel stamps refused, no watch", List.of(kernelOff, watchOff), "network-read", 1))) {
        for (boolean json : new boolean[] {true, false}) {
          List<String> command = TestSupport.javaCommand();
          command.addAll(way.switches());
          command.addAll(List.of("PingClientCommand", "-n", "3", server.target()));
          if (json) {
            command.add("--json");
          }
          try (var client = TestSupport.ScriptProcess.start(command, TestSupport.repo())) {
            assertEquals(0, client.awaitExit(60), client.stderr.toString());
            String out = String.join("\n", client.stdout);
            if (json) {
              JsonObject document = JsonParser.parseString(out).getAsJsonObject();
              assertTrue(document.get("wireTimes").getAsBoolean(), way.name());
              assertEquals(way.clock(), document.get("wireClock").getAsString(), way.name());
              assertEquals(6, document.getAsJsonObject("wireClockCalls").get(way.clock()).getAsLong(),
                  way.name() + ": " + document.get("wireClockCalls"));
            } else {
              assertEquals(1, client.stdout.stream().filter(line -> line.startsWith("Client overhead usec")
                  && line.endsWith("(not in the RTT; RTT clock: " + way.clock() + ")")).count(), way.name() + ": "
                  + out);
            }
            assertEquals(way.stderrLines(), client.stderr.size(), way.name() + ": " + client.stderr);
            assertEquals(way.stderrLines(), client.stderr.stream().filter(line -> line.startsWith(
                "ping-client: warning: arrivals are not watched (" + watchOff + ")")).count(), way.name());
          }
        }
      }
    }
  }

  /**
   * The peek before each read takes a socket's pending error when nothing waits to be read (recvmsg does): a
   * reset is still reported as one, not as the connection's end.
   */
  @Test
  void aResetIsReportedAsOneThoughThePeekTookIt() throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      // an HTTP/2 server as far as its SETTINGS, which resets the connection once a call's request has all come:
      // the client then waits for the answer, nothing to read
      Thread resetter = new Thread(() -> {
        while (!listener.isClosed()) {
          try (Socket accepted = listener.accept()) {
            accepted.getOutputStream().write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});
            java.io.DataInputStream in = new java.io.DataInputStream(accepted.getInputStream());
            in.readFully(new byte[24]); // the client's preface
            byte[] header = new byte[9];
            do {
              in.readFully(header);
              in.readFully(new byte[(header[0] & 0xff) << 16 | (header[1] & 0xff) << 8 | (header[2] & 0xff)]);
            } while (!(header[3] == 0 && (header[4] & 1) != 0)); // a DATA frame that ends its stream
            accepted.setSoLinger(true, 0);
          } catch (IOException e) {
            return; // closed
          }
        }
      }, "resetter");
      resetter.setDaemon(true);
      resetter.start();
      try (var client = TestSupport.ScriptProcess.java("PingClientCommand", "-n", "1", "127.0.0.1:"
          + listener.getLocalPort())) {
        client.awaitExit(60);
        assertTrue(client.stderr.stream().anyMatch(line -> line.contains("Connection reset by peer")),
            client.stderr.toString());
      }
    }
  }

  @Test
  void behindAProxyTheWireTimesCannotBeHadAndTheClientSaysSo() throws Exception {
    // an HTTP CONNECT proxy puts its own handshake before HTTP/2: the socket's bytes are not the calls' frames.
    // The JDK never proxies loopback names: the client asks for a name that only the proxy knows (as loopback).
    try (RunningServer server = PingServer.start("--warmup", "0s", "127.0.0.1:0");
         ConnectProxy proxy = new ConnectProxy()) {
      List<String> command = TestSupport.javaCommand("-Dhttps.proxyHost=127.0.0.1",
          "-Dhttps.proxyPort=" + proxy.port(), "PingClientCommand", "-n", "3", "--json", "behind-the-proxy.test:" + server.port());
      try (var client = TestSupport.ScriptProcess.start(command, TestSupport.repo())) {
        assertEquals(0, client.awaitExit(60), client.stderr.toString());
        assertTrue(proxy.tunnels() > 0, "the call went through the proxy");
        JsonObject json = JsonParser.parseString(String.join("\n", client.stdout)).getAsJsonObject();
        assertFalse(json.get("wireTimes").getAsBoolean());
        assertEquals(1, client.stderr.stream().filter(line -> line.contains("no wire times")).count(),
            "said once: " + client.stderr);
      }
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------------

  /** Timed by the kernel's packet times, in order. */
  private static void assertKernelTimed(WireClock.CallClock clock) {
    assertOrdered(clock);
    assertEquals(WireClock.Kind.KERNEL, clock.kind());
  }

  private static void assertOrdered(WireClock.CallClock clock) {
    assertTrue(clock.onWire(), "timed at the wire");
    long[] times = {clock.appSendNanos, clock.wireOutNanos(), clock.wireInNanos(), clock.appReceiveNanos()};
    for (int i = 1; i < times.length; i++) {
      assertTrue(times[i - 1] <= times[i], "app send <= wire out <= wire in <= app receive: "
          + java.util.Arrays.toString(times));
    }
  }

  private static PingMessage ping(long delayNanos) {
    return PingMessage.newBuilder().setPayload("wire").setDelayNanos(delayNanos).build();
  }

  private static Connection open(String target, boolean watchArrivals) {
    return open(watchArrivals, target);
  }

  private static Connection open(boolean watchArrivals, String... args) {
    ConnectionOptions options = Pingkit.parse(new PingClient(), args).connection;
    return new Dialer(options).connect(0, watchArrivals);
  }

  private static JsonObject json(String mainClass, String... args) {
    try (var process = TestSupport.ScriptProcess.java(mainClass, args)) {
      assertEquals(0, process.awaitExit(60), process.stderr.toString());
      return JsonParser.parseString(String.join("\n", process.stdout)).getAsJsonObject();
    }
  }

  /** A minimal HTTP CONNECT proxy on loopback to loopback: a tunnel per connection, bytes copied both ways. */
  private static final class ConnectProxy implements AutoCloseable {
    private final ServerSocket listener = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    private final java.util.concurrent.atomic.AtomicInteger tunnels = new java.util.concurrent.atomic.AtomicInteger();

    ConnectProxy() throws IOException {
      Thread acceptor = new Thread(() -> {
        while (!listener.isClosed()) {
          try {
            Socket client = listener.accept();
            Thread tunnel = new Thread(() -> tunnel(client), "proxy-tunnel");
            tunnel.setDaemon(true);
            tunnel.start();
          } catch (IOException e) {
            return; // closed
          }
        }
      }, "proxy-accept");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return listener.getLocalPort();
    }

    int tunnels() {
      return tunnels.get();
    }

    private void tunnel(Socket client) {
      try (client; Socket upstream = new Socket()) {
        InputStream in = client.getInputStream();
        StringBuilder request = new StringBuilder();
        while (!request.toString().endsWith("\r\n\r\n")) {
          int b = in.read();
          if (b < 0) {
            return;
          }
          request.append((char) b);
        }
        String[] target = request.toString().split(" ")[1].split(":");
        upstream.connect(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(),
            Integer.parseInt(target[target.length - 1])));
        client.getOutputStream().write("HTTP/1.1 200 Connection established\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII));
        tunnels.incrementAndGet();
        Thread back = new Thread(() -> copy(upstream, client), "proxy-back");
        back.setDaemon(true);
        back.start();
        copy(client, upstream);
        back.join();
      } catch (IOException | InterruptedException | RuntimeException e) {
        // a tunnel that ends: the client sees its connection close
      }
    }

    private static void copy(Socket from, Socket to) {
      try {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        byte[] buffer = new byte[8192];
        for (int n; (n = in.read(buffer)) > 0; ) {
          out.write(buffer, 0, n);
          out.flush();
        }
        to.shutdownOutput();
      } catch (IOException e) {
        // one side closed
      }
    }

    @Override
    public void close() throws IOException {
      listener.close();
    }
  }
}
