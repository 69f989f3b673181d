import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import pingkit.WallClock;
import pingkit.server.PingServer;
import pingkit.server.RunningServer;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import pingkit.fgrpc.PingMessage;
import pingkit.fgrpc.PingServerGrpc;

/** Real servers, channels, processes and certificates for the tests; nothing here is a mock. */
final class TestSupport {
  private TestSupport() {}

  /**
   * A plaintext, a TLS and a mutual-TLS ping server on loopback (certificates of the test CA), started before a
   * class's tests and stopped after them: {@code @RegisterExtension static final TestSupport.Servers servers}.
   */
  static final class Servers implements BeforeAllCallback, AfterAllCallback {
    private RunningServer plaintext;
    private RunningServer tls;
    private RunningServer mtls;
    private Certs certs;

    @Override
    public void beforeAll(ExtensionContext context) {
      if (isNested(context)) {
        return; // @Nested classes inherit the extension: the servers of their outer class serve them
      }
      certs = TestSupport.certs();
      String cert = certs.serverCert().toString();
      String key = certs.serverKey().toString();
      plaintext = PingServer.start("127.0.0.1:0");
      tls = PingServer.start("--cert", cert, "--key", key, "127.0.0.1:0");
      mtls = PingServer.start("--cert", cert, "--key", key, "--cacert", certs.caCert().toString(), "127.0.0.1:0");
    }

    @Override
    public void afterAll(ExtensionContext context) {
      if (isNested(context)) {
        return;
      }
      plaintext.stopNow();
      tls.stopNow();
      mtls.stopNow();
    }

    private static boolean isNested(ExtensionContext context) {
      return context.getRequiredTestClass().isAnnotationPresent(org.junit.jupiter.api.Nested.class);
    }

    RunningServer plaintext() {
      return plaintext;
    }

    RunningServer tls() {
      return tls;
    }

    RunningServer mtls() {
      return mtls;
    }

    Certs certs() {
      return certs;
    }
  }

  /**
   * Skips the test, saying why, unless {@code available}; in CI (the CI variable set), whose script installs what
   * the tests need and runs as root, it fails instead: nothing skips there without a failure that says why.
   */
  static void require(boolean available, String why) {
    if (System.getenv("CI") != null && !available) {
      fail("CI must provide this: " + why);
    }
    assumeTrue(available, why);
  }

  /** Runs a client to its end and checks its exit code and its one-line message on stderr (null: not checked). */
  static void expectExit(int exitCode, String messagePart, String mainClass, String... args) {
    try (var client = ScriptProcess.java(mainClass, args)) {
      org.junit.jupiter.api.Assertions.assertEquals(exitCode, client.awaitExit(60),
          String.join(" ", args) + " stderr=" + client.stderr);
      if (messagePart != null) {
        String line = client.singleStderrLine();
        assertTrue(line.contains(messagePart), String.join(" ", args) + " said: " + line);
      }
    }
  }

