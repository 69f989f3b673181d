// The training run of a script's AOT cache, made by the ./jbang launcher (its README section says when): the role's
// real command lines in one JVM, over loopback, against a real peer, so that the JVM records the classes they load
// and the methods they run hot. In every script's jar through lib/Pingkit.java.

package pingkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import picocli.CommandLine.Command;

/**
 * A training run: the script's own command line (its JVM options, class path and main class) with
 * {@code -Dpingkit.training=LAUNCHER}, which {@link Pingkit#execute} hands to {@link #run} in place of the user's
 * arguments. The clients train against a ping-server started with LAUNCHER; ping-server trains in this JVM, called
 * by ping-client and health-check processes started with it. It exits 0 only when every command line succeeded:
 * the launcher keeps no cache of a failed training.
 */
final class Training {
  /** How long a peer started by the launcher may take to listen: on a first run it is compiled first. */
  private static final long PEER_START_SECONDS = 300;
  private static final long PEER_RUN_SECONDS = 120;

  /** A new command of the role: picocli fills a command's fields once. */
  private final Supplier<Callable<Integer>> newCommand;
  private final Path launcher;
  private final Path scratch;

  private Training(Supplier<Callable<Integer>> newCommand, Path launcher, Path scratch) {
    this.newCommand = newCommand;
    this.launcher = launcher;
    this.scratch = scratch;
  }

  /** Runs the training of the role of the commands {@code newCommand} makes; 0 when every command line succeeded. */
  static int run(Supplier<Callable<Integer>> newCommand, Path launcher) {
    Path scratch = null;
    try {
      scratch = Files.createTempDirectory("pingkit-training");
      Training training = new Training(newCommand, launcher, scratch);
      String role = newCommand.get().getClass().getAnnotation(Command.class).name();
      return switch (role) {
        case "ping-server" -> training.server();
        case "ping-client" -> training.againstServer(target -> List.of(
            List.of("-n", "300", target),
            List.of("--stream", "-n", "300", target),
            List.of("--delay", "1ms", "-n", "20", target),
            List.of("-c", "8", "-qps", "2000", "-t", "3s", target),
            List.of("-c", "8", "-qps", "0", "-t", "3s", target),
            List.of("-n", "20", "--json", training.file("ping.json"), target),
            List.of("--method", "fgrpc.PingServer/Ping", "-d", "{\"payload\": \"x\"}", "-n", "300", target),
            List.of("--method", "fgrpc.PingServer/Ping", "-c", "8", "-qps", "0", "-t", "2s", target),
            List.of("--list", "fgrpc.PingServer", target),
            List.of("--merge", training.file("ping.json"), training.file("ping.json"))));
        case "health-check" -> training.againstServer(target -> List.of(
            List.of("-n", "300", target),
            List.of("--watch", "--timeout", "1s", target),
            List.of("-c", "4", "-qps", "0", "-t", "3s", target),
            List.of("-n", "20", "--json", training.file("health.json"), target),
            List.of("--merge", training.file("health.json"), training.file("health.json"))));
        default -> throw new IllegalArgumentException("no training for " + role);
      };
    } catch (Exception e) {
      System.err.println("training: " + Pingkit.oneLine(e));
      return Pingkit.EXIT_USAGE;
    } finally {
      deleteAll(scratch);
    }
  }

  /** The clients' training: each command line run here, against a ping-server process. */
  private int againstServer(Function<String, List<List<String>>> runs) throws Exception {
    Process server = peer(ProcessBuilder.Redirect.PIPE, "ping-server.java", "127.0.0.1:0");
    try {
      String listening = firstLine(server, "listening on tcp ");
      String target = listening.substring(listening.lastIndexOf(' ') + 1);
      for (List<String> args : runs.apply(target)) {
        int exitCode = Pingkit.executeCommandLine(newCommand.get(), args.toArray(String[]::new));
        if (exitCode != Pingkit.EXIT_OK) {
          throw new IllegalStateException(args + " exited " + exitCode);
        }
      }
      return Pingkit.EXIT_OK;
    } finally {
      server.destroy();
      server.waitFor(PEER_RUN_SECONDS, TimeUnit.SECONDS);
      server.destroyForcibly();
    }
  }

  /**
   * ping-server's training: the server runs here and serves client processes (unary pings, delayed ones, a stream,
   * a load, health checks and a watch), then drains on SIGTERM, as a stopped server does.
   */
  private int server() throws Exception {
    String target = "127.0.0.1:" + freePort();
    CompletableFuture<Integer> serving = CompletableFuture.supplyAsync(
        () -> Pingkit.executeCommandLine(newCommand.get(), target));
    List<List<String>> clients = List.of(
        List.of("health-check.java", "--wait-for-serving", "--timeout", "60s", target),
        List.of("ping-client.java", "-n", "300", target),
        List.of("ping-client.java", "--delay", "1ms", "-n", "20", target),
        List.of("ping-client.java", "--stream", "-n", "300", target),
        List.of("ping-client.java", "-c", "8", "-qps", "0", "-t", "3s", target),
        List.of("health-check.java", "-n", "300", target),
        List.of("health-check.java", "--watch", "--timeout", "1s", target));
    try {
      for (List<String> client : clients) {
        Process process = peer(ProcessBuilder.Redirect.DISCARD, client.toArray(String[]::new));
        if (!process.waitFor(PEER_RUN_SECONDS, TimeUnit.SECONDS) || process.exitValue() != Pingkit.EXIT_OK) {
          process.destroyForcibly();
          throw new IllegalStateException(client + " failed");
        }
      }
    } finally {
      sun.misc.Signal.raise(new sun.misc.Signal("TERM"));
    }
    return serving.get(PEER_RUN_SECONDS, TimeUnit.SECONDS);
  }

  /** A script of the repository run with the launcher, as a user runs it (stderr discarded). */
  private Process peer(ProcessBuilder.Redirect stdout, String... scriptAndArgs) throws IOException {
    List<String> commandLine = new ArrayList<>(List.of(launcher.toString()));
    commandLine.addAll(List.of(scriptAndArgs));
    return new ProcessBuilder(commandLine).directory(launcher.getParent().toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .redirectOutput(stdout).redirectError(ProcessBuilder.Redirect.DISCARD).start();
  }

  private static String firstLine(Process process, String prefix) throws Exception {
    BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8));
    CompletableFuture<String> found = CompletableFuture.supplyAsync(() -> {
      try {
        for (String line; (line = lines.readLine()) != null; ) {
          if (line.startsWith(prefix)) {
            return line;
          }
        }
        throw new IllegalStateException("the peer ended before '" + prefix + "'");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    return found.get(PEER_START_SECONDS, TimeUnit.SECONDS);
  }

  private String file(String name) {
    return scratch.resolve(name).toString();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static void deleteAll(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      // a temporary folder left behind
    }
  }
}
