// Helpers shared by the bench/ scripts (each pulls this file with //SOURCES).

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/** Processes, ports, medians and the results file of the benchmarks. */
final class Bench {
  /** grpc-java's benchmark client and server: the newest version published on Maven Central. */
  static final String GRPC_BENCHMARKS = "io.grpc:grpc-benchmarks:1.79.0";

  private Bench() {}

  /** Starts a process, its stderr discarded (JBang's build messages, JVM warnings). */
  static Process start(String... command) throws IOException {
    return start(java.util.Map.of(), command);
  }

  /** Starts a process with {@code env} added to its environment (a null value unsets), its stderr discarded. */
  static Process start(java.util.Map<String, String> env, String... command) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
    env.forEach((name, value) -> {
      if (value == null) {
        builder.environment().remove(name);
      } else {
        builder.environment().put(name, value);
      }
    });
    return builder.start();
  }

  /**
   * Makes the three scripts' AOT caches before anything is measured (the launcher would otherwise train in the
   * background, after a script's first run, on the cores a benchmark measures), unless PINGKIT_AOT=off.
   */
  static void trainCaches() throws IOException, InterruptedException {
    if ("off".equals(System.getenv("PINGKIT_AOT"))) {
      return; // the scripts run without their caches (CI's smoke runs)
    }
    for (String script : new String[] {"ping-server.java", "ping-client.java", "health-check.java"}) {
      output(java.util.Map.of("PINGKIT_AOT", "wait"), "./jbang", script, "--version");
    }
  }

  /**
   * Starts ping-server on a free loopback port (added to {@code servers}) and returns its address; {@code flags}
   * go before the address.
   */
  static String startPingServer(java.util.List<Process> servers, String... flags) throws IOException {
    java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("./jbang", "ping-server.java"));
    command.addAll(java.util.List.of(flags));
    command.add("127.0.0.1:0");
    Process server = start(command.toArray(String[]::new));
    servers.add(server);
    return listeningAddress(server);
  }

  /** Starts grpc-java's AsyncServer in its fastest setting (epoll, direct executor) and waits for it. */
  static int startAsyncServer(java.util.List<Process> servers) throws IOException, InterruptedException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    servers.add(start("./jbang", "--main=io.grpc.benchmarks.qps.AsyncServer", GRPC_BENCHMARKS,
        "--address=127.0.0.1:" + port, "--transport=netty_epoll", "--directexecutor"));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
        return port;
      } catch (IOException notYet) {
        Thread.sleep(100); // AsyncServer prints nothing when ready: poll its port
      }
    }
    throw new IllegalStateException("AsyncServer did not listen on " + port);
  }

  static void stopAll(java.util.List<Process> processes) throws InterruptedException {
    for (Process process : processes) {
      process.destroy();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** Runs a command to its end (stderr discarded): its stdout; a non-zero exit throws, with that output. */
  static String output(String... command) throws IOException, InterruptedException {
    return output(java.util.Map.of(), command);
  }

  /** {@link #output(String...)} with {@code env} added to the command's environment. */
  static String output(java.util.Map<String, String> env, String... command) throws IOException,
      InterruptedException {
    Process process = start(env, command);
    String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (process.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed:\n" + output);
    }
    return output;
  }

  private static final java.util.regex.Pattern ASYNC_CLIENT_QPS = java.util.regex.Pattern.compile("QPS:\\s+(\\d+)");

  /**
   * grpc-java's AsyncClient (epoll, direct executor, empty messages) against AsyncServer at {@code port}:
   * {@code channels} x {@code outstanding} calls in flight (streams with "--streaming_rpcs" in {@code flags}), its
   * rate over {@code seconds} after {@code warmupSeconds}.
   */
  static double asyncClientQps(int port, int channels, int outstanding, int warmupSeconds, int seconds,
      String... flags) throws IOException, InterruptedException {
    java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("./jbang",
        "--main=io.grpc.benchmarks.qps.AsyncClient", GRPC_BENCHMARKS, "--address=127.0.0.1:" + port,
        "--channels=" + channels, "--outstanding_rpcs=" + outstanding, "--client_payload=0", "--server_payload=0",
        "--duration=" + seconds, "--warmup_duration=" + warmupSeconds, "--transport=netty_epoll",
        "--directexecutor"));
    command.addAll(java.util.List.of(flags));
    String output = output(command.toArray(String[]::new));
    java.util.regex.Matcher rate = ASYNC_CLIENT_QPS.matcher(output);
    if (!rate.find()) {
      throw new IllegalStateException("unexpected AsyncClient output:\n" + output);
    }
    return Double.parseDouble(rate.group(1));
  }

  /** Whether {@code command} is an executable on the PATH. */
  static boolean onPath(String command) {
    return Arrays.stream(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
        .anyMatch(dir -> Files.isExecutable(Path.of(dir.isEmpty() ? "." : dir, command)));
  }

  /** The address a ping-server prints once listening ("listening on tcp HOST:PORT"). */
  static String listeningAddress(Process server) throws IOException {
    String line = new java.io.BufferedReader(new java.io.InputStreamReader(server.getInputStream(),
        java.nio.charset.StandardCharsets.UTF_8)).readLine();
    if (line == null || !line.startsWith("listening on tcp ")) {
      throw new IllegalStateException("ping-server did not start: " + line);
    }
    return line.substring("listening on tcp ".length());
  }

  /** The median over the rounds of column {@code over} / column {@code under}. */
  static double medianRatio(double[][] rounds, int over, int under) {
    double[] ratios = Arrays.stream(rounds).mapToDouble(round -> round[over] / round[under]).sorted().toArray();
    return ratios[ratios.length / 2];
  }

  static double median(double[][] rounds, int column) {
    double[] sorted = Arrays.stream(rounds).mapToDouble(round -> round[column]).sorted().toArray();
    return sorted[sorted.length / 2];
  }

  /** A field of /proc/PID/status, in its unit (kB for memory). */
  static long status(Process process, String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
      if (line.startsWith(field + ":")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no " + field + " in /proc status");
  }

  /** Appends a report to bench/RESULTS.md (run from the repository). */
  static void appendResults(String report) throws IOException {
    Path results = Path.of("bench", "RESULTS.md");
    Files.writeString(results, Files.readString(results) + "\n" + report);
    System.out.println("appended to " + results);
  }
}
