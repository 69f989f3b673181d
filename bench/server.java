///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//SOURCES Bench.java
//SOURCES ../ping-server.java

import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import pingkit.Pingkit;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;

/**
 * Benchmarks B4 and B6 of ping-server.java, run as its own process (its threads and memory are what is
 * measured) on loopback:
 *   B4  10,000 concurrent pings with a 1 s delay: all answered within 1.5 s, server live threads < 64. Sent by
 *       Debian's h2load (10 connections x 1,000 streams, gRPC-framed requests): a client in C, so that the clock
 *       measures the server, not a JVM client sharing its two cores (ours took 0.4 s to send 10,000 calls).
 *   B6  server RSS idle <= 100 MB, and with 1,000 open streams <= 200 MB.
 * Usage, from the repository: ./jbang bench/server.java [--smoke]   (--smoke: small counts, RESULTS.md untouched)
 */
class server {
  public static void main(String[] args) throws Exception {
    Bench.trainCaches();
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

      // B4: every ping sent at once; the clock runs from h2load's start to its last answer
      Path delayedRequest = Files.createTempFile("grpc-delayed-ping", ".bin");
      byte[] message = ping(delayNanos).toByteArray();
      Files.write(delayedRequest, java.nio.ByteBuffer.allocate(5 + message.length).put((byte) 0)
          .putInt(message.length).put(message).array()); // gRPC framing: not compressed, length, message
      Process h2load = new ProcessBuilder("h2load", "-n", "" + delayedPings, "-c", "10", "-m",
          "" + delayedPings / 10, "-t", "1", "-d", delayedRequest.toString(), "-H", "content-type: application/grpc",
          "-H", "te: trailers", "http://" + target + "/fgrpc.PingServer/Ping").redirectErrorStream(true).start();
      AtomicLong peakThreads = new AtomicLong(Bench.status(server, "Threads"));
      CompletableFuture<String> h2loadOutput = CompletableFuture.supplyAsync(() -> {
        try {
          return new String(h2load.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
      while (!h2loadOutput.isDone()) {
        peakThreads.accumulateAndGet(Bench.status(server, "Threads"), Math::max);
        Thread.sleep(50); // sampling interval of /proc, not synchronisation
      }
      Files.delete(delayedRequest);
      Matcher finished = H2LOAD_FINISHED.matcher(h2loadOutput.get());
      Matcher succeeded = H2LOAD_SUCCEEDED.matcher(h2loadOutput.get());
      if (h2load.waitFor() != 0 || !finished.find() || !succeeded.find()
          || Integer.parseInt(succeeded.group(1)) != delayedPings) {
        throw new IllegalStateException("h2load did not get every answer:\n" + h2loadOutput.get());
      }
      double allAnsweredSeconds = Double.parseDouble(finished.group(1)) / (finished.group(2).equals("ms") ? 1e3 : 1);

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

  private static final Pattern H2LOAD_FINISHED = Pattern.compile("finished in ([\\d.]+)(ms|s),");
  private static final Pattern H2LOAD_SUCCEEDED = Pattern.compile("\\d+ done, (\\d+) succeeded");

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
