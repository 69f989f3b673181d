///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES Bench.java
//SOURCES ../ping-client.java

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * What a fresh process reports, next to native peers on the same target, in one run, alternating, on loopback:
 *   B1c a fresh `ping-client -n 10` and `-n 400`, against a warm ping-server: RTT p50, against the same
 *       algorithm in this JVM after it made 50,000 calls (goal: <= 1.2x), and against Debian's python3-grpcio
 *       (C core) pinging one call after the other (goal: <= its p50).
 *   B7  a fresh ping-server, 2 s after it printed `listening`: h2load -c1 -m1 -n 1000, mean, against the same
 *       server warmed by 30 s of load (goal: <= 1.5x); and its start to `listening`.
 *   B8  a fresh `ping-client -c 8 -qps 2000 -t 5s` (and `-qps 8`) against h2load -c 8 -m 1 at the same rate, on a
 *       warm server: p50 and p99 (goal: <= 1.2x h2load's).
 * Medians of the rounds; ratios are medians of each round's ratio.
 * Usage, from the repository: ./jbang bench/fresh.java [--smoke]   (--smoke: one short round, RESULTS.md untouched)
 */
class fresh {
  private static Path emptyRequest;
  private static Path python;

  public static void main(String[] args) throws Exception {
    boolean smoke = List.of(args).contains("--smoke");
    int rounds = smoke ? 1 : 7;
    emptyRequest = Files.createTempFile("grpc-empty", ".bin");
    Files.write(emptyRequest, new byte[5]); // gRPC framing of an empty message: flag 0, length 0
    python = pythonClient();
    StringBuilder report = new StringBuilder(String.format(Locale.ROOT,
        "### %s, fresh processes (bench/fresh.java%s, medians of %d rounds)%n| benchmark | measured | for scale |"
            + " ratio | goal |%n|---|---|---|---|---|%n", LocalDate.now(), smoke ? ", smoke" : "", rounds));
    List<Process> servers = new ArrayList<>();
    try {
      String target = Bench.startPingServer(servers);
      h2load(target, "-c", "8", "-m", "10", "-D", smoke ? "2" : "20"); // a warm server: every path compiled
      freshClient(target, rounds, smoke, report);
      fixedRate(target, rounds, smoke, report);
    } finally {
      Bench.stopAll(servers);
    }
    freshServer(rounds, smoke, report);
    System.out.print(report);
    if (!smoke) {
      Bench.appendResults(report.toString());
    }
  }

  /** B1c: fresh ping-client processes, this JVM's client once warm, and python3-grpcio, alternating. */
  private static void freshClient(String target, int rounds, boolean smoke, StringBuilder report)
      throws Exception {
    PingClient.run("-n", smoke ? "1000" : "25000", target); // 50,000 calls: this JVM's client is warm
    awaitJitQuiet(); // its compiler threads would take CPU from the fresh processes measured next
    int[] iterations = {10, 400};
    for (int n : iterations) {
      double[][] micros = new double[rounds][3]; // fresh, warm, python
      for (int round = 0; round < rounds; round++) {
        micros[round][0] = freshPingP50(target, n);
        micros[round][1] = PingClient.run("-n", "" + n, target).rttHistogram()
            .percentile(50, SampleHistogram.Unit.MICROS);
        micros[round][2] = pythonP50(target, 2 * n); // as many calls
        System.out.printf(Locale.ROOT, "B1c -n %d round %d: fresh %.0f us, warm %.0f us, python3-grpcio %.0f us%n",
            n, round + 1, micros[round][0], micros[round][1], micros[round][2]);
      }
      report.append(String.format(Locale.ROOT, "| B1c fresh `ping-client -n %d`, RTT p50 | %.0f us | warm %.0f us |"
          + " %.2f | <= 1.2 |%n| B1c the same against python3-grpcio's p50 | %.0f us | python %.0f us | %.2f |"
          + " <= 1.0 |%n", n, Bench.median(micros, 0), Bench.median(micros, 1), Bench.medianRatio(micros, 0, 1),
          Bench.median(micros, 0), Bench.median(micros, 2), Bench.medianRatio(micros, 0, 2)));
    }
  }

  /** B8: a fresh load run at a fixed rate against h2load at the same rate, p50 and p99. */
  private static void fixedRate(String target, int rounds, boolean smoke, StringBuilder report) throws Exception {
    String seconds = smoke ? "2" : "5";
    for (int qps : new int[] {2000, 8}) {
      double[][] micros = new double[rounds][4]; // ours p50, p99, h2load p50, p99
      for (int round = 0; round < rounds; round++) {
        JsonObject json = JsonParser.parseString(Bench.output("./jbang", "ping-client.java", "-c", "8", "-qps",
            "" + qps, "-t", seconds + "s", "--json", target)).getAsJsonObject();
        var percentiles = json.getAsJsonObject("DurationHistogram").getAsJsonArray("Percentiles");
        for (var p : percentiles) {
          double percentile = p.getAsJsonObject().get("Percentile").getAsDouble();
          double value = p.getAsJsonObject().get("Value").getAsDouble() * 1e6;
          if (percentile == 50) {
            micros[round][0] = value;
          } else if (percentile == 99) {
            micros[round][1] = value;
          }
        }
        // h2load's rate is per connection; at 8 calls/s in all, one a second on each of the 8
        double[] theirs = h2load(target, "-c", "8", "-m", "1", "--rps", "" + Math.max(1, qps / 8), "-D", seconds);
        micros[round][2] = theirs[0];
        micros[round][3] = theirs[1];
        System.out.printf(Locale.ROOT, "B8 qps %d round %d: ours p50 %.0f p99 %.0f us, h2load p50 %.0f p99 %.0f us%n",
            qps, round + 1, micros[round][0], micros[round][1], micros[round][2], micros[round][3]);
      }
      report.append(String.format(Locale.ROOT, "| B8 fresh `ping-client -c 8 -qps %d -t %ss`, p50 | %.0f us | h2load"
          + " %.0f us | %.2f | <= 1.2 |%n| B8 the same, p99 | %.0f us | h2load %.0f us | %.2f | <= 1.2 |%n", qps,
          seconds, Bench.median(micros, 0), Bench.median(micros, 2), Bench.medianRatio(micros, 0, 2),
          Bench.median(micros, 1), Bench.median(micros, 3), Bench.medianRatio(micros, 1, 3)));
    }
  }

  /** B7: fresh servers, each measured 2 s after `listening`, then warmed by load and measured again. */
  private static void freshServer(int rounds, boolean smoke, StringBuilder report) throws Exception {
    double[][] results = new double[rounds][3]; // fresh mean us, warm mean us, start to listening ms
    for (int round = 0; round < rounds; round++) {
      long startNanos = System.nanoTime();
      Process server = Bench.start("./jbang", "ping-server.java", "127.0.0.1:0");
      try {
        String target = Bench.listeningAddress(server);
        long listeningNanos = System.nanoTime();
        Thread.sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(listeningNanos + 2_000_000_000L - System.nanoTime())));
        results[round][0] = h2load(target, "-c", "1", "-m", "1", "-n", "1000")[2];
        h2load(target, "-c", "8", "-m", "10", "-D", smoke ? "2" : "30");
        results[round][1] = h2load(target, "-c", "1", "-m", "1", "-n", "1000")[2];
        results[round][2] = (listeningNanos - startNanos) / 1e6;
      } finally {
        Bench.stopAll(List.of(server));
      }
      System.out.printf(Locale.ROOT, "B7 round %d: fresh mean %.0f us, warm mean %.0f us, listening after %.0f ms%n",
          round + 1, results[round][0], results[round][1], results[round][2]);
    }
    report.append(String.format(Locale.ROOT, "| B7 fresh ping-server 2 s after `listening`, h2load -c1 -m1 -n 1000"
        + " mean | %.0f us | warm %.0f us | %.2f | <= 1.5 |%n| B7 start to `listening` (cached) | %.0f ms | | | as"
        + " before |%n", Bench.median(results, 0), Bench.median(results, 1), Bench.medianRatio(results, 0, 1),
        Bench.median(results, 2)));
  }

  /** Waits (30 s at most) until this JVM's JIT has compiled nothing for a second. */
  private static void awaitJitQuiet() throws InterruptedException {
    var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    long before = -1;
    while (System.nanoTime() < deadline && jit.getTotalCompilationTime() != before) {
      before = jit.getTotalCompilationTime();
      Thread.sleep(1000);
    }
  }

  // ---- the processes measured ---------------------------------------------------------------------------

  private static double freshPingP50(String target, int iterations) throws Exception {
    JsonObject json = JsonParser.parseString(Bench.output("./jbang", "ping-client.java", "-n", "" + iterations,
        "--json", target)).getAsJsonObject();
    for (var p : json.getAsJsonObject("rttMicros").getAsJsonArray("percentiles")) {
      if (p.getAsJsonObject().get("percentile").getAsDouble() == 50) {
        return p.getAsJsonObject().get("value").getAsDouble();
      }
    }
    throw new IllegalStateException("no p50 in " + json);
  }

  /** python3-grpcio's sequential pings on one channel (after one unmeasured): p50 in microseconds. */
  private static double pythonP50(String target, int calls) throws Exception {
    return Double.parseDouble(Bench.output("/usr/bin/python3", python.toString(), target, "" + calls).trim());
  }

  private static Path pythonClient() throws Exception {
    Path dir = Files.createTempDirectory("pingkit-python");
    Bench.output("/usr/bin/python3", "-m", "grpc_tools.protoc", "-Iproto", "--python_out=" + dir,
        "--grpc_python_out=" + dir, "proto/ping.proto");
    Path client = dir.resolve("sequential.py");
    Files.writeString(client, """
        import statistics, sys, time
        import grpc, ping_pb2, ping_pb2_grpc
        stub = ping_pb2_grpc.PingServerStub(grpc.insecure_channel(sys.argv[1]))
        stub.Ping(ping_pb2.PingMessage())
        micros = []
        for seq in range(int(sys.argv[2])):
            start = time.perf_counter_ns()
            stub.Ping(ping_pb2.PingMessage(seq=seq, ts=time.time_ns()))
            micros.append((time.perf_counter_ns() - start) / 1000)
        print(statistics.median(micros))
        """);
    return client;
  }

  /**
   * h2load posting empty pings: p50, p99 and mean per request in microseconds (from its log of each request).
   */
  private static double[] h2load(String target, String... options) throws Exception {
    Path log = Files.createTempFile("h2load", ".log");
    List<String> command = new ArrayList<>(List.of("h2load", "-d", emptyRequest.toString(), "-H",
        "content-type: application/grpc", "-H", "te: trailers", "--log-file=" + log));
    command.addAll(Arrays.asList(options));
    command.add("http://" + target + "/fgrpc.PingServer/Ping");
    Bench.output(command.toArray(String[]::new));
    double[] micros = Files.readAllLines(log).stream().map(line -> line.split("\\s+"))
        .filter(fields -> fields.length >= 3).mapToDouble(fields -> Double.parseDouble(fields[2])).sorted()
        .toArray();
    Files.delete(log);
    if (micros.length == 0) {
      throw new IllegalStateException("h2load logged no request");
    }
    return new double[] {micros[(micros.length - 1) / 2], micros[(int) Math.ceil(micros.length * 0.99) - 1],
        Arrays.stream(micros).average().orElse(0)};
  }
}
