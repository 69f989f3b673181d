///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//SOURCES Bench.java
//SOURCES ../ping-client.java

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import pingkit.ping.PingClient;
import pingkit.ping.PingResult;
import pingkit.report.SampleHistogram;

/**
 * B1: ping RTT p50 and p99, our client to our server, against grpc-java's own benchmark (AsyncClient with one
 * channel and one outstanding call, to AsyncServer with epoll and a direct executor, its fastest setting), in
 * one run, alternating, on loopback; medians of the rounds and their ratios (goal: ours / theirs <= 1.1).
 * Both sides are warm when measured: AsyncClient warms up for 3 s, and our client pings untimed first.
 * Usage, from the repository: ./jbang bench/rtt.java [--smoke]   (--smoke: one short round, RESULTS.md untouched)
 */
class rtt {

  public static void main(String[] args) throws Exception {
    Bench.trainCaches();
    boolean smoke = List.of(args).contains("--smoke");
    int rounds = smoke ? 1 : 5;
    int seconds = smoke ? 1 : 5;
    List<Process> servers = new ArrayList<>();
    try {
      String ourTarget = Bench.startPingServer(servers);
      int theirPort = Bench.startAsyncServer(servers);

      // iterations for about `seconds` of pinging at ~300 us per iteration (two calls)
      int iterations = seconds * 1_500;
      PingClient.run("-n", "" + iterations, ourTarget); // warm-up, untimed
      double[][] ourMicros = new double[rounds][];
      double[][] theirMicros = new double[rounds][];
      for (int round = 0; round < rounds; round++) {
        PingResult result = PingClient.run("-n", "" + iterations, ourTarget);
        ourMicros[round] = new double[] {result.rttHistogram().percentile(50, SampleHistogram.Unit.MICROS),
            result.rttHistogram().percentile(99, SampleHistogram.Unit.MICROS)};
        theirMicros[round] = asyncClient(theirPort, seconds);
        System.out.printf(Locale.ROOT, "round %d: ours p50 %.0f p99 %.0f us, grpc-java p50 %.0f p99 %.0f us%n",
            round + 1, ourMicros[round][0], ourMicros[round][1], theirMicros[round][0], theirMicros[round][1]);
      }
      double ourP50 = Bench.median(ourMicros, 0);
      double ourP99 = Bench.median(ourMicros, 1);
      double theirP50 = Bench.median(theirMicros, 0);
      double theirP99 = Bench.median(theirMicros, 1);
      String report = String.format(Locale.ROOT, """
          ### %s, ping RTT (bench/rtt.java%s, medians of %d rounds)
          | benchmark | ours | grpc-java AsyncClient/AsyncServer | ratio | goal |
          |---|---|---|---|---|
          | B1 RTT p50 | %.0f us | %.0f us | %.2f | <= 1.1 |
          | B1 RTT p99 | %.0f us | %.0f us | %.2f | <= 1.1 |
          """, LocalDate.now(), smoke ? ", smoke" : "", rounds, ourP50, theirP50, ourP50 / theirP50, ourP99,
          theirP99, ourP99 / theirP99);
      System.out.print(report);
      if (!smoke) {
        Bench.appendResults(report);
      }
    } finally {
      Bench.stopAll(servers);
    }
  }

  private static final Pattern PERCENTILE = Pattern.compile("(50|99)%ile Latency \\(in micros\\):\\s+(\\d+)");

  /** AsyncClient, one channel and one outstanding call: its p50 and p99 in microseconds. */
  private static double[] asyncClient(int port, int seconds) throws IOException, InterruptedException {
    Process client = Bench.start("./jbang", "--main=io.grpc.benchmarks.qps.AsyncClient", Bench.GRPC_BENCHMARKS,
        "--address=127.0.0.1:" + port, "--channels=1", "--outstanding_rpcs=1", "--duration=" + seconds,
        "--warmup_duration=3", "--transport=netty_epoll", "--directexecutor");
    String output = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    client.waitFor();
    double[] micros = new double[2];
    Matcher m = PERCENTILE.matcher(output);
    int found = 0;
    while (m.find()) {
      micros[m.group(1).equals("50") ? 0 : 1] = Double.parseDouble(m.group(2));
      found++;
    }
    if (found != 2) {
      throw new IllegalStateException("unexpected AsyncClient output:\n" + output);
    }
    return micros;
  }
}