  /**
   * A JVM of this runner's java and classpath, with the options every script has for the JDK's notes on Netty's
   * and protobuf's native and unsafe access (the scripts' //JAVA_OPTIONS), then {@code options} (JVM options, a
   * main class and its arguments).
   */
  static List<String> javaCommand(String... options) {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
        "-cp", System.getProperty("java.class.path")));
    command.addAll(Arrays.asList(options));
    return command;
  }

  /** The server's port on "localhost", the name its test certificate holds. */
  static String localhost(RunningServer server) {
    return "localhost:" + server.port();
  }

  static final String PYTHON = "/usr/bin/python3";

  /**
   * A new folder holding Python stubs of proto/ping.proto and of grpc.health.v1 (Debian's grpc-proto), generated
   * now by python3-grpc-tools: an independent gRPC implementation (C core) for a test to run there with
   * {@link #PYTHON}. The test is skipped without them ({@link #require}: in CI it fails).
   */
  static Path pythonGrpc() throws IOException, InterruptedException {
    Path healthProto = Path.of("/usr/share/grpc-proto/grpc/health/v1/health.proto");
    boolean available = Files.isExecutable(Path.of(PYTHON)) && Files.exists(healthProto)
        && new ProcessBuilder(PYTHON, "-c", "import grpc, grpc_tools").start().waitFor() == 0;
    require(available, "python3-grpcio, python3-grpc-tools and grpc-proto (Debian's packages) are installed");
    Path dir = Files.createTempDirectory("pingkit-python");
    // health.proto is copied out of its grpc/ folder: generated as grpc.health.v1 it would hide the grpc module
    Files.copy(healthProto, dir.resolve("health.proto"));
    run(dir, PYTHON, "-m", "grpc_tools.protoc", "-I" + repo().resolve("proto"), "-I.", "--python_out=.",
        "--grpc_python_out=.", "ping.proto", "ping_stream.proto", "health.proto");
    return dir;
  }

  /** The repository: PINGKIT_HOME, or the first folder at or above the working directory with ping-server.java. */
  static Path repo() {
    String home = System.getenv("PINGKIT_HOME");
    if (home != null) {
      return Path.of(home).toAbsolutePath();
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.exists(dir.resolve("ping-server.java")) && Files.isDirectory(dir.resolve("proto"))) {
        return dir;
      }
    }
    throw new IllegalStateException("run the tests from the repository (or set PINGKIT_HOME)");
  }

  /** A stream's observer that puts its messages {@code into} a queue and ends {@code done} with the stream. */
  static <T> io.grpc.stub.StreamObserver<T> collector(java.util.concurrent.BlockingQueue<T> into,
      CompletableFuture<Void> done) {
    return new io.grpc.stub.StreamObserver<>() {
      @Override
      public void onNext(T value) {
        into.add(value);
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        done.complete(null);
      }
    };
  }

  /** Waits for {@code condition}, checking it every millisecond, for at most {@code seconds}. */
  static void await(java.util.function.BooleanSupplier condition, int seconds, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "not within " + seconds + " s: " + what);
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
  }

  static boolean onPath(String command) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir.isEmpty() ? "." : dir, command))) {
        return true;
      }
    }
    return false;
  }

  /**
   * A streaming ping server on loopback (grpc-java) that echoes each stream's first {@code echoes} messages; the
   * next one ends the stream with ABORTED ({@code thenAbort}), or is never answered, nor any after it.
   */
  static io.grpc.Server streamServer(int echoes, boolean thenAbort) throws IOException {
    io.grpc.stub.ServerCalls.BidiStreamingMethod<PingMessage, PingMessage> echoUntilNth = replies ->
        new io.grpc.stub.StreamObserver<PingMessage>() {
          int received;

          @Override
          public void onNext(PingMessage message) {
            if (++received <= echoes) {
              replies.onNext(message.toBuilder().setTs(WallClock.nanos()).build());
            } else if (received == echoes + 1 && thenAbort) {
              replies.onError(io.grpc.Status.ABORTED.withDescription("message " + received).asRuntimeException());
            }
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {
            replies.onCompleted();
          }
        };
    return Grpc.newServerBuilderForPort(0, io.grpc.InsecureServerCredentials.create())
        .addService(io.grpc.ServerServiceDefinition.builder(pingkit.stream.PingStreamGrpc.SERVICE_NAME)
            .addMethod(pingkit.stream.PingStreamGrpc.getEchoMethod(),
                io.grpc.stub.ServerCalls.asyncBidiStreamingCall(echoUntilNth)).build())
        .build().start();
  }

  static ManagedChannel plaintext(String target) {
    return Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build();
  }

  static ManagedChannel tls(String target, Path caFile, Path clientCertFile, Path clientKeyFile) {
    try {
      var credentials = TlsChannelCredentials.newBuilder().trustManager(caFile.toFile());
      if (clientCertFile != null) {
        credentials.keyManager(clientCertFile.toFile(), clientKeyFile.toFile());
      }
      return channel(target, credentials.build(), "localhost");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static ManagedChannel channel(String target, ChannelCredentials credentials, String authority) {
    return Grpc.newChannelBuilder(target, credentials).overrideAuthority(authority).build();
  }

  static PingServerGrpc.PingServerBlockingStub ping(ManagedChannel channel) {
    return PingServerGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  static PingMessage message(long seq, String payload, long delayNanos) {
    return PingMessage.newBuilder().setSeq(seq).setPayload(payload).setDelayNanos(delayNanos).build();
  }

  static ServingStatus health(ManagedChannel channel, String service) {
    return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
  }

  static void close(ManagedChannel channel) {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---- certificates, made with openssl at test time (nothing committed can expire) -----------------------

  /** A CA, a server certificate for localhost/127.0.0.1/::1, a client certificate, and an unrelated CA. */
  record Certs(Path dir) {
    Path caCert() { return dir.resolve("ca.pem"); }
    Path serverCert() { return dir.resolve("server.pem"); }
    Path serverKey() { return dir.resolve("server.key"); }
    Path clientCert() { return dir.resolve("client.pem"); }
    Path clientKey() { return dir.resolve("client.key"); }
    Path otherCaCert() { return dir.resolve("other-ca.pem"); }
  }

  private static Certs certs;

  static synchronized Certs certs() {
    if (certs == null) {
      try {
        Path dir = Files.createTempDirectory("pingkit-certs");
        for (String ca : List.of("ca", "other-ca")) {
          run(dir, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
              "-days", "2", "-subj", "/CN=pingkit test " + ca, "-keyout", ca + ".key", "-out", ca + ".pem");
        }
        issue(dir, "server", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1");
        issue(dir, "client", "extendedKeyUsage=clientAuth");
        certs = new Certs(dir);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return certs;
  }

  private static void issue(Path dir, String name, String extension) throws IOException {
    Files.writeString(dir.resolve(name + ".ext"), extension + "\n");
    run(dir, "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-subj", "/CN=" + name, "-keyout", name + ".key", "-out", name + ".csr");
    run(dir, "openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem");
  }

  /**
   * Runs a short command in {@code dir} and returns its output, or fails the test: within 2 minutes (a command
   * that hangs is killed, and what it printed is in the failure), with nothing on its stdin.
   */
  static String run(Path dir, String... command) {
    try {
      Path output = Files.createTempFile("pingkit-run", ".out");
      try {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
            .redirectOutput(output.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().put("PINGKIT_AOT", "off"); // as in ScriptProcess.start
        Process process = builder.start();
        boolean ended = process.waitFor(120, TimeUnit.SECONDS);
        if (!ended) {
          process.descendants().forEach(ProcessHandle::destroyForcibly);
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        String printed = Files.readString(output, StandardCharsets.UTF_8);
        if (!ended || process.exitValue() != 0) {
          fail(String.join(" ", command) + (ended ? " failed" : " still running after 120 s") + ":\n" + printed);
        }
        return printed;
      } finally {
        Files.deleteIfExists(output);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A ./jbang launcher cache of our own in {@code temp} (its JBang can be taken away, its command lines are its
   * own): jbang-cli's jars copied from the cache that ran these tests.
   */
  static Path launcherCacheOfOurOwn(Path temp) throws IOException {
    String cacheHome = System.getenv().getOrDefault("XDG_CACHE_HOME", System.getProperty("user.home") + "/.cache");
    Path realCli = Path.of(System.getenv().getOrDefault("PINGKIT_CACHE", cacheHome + "/pingkit"))
        .resolve("jbang-cli-0.132.1+gson-2.14.0");
    require(Files.isDirectory(realCli.resolve("lib")), "the tests run through ./jbang, which made " + realCli);
    Path cache = Files.createDirectories(temp.resolve("cache"));
    Path lib = Files.createDirectories(cache.resolve("jbang-cli-0.132.1+gson-2.14.0/lib"));
    try (var jars = Files.list(realCli.resolve("lib"))) {
      for (Path jar : jars.toList()) {
        Files.copy(jar, lib.resolve(jar.getFileName()));
      }
    }
    return cache;
  }

  // ---- processes --------------------------------------------------------------------------------------

  /** A script's main class run as its own JVM, with this runner's classpath, its output read as it comes. */
  static final class ScriptProcess implements AutoCloseable {
    final Process process;
    final List<String> stdout = new CopyOnWriteArrayList<>();
    final List<String> stderr = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Void> stdoutClosed = new CompletableFuture<>();
    private final CompletableFuture<Void> stderrClosed = new CompletableFuture<>();

    /** Every process started, so that none outlives the run (a test that timed out never closed its own). */
    private static final List<Process> STARTED = new CopyOnWriteArrayList<>();

    static {
      Runtime.getRuntime().addShutdownHook(new Thread(() -> STARTED.stream().filter(Process::isAlive).forEach(p -> {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      })));
    }

    private ScriptProcess(Process process) {
      this.process = process;
      STARTED.add(process);
      pump(new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)), stdout,
          stdoutClosed);
      pump(new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8)), stderr,
          stderrClosed);
    }

    /** Starts {@code mainClass} (e.g. "PingServerCommand") of the scripts compiled into this runner. */
    static ScriptProcess java(String mainClass, String... args) {
      List<String> command = javaCommand("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", mainClass);
      command.addAll(Arrays.asList(args));
      return start(command, repo());
    }

    static ScriptProcess start(List<String> command, Path dir) {
      return start(command, dir, java.util.Map.of());
    }

    /**
     * Runs {@code command} in {@code dir}, its environment changed by {@code environment} (null: unset). Scripts
     * run by ./jbang neither use nor make AOT caches unless {@code environment} sets PINGKIT_AOT: a training in the
     * background would take the CPU of the tests after it (AotCacheTest tests the caches).
     */
    static ScriptProcess start(List<String> command, Path dir, java.util.Map<String, String> environment) {
      try {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        builder.environment().put("PINGKIT_AOT", "off");
        environment.forEach((name, value) -> {
          if (value == null) {
            builder.environment().remove(name);
          } else {
            builder.environment().put(name, value);
          }
        });
        return new ScriptProcess(builder.start());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private static void pump(BufferedReader reader, List<String> lines, CompletableFuture<Void> closed) {
      Thread thread = new Thread(() -> {
        try (reader) {
          for (String line; (line = reader.readLine()) != null; ) {
            synchronized (lines) {
              lines.add(line);
              lines.notifyAll();
            }
          }
        } catch (IOException e) {
          // the process ended: nothing more to read
        } finally {
          synchronized (lines) {
            closed.complete(null);
            lines.notifyAll();
          }
        }
      }, "test-output-pump");
      thread.setDaemon(true);
      thread.start();
    }

    /** Waits for the first stdout line matching {@code wanted}; fails after {@code seconds} or at exit. */
    String awaitStdout(Predicate<String> wanted, int seconds) {
      return await(stdout, stdoutClosed, wanted, seconds, "stdout");
    }

    String awaitStderr(Predicate<String> wanted, int seconds) {
      return await(stderr, stderrClosed, wanted, seconds, "stderr");
    }

    private String await(List<String> lines, CompletableFuture<Void> closed, Predicate<String> wanted, int seconds,
        String stream) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      synchronized (lines) {
        while (true) {
          for (String line : lines) {
            if (wanted.test(line)) {
              return line;
            }
          }
          long left = deadline - System.nanoTime();
          if (left <= 0 || (!process.isAlive() && closed.isDone())) {
            fail("no expected line on " + stream + " within " + seconds + " s; stdout=" + stdout + " stderr="
                + stderr);
          }
          try {
            // short waits: the process may end without a line to wake us
            lines.wait(Math.max(1, Math.min(100, TimeUnit.NANOSECONDS.toMillis(left))));
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        }
      }
    }

    /** For a server: waits for "listening on tcp HOST:PORT" and returns the port. */
    int awaitListeningPort() {
      // a first ./jbang run compiles the script first
      String line = awaitStdout(l -> l.startsWith("listening on "), 300);
      return Integer.parseInt(line.substring(line.lastIndexOf(':') + 1));
    }

    /**
     * Sends a signal ("TERM", "INT") the way a shell's kill does. Process.destroy() would also close our ends of
     * the process's pipes, losing what it prints as it stops.
     */
    void signal(String name) {
      run(repo(), "kill", "-" + name, Long.toString(process.pid()));
    }

    int awaitExit(int seconds) {
      try {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
          throw new TimeoutException("still running after " + seconds + " s; stderr=" + stderr);
        }
        // both streams read to their end: what the process printed last is there to check
        CompletableFuture.allOf(stdoutClosed, stderrClosed).get(30, TimeUnit.SECONDS);
        return process.exitValue();
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }

    /** The whole of stderr once the process ended: a single line, and never a stack trace. */
    String singleStderrLine() {
      assertTrue(stderr.size() == 1, "expected one line on stderr, got " + stderr);
      assertTrue(stderr.stream().noneMatch(l -> l.contains("Exception") || l.startsWith("\tat ")),
          "stack trace on stderr: " + stderr);
      return stderr.get(0);
    }

    @Override
    public void close() {
      process.destroyForcibly();
    }
  }

  /**
   * A memory cgroup (v1 or v2) of {@code limitBytes}, as a pod's limit: the processes {@link #wrap}ped run in it,
   * and the JVM sizes itself from it. Needs root and a writable cgroup tree; the test is skipped otherwise.
   */
  static final class MemoryCgroup implements AutoCloseable {
    private static final Path V1 = Path.of("/sys/fs/cgroup/memory");
    private static final Path V2 = Path.of("/sys/fs/cgroup");
    final Path dir;
    private final boolean v2;

    private MemoryCgroup(Path dir, boolean v2) {
      this.dir = dir;
      this.v2 = v2;
    }

    static MemoryCgroup create(long limitBytes) throws IOException {
      boolean v2 = !Files.exists(V1.resolve("memory.limit_in_bytes"))
          && Files.exists(V2.resolve("cgroup.subtree_control"))
          && Files.readString(V2.resolve("cgroup.subtree_control")).contains("memory");
      Path root = v2 ? V2 : V1;
      require(Files.isWritable(root), "a writable memory cgroup tree (root, and " + V1 + " or " + V2
          + " with the memory controller)");
      Path dir = root.resolve("pingkit-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
      Files.createDirectory(dir);
      MemoryCgroup cgroup = new MemoryCgroup(dir, v2);
      Files.writeString(dir.resolve(v2 ? "memory.max" : "memory.limit_in_bytes"), "" + limitBytes);
      if (!v2) {
        Files.writeString(dir.resolve("memory.swappiness"), "0"); // a pod has no swap: the limit is the limit
      }
      return cgroup;
    }

    /** {@code command}, run in this cgroup (a shell moves itself in, then becomes the command). */
    List<String> wrap(List<String> command) {
      List<String> wrapped = new ArrayList<>(List.of("sh", "-c", "echo $$ > \"$0\" && exec \"$@\"",
          dir.resolve("cgroup.procs").toString()));
      wrapped.addAll(command);
      return wrapped;
    }

    /** How many times the kernel's OOM killer has killed a process of this cgroup. */
    long oomKills() throws IOException {
      return Files.readAllLines(dir.resolve(v2 ? "memory.events" : "memory.oom_control")).stream()
          .filter(line -> line.startsWith("oom_kill ")).mapToLong(line -> Long.parseLong(line.substring(9).trim()))
          .sum();
    }

    /** Removes the cgroup; its processes must have ended (the kernel refuses otherwise). */
    @Override
    public void close() throws IOException {
      for (int attempt = 0; ; attempt++) {
        try {
          Files.delete(dir);
          return;
        } catch (IOException e) {
          if (attempt == 50) {
            throw e;
          }
          java.util.concurrent.locks.LockSupport.parkNanos(100_000_000); // its last process is being reaped
        }
      }
    }
  }

  /**
   * Hosts made of network namespaces on one bridge, each with its own address ({@code prefix}.1, .2, ... in the
   * order given) and its own /etc/hosts ({@code ip netns exec} mounts /etc/netns/NAME/hosts over it). Needs root
   * and iproute2; the test is skipped otherwise. Closing removes them.
   */
  static final class Hosts implements AutoCloseable {
    private final String bridge;
    private final String prefix;
    private final List<String> namespaces;

    Hosts(String bridge, String prefix, List<String> namespaces) throws IOException {
      require("root".equals(System.getProperty("user.name")) && onPath("ip"),
          "network namespaces, which need root and iproute2");
      this.bridge = bridge;
      this.prefix = prefix;
      this.namespaces = namespaces;
      close(); // what a killed run left
      ip("link", "add", bridge, "type", "bridge");
      ip("link", "set", bridge, "up");
      for (int i = 0; i < namespaces.size(); i++) {
        String namespace = namespaces.get(i);
        String veth = bridge + "-" + i;
        ip("netns", "add", namespace);
        ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", namespace);
        ip("link", "set", veth, "master", bridge, "up");
        ip("-n", namespace, "addr", "add", address(namespace) + "/24", "dev", "eth0");
        ip("-n", namespace, "link", "set", "eth0", "up");
        ip("-n", namespace, "link", "set", "lo", "up");
        Files.createDirectories(Path.of("/etc/netns", namespace));
        Files.writeString(Path.of("/etc/netns", namespace, "hosts"), "127.0.0.1 localhost\n");
      }
    }

    String address(String namespace) {
      return prefix + "." + (namespaces.indexOf(namespace) + 1);
    }

    /** Makes {@code name} resolve to {@code namespace}'s address on every host. */
    void name(String name, String namespace) throws IOException {
      for (String host : namespaces) {
        Files.writeString(Path.of("/etc/netns", host, "hosts"), address(namespace) + " " + name + "\n",
            java.nio.file.StandardOpenOption.APPEND);
      }
    }

    private static void ip(String... args) throws IOException {
      List<String> command = new ArrayList<>(List.of("ip"));
      command.addAll(Arrays.asList(args));
      run(Path.of("/"), command.toArray(String[]::new));
    }

    @Override
    public void close() throws IOException {
      for (String namespace : namespaces) {
        new ProcessBuilder("ip", "netns", "delete", namespace).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().onExit().join();
        Path hosts = Path.of("/etc/netns", namespace);
        if (Files.exists(hosts)) {
          Files.deleteIfExists(hosts.resolve("hosts"));
          Files.deleteIfExists(hosts);
        }
      }
      new ProcessBuilder("ip", "link", "delete", bridge).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().onExit().join();
    }
  }
}
