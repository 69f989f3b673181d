///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//SOURCES Bench.java
//SOURCES ../ping-client.java

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import pingkit.ping.PingClient;
import pingkit.report.SampleHistogram;

/**
 * What a fresh process reports, next to native peers on the same target, in one run, alternating, on loopback, for
 * each way of starting the scripts: the repository's ./jbang with its AOT caches, the same with none
 * (PINGKIT_AOT=off), and with --baseline DIR, another checkout's ./jbang as it starts (the tree before a change).
 *   B1c a fresh `ping-client -n 10` and `-n 400`, against a warm ping-server: RTT p50, against the same
 *       algorithm in this JVM after it made 50,000 calls (goal: <= 1.5x, and <= 1.2x at -n 400), and against
 *       Debian's python3-grpcio (C core) pinging one call after the other (goal: <= its p50).
 *   B5  a whole `health-check TARGET` process, wall time (goal: <= 0.30 s).
 *   B7  a fresh ping-server, 2 s after it printed `listening`: h2load -c1 -m1 -n 1000, mean, against the same
 *       server warmed by 10 s of load (goal: <= 1.5x); and its start to `listening`.
 *   B8  a fresh `ping-client -c 8 -qps 2000 -t 5s` (and `-qps 8`) against h2load -c 8 -m 1 at the same rate, on a
 *       warm server: p50 and p99 (goal: <= 1.2x h2load's).
 *   B12 CPU seconds (user + system, GNU time) of a fresh `ping-client -c 8 -qps 100 -t 10s` (goal: <= 1.0 s); a
 *       fresh `-c 8 -qps 0 -t 5s`, calls per second against h2load -c 8 -m 1 -D 5's (goal: >= 0.65x).
 * The ways alternate within each round; medians of the rounds, ratios are medians of each round's ratio. Extra
 * ways for A/B runs: --c1 (the cached scripts on C1 only) and --no-warmup (B7: the cached server, --warmup 0).
 * Usage, from the repository: ./jbang bench/fresh.java [--smoke] [--baseline DIR] [--c1] [--no-warmup]
 *   (--smoke: one short round, RESULTS.md untouched)
 */
class fresh {
  private static final Path HERE = Path.of("").toAbsolutePath();
  private static Path emptyRequest;
  private static Path python;

  /** One way of starting the scripts: a checkout's launcher and scripts, and what it adds to the environment. */
  record Way(String name, Path checkout, Map<String, String> env) {
    String output(String... scriptAndArgs) throws Exception {
      return Bench.output(env, command(scriptAndArgs));
    }

    Process start(String... scriptAndArgs) throws Exception {
      return Bench.start(env, command(scriptAndArgs));
    }

    /** The command as a user gives it in the checkout; elsewhere, by path (the launcher keys its entries so). */
    String[] command(String... scriptAndArgs) {
      List<String> command = new ArrayList<>(checkout.equals(HERE) ? List.of("./jbang", scriptAndArgs[0])
          : List.of(checkout.resolve("jbang").toString(), checkout.resolve(scriptAndArgs[0]).toString()));
      command.addAll(Arrays.asList(scriptAndArgs).subList(1, scriptAndArgs.length));
      return command.toArray(String[]::new);
    }
  }

