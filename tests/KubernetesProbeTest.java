import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's exec probe, as the kubelet would run it: one Check, 1 s limits, grpc_health_probe's exit codes
 * (0 serving, 2 no connection, 3 the RPC failed, NOT_FOUND included, 4 not serving).
 */
class KubernetesProbeTest {

  /** The probe's arguments from the README, with {@code target} in place of its localhost:8079. */
  private static String[] probe(String target) throws Exception {
    String readme = Files.readString(TestSupport.repo().resolve("README.md"));
    Matcher block = Pattern.compile("<!-- exec-probe -->\\s*```sh\\n(.*?)\\n```", Pattern.DOTALL).matcher(readme);
    assertTrue(block.find(), "README.md has no exec-probe block");
    List<String> words = new ArrayList<>(List.of(block.group(1).trim().split("\\s+")));
    assertEquals("health-check", words.remove(0));
    assertEquals("localhost:8079", words.remove(words.size() - 1));
    words.add(target);
    return words.toArray(String[]::new);
  }

  private static int runProbe(String target) throws Exception {
    try (var probe = TestSupport.ScriptProcess.java("HealthCheck", probe(target))) {
      int exitCode = probe.awaitExit(30);
      if (exitCode == 2 || exitCode == 3) {
        probe.singleStderrLine(); // the reason: one line, no stack trace (4 prints the status on stdout)
      }
      return exitCode;
    }
  }

  @Test
  void aServingServiceIsExitZeroAfterOneCheckOnly() throws Exception {
    try (var server = TestSupport.ScriptProcess.java("PingServer", "-v", "127.0.0.1:0")) {
      int port = server.awaitListeningPort();
      assertEquals(0, runProbe("127.0.0.1:" + port));
      server.awaitStderr(line -> line.contains("grpc.health.v1.Health/Check from"), 10);
      server.signal("TERM");
      assertEquals(0, server.awaitExit(30));
      assertEquals(1, server.stderr.stream().filter(line -> line.contains("grpc.health.v1.Health/")).count(),
          "one call, a Check: " + server.stderr);
    }
  }

  @Test
  void notServingIsFourAndAnUnknownServiceIsThree() throws Exception {
    try (RunningServer server = PingServer.start("--health-status", "ping=NOT_SERVING", "127.0.0.1:0")) {
      assertEquals(4, runProbe(server.target()));
    }
    try (RunningServer server = PingServer.start("--health-service", "other", "127.0.0.1:0")) {
      assertEquals(3, runProbe(server.target()), "NOT_FOUND must fail the probe");
    }
  }

  @Test
  void noServerOrASilentOneIsTwoWithinTheOneSecondLimits() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    assertEquals(2, runProbe("127.0.0.1:" + closedPort));
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread acceptor = new Thread(() -> {
        List<Socket> held = new ArrayList<>();
        try {
          while (true) {
            held.add(silent.accept()); // accepted and never answered
          }
        } catch (java.io.IOException closed) {
          held.forEach(socket -> {
            try {
              socket.close();
            } catch (java.io.IOException ignored) {
              // closing anyway
            }
          });
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      long start = System.nanoTime();
      assertEquals(2, runProbe("127.0.0.1:" + silent.getLocalPort()));
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
      assertTrue(seconds < 10, "a silent server held the probe " + seconds + " s: it must not hang");
    }
  }
}
