///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES Bench.java
//SOURCES ../lib/Pingkit.java

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * B10, results of many hosts:
 *   a fresh `ping-client --merge` of 100 result files of 1,000,000 calls each (one real run's file, as 100 hosts'
 *   runs one second apart): wall time (the whole process, JVM start included) <= 1 s, peak RSS <= 256 MB; the
 *   same with one file, for scale;
 *   and a long --hlog run, simulated by many short intervals (--hlog-interval 10ms for 60 s: 6,000 intervals, as
 *   1 h 40 min of 1 s ones): the client's RSS at its end against 10 s in, < 10% more.
 * Usage, from the repository: ./jbang bench/merge.java [--smoke]   (--smoke: short, RESULTS.md untouched)
 */
class merge {
  public static void main(String[] args) throws Exception {
    boolean smoke = List.of(args).contains("--smoke");
    int calls = smoke ? 10_000 : 1_000_000;
    int files = smoke ? 10 : 100;
    int hlogSeconds = smoke ? 3 : 60;
    Path dir = Files.createTempDirectory("pingkit-merge-bench");
    List<Process> servers = new ArrayList<>();
    try {
      String address = Bench.startPingServer(servers);
      Path base = dir.resolve("base.json");
      Bench.output("./jbang", "ping-client.java", "-c", "4", "-s", "4", "-qps", "0", "-n", "" + calls, "--json",
          base.toString(), address);
      JsonObject result = JsonParser.parseString(Files.readString(base)).getAsJsonObject();
      OffsetDateTime start = OffsetDateTime.parse(result.get("StartTime").getAsString());
      List<String> hosts = new ArrayList<>();
      for (int i = 0; i < files; i++) {
        result.addProperty("Host", "host-" + i);
        result.addProperty("StartTime", start.plusSeconds(i).toString());
        Path file = dir.resolve("host-" + i + ".json");
        Files.writeString(file, new GsonBuilder().setPrettyPrinting().create().toJson(result));
        hosts.add(file.toString());
      }
      // a first merge leaves the launcher's cached command line; then alternating, one file and all of them
      merged(dir, hosts.subList(0, 1));
      double[][] measured = new double[smoke ? 1 : 5][4];
      for (double[] round : measured) {
        double[] one = merged(dir, hosts.subList(0, 1));
        double[] all = merged(dir, hosts);
        round[0] = one[0];
        round[1] = one[1];
        round[2] = all[0];
        round[3] = all[1];
        System.out.printf(Locale.ROOT, "round: 1 file %.2f s %.0f MB; %d files %.2f s %.0f MB%n", round[0],
            round[1], files, round[2], round[3]);
      }

      Path hlog = dir.resolve("long.hlog");
      Process client = Bench.start("./jbang", "ping-client.java", "-c", "2", "-qps", "2000", "-t", hlogSeconds + "s",
          "--hlog", hlog.toString(), "--hlog-interval", "10ms", address);
      long rssEarlyKb = 0;
      long rssLastKb = 0;
      long startNanos = System.nanoTime();
      while (client.isAlive()) {
        long rssKb = Bench.status(client, "VmRSS");
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        if (rssEarlyKb == 0 && seconds >= Math.min(10, hlogSeconds / 2.0)) {
          rssEarlyKb = rssKb;
        }
        if (seconds < hlogSeconds) {
          rssLastKb = rssKb;
        }
        client.waitFor(1, java.util.concurrent.TimeUnit.SECONDS);
      }
      long intervals = Files.readAllLines(hlog).stream().filter(line -> line.matches("^\\d.*")).count();
      String report = String.format(Locale.ROOT, """
          ### %s, merging (bench/merge.java%s, medians of %d rounds, fresh processes)
          | benchmark | measured | goal |
          |---|---|---|
          | B10 ping-client --merge of %d files of %,d calls each: wall time; peak RSS | %.2f s; %.0f MB | <= 1 s; \
          <= 256 MB |
          | B10 the same of 1 file, for scale | %.2f s; %.0f MB | |
          | B10 --hlog of %d intervals (--hlog-interval 10ms, %d s at 2000 qps): client RSS early; at the end | \
          %d MB; %d MB (%+.1f%%) | flat (< 10%% more) |
          """, LocalDate.now(), smoke ? ", smoke" : "", measured.length, files, calls, Bench.median(measured, 2),
          Bench.median(measured, 3), Bench.median(measured, 0), Bench.median(measured, 1), intervals, hlogSeconds,
          rssEarlyKb / 1024, rssLastKb / 1024, 100.0 * (rssLastKb - rssEarlyKb) / rssEarlyKb);
      System.out.print(report);
      if (!smoke) {
        Bench.appendResults(report);
      }
    } finally {
      Bench.stopAll(servers);
    }
  }

  /** A fresh merge of {@code files}: its wall time (s) and peak RSS (MB), as GNU time measures the process. */
  private static double[] merged(Path dir, List<String> files) throws Exception {
    List<String> command = new ArrayList<>(List.of("/usr/bin/time", "-f", "%e %M", "-o",
        dir.resolve("time.txt").toString(), "./jbang", "ping-client.java", "--merge"));
    command.addAll(files);
    command.addAll(List.of("--json", dir.resolve("merged.json").toString()));
    String output = Bench.output(command.toArray(String[]::new));
    if (!output.contains("All done")) {
      throw new IllegalStateException("the merge printed no report: " + output);
    }
    String[] time = Files.readString(dir.resolve("time.txt")).trim().split("\\s+");
    return new double[] {Double.parseDouble(time[0]), Long.parseLong(time[1]) / 1024.0};
  }
}
