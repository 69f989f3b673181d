import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;

/** A server killed, stopped with calls in flight, or restarted: what clients see, and nothing lost. */
class FaultTest {
  /** "Well under" the 15 s a user would wait before calling a killed server's client hung. */
  private static final int CLIENT_GIVES_UP_SECONDS = 15;

  @Test
  void sigkillDuringContinuousPingsEndsTheClientWithExitTwoOrThreeAndOneLine() {
    try (var server = TestSupport.ScriptProcess.java("PingServerCommand", "127.0.0.1:0")) {
      int port = server.awaitListeningPort();
      try (var client = TestSupport.ScriptProcess.java("PingClientCommand", "-n", "0", "-i", "100ms",
          "127.0.0.1:" + port)) {
        client.awaitStdout(line -> line.startsWith("seq 1:"), 60);
        server.signal("KILL");
        int exitCode = client.awaitExit(CLIENT_GIVES_UP_SECONDS);
        assertTrue(exitCode == 2 || exitCode == 3, "exit " + exitCode + " stderr=" + client.stderr);
        String error = client.singleStderrLine();
        assertTrue(error.contains("UNAVAILABLE") || error.contains("connection refused"),
            "the failed call's status: " + error);
        assertTrue(client.stdout.stream().anyMatch(line -> line.startsWith("RTT histogram usec : count")),
            "the iterations before the failure are reported: " + client.stdout);
      }
    }
  }

  /**
   * A server that freezes (SIGSTOP: its kernel still takes the bytes, the process answers nothing) ends a watch,
   * which hears nothing while nothing changes, and continuous pings, whose call times out: each exits 2, saying
   * that the server answers nothing, once a health check on the same connection went unanswered for
   * --connect-timeout; the watch checks every --connect-timeout.
   */
  @Test
  void aFrozenServerEndsAWatchAndContinuousPingsWithExitTwo() {
    try (var server = TestSupport.ScriptProcess.java("PingServerCommand", "--warmup", "0s", "127.0.0.1:0")) {
      String target = "127.0.0.1:" + server.awaitListeningPort();
      try (var watch = TestSupport.ScriptProcess.java("HealthCheckCommand", "--watch", "--connect-timeout", "1s", target);
           var pings = TestSupport.ScriptProcess.java("PingClientCommand", "-n", "0", "-i", "100ms", "--timeout", "1s",
               "--connect-timeout", "1s", target)) {
        watch.awaitStdout(line -> line.endsWith(" SERVING"), 60);
        pings.awaitStdout(line -> line.startsWith("seq 2:"), 60);
        server.signal("STOP");
        try {
          for (var client : List.of(watch, pings)) {
            // the limit is what a loaded machine needs; without the checks the watch would wait for ever
            assertEquals(2, client.awaitExit(60), "stderr=" + client.stderr);
            String error = client.singleStderrLine();
            assertTrue(error.contains(" answers nothing, not even a health check within 1s (--connect-timeout)"),
                error);
          }
          assertTrue(pings.stdout.stream().anyMatch(line -> line.startsWith("RTT histogram usec : count")),
              "the iterations before the failure are reported: " + pings.stdout);
        } finally {
          server.signal("CONT");
        }
      }
    }
  }

