///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//SOURCES Bench.java
// the shared header: every dependency version, gson included, is pinned there
//SOURCES ../lib/pingkit/*.java

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;

/**
 * Soak: ping-server.java under 5 minutes of load from two ping-client load runs at once, as processes on
 * loopback: one flat out (10 streams), one of delayed pings (10 streams, 200 calls/s, 20 ms delay each).
 * Reports calls and errors (goal: 0 errors), the server's RSS once warm (after a fifth of the run) and at the
 * end (goal: growth < 10%), and its GC pauses (count, total, longest) from the JVM's own GC log. Then a phase
 * of bursts: three times 200 concurrent delayed pings of the largest size the server accepts (4 MiB), which its
 * in-flight byte budget must answer or refuse (goal: no other status, the server up); the server's RSS before,
 * at its peak (sampled every 20 ms) and 10 s after the last burst.
 * Usage, from the repository: ./jbang bench/soak.java [--smoke]   (--smoke: 10 s, RESULTS.md untouched)
 */
class soak {
  private static final Pattern GC_PAUSE = Pattern.compile("Pause .* (\\d+\\.\\d+)ms$");

  public static void main(String[] args) throws Exception {
    Bench.trainCaches();
    boolean smoke = List.of(args).contains("--smoke");
    int seconds = smoke ? 10 : 300;
    Path gcLog = Files.createTempFile("pingkit-soak-gc", ".log");
    // the server's own JVM options (its script header) plus a GC log; ./jbang execs java, so the pid is the JVM's
    Process server = Bench.start("./jbang", "-R-Xlog:gc:file=" + gcLog, "ping-server.java", "127.0.0.1:0");
    try {
      String line = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8))
          .readLine();
      if (line == null || !line.startsWith("listening on tcp ")) {
        throw new IllegalStateException("the server did not start: " + line);
      }
      String target = line.substring("listening on tcp ".length());
      String duration = seconds + "s";
      CompletableFuture<JsonObject> flatOut = load("-c", "2", "-s", "5", "-qps", "0", "-t", duration, target);
      CompletableFuture<JsonObject> delayed = load("-c", "1", "-s", "10", "-qps", "200", "--delay", "20ms",
          "-t", duration, target);
      Thread.sleep(seconds * 1000L / 5); // the clock of the measurement, not synchronisation
      long warmRssKb = Bench.status(server, "VmRSS");
      JsonObject flatOutResult = flatOut.join();
      JsonObject delayedResult = delayed.join();
      long endRssKb = Bench.status(server, "VmRSS");
      // 200 calls a burst: 1,000 concurrent 4 MiB requests exhaust this client's own heap before the server's
      Bursts bursts = bursts(server, target, smoke ? 1 : 3, 200);

