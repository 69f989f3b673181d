///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//SOURCES Bench.java
//SOURCES ../lib/pingkit/*.java

import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Throughput, in one run, alternating, on loopback, with Debian's h2load posting gRPC-framed requests:
 *   B2  h2load against our /fgrpc.PingServer/Ping vs against grpc-java's AsyncServer (epoll, direct executor)
 *       /grpc.testing.BenchmarkService/UnaryCall, equal (empty) payloads: ours / theirs >= 0.9.
 *   B3  our load mode's max rate against our server vs h2load's against the same server: ours / h2load >= 0.8.
 *       For scale, the same ratio for grpc-java's own AsyncClient against AsyncServer, and our rate after a
 *       warm-up of only 5 s.
 * Same connections and streams everywhere (8 x 10); each measurement follows an untimed warm-up. A JVM client's
 * warm-up is 15 s: its JIT compiler (C2) takes about 11 s of a load run on two cores to compile gRPC's hot
 * paths, using 40-50% of one of them (measured per thread), so a max rate measured sooner is the JIT's.
 * Ratios are medians of each round's ratio, our load mode's rate against the mean of the h2load runs just before
 * and after it: on shared cores the machine's speed drifts (a warm server's CPU per call was seen to vary 2x
 * from one minute to the next), and a ratio of measurements far apart in time measures that drift too.
 * Usage, from the repository: ./jbang bench/throughput.java [--smoke]   (--smoke: short, RESULTS.md untouched)
 */
class throughput {
  static final int CONNECTIONS = 8;
  static final int STREAMS = 10;

  public static void main(String[] args) throws Exception {
    Bench.trainCaches();
    boolean smoke = List.of(args).contains("--smoke");
    int rounds = smoke ? 1 : 7;
    int seconds = smoke ? 1 : 5;
    int jvmWarmupSeconds = smoke ? 1 : 15;
    Path emptyRequest = Files.createTempFile("grpc-empty", ".bin");
    Files.write(emptyRequest, new byte[5]); // gRPC framing of an empty message: flag 0, length 0
    List<Process> servers = new ArrayList<>();
    try {
      String ourAddress = Bench.startPingServer(servers);
      int theirPort = Bench.startAsyncServer(servers);
      String ourUrl = "http://" + ourAddress + "/fgrpc.PingServer/Ping";
      String theirUrl = "http://127.0.0.1:" + theirPort + "/grpc.testing.BenchmarkService/UnaryCall";

      // h2load->theirs, h2load->ours, our load->ours, h2load->ours again, AsyncClient->theirs, our short run
      double[][] qps = new double[rounds][6];
      for (int round = 0; round < rounds; round++) {
        qps[round][0] = h2load(theirUrl, emptyRequest, seconds);
        qps[round][1] = h2load(ourUrl, emptyRequest, seconds);
        qps[round][2] = ourLoad(ourAddress, jvmWarmupSeconds, seconds);
        qps[round][3] = h2load(ourUrl, emptyRequest, seconds);
        qps[round][4] = Bench.asyncClientQps(theirPort, CONNECTIONS, STREAMS, jvmWarmupSeconds, seconds);
        qps[round][5] = ourLoad(ourAddress, seconds, seconds);
        System.out.printf(Locale.ROOT, "round %d: h2load->grpc-java %.0f, h2load->ours %.0f, ours->ours %.0f,"
            + " h2load->ours %.0f, AsyncClient->grpc-java %.0f, ours->ours after %d s %.0f req/s%n", round + 1,
            qps[round][0], qps[round][1], qps[round][2], qps[round][3], qps[round][4], seconds, qps[round][5]);
      }
      double b2Theirs = Bench.median(qps, 0);
      double b2Ours = Bench.median(qps, 1);
      double b3Ours = Bench.median(qps, 2);
      double[][] h2loadAround = new double[rounds][1]; // h2load -> ours, the mean of a round's two runs
      for (int round = 0; round < rounds; round++) {
        h2loadAround[round][0] = (qps[round][1] + qps[round][3]) / 2;
      }
      double b3H2load = Bench.median(h2loadAround, 0);
      double b3AsyncClient = Bench.median(qps, 4);
      double b3ShortRun = Bench.median(qps, 5);
      double b2Ratio = medianRatio(qps, 1, 0);
      double b3Ratio = medianRatio(qps, 2, 1, 3);
      double b3AsyncClientRatio = medianRatio(qps, 4, 0);
      double b3ShortRunRatio = medianRatio(qps, 5, 1, 3);
      String report = String.format(Locale.ROOT, """
          ### %s, throughput (bench/throughput.java%s, medians of %d rounds and of their ratios, \
          %d connections x %d streams, JVM clients warmed up %d s)
          | benchmark | ours | reference | ratio | goal |
          |---|---|---|---|---|
          | B2 server: h2load -> our Ping vs -> AsyncServer UnaryCall | %.0f req/s | %.0f req/s | %.3f | >= 0.9 |
          | B3 load generator: our load mode vs h2load, -> our server | %.0f req/s | %.0f req/s | %.3f | >= 0.8 |
          | B3 for scale: grpc-java AsyncClient vs h2load, -> AsyncServer | %.0f req/s | %.0f req/s | %.3f | |
          | B3 for scale: our load mode after a %d s warm-up (JIT at work) | %.0f req/s | %.0f req/s | %.3f | |
          """, LocalDate.now(), smoke ? ", smoke" : "", rounds, CONNECTIONS, STREAMS, jvmWarmupSeconds, b2Ours,
          b2Theirs, b2Ratio, b3Ours, b3H2load, b3Ratio, b3AsyncClient, b2Theirs, b3AsyncClientRatio, seconds,
          b3ShortRun, b3H2load, b3ShortRunRatio);
      System.out.print(report);
      if (!smoke) {
        Bench.appendResults(report);
      }
    } finally {
      Bench.stopAll(servers);
    }
  }