  @Test
  void sigkillDuringALoadRunStopsItWithAPartialReport() {
    try (var server = TestSupport.ScriptProcess.java("PingServerCommand", "-v", "127.0.0.1:0")) {
      int port = server.awaitListeningPort();
      try (var client = TestSupport.ScriptProcess.java("PingClientCommand", "-c", "2", "-qps", "50", "-t", "60s",
          "--connect-timeout", "2s", "127.0.0.1:" + port)) {
        // -v logs each ping as it arrives: 20 of them (2 are the warm-up) and the run is under way
        awaitLines(server, line -> line.contains("ping seq="), 20, 60);
        server.signal("KILL");
        int exitCode = client.awaitExit(30); // -t is 60 s: the client must notice the server is gone
        assertTrue(exitCode == 2 || exitCode == 3, "exit " + exitCode + " stderr=" + client.stderr);
        String report = String.join("\n", client.stdout);
        assertTrue(report.contains("Ended after "), report);
        assertTrue(report.contains("# target 50% "), "a histogram: " + report);
        assertTrue(count(report, "Ping SERVING") > 0, "calls answered before the kill: " + report);
        assertTrue(count(report, "Ping UNAVAILABLE") > 0, "calls failed after the kill: " + report);
        // calls made once the connection was gone reached no server: they are counted under "none"
        assertTrue(report.lines().anyMatch(line -> line.matches("Backend none : \\d+ calls, .*errors \\d+")), report);
        assertTrue(report.lines().anyMatch(line -> line.startsWith("Backend 127.0.0.1:" + port + " : ")), report);
        // one line says why the run stopped; a warning that the client fell behind its schedule may come first
        assertTrue(client.stderr.stream().anyMatch(line -> line.contains("the report above is partial")),
            client.stderr.toString());
        assertTrue(client.stderr.stream().allMatch(line -> line.startsWith("ping-client: ")),
            "one-line messages only: " + client.stderr);
      }
    }
  }