      long calls = count(flatOutResult) + count(delayedResult);
      long errors = errors(flatOutResult) + errors(delayedResult);
      int pauses = 0;
      double pausesMillis = 0;
      double longestPauseMillis = 0;
      for (String gcLine : Files.readAllLines(gcLog)) {
        Matcher pause = GC_PAUSE.matcher(gcLine);
        if (pause.find()) {
          double millis = Double.parseDouble(pause.group(1));
          pauses++;
          pausesMillis += millis;
          longestPauseMillis = Math.max(longestPauseMillis, millis);
        }
      }
      String report = String.format(Locale.ROOT, """
          ### %s, soak (bench/soak.java%s, %d s: 10 streams flat out + 10 streams of 20 ms delayed pings)
          | measure | value | goal |
          |---|---|---|
          | calls (flat out + delayed) | %d (%.0f + %.0f req/s) | |
          | errors | %d | 0 |
          | server RSS warm (at %d s) -> end | %d MB -> %d MB (%+.1f%%) | growth < 10%% |
          | server GC pauses: count, total, longest | %d, %.0f ms, %.1f ms | |
          | bursts of 4 MiB delayed pings: %d x %d, answers by status | %s | OK and RESOURCE_EXHAUSTED only |
          | server RSS before the bursts -> peak -> 10 s after | %d MB -> %d MB -> %d MB | peak < 512 MB |
          | server up after the bursts | %s | yes |
          """, LocalDate.now(), smoke ? ", smoke" : "", seconds, calls, qps(flatOutResult), qps(delayedResult),
          errors, seconds / 5, warmRssKb / 1024, endRssKb / 1024, (endRssKb - warmRssKb) * 100.0 / warmRssKb,
          pauses, pausesMillis, longestPauseMillis, bursts.count, bursts.calls, bursts.statuses,
          bursts.startRssKb / 1024, bursts.peakRssKb / 1024, bursts.endRssKb / 1024, server.isAlive() ? "yes" : "NO");
      System.out.print(report);
      if (errors > 0) {
        System.out.println("by status: " + flatOutResult.get("RetCodes") + ", " + delayedResult.get("RetCodes"));
      }
      if (!smoke) {
        Bench.appendResults(report);
      }
    } finally {
      server.destroy();
      server.waitFor();
      Files.deleteIfExists(gcLog);
    }
  }

  /** The burst phase: the server's RSS before it, at its peak and after it (kB), and the answers by status. */
  record Bursts(int count, int calls, long startRssKb, long peakRssKb, long endRssKb, Map<String, Integer> statuses) {}

  /**
   * {@code count} bursts, one after the other, of {@code calls} concurrent pings of the largest size the server
   * accepts (4 MiB), each asking for a 5 s delay, over 20 connections; then the server is left alone for 10 s.
   */
  private static Bursts bursts(Process server, String target, int count, int calls) throws Exception {
    long startRssKb = Bench.status(server, "VmRSS");
    AtomicLong peakRssKb = new AtomicLong(startRssKb);
    ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
    sampler.scheduleAtFixedRate(() -> {
      try {
        peakRssKb.accumulateAndGet(Bench.status(server, "VmRSS"), Math::max);
      } catch (IOException | RuntimeException gone) {
        // the server has ended: the report says so
      }
    }, 0, 20, TimeUnit.MILLISECONDS);
    List<ManagedChannel> channels = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      channels.add(Grpc.newChannelBuilder(target, InsecureChannelCredentials.create())
          .maxInboundMessageSize(8 << 20).build());
    }
    // its payload and 11 bytes of fields (the 5 s delay) make 4 MiB, ping-server's default --max-message-size
    PingMessage big = PingMessage.newBuilder().setPayload("x".repeat((4 << 20) - 11))
        .setDelayNanos(TimeUnit.SECONDS.toNanos(5)).build();
    Map<String, Integer> statuses = new TreeMap<>();
    try {
      for (int burst = 0; burst < count; burst++) {
        List<CompletableFuture<Status>> ends = new ArrayList<>();
        for (int i = 0; i < calls; i++) {
          CompletableFuture<Status> ended = new CompletableFuture<>();
          PingServerGrpc.newStub(channels.get(i % channels.size())).withDeadlineAfter(120, TimeUnit.SECONDS)
              .ping(big, new StreamObserver<>() {
                @Override
                public void onNext(PingMessage reply) {}

                @Override
                public void onError(Throwable t) {
                  ended.complete(Status.fromThrowable(t));
                }

                @Override
                public void onCompleted() {
                  ended.complete(Status.OK);
                }
              });
          ends.add(ended);
        }
        for (CompletableFuture<Status> ended : ends) {
          statuses.merge(ended.join().getCode().name(), 1, Integer::sum);
        }
      }
      Thread.sleep(10_000); // the clock of the measurement: the server gives its memory back after 2 s idle
      return new Bursts(count, calls, startRssKb, peakRssKb.get(), Bench.status(server, "VmRSS"), statuses);
    } finally {
      sampler.shutdownNow();
      channels.forEach(ManagedChannel::shutdownNow);
    }
  }

  /** A ping-client load run as its own process; its Fortio-shaped JSON result. */
  private static CompletableFuture<JsonObject> load(String... flags) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        List<String> command = new java.util.ArrayList<>(List.of("./jbang", "ping-client.java", "--json",
            "--allow-errors"));
        command.addAll(List.of(flags));
        Path stderr = Files.createTempFile("pingkit-soak-client", ".err");
        Process client = new ProcessBuilder(command).redirectError(stderr.toFile()).start();
        String json = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exitCode = client.waitFor();
        String errors = Files.readString(stderr);
        Files.delete(stderr);
        if (exitCode != 0) {
          throw new IllegalStateException(String.join(" ", command) + " exited " + exitCode + ":\n" + errors);
        }
        return JsonParser.parseString(json).getAsJsonObject();
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  private static long count(JsonObject result) {
    return result.getAsJsonObject("DurationHistogram").get("Count").getAsLong();
  }

  private static long errors(JsonObject result) {
    return result.getAsJsonObject("ErrorsDurationHistogram").get("Count").getAsLong();
  }

  private static double qps(JsonObject result) {
    return result.get("ActualQPS").getAsDouble();
  }
}