  /** The median over the rounds of column {@code ours} / the mean of the {@code references} columns. */
  private static double medianRatio(double[][] qps, int ours, int... references) {
    double[][] ratios = new double[qps.length][1];
    for (int round = 0; round < qps.length; round++) {
      double reference = 0;
      for (int column : references) {
        reference += qps[round][column] / references.length;
      }
      ratios[round][0] = qps[round][ours] / reference;
    }
    return Bench.median(ratios, 0);
  }

  private static final Pattern H2LOAD_RATE = Pattern.compile("finished in [\\d.]+\\w+, ([\\d.]+) req/s");
  private static final Pattern H2LOAD_FAILED = Pattern.compile("requests: \\d+ total, \\d+ started, \\d+ done, "
      + "\\d+ succeeded, (\\d+) failed");

  /** h2load's rate over {@code seconds}, after a warm-up of the same length. */
  private static double h2load(String url, Path request, int seconds) throws IOException, InterruptedException {
    String output = Bench.output("h2load", "-c", "" + CONNECTIONS, "-m", "" + STREAMS, "-t", "1", "-D", "" + seconds,
        "--warm-up-time=" + seconds, "-d", request.toString(), "-H", "content-type: application/grpc",
        "-H", "te: trailers", url);
    Matcher failed = H2LOAD_FAILED.matcher(output);
    if (!failed.find() || !failed.group(1).equals("0")) {
      throw new IllegalStateException("h2load saw failed requests:\n" + output);
    }
    Matcher rate = H2LOAD_RATE.matcher(output);
    if (!rate.find()) {
      throw new IllegalStateException("unexpected h2load output:\n" + output);
    }
    return Double.parseDouble(rate.group(1));
  }

  /** Our ping-client's load mode flat out: its ActualQPS over {@code seconds}, after {@code warmupSeconds}. */
  private static double ourLoad(String address, int warmupSeconds, int seconds)
      throws IOException, InterruptedException {
    String json = Bench.output("./jbang", "ping-client.java", "-c", "" + CONNECTIONS, "-s", "" + STREAMS, "-qps", "0",
        "--warmup", warmupSeconds + "s", "-t", seconds + "s", "--json", address);
    return JsonParser.parseString(json).getAsJsonObject().get("ActualQPS").getAsDouble();
  }
}