  @Test
  void sigtermWithAThousandDelayedPingsInFlightAnswersEveryOneRefusesNewCallsAndExitsZero() throws Exception {
    int pings = 1000;
    // 1,000 pings sent and logged (-v) take over 2 s on a loaded 2-core machine: 10 s (the --max-delay) keeps
    // them all in flight
    long delayNanos = TimeUnit.SECONDS.toNanos(10);
    try (var server = TestSupport.ScriptProcess.java("PingServerCommand", "-v", "127.0.0.1:0")) {
      String target = "127.0.0.1:" + server.awaitListeningPort();
      List<ManagedChannel> channels = new ArrayList<>();
      try {
        for (int c = 0; c < 4; c++) {
          channels.add(TestSupport.plaintext(target));
        }
        var watch = new LinkedBlockingQueue<ServingStatus>();
        HealthGrpc.newStub(channels.get(0)).watch(HealthCheckRequest.newBuilder().setService("ping").build(),
            new StreamObserver<HealthCheckResponse>() {
              @Override
              public void onNext(HealthCheckResponse value) {
                watch.add(value.getStatus());
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            });
        assertEquals(ServingStatus.SERVING, watch.poll(10, TimeUnit.SECONDS));
        List<ListenableFuture<PingMessage>> inFlight = new ArrayList<>();
        for (int seq = 0; seq < pings; seq++) {
          var stub = PingServerGrpc.newFutureStub(channels.get(seq % channels.size()))
              .withDeadlineAfter(60, TimeUnit.SECONDS);
          inFlight.add(stub.ping(TestSupport.message(seq, "", delayNanos)));
        }
        awaitLines(server, line -> line.contains("ping seq="), pings, 30);
        assertEquals(0, inFlight.stream().filter(ListenableFuture::isDone).count(),
            "pings answered before SIGTERM: they were not all in flight");
        server.signal("TERM");
        assertEquals(ServingStatus.NOT_SERVING, watch.poll(10, TimeUnit.SECONDS));
        // the watch's own connection: the client told NOT_SERVING must find new calls already refused there
        assertRefused(channels.get(0), "a new call on the connection that reported NOT_SERVING");
        ManagedChannel fresh = TestSupport.plaintext(target);
        try {
          assertRefused(fresh, "a new connection to the draining server");
        } finally {
          TestSupport.close(fresh);
        }
        int answered = 0;
        for (int seq = 0; seq < pings; seq++) {
          try {
            assertEquals(seq, inFlight.get(seq).get(60, TimeUnit.SECONDS).getSeq());
            answered++;
          } catch (ExecutionException e) {
            // counted: every lost ping shows in the total below
          }
        }
        assertEquals(pings, answered, "pings in flight at SIGTERM answered OK");
        assertEquals(0, server.awaitExit(30), "stderr: " + server.stderr);
      } finally {
        channels.forEach(TestSupport::close);
      }
    }
  }

  @Test
  void aServerRestartedOnThePortOfOneJustStoppedListensAndAnswers() {
    int port;
    try (var first = TestSupport.ScriptProcess.java("PingServerCommand", "127.0.0.1:0")) {
      port = first.awaitListeningPort();
      ManagedChannel channel = TestSupport.plaintext("127.0.0.1:" + port);
      try {
        assertEquals(1, TestSupport.ping(channel).ping(TestSupport.message(1, "first", 0)).getSeq());
        // stopped with the connection open: the server closes it, leaving its side of it in TIME_WAIT
        first.signal("TERM");
        assertEquals(0, first.awaitExit(30), "stderr: " + first.stderr);
      } finally {
        TestSupport.close(channel);
      }
    }
    try (var second = TestSupport.ScriptProcess.java("PingServerCommand", "127.0.0.1:" + port)) {
      assertEquals(port, second.awaitListeningPort(), "stderr: " + second.stderr);
      ManagedChannel channel = TestSupport.plaintext("127.0.0.1:" + port);
      try {
        assertEquals(2, TestSupport.ping(channel).ping(TestSupport.message(2, "second", 0)).getSeq());
      } finally {
        TestSupport.close(channel);
      }
    }
  }

  /**
   * A second signal stops at once (exit 130): a draining server with calls in flight cuts them, and a client
   * waiting for a long call in flight exits without its report.
   */
  @Test
  void aSecondSignalStopsTheServerAndAClientAtOnceWithExit130() throws Exception {
    try (var server = TestSupport.ScriptProcess.java("PingServerCommand", "-v", "--max-delay", "60s", "127.0.0.1:0")) {
      String target = "127.0.0.1:" + server.awaitListeningPort();
      ManagedChannel channel = TestSupport.plaintext(target);
      try {
        List<ListenableFuture<PingMessage>> inFlight = fiveMinuteLongPingsInFlight(channel);
        server.signal("TERM");
        server.awaitStderr(line -> line.contains("draining"), 30); // heard: the next signal is a second one
        server.signal("TERM");
        assertEquals(130, server.awaitExit(30), "stderr: " + server.stderr);
        assertTrue(server.stderr.stream().anyMatch(line -> line.contains("second signal: stopping now")),
            server.stderr.toString());
        for (var call : inFlight) {
          assertThrows(ExecutionException.class, () -> call.get(30, TimeUnit.SECONDS), "a call was cut");
        }
        // a client whose 60 s ping is in flight: the first signal waits for it, the second does not
        try (var other = TestSupport.ScriptProcess.java("PingServerCommand", "-v", "--max-delay", "60s", "127.0.0.1:0")) {
          String otherTarget = "127.0.0.1:" + other.awaitListeningPort();
          try (var client = TestSupport.ScriptProcess.java("PingClientCommand", "-v", "-n", "0", "--delay", "60s",
              "--timeout", "120s", otherTarget)) {
            other.awaitStderr(line -> line.contains("delay=60s"), 60); // its first ping is at the server
            client.signal("TERM");
            // heard: two signals sent at once could arrive as one
            client.awaitStderr(line -> line.contains("stopping: the report comes"), 30);
            client.signal("TERM");
            assertEquals(130, client.awaitExit(30), "stderr: " + client.stderr);
            assertTrue(client.stdout.stream().noneMatch(line -> line.startsWith("RTT histogram")),
                "no report after a second signal: " + client.stdout);
          }
        }
      } finally {
        TestSupport.close(channel);
      }
    }
  }

  /** --drain-timeout: calls still in flight when it is up are cut, and the server says how many. */
  @Test
  void aDrainTimeoutCutsTheCallsStillInFlightAndSaysHowMany() throws Exception {
    try (var server = TestSupport.ScriptProcess.java("PingServerCommand", "--drain-timeout", "1s", "--max-delay", "60s",
        "127.0.0.1:0")) {
      String target = "127.0.0.1:" + server.awaitListeningPort();
      ManagedChannel channel = TestSupport.plaintext(target);
      try {
        List<ListenableFuture<PingMessage>> inFlight = fiveMinuteLongPingsInFlight(channel);
        server.signal("TERM");
        assertEquals(0, server.awaitExit(30), "stderr: " + server.stderr);
        assertTrue(server.stderr.stream().anyMatch(line -> line.contains(
            "5 call(s) still in flight after --drain-timeout 1s were cut")), server.stderr.toString());
        for (var call : inFlight) {
          assertThrows(ExecutionException.class, () -> call.get(30, TimeUnit.SECONDS), "a call was cut");
        }
      } finally {
        TestSupport.close(channel);
      }
    }
  }

  /** A server that dies during checks: the checks so far are reported, then the failed one, in one line. */
  @Test
  void sigkillDuringHealthChecksReportsTheChecksSoFarThenTheFailure() {
    try (var server = TestSupport.ScriptProcess.java("PingServerCommand", "-v", "127.0.0.1:0")) {
      int port = server.awaitListeningPort();
      try (var client = TestSupport.ScriptProcess.java("HealthCheckCommand", "-n", "1000000", "127.0.0.1:" + port)) {
        awaitLines(server, line -> line.contains("grpc.health.v1.Health/Check from"), 20, 60);
        server.signal("KILL");
        int exitCode = client.awaitExit(CLIENT_GIVES_UP_SECONDS);
        assertTrue(exitCode == 2 || exitCode == 3, "exit " + exitCode + " stderr=" + client.stderr);
        String error = client.singleStderrLine();
        assertTrue(error.contains("UNAVAILABLE") || error.contains("connection refused"), error);
        String report = String.join("\n", client.stdout);
        assertTrue(report.contains("RTT histogram usec : count"), report);
        assertTrue(count(report, "Health SERVING") >= 20, "the checks before the kill: " + report);
      }
    }
  }

  // ---- helpers ------------------------------------------------------------------------------------------

  /** Five pings that a server (of --max-delay 60s) holds a minute, in flight there when this returns. */
  private static List<ListenableFuture<PingMessage>> fiveMinuteLongPingsInFlight(ManagedChannel channel) {
    var stub = PingServerGrpc.newFutureStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS);
    List<ListenableFuture<PingMessage>> inFlight = new ArrayList<>();
    for (int seq = 0; seq < 5; seq++) {
      inFlight.add(stub.ping(TestSupport.message(seq, "", TimeUnit.SECONDS.toNanos(60))));
    }
    // the server reads a connection's streams in order: once this one is answered, the 5 are in flight
    assertEquals(99, TestSupport.ping(channel).ping(TestSupport.message(99, "marker", 0)).getSeq());
    return inFlight;
  }

