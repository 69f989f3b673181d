///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//SOURCES Bench.java
//SOURCES ../lib/pingkit/*.java

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
 *   1 h 40 min of 1 s ones): the client's live heap (after a full collection) near its end against 10 s in,
 *   < 10% more.
 * Usage, from the repository: ./jbang bench/merge.java [--smoke]   (--smoke: short, RESULTS.md untouched)
 */
class merge {
  public static void main(String[] args) throws Exception {
    Bench.trainCaches();
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
      // the live heap after a full collection, 10 s in and 2 s before the end: what the run keeps (its RSS also
      // holds what the collector has not yet taken back, and a heap the JVM sizes up as it goes)
      long liveEarlyKb = 0;
      long liveLateKb = 0;
      long rssLateKb = 0;
      long startNanos = System.nanoTime();
      while (client.isAlive()) {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        if (liveEarlyKb == 0 && seconds >= Math.min(10, hlogSeconds / 3.0)) {
          liveEarlyKb = liveHeapKb(client);
        } else if (liveLateKb == 0 && seconds >= hlogSeconds - Math.min(2, hlogSeconds / 3.0)) {
          liveLateKb = liveHeapKb(client);
          rssLateKb = Bench.status(client, "VmRSS");
        }
        client.waitFor(200, java.util.concurrent.TimeUnit.MILLISECONDS);
      }
      long intervals = Files.readAllLines(hlog).stream().filter(line -> line.matches("^\\d.*")).count();
      String report = String.format(Locale.ROOT, """
          ### %s, merging (bench/merge.java%s, medians of %d rounds, fresh processes)
          | benchmark | measured | goal |
          |---|---|---|
          | B10 ping-client --merge of %d files of %,d calls each: wall time; peak RSS | %.2f s; %.0f MB | <= 1 s; \
          <= 256 MB |
          | B10 the same of 1 file, for scale | %.2f s; %.0f MB | |
          | B10 --hlog of %d intervals (--hlog-interval 10ms, %d s at 2000 qps): client live heap early; late \
          (RSS late) | %d KB; %d KB (%+.1f%%) (%d MB) | flat (< 10%% more) |
          """, LocalDate.now(), smoke ? ", smoke" : "", measured.length, files, calls, Bench.median(measured, 2),
          Bench.median(measured, 3), Bench.median(measured, 0), Bench.median(measured, 1), intervals, hlogSeconds,
          liveEarlyKb, liveLateKb, 100.0 * (liveLateKb - liveEarlyKb) / liveEarlyKb, rssLateKb / 1024);
      System.out.print(report);
      if (!smoke) {
        Bench.appendResults(report);
      }
    } finally {
      Bench.stopAll(servers);
    }
  }

  /** The heap a process keeps: used after a full collection, as the JDK's jcmd says (kB). */
  private static long liveHeapKb(Process process) throws Exception {
    String pid = Long.toString(process.pid());
    Bench.output("jcmd", pid, "GC.run");
    java.util.regex.Matcher used = java.util.regex.Pattern.compile("used (\\d+)K")
        .matcher(Bench.output("jcmd", pid, "GC.heap_info"));
    if (!used.find()) {
      throw new IllegalStateException("jcmd GC.heap_info of " + pid + " says no heap use");
    }
    return Long.parseLong(used.group(1));
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