  public static void main(String[] args) throws Exception {
    List<String> options = List.of(args);
    boolean smoke = options.contains("--smoke");
    int rounds = smoke ? 1 : 5;
    Bench.trainCaches();
    List<Way> ways = new ArrayList<>();
    int baseline = options.indexOf("--baseline");
    if (baseline >= 0) {
      Path dir = Path.of(options.get(baseline + 1)).toAbsolutePath();
      Map<String, String> asItStarts = new HashMap<>();
      asItStarts.put("JAVA_HOME", null); // this JVM's (the launcher's choice for it): the checkout picks its own
      ways.add(new Way("baseline " + dir.getFileName(), dir, asItStarts));
    }
    ways.add(new Way("no AOT cache", HERE, Map.of("PINGKIT_AOT", "off")));
    ways.add(new Way("AOT cache", HERE, Map.of()));
    if (options.contains("--c1")) {
      ways.add(new Way("AOT cache, C1 only", HERE, Map.of("JDK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1")));
    }
    emptyRequest = Files.createTempFile("grpc-empty", ".bin");
    Files.write(emptyRequest, new byte[5]); // gRPC framing of an empty message: flag 0, length 0
    python = pythonClient();
    StringBuilder report = new StringBuilder(String.format(Locale.ROOT,
        "### %s, fresh processes (bench/fresh.java%s, medians of %d rounds)%n| benchmark | way | measured | for"
            + " scale | ratio | goal |%n|---|---|---|---|---|---|%n", LocalDate.now(), smoke ? ", smoke" : "",
        rounds));
    List<Process> servers = new ArrayList<>();
    try {
      String target = Bench.startPingServer(servers);
      for (Way way : ways) { // each way's first runs (JBang's build, a baseline's own caches) are not measured
        for (int run = 0; run < 3; run++) {
          way.output("health-check.java", target);
          way.output("ping-client.java", "-n", "1", target);
        }
      }
      h2load(target, "-c", "8", "-m", "10", "-D", smoke ? "2" : "20"); // a warm server: every path compiled
      freshClient(target, ways, rounds, smoke, report);
      probe(target, ways, rounds, report);
      fixedRate(target, ways, rounds, smoke, report);
      clientCpu(target, ways, rounds, smoke, report);
    } finally {
      Bench.stopAll(servers);
    }
    List<Way> serverWays = new ArrayList<>(ways.stream().filter(way -> !way.name().contains("C1")).toList());
    if (options.contains("--no-warmup")) {
      serverWays.add(new Way("AOT cache, --warmup 0", HERE, Map.of()));
    }
    freshServer(serverWays, rounds, smoke, report);
    System.out.print(report);
    if (!smoke) {
      Bench.appendResults(report.toString());
    }
  }

  /** B1c: fresh ping-client processes each way, this JVM's client once warm, and python3-grpcio, alternating. */
  private static void freshClient(String target, List<Way> ways, int rounds, boolean smoke, StringBuilder report)
      throws Exception {
    PingClient.run("-n", smoke ? "1000" : "25000", target); // 50,000 calls: this JVM's client is warm
    awaitJitQuiet(); // its compiler threads would take CPU from the fresh processes measured next
    for (int n : new int[] {10, 400}) {
      int warm = ways.size();
      int pythonColumn = warm + 1;
      double[][] micros = new double[rounds][ways.size() + 2];
      for (int round = 0; round < rounds; round++) {
        for (int w = 0; w < ways.size(); w++) {
          micros[round][w] = freshPingP50(ways.get(w), target, n);
        }
        micros[round][warm] = PingClient.run("-n", "" + n, target).rttHistogram()
            .percentile(50, SampleHistogram.Unit.MICROS);
        micros[round][pythonColumn] = pythonP50(target, 2 * n); // as many calls
        System.out.printf(Locale.ROOT, "B1c -n %d round %d: %s us (%s), warm %.0f, python3-grpcio %.0f%n", n,
            round + 1, Arrays.toString(Arrays.copyOf(micros[round], ways.size())), names(ways),
            micros[round][warm], micros[round][pythonColumn]);
      }
      for (int w = 0; w < ways.size(); w++) {
        report.append(String.format(Locale.ROOT, "| B1c fresh `ping-client -n %d`, RTT p50 | %s | %.0f us | warm"
            + " %.0f us | %.2f | <= %s |%n| B1c the same against python3-grpcio's p50 | %s | %.0f us | python %.0f"
            + " us | %.2f | <= 1.0 |%n", n, ways.get(w).name(), Bench.median(micros, w), Bench.median(micros, warm),
            Bench.medianRatio(micros, w, warm), n == 10 ? "1.5" : "1.2", ways.get(w).name(), Bench.median(micros, w),
            Bench.median(micros, pythonColumn), Bench.medianRatio(micros, w, pythonColumn)));
      }
    }
  }

  /** B5: a whole health-check process, wall time, each way. */
  private static void probe(String target, List<Way> ways, int rounds, StringBuilder report) throws Exception {
    double[][] seconds = new double[rounds][ways.size()];
    for (int round = 0; round < rounds; round++) {
      for (int w = 0; w < ways.size(); w++) {
        long start = System.nanoTime();
        ways.get(w).output("health-check.java", target);
        seconds[round][w] = (System.nanoTime() - start) / 1e9;
      }
      System.out.printf(Locale.ROOT, "B5 round %d: %s s (%s)%n", round + 1, Arrays.toString(seconds[round]),
          names(ways));
    }
    for (int w = 0; w < ways.size(); w++) {
      report.append(String.format(Locale.ROOT, "| B5 `health-check TARGET`, the whole process | %s | %.2f s | | |"
          + " <= 0.30 s |%n", ways.get(w).name(), Bench.median(seconds, w)));
    }
  }

