import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import pingkit.server.PingServer;
import pingkit.server.RunningServer;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's exec probe, as the kubelet would run it: one Check, 1 s limits, grpc_health_probe's exit codes
 * (0 serving, 2 no connection, 3 the RPC failed, NOT_FOUND included, 4 not serving).
 */
class KubernetesProbeTest {

  /**
   * The probe's arguments from the README, with {@code target} in place of its localhost:8079; {@code patient}: its
   * 1 s limits made 10 s, for the cases where a cold JVM on a loaded machine must get its answer, not fail fast.
   */
  private static String[] probe(String target, boolean patient) throws Exception {
    String readme = Files.readString(TestSupport.repo().resolve("README.md"));
    Matcher block = Pattern.compile("<!-- exec-probe -->\\s*```sh\\n(.*?)\\n```", Pattern.DOTALL).matcher(readme);
    assertTrue(block.find(), "README.md has no exec-probe block");
    List<String> words = new ArrayList<>(List.of(block.group(1).trim().split("\\s+")));
    assertEquals("health-check", words.remove(0));
    assertEquals("localhost:8079", words.remove(words.size() - 1));
    words.add(target);
    return words.stream().map(word -> patient && word.equals("1s") ? "10s" : word).toArray(String[]::new);
  }

  private static int runProbe(String target) throws Exception {
    return runProbe(target, true, null);
  }

  /** Runs the probe; {@code said}: what its one line on stderr must hold (null: not checked). */
  private static int runProbe(String target, boolean patient, String said) throws Exception {
    try (var probe = TestSupport.ScriptProcess.java("HealthCheckCommand", probe(target, patient))) {
      int exitCode = probe.awaitExit(60);
      if (exitCode == 2 || exitCode == 3) {
        String line = probe.singleStderrLine(); // the reason: one line, no stack trace (4 prints the status)
        assertTrue(said == null || line.contains(said), line);
      }
      return exitCode;
    }
  }

  @Test
  void aServingServiceIsExitZeroAfterOneCheckOnly() throws Exception {
    try (var server = TestSupport.ScriptProcess.java("PingServerCommand", "-v", "127.0.0.1:0")) {
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
    assertEquals(2, runProbe("127.0.0.1:" + closedPort, false, "connection refused"));
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
      // the README's 1 s limit, not the 5 s default, is what gave up
      assertEquals(2, runProbe("127.0.0.1:" + silent.getLocalPort(), false, "within 1s (--connect-timeout)"));
    }
  }
}
