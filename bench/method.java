///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//SOURCES Bench.java
//SOURCES ../lib/pingkit/*.java

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * B14, the cost of calling a method found through reflection: ping-client's load of /fgrpc.PingServer/Ping through
 * --method (dynamic messages, JSON request) against its typed ping load, same server, same flags, in one run,
 * alternating, each a fresh process: flat out (-c 8 -qps 0) fresh and after a --warmup, and at a fixed rate
 * (-c 8 -qps 2000). Per run: calls per second, the latency p50, and the process's CPU seconds per call (GNU time).
 * Goals, as ratios --method / typed (medians of each round's ratio): calls/s >= 0.9, p50 <= 1.1, CPU/call <= 1.1.
 * Fortio's `load -grpc -grpc-method` is the anchor where a fortio binary is on the PATH (the project's machines
 * have none): ours must make at least as many calls per second.
 * Usage, from the repository: ./jbang bench/method.java [--smoke]   (--smoke: short, RESULTS.md untouched)
 */
class method {
  static final String PING = "fgrpc.PingServer/Ping";

  /** One kind of run: its name and the load flags both clients get. */
  record Mode(String name, List<String> flags) {}

  public static void main(String[] args) throws Exception {
    Bench.trainCaches();
    boolean smoke = List.of(args).contains("--smoke");
    int rounds = smoke ? 1 : 5;
    String seconds = smoke ? "1s" : "5s";
    List<Mode> all = List.of(
        new Mode("flat out, fresh", List.of("-c", "8", "-qps", "0", "-t", seconds)),
        new Mode("flat out, after a " + (smoke ? "1s" : "15s") + " --warmup", List.of("-c", "8", "-qps", "0",
            "--warmup", smoke ? "1s" : "15s", "-t", seconds)),
        new Mode("-qps 2000, fresh", List.of("-c", "8", "-qps", "2000", "-t", seconds)));
    List<Mode> modes = smoke ? all.subList(0, 1) : all;
    List<Process> servers = new ArrayList<>();
    try {
      String address = Bench.startPingServer(servers);
      StringBuilder rows = new StringBuilder();
      for (Mode mode : modes) {
        // per round: typed calls/s, p50, CPU/call; then the same through --method
        double[][] runs = new double[rounds][6];
        for (int round = 0; round < rounds; round++) {
          boolean methodFirst = round % 2 == 1; // alternate which goes first
          for (int turn = 0; turn < 2; turn++) {
            boolean viaMethod = methodFirst == (turn == 0);
            double[] run = run(address, mode, viaMethod);
            System.arraycopy(run, 0, runs[round], viaMethod ? 3 : 0, 3);
          }
          System.out.printf(Locale.ROOT, "%s, round %d: typed %.0f calls/s p50 %.0f us %.1f us CPU/call;"
              + " --method %.0f calls/s p50 %.0f us %.1f us CPU/call%n", mode.name(), round + 1, runs[round][0],
              runs[round][1], runs[round][2], runs[round][3], runs[round][4], runs[round][5]);
        }
        rows.append(String.format(Locale.ROOT, "| %s | %.0f / %.0f | %.3f | %.0f / %.0f us | %.3f | %.1f / %.1f us"
            + " | %.3f |%n", mode.name(), Bench.median(runs, 3), Bench.median(runs, 0), Bench.medianRatio(runs, 3, 0),
            Bench.median(runs, 4), Bench.median(runs, 1), Bench.medianRatio(runs, 4, 1), Bench.median(runs, 5),
            Bench.median(runs, 2), Bench.medianRatio(runs, 5, 2)));
      }
      String fortio = Bench.onPath("fortio") ? String.format(Locale.ROOT, "%.0f calls/s", fortioRate(address,
          seconds)) : "not measured: no fortio binary on this machine";
      String report = String.format(Locale.ROOT, """
          ### %s, B14 a method through reflection vs the typed ping (bench/method.java%s, medians of %d rounds, \
          fresh processes alternating, one ping-server)
          | run | calls/s --method / typed | ratio (goal >= 0.9) | p50 --method / typed | ratio (goal <= 1.1) \
          | CPU per call --method / typed | ratio (goal <= 1.1) |
          |---|---|---|---|---|---|---|
          %s
          Fortio's `load -grpc -grpc-method %s -c 8 -qps 0 -t %s`: %s
          """, LocalDate.now(), smoke ? ", smoke" : "", rounds, rows, PING, seconds, fortio);
      System.out.print(report);
      if (!smoke) {
        Bench.appendResults(report);
      }
    } finally {
      Bench.stopAll(servers);
    }
  }

  /** A fresh ping-client's load: calls per second, latency p50 (us), and its CPU per call (us). */
  private static double[] run(String address, Mode mode, boolean viaMethod) throws IOException, InterruptedException {
    Path times = Files.createTempFile("pingkit-b14", ".time");
    List<String> command = new ArrayList<>(List.of("/usr/bin/time", "-f", "%U %S", "-o", times.toString(),
        "./jbang", "ping-client.java"));
    if (viaMethod) {
      command.addAll(List.of("--method", PING));
    }
    command.addAll(mode.flags());
    command.addAll(List.of("-p", "50", "--json", address));
    JsonObject result = JsonParser.parseString(Bench.output(command.toArray(String[]::new))).getAsJsonObject();
    String[] cpu = Files.readString(times).trim().split("\\s+");
    Files.delete(times);
    JsonObject latency = result.getAsJsonObject("DurationHistogram");
    double calls = latency.get("Count").getAsDouble();
    double p50Micros = latency.getAsJsonArray("Percentiles").get(0).getAsJsonObject().get("Value").getAsDouble() * 1e6;
    double cpuSeconds = Double.parseDouble(cpu[cpu.length - 2]) + Double.parseDouble(cpu[cpu.length - 1]);
    return new double[] {result.get("ActualQPS").getAsDouble(), p50Micros, cpuSeconds / calls * 1e6};
  }

  /** Fortio's load of the same method, flat out: its ActualQPS. */
  private static double fortioRate(String address, String seconds) throws IOException, InterruptedException {
    String json = Bench.output("fortio", "load", "-grpc", "-grpc-method", PING, "-c", "8", "-qps", "0", "-t",
        seconds, "-json", "-", address);
    return JsonParser.parseString(json.substring(json.indexOf('{'))).getAsJsonObject().get("ActualQPS")
        .getAsDouble();
  }
}
