///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES Bench.java
//SOURCES ../ping-server.java

import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;

/**
 * Benchmarks B4 and B6 of ping-server.java, run as its own process (its threads and memory are what is
 * measured) on loopback:
 *   B4  10,000 concurrent pings with a 1 s delay: all answered within 1.5 s, server live threads < 64.
 *   B6  server RSS idle <= 100 MB, and with 1,000 open streams <= 200 MB.
 * Usage, from the repository: ./jbang bench/server.java [--smoke]   (--smoke: small counts, RESULTS.md untouched)
 */
class server {
  public static void main(String[] args) throws Exception {
    boolean smoke = List.of(args).contains("--smoke");
    int delayedPings = smoke ? 1_000 : 10_000;
    long delayNanos = smoke ? 200_000_000L : 1_000_000_000L;
    int openStreams = smoke ? 100 : 1_000;

    // the server runs as users run it, with the JVM options its script declares (./jbang execs java: same pid)
    Process server = new ProcessBuilder("./jbang", "ping-server.java", "127.0.0.1:0")
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try {
      BufferedReader output = new BufferedReader(new InputStreamReader(server.getInputStream()));
      String line = output.readLine();
      if (line == null || !line.startsWith("listening on tcp ")) {
        throw new IllegalStateException("the server did not start: " + line);
      }
      String target = line.substring("listening on tcp ".length());
      List<ManagedChannel> channels = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        channels.add(Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).directExecutor().build());
      }
      for (ManagedChannel channel : channels) {
        PingServerGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS).ping(ping(0));
      }
      long idleRssKb = Bench.status(server, "VmRSS");
      // both JVMs warm up (class loading, JIT) on undelayed pings first, as the notes on h2load advise
      for (int round = 0; round < 3; round++) {
        send(channels, delayedPings, 0).get(60, TimeUnit.SECONDS);
      }

      // B4: every ping sent at once; the clock runs from the first send to the last answer
      AtomicLong peakThreads = new AtomicLong(Bench.status(server, "Threads"));
      long start = System.nanoTime();
      long startWallNanos = Pingkit.wallClockNanos();
      ListenableFuture<List<PingMessage>> all = send(channels, delayedPings, delayNanos);
      double sentSeconds = (System.nanoTime() - start) / 1e9;
      while (!all.isDone()) {
        peakThreads.accumulateAndGet(Bench.status(server, "Threads"), Math::max);
        Thread.sleep(50); // sampling interval of /proc, not synchronisation
        if (System.nanoTime() - start > TimeUnit.SECONDS.toNanos(60)) {
          throw new IllegalStateException("replies still missing after 60 s");
        }
      }
      List<PingMessage> answered = all.get();
      double allAnsweredSeconds = (System.nanoTime() - start) / 1e9;
      double lastReceivedSeconds = (answered.stream().mapToLong(PingMessage::getTs).max().orElseThrow()
          - startWallNanos) / 1e9;
      System.out.printf(Locale.ROOT, "sent in %.2f s, last received by the server after %.2f s%n", sentSeconds,
          lastReceivedSeconds);

      // B6: streams held open by long delays, then the resident memory of the server
      ListenableFuture<List<PingMessage>> open = send(channels, openStreams, TimeUnit.SECONDS.toNanos(5));
      Thread.sleep(1_000); // let the requests arrive before reading /proc
      long openRssKb = Bench.status(server, "VmRSS");
      open.get(60, TimeUnit.SECONDS);
      channels.forEach(ManagedChannel::shutdownNow);

      String report = String.format(Locale.ROOT, """
          ### %s, server benchmarks (bench/server.java%s)
          | benchmark | measured | goal |
          |---|---|---|
          | B4 %d pings with a %s delay, all answered in | %.2f s | <= %.1f s |
          | B4 server live threads at peak | %d | < 64 |
          | B6 server RSS idle (after 10 connections and a ping each) | %d MB | <= 100 MB |
          | B6 server RSS with %d open streams | %d MB | <= 200 MB |
          """, LocalDate.now(), smoke ? ", smoke" : "", delayedPings, Pingkit.formatDuration(
              java.time.Duration.ofNanos(delayNanos)), allAnsweredSeconds, delayNanos * 1.5 / 1e9,
          peakThreads.get(), idleRssKb / 1024, openStreams, openRssKb / 1024);
      System.out.print(report);
      if (!smoke) {
        Bench.appendResults(report);
      }
    } finally {
      server.destroy();
      server.waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static PingMessage ping(long delayNanos) {
    return PingMessage.newBuilder().setDelayNanos(delayNanos).build();
  }

  /** Sends {@code count} pings over the channels in turn; their replies, all of them, as one future. */
  private static ListenableFuture<List<PingMessage>> send(List<ManagedChannel> channels, int count,
      long delayNanos) {
    List<ListenableFuture<PingMessage>> replies = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      // no deadline per call (a timer each, in the sending loop): the waits for the replies are bounded instead
      replies.add(PingServerGrpc.newFutureStub(channels.get(i % channels.size())).ping(ping(delayNanos)));
    }
    return Futures.allAsList(replies);
  }
}