  /** B8: a fresh load run at a fixed rate each way, against h2load at the same rate, p50 and p99. */
  private static void fixedRate(String target, List<Way> ways, int rounds, boolean smoke, StringBuilder report)
      throws Exception {
    String seconds = smoke ? "2" : "5";
    for (int qps : new int[] {2000, 8}) {
      int theirs = 2 * ways.size();
      double[][] micros = new double[rounds][theirs + 2]; // p50, p99 of each way, then h2load's
      for (int round = 0; round < rounds; round++) {
        for (int w = 0; w < ways.size(); w++) {
          JsonObject json = JsonParser.parseString(ways.get(w).output("ping-client.java", "-c", "8", "-qps",
              "" + qps, "-t", seconds + "s", "--json", target)).getAsJsonObject();
          micros[round][2 * w] = percentileMicros(json, 50);
          micros[round][2 * w + 1] = percentileMicros(json, 99);
        }
        // h2load's rate is per connection; at 8 calls/s in all, one a second on each of the 8
        double[] h2load = h2load(target, "-c", "8", "-m", "1", "--rps", "" + Math.max(1, qps / 8), "-D", seconds);
        micros[round][theirs] = h2load[0];
        micros[round][theirs + 1] = h2load[1];
        System.out.printf(Locale.ROOT, "B8 qps %d round %d: p50, p99 %s us (%s), h2load %.0f %.0f%n", qps,
            round + 1, Arrays.toString(Arrays.copyOf(micros[round], theirs)), names(ways), h2load[0], h2load[1]);
      }
      for (int w = 0; w < ways.size(); w++) {
        report.append(String.format(Locale.ROOT, "| B8 fresh `ping-client -c 8 -qps %d -t %ss`, p50 | %s | %.0f us"
            + " | h2load %.0f us | %.2f | <= 1.2 |%n| B8 the same, p99 | %s | %.0f us | h2load %.0f us | %.2f |"
            + " <= 1.2 |%n", qps, seconds, ways.get(w).name(), Bench.median(micros, 2 * w),
            Bench.median(micros, theirs), Bench.medianRatio(micros, 2 * w, theirs), ways.get(w).name(),
            Bench.median(micros, 2 * w + 1), Bench.median(micros, theirs + 1),
            Bench.medianRatio(micros, 2 * w + 1, theirs + 1)));
      }
    }
  }

  /** B12: the CPU seconds of a fresh paced load, and the calls per second of a fresh flat-out one, each way. */
  private static void clientCpu(String target, List<Way> ways, int rounds, boolean smoke, StringBuilder report)
      throws Exception {
    String paced = smoke ? "3s" : "10s";
    String flatOut = smoke ? "2" : "5";
    int h2loadColumn = 2 * ways.size();
    double[][] results = new double[rounds][h2loadColumn + 1]; // CPU s and calls/s of each way, then h2load's
    Path times = Files.createTempFile("gnu-time", ".txt");
    for (int round = 0; round < rounds; round++) {
      for (int w = 0; w < ways.size(); w++) {
        List<String> command = new ArrayList<>(List.of("/usr/bin/time", "-f", "%U %S", "-o", times.toString()));
        command.addAll(List.of(ways.get(w).command("ping-client.java", "-c", "8", "-qps", "100", "-t", paced,
            target)));
        Bench.output(ways.get(w).env(), command.toArray(String[]::new));
        results[round][2 * w] = Arrays.stream(Files.readString(times).trim().split("\\s+"))
            .mapToDouble(Double::parseDouble).sum();
        JsonObject json = JsonParser.parseString(ways.get(w).output("ping-client.java", "-c", "8", "-qps", "0",
            "-t", flatOut + "s", "--json", target)).getAsJsonObject();
        results[round][2 * w + 1] = json.get("ActualQPS").getAsDouble();
      }
      results[round][h2loadColumn] = h2loadRate(target, "-c", "8", "-m", "1", "-D", flatOut);
      System.out.printf(Locale.ROOT, "B12 round %d: CPU s, calls/s %s (%s), h2load %.0f calls/s%n", round + 1,
          Arrays.toString(Arrays.copyOf(results[round], h2loadColumn)), names(ways), results[round][h2loadColumn]);
    }
    for (int w = 0; w < ways.size(); w++) {
      report.append(String.format(Locale.ROOT, "| B12 CPU of fresh `ping-client -c 8 -qps 100 -t %s` | %s | %.2f s"
          + " | | | <= 1.0 s |%n| B12 fresh `-c 8 -qps 0 -t %ss`, calls/s | %s | %.0f | h2load %.0f | %.2f |"
          + " >= 0.65 |%n", paced, ways.get(w).name(), Bench.median(results, 2 * w), flatOut, ways.get(w).name(),
          Bench.median(results, 2 * w + 1), Bench.median(results, h2loadColumn),
          Bench.medianRatio(results, 2 * w + 1, h2loadColumn)));
    }
  }

