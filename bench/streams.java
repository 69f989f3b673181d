///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//SOURCES Bench.java
//SOURCES ../lib/pingkit/*.java

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * B9, streaming, in one run, alternating, on loopback, one connection:
 *   messages per second of our load mode over one stream (--stream -qps 0) against ping-server, with --window 1
 *   and --window 32, vs grpc-java's own streaming benchmark (AsyncClient --streaming_rpcs, empty messages) against
 *   AsyncServer with as many messages in flight (1 stream; 32 streams of one message each): ours / theirs >= 0.9;
 *   and the per-message latency (p50) over a stream against the unary ping's, one message or call at a time.
 * Each JVM client warms up first (its JIT at work would be measured otherwise; see bench/throughput.java).
 * Usage, from the repository: ./jbang bench/streams.java [--smoke]   (--smoke: short, RESULTS.md untouched)
 */
class streams {
  public static void main(String[] args) throws Exception {
    Bench.trainCaches();
    boolean smoke = List.of(args).contains("--smoke");
    int rounds = smoke ? 1 : 5;
    int seconds = smoke ? 1 : 5;
    int warmupSeconds = smoke ? 1 : 10;
    List<Process> servers = new ArrayList<>();
    try {
      String ourAddress = Bench.startPingServer(servers);
      int theirPort = Bench.startAsyncServer(servers);

      // ours window 1, theirs 1, ours window 32, theirs 32 (messages/s); stream p50, unary p50 (seconds)
      double[][] measured = new double[rounds][6];
      for (int round = 0; round < rounds; round++) {
        JsonObject stream = ourLoad(ourAddress, warmupSeconds, seconds, "--stream", "--window", "1");
        measured[round][0] = stream.get("ActualQPS").getAsDouble();
        measured[round][1] = Bench.asyncClientQps(theirPort, 1, 1, warmupSeconds, seconds, "--streaming_rpcs");
        measured[round][2] = ourLoad(ourAddress, warmupSeconds, seconds, "--stream", "--window", "32")
            .get("ActualQPS").getAsDouble();
        measured[round][3] = Bench.asyncClientQps(theirPort, 1, 32, warmupSeconds, seconds, "--streaming_rpcs");
        measured[round][4] = p50(stream);
        measured[round][5] = p50(ourLoad(ourAddress, warmupSeconds, seconds));
        System.out.printf(Locale.ROOT, "round %d: window 1 %.0f vs AsyncClient %.0f msg/s; window 32 %.0f vs"
            + " %.0f msg/s; p50 stream %.1f us, unary %.1f us%n", round + 1, measured[round][0], measured[round][1],
            measured[round][2], measured[round][3], measured[round][4] * 1e6, measured[round][5] * 1e6);
      }
      String report = String.format(Locale.ROOT, """
          ### %s, streams (bench/streams.java%s, medians of %d rounds and of their ratios, one connection, \
          empty messages, JVM clients warmed up %d s)
          | benchmark | ours | reference | ratio | goal |
          |---|---|---|---|---|
          | B9 messages/s, one stream, --window 1 vs AsyncClient --streaming_rpcs, 1 stream | %.0f | %.0f | %.3f \
          | >= 0.9 |
          | B9 messages/s, one stream, --window 32 vs AsyncClient, 32 streams | %.0f | %.0f | %.3f | >= 0.9 |
          | B9 latency p50, a message on a stream vs a unary ping, one at a time | %.1f us | %.1f us | %.3f | < 1 |
          """, LocalDate.now(), smoke ? ", smoke" : "", rounds, warmupSeconds,
          Bench.median(measured, 0), Bench.median(measured, 1), Bench.medianRatio(measured, 0, 1),
          Bench.median(measured, 2), Bench.median(measured, 3), Bench.medianRatio(measured, 2, 3),
          Bench.median(measured, 4) * 1e6, Bench.median(measured, 5) * 1e6, Bench.medianRatio(measured, 4, 5));
      System.out.print(report);
      if (!smoke) {
        Bench.appendResults(report);
      }
    } finally {
      Bench.stopAll(servers);
    }
  }

  /** Our ping-client's load mode on one connection, one stream, flat out: its Fortio JSON. */
  private static JsonObject ourLoad(String address, int warmupSeconds, int seconds, String... flags)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("./jbang", "ping-client.java", "-c", "1", "-s", "1", "-qps", "0",
        "--warmup", warmupSeconds + "s", "-t", seconds + "s", "--json"));
    command.addAll(List.of(flags));
    command.add(address);
    return JsonParser.parseString(Bench.output(command.toArray(String[]::new))).getAsJsonObject();
  }

  private static double p50(JsonObject load) {
    for (var percentile : load.getAsJsonObject("DurationHistogram").getAsJsonArray("Percentiles")) {
      if (percentile.getAsJsonObject().get("Percentile").getAsDouble() == 50) {
        return percentile.getAsJsonObject().get("Value").getAsDouble();
      }
    }
    throw new IllegalStateException("no p50 in " + load);
  }
}