  private static void assertRefused(ManagedChannel channel, String what) {
    var failure = assertThrows(StatusRuntimeException.class,
        () -> TestSupport.ping(channel).ping(TestSupport.message(-1, "new", 0)), what + " was answered");
    assertEquals(Status.Code.UNAVAILABLE, failure.getStatus().getCode(), what + ": " + failure);
  }

  /** The N of a report line "PREFIX : N", or 0 when there is no such line. */
  private static long count(String report, String prefix) {
    Matcher line = Pattern.compile("(?m)^" + Pattern.quote(prefix) + " : (\\d+)").matcher(report);
    return line.find() ? Long.parseLong(line.group(1)) : 0;
  }

  /** Waits until {@code count} lines of the process's stderr match {@code wanted}; fails after {@code seconds}. */
  private static void awaitLines(TestSupport.ScriptProcess process, Predicate<String> wanted, int count,
      int seconds) {
    long deadlineNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    synchronized (process.stderr) {
      long seen;
      while ((seen = process.stderr.stream().filter(wanted).count()) < count) {
        long leftMillis = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
        if (leftMillis <= 0 || !process.process.isAlive()) {
          fail(seen + " of " + count + " expected lines on stderr within " + seconds + " s");
        }
        try {
          process.stderr.wait(Math.min(100, leftMillis)); // the output pump notifies on each line
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      }
    }
  }
}
