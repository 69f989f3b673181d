import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import pingkit.server.PingServer;
import pingkit.server.RunningServer;

/**
 * The README's capture example, run as it reads: tshark on loopback (root) sees each call's request leave and its
 * answer come back, and the client's RTT for that call is the capture's, as the kernel stamped the same packets.
 * Both clocks are the kernel's, a few microseconds apart on the way through the capture's tap: the bounds are wide
 * enough for any machine and far narrower than the client's own time, which a clock at the application would add.
 */
class CaptureTest {
  private static final Pattern ITERATION = Pattern.compile("seq \\d+: rtt [\\d.]+ usec \\(avg of ([\\d.]+), [\\d.]+,"
      + " ([\\d.]+)\\).*");
  private static final Pattern CLIENT_PORT = Pattern.compile(".*TCP connected to .* from /127\\.0\\.0\\.1:(\\d+) .*");

  @Test
  void theCaptureSeesEachCallTakeTheRttTheClientReports() {
    TestSupport.require("root".equals(System.getProperty("user.name")) && TestSupport.onPath("tshark"),
        "a packet capture, which needs root and tshark");
    List<String> commands = ReadmeTest.block("capture-example").lines().filter(line -> line.startsWith("$ "))
        .map(line -> line.substring(2)).toList();
    assertEquals(2, commands.size(), "the capture, then the client: " + commands);
    try (RunningServer server = PingServer.start("--warmup", "0s", "127.0.0.1:0");
         var tshark = TestSupport.ScriptProcess.start(List.of("bash", "-c", "exec " + commands.get(0)
             .replaceFirst("^sudo ", "").replace("8079", "" + server.port())), TestSupport.repo())) {
      tshark.awaitStderr(line -> line.startsWith("Capturing on"), 60);
      // it says so before its capture runs: calls are made until it shows one
      ManagedChannel probe = TestSupport.plaintext(server.target());
      try {
        TestSupport.await(() -> {
          TestSupport.health(probe, "");
          return !tshark.stdout.isEmpty();
        }, 60, "the capture to see a call");
      } finally {
        TestSupport.close(probe);
      }
      try (var client = TestSupport.ScriptProcess.start(List.of("bash", "-c", commands.get(1)
          .replace("localhost:8079", server.target())), TestSupport.repo())) {
        assertEquals(0, client.awaitExit(300), client.stderr.toString());
        List<Double> reportedMicros = new ArrayList<>();
        for (String line : client.stdout) {
          Matcher iteration = ITERATION.matcher(line);
          if (iteration.matches()) {
            reportedMicros.add(Double.parseDouble(iteration.group(1))); // the iteration's first call
            reportedMicros.add(Double.parseDouble(iteration.group(2))); // and its second
          }
        }
        assertEquals(6, reportedMicros.size(), "three iterations of two calls: " + client.stdout);
        assertTrue(client.stdout.stream().anyMatch(line -> line.endsWith("(not in the RTT; RTT clock: kernel)")),
            client.stdout.toString());
        String clientPort = client.stderr.stream().map(CLIENT_PORT::matcher).filter(Matcher::matches)
            .map(port -> port.group(1)).findFirst().orElseThrow(() -> new AssertionError(client.stderr.toString()));
        // the warm-up call, then the six measured: seven answers on the client's connection
        TestSupport.await(() -> capturedMicros(tshark.stdout, clientPort).size() >= 7, 60,
            "the capture to see the client's calls: " + tshark.stdout);
        List<Double> captured = capturedMicros(tshark.stdout, clientPort);
        for (int call = 0; call < 6; call++) {
          double wire = captured.get(call + 1);
          double reported = reportedMicros.get(call);
          assertTrue(reported >= wire - 20 && reported <= wire * 1.25 + 50, "call " + (call + 1) + ": the client"
              + " reported " + reported + " us, the capture saw " + wire + " us; all: " + reportedMicros + " against "
              + captured);
        }
      }
    }
  }

  /**
   * Per stream of the client's connection, in order: from the client's packet that ended its request (the DATA
   * frame with END_STREAM) to the server's first packet on it (us). The capture's fields: time, source port,
   * destination port, then each frame's stream, type and flags.
   */
  private static List<Double> capturedMicros(List<String> capture, String clientPort) {
    Map<String, Double> sent = new LinkedHashMap<>();
    Map<String, Double> answered = new LinkedHashMap<>();
    for (String line : List.copyOf(capture)) {
      String[] fields = line.split("\t");
      if (fields.length < 6) {
        continue;
      }
      boolean fromClient = fields[1].equals(clientPort);
      if (!fromClient && !fields[2].equals(clientPort)) {
        continue; // the probe's calls
      }
      String[] streams = fields[3].split(",");
      String[] types = fields[4].split(",");
      String[] flags = fields[5].split(",");
      for (int frame = 0; frame < streams.length && frame < types.length && frame < flags.length; frame++) {
        boolean requestEnd = types[frame].equals("0") && (Integer.decode(flags[frame]) & 1) != 0;
        if (!fromClient || requestEnd) {
          (fromClient ? sent : answered).putIfAbsent(streams[frame], Double.parseDouble(fields[0]));
        }
      }
    }
    List<Double> micros = new ArrayList<>();
    sent.forEach((stream, seconds) -> {
      Double back = answered.get(stream);
      if (back != null) {
        micros.add((back - seconds) * 1e6);
      }
    });
    return micros;
  }
}