  /** B7: fresh servers each way, each measured 2 s after `listening`, then warmed by load and measured again. */
  private static void freshServer(List<Way> ways, int rounds, boolean smoke, StringBuilder report)
      throws Exception {
    double[][] results = new double[rounds][3 * ways.size()]; // fresh mean us, warm mean us, to listening ms
    for (int round = 0; round < rounds; round++) {
      for (int w = 0; w < ways.size(); w++) {
        Way way = ways.get(w);
        long startNanos = System.nanoTime();
        Process server = way.name().contains("--warmup 0")
            ? way.start("ping-server.java", "--warmup", "0s", "127.0.0.1:0")
            : way.start("ping-server.java", "127.0.0.1:0");
        try {
          String target = Bench.listeningAddress(server);
          long listeningNanos = System.nanoTime();
          Thread.sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(listeningNanos + 2_000_000_000L
              - System.nanoTime())));
          results[round][3 * w] = h2load(target, "-c", "1", "-m", "1", "-n", "1000")[2];
          h2load(target, "-c", "8", "-m", "10", "-D", smoke ? "2" : "10");
          results[round][3 * w + 1] = h2load(target, "-c", "1", "-m", "1", "-n", "1000")[2];
          results[round][3 * w + 2] = (listeningNanos - startNanos) / 1e6;
        } finally {
          Bench.stopAll(List.of(server));
        }
        System.out.printf(Locale.ROOT, "B7 round %d, %s: fresh mean %.0f us, warm mean %.0f us, listening after"
            + " %.0f ms%n", round + 1, way.name(), results[round][3 * w], results[round][3 * w + 1],
            results[round][3 * w + 2]);
      }
    }
    for (int w = 0; w < ways.size(); w++) {
      report.append(String.format(Locale.ROOT, "| B7 fresh ping-server 2 s after `listening`, h2load -c1 -m1 -n"
          + " 1000 mean | %s | %.0f us | warm %.0f us | %.2f | <= 1.5 |%n| B7 start to `listening` | %s | %.0f ms |"
          + " | | as before |%n", ways.get(w).name(), Bench.median(results, 3 * w), Bench.median(results, 3 * w + 1),
          Bench.medianRatio(results, 3 * w, 3 * w + 1), ways.get(w).name(), Bench.median(results, 3 * w + 2)));
    }
  }

  private static String names(List<Way> ways) {
    return String.join(", ", ways.stream().map(Way::name).toList());
  }

  private static double percentileMicros(JsonObject loadJson, double percentile) {
    for (var p : loadJson.getAsJsonObject("DurationHistogram").getAsJsonArray("Percentiles")) {
      if (p.getAsJsonObject().get("Percentile").getAsDouble() == percentile) {
        return p.getAsJsonObject().get("Value").getAsDouble() * 1e6;
      }
    }
    throw new IllegalStateException("no p" + percentile + " in " + loadJson);
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

  private static double freshPingP50(Way way, String target, int iterations) throws Exception {
    JsonObject json = JsonParser.parseString(way.output("ping-client.java", "-n", "" + iterations, "--json",
        target)).getAsJsonObject();
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

  /** h2load posting empty pings: the requests per second it reports. */
  private static double h2loadRate(String target, String... options) throws Exception {
    List<String> command = new ArrayList<>(List.of("h2load", "-d", emptyRequest.toString(), "-H",
        "content-type: application/grpc", "-H", "te: trailers"));
    command.addAll(Arrays.asList(options));
    command.add("http://" + target + "/fgrpc.PingServer/Ping");
    var rate = java.util.regex.Pattern.compile("finished in .*?, ([0-9.]+) req/s")
        .matcher(Bench.output(command.toArray(String[]::new)));
    if (!rate.find()) {
      throw new IllegalStateException("no rate in h2load's output");
    }
    return Double.parseDouble(rate.group(1));
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
