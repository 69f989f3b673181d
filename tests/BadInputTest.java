import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import pingkit.server.PingServer;
import pingkit.server.RunningServer;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Bad input through the three scripts as processes, one table: for each row the documented exit code, one line on
 * stderr that names the problem, no stack trace anywhere, and an end (never a hang: a minute is what a loaded
 * machine may take to start a JVM and see a refusal).
 */
class BadInputTest {
  private static final int EXIT_WITHIN_SECONDS = 60;
  // two cores: two JVMs at a time keeps the class short
  private static final int PROCESSES_AT_ONCE = 2;
  private static final Map<String, String> MAIN_CLASSES =
      Map.of("ping-client", "PingClientCommand", "health-check", "HealthCheckCommand", "ping-server", "PingServerCommand");
  private static final String UNRESOLVABLE_HOST = "no-such-host.invalid";

  private static TestSupport.Certs certs;
  private static Path dir;
  private static Path hostsFile;
  private static Path classArchive;
  private static RunningServer plaintext;
  private static RunningServer tls;
  private static RunningServer mtls;
  private static RunningServer expiredTls;
  private static RunningServer smallMessages;
  private static HttpServer http1;
  private static FakeServer silent;
  private static FakeServer closesAtOnce;
  private static ServerSocket occupied;
  private static int closedPort;

  @BeforeAll
  static void startFixtures() throws IOException {
    certs = TestSupport.certs();
    dir = Files.createTempDirectory("pingkit-bad-input");
    hostsFile = Files.writeString(dir.resolve("hosts"), "127.0.0.1 localhost\n");
    plaintext = PingServer.start("127.0.0.1:0");
    // the scripts start from a cache of their classes, and so do these runs: ~0.4 s less CPU each, on 2 cores
    classArchive = dir.resolve("classes.jsa");
    List<String> archiving = javaCommand(List.of("-XX:ArchiveClassesAtExit=" + classArchive));
    archiving.addAll(List.of("HealthCheckCommand", plaintext.target()));
    TestSupport.run(dir, archiving.toArray(String[]::new));
    tls = PingServer.start("--cert", certs.serverCert().toString(), "--key", certs.serverKey().toString(),
        "127.0.0.1:0");
    mtls = PingServer.start("--cert", certs.serverCert().toString(), "--key", certs.serverKey().toString(),
        "--cacert", certs.caCert().toString(), "127.0.0.1:0");
    smallMessages = PingServer.start("--max-message-size", "64KiB", "127.0.0.1:0");
    Path expiredCert = expiredServerCertificate();
    expiredTls = PingServer.start("--cert", expiredCert.toString(), "--key",
        expiredCert.resolveSibling("expired.key").toString(), "127.0.0.1:0");
    http1 = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    http1.createContext("/", exchange -> {
      exchange.sendResponseHeaders(404, -1);
      exchange.close();
    });
    http1.start();
    silent = new FakeServer(connection -> {}); // accepts, then reads nothing and writes nothing
    closesAtOnce = new FakeServer(Socket::close);
    occupied = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    try (ServerSocket free = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      closedPort = free.getLocalPort();
    }
  }

  @AfterAll
  static void stopFixtures() throws IOException {
    for (RunningServer server : new RunningServer[] {plaintext, tls, mtls, expiredTls, smallMessages}) {
      server.stopNow();
    }
    http1.stop(0);
    silent.close();
    closesAtOnce.close();
    occupied.close();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    }
  }

  /** One row: the case's name starts with its script's name; the rest of the row is what it must end with. */
  record Case(String name, List<String> args, int exitCode, String messagePart) {
    String mainClass() {
      return MAIN_CLASSES.get(name.substring(0, name.indexOf(' ')));
    }

    /** The command line, for failure messages. */
    String commandLine() {
      return mainClass() + " " + String.join(" ", args);
    }
  }

  private static Case row(String name, int exitCode, String messagePart, String... args) {
    return new Case(name, List.of(args), exitCode, messagePart);
  }

  private static List<Case> table() throws IOException {
    String target = plaintext.target();
    String silentTarget = "127.0.0.1:" + silent.port();
    String closingTarget = "127.0.0.1:" + closesAtOnce.port();
    String http1Target = "127.0.0.1:" + http1.getAddress().getPort();
    String closedTarget = "127.0.0.1:" + closedPort;
    String tlsTarget = "localhost:" + tls.port();
    String ca = certs.caCert().toString();
    String serverCert = certs.serverCert().toString();
    String serverKey = certs.serverKey().toString();
    String missing = dir.resolve("missing.pem").toString();
    String unreadable = unreadableFile().toString();
    String notPem = Files.writeString(dir.resolve("not-pem.pem"), "not a certificate\n").toString();
    String existingPath = Files.writeString(dir.resolve("existing.sock"), "").toString();
    String noDirectory = dir.resolve("no-such-dir/ping.sock").toString();
    String local = "127.0.0.1:0"; // a server case that starts after all stays on loopback
    return List.of(
        // ---- ping-client: arguments
        row("ping-client --no-such-flag", 1, "Unknown option: '--no-such-flag'", "--no-such-flag", target),
        row("ping-client <no target>", 1, "Missing required parameter: 'TARGET'"),
        row("ping-client -H novalue", 1, "-H 'novalue': expected 'key: value'", "-H", "novalue", target),
        row("ping-client host:port:x", 1, "target 'host:port:x': too many ':'", "host:port:x"),
        row("ping-client [::1", 1, "target '[::1': '[' without ']'", "[::1"),
        row("ping-client 127.0.0.1:70000", 1, "port '70000' is not 1-65535", "127.0.0.1:70000"),
        row("ping-client -n -1", 1, "-n must be 0", "-n", "-1", target),
        row("ping-client --window 4 without load", 1, "--window is for load mode over streams", "--stream",
            "--window", "4", target),
        row("ping-client --window 4 at a fixed rate", 1, "--window is for -qps 0", "--stream", "-qps", "10",
            "--window", "4", target),
        row("ping-client --window 0", 1, "--window must be 1 to 10000", "--stream", "-qps", "0", "--window", "0",
            target),
        row("ping-client -n ten", 1, "'ten' is not an int", "-n", "ten", target),
        row("ping-client -c 0", 1, "-c must be 1 to 10000", "-c", "0", target),
        row("ping-client -qps -5", 1, "-qps must be 0", "-qps", "-5", target),
        row("ping-client -qps fast", 1, "'fast' is not a double", "-qps", "fast", target),
        row("ping-client --delay soon", 1, "'soon' is not a duration", "--delay", "soon", target),
        row("ping-client -t -1s", 1, "'-1s' is not a duration", "-t", "-1s", target),
        row("ping-client --lb random", 1, "--lb 'random': pick_first or round_robin", "--lb", "random", target),
        row("ping-client --lb round_robin unix:", 1, "a Unix socket is one", "--lb", "round_robin",
            "unix:" + existingPath),
        row("ping-client ftp://host", 1, "only http://, https://, dns:/// and unix: are understood", "ftp://host"),
        row("ping-client --start-at noon", 1, "--start-at 'noon' is not a time", "-c", "1", "--start-at", "noon",
            target),
        row("ping-client --start-at tomorrow+1", 1, "is more than a day away", "-c", "1", "--start-at", "+25h",
            target),
        row("ping-client --start-at without load", 1, "--start-at is for load mode", "--start-at", "+1s", target),
        row("ping-client --hlog without load", 1, "--hlog is for load mode", "--hlog", "x.hlog", target),
        row("ping-client --hlog <no directory>", 1, "--hlog: cannot write " + noDirectory, "-c", "1", "--hlog",
            noDirectory, target),
        row("ping-client --hlog-interval 1ms", 1, "--hlog-interval must be 10ms or more", "-c", "1", "--hlog",
            dir.resolve("short.hlog").toString(), "--hlog-interval", "1ms", target),
        row("ping-client --merge <missing file>", 1, "--merge: " + missing + " cannot be read", "--merge", missing),
        row("ping-client --merge <not JSON>", 1, "--merge: " + notPem + " is not JSON", "--merge", notPem),
        row("ping-client --merge with a TARGET flag", 1, "-n is for a run", "--merge", notPem, "-n", "3"),
        row("ping-client --payload-size 67108865", 1, "--payload-size must be 0 to 64MiB", "--payload-size",
            "67108865", target),
        row("ping-client --payload-size 100000 <server limit 64KiB>", 3,
            "RESOURCE_EXHAUSTED: gRPC message exceeds maximum size", "--payload-size", "100000",
            smallMessages.target()),
        // ---- ping-client: the user's own method (--method, --list; more rows in MethodTest, on its servers)
        row("ping-client --method <unknown service>", 1, "no service 'no.Such' in the server's reflection at "
            + target + "; it offers: fgrpc.PingServer, grpc.health.v1.Health", "--method", "no.Such/Call", target),
        row("ping-client --method <unknown method>", 1, "service fgrpc.PingServer has no method 'Pong'; its methods:"
            + " Ping", "--method", "fgrpc.PingServer/Pong", target),
        row("ping-client --method <no method name>", 1, "--method 'fgrpc': expected SERVICE/METHOD", "--method",
            "fgrpc", target),
        row("ping-client --data <not JSON>", 1, "--data is not JSON: malformed at line 1 column 13", "--method",
            "fgrpc.PingServer/Ping", "--data", "{\"payload\": x}", target),
        row("ping-client --data <unknown field>", 1, "--data does not fit fgrpc.PingMessage at field paylod:",
            "--method", "fgrpc.PingServer/Ping", "--data", "{\"paylod\": \"x\"}", target),
        row("ping-client --data @<missing>", 1, "--data @" + missing + ": no such file", "--method",
            "fgrpc.PingServer/Ping", "--data", "@" + missing, target),
        row("ping-client --method <bidi stream>", 1, "pingkit.PingStream/Echo is a bidirectional-streaming method:"
            + " --method calls unary methods only", "--method", "pingkit.PingStream/Echo", target),
        row("ping-client --data without --method", 1, "--data is for --method (or --list)", "--data", "{}", target),
        row("ping-client --protoset <missing>", 1, "--protoset " + missing + ": no such file", "--protoset",
            missing, "--method", "fgrpc.PingServer/Ping", target),
        row("ping-client --protoset <not one>", 1, "--protoset " + notPem + ": cannot read it as a FileDescriptorSet",
            "--protoset", notPem, "--list"),
        row("ping-client --list with --method", 1, "--list and --method: give one or the other", "--list",
            "--method", "fgrpc.PingServer/Ping", target),
        row("ping-client --method with --delay", 1, "--delay, --stream, --window and --payload-size are for pings",
            "--method", "fgrpc.PingServer/Ping", "--delay", "1ms", target),
        row("ping-client --compression zstd", 1, "--compression 'zstd': gzip or identity", "--compression", "zstd",
            target),
        // ---- ping-client: TLS files
        row("ping-client --cacert <missing>", 1, "--cacert " + missing + ": no such file", "--cacert", missing,
            tlsTarget),
        row("ping-client --cacert <unreadable>", 1, "--cacert " + unreadable + ": cannot read it", "--cacert",
            unreadable, tlsTarget),
        row("ping-client --cacert <not PEM>", 1, "--cacert " + notPem + ": not a PEM certificate", "--cacert",
            notPem, tlsTarget),
        row("ping-client --cert <without --key>", 1, "--cert and --key go together", "--cacert", ca,
            "--cert", certs.clientCert().toString(), "localhost:" + mtls.port()),
        row("ping-client --key <not PEM>", 1, "--key " + notPem + ": not a PEM private key", "--cacert", ca,
            "--cert", certs.clientCert().toString(), "--key", notPem, "localhost:" + mtls.port()),
        // ---- ping-client: connections
        row("ping-client <closed port>", 2, "connection refused by " + closedTarget, closedTarget),
        row("ping-client <unresolvable name>", 2, "cannot resolve " + UNRESOLVABLE_HOST,
            UNRESOLVABLE_HOST + ":8079"),
        row("ping-client <HTTP/1.1 server>", 2, "is not a gRPC (HTTP/2) server", http1Target),
        row("ping-client <silent TCP server>", 2, "no gRPC connection to " + silentTarget + " within 2s",
            "--connect-timeout", "2s", silentTarget),
        row("ping-client <server that closes at once>", 2,
            closingTarget + " closed the connection before the HTTP/2 handshake", closingTarget),
        row("ping-client <plaintext to TLS server>", 2, "speaks TLS: add --cacert FILE, --tls or -k", tlsTarget),
        row("ping-client --cacert <to plaintext server>", 2, "speaks plaintext, not TLS", "--cacert", ca,
            "localhost:" + plaintext.port()),
        row("ping-client --cacert <wrong CA>", 2, "not signed by a trusted CA", "--cacert",
            certs.otherCaCert().toString(), tlsTarget),
        row("ping-client --authority wrong.example", 2, "does not name 'wrong.example'", "--cacert", ca,
            "--authority", "wrong.example", tlsTarget),
        row("ping-client <expired certificate>", 2, "has expired", "--cacert", ca,
            "localhost:" + expiredTls.port()),
        row("ping-client <mTLS without client certificate>", 2, "requires a client certificate", "--cacert", ca,
            "localhost:" + mtls.port()),
        row("ping-client unix:<missing socket>", 2, "no Unix socket at " + noDirectory, "unix:" + noDirectory),
        // ---- health-check: arguments
        row("health-check --no-such-flag", 1, "Unknown option: '--no-such-flag'", "--no-such-flag", target),
        row("health-check <no target>", 1, "Missing required parameter: 'TARGET'"),
        row("health-check [::1]:70000", 1, "port '70000' is not 1-65535", "[::1]:70000"),
        row("health-check -n 0", 1, "-n must be 1 or more", "-n", "0", target),
        row("health-check -c x", 1, "'x' is not an int", "-c", "x", target),
        row("health-check -qps -1", 1, "-qps must be 0", "-qps", "-1", target),
        row("health-check --timeout 1fortnight", 1, "'1fortnight' is not a duration", "--timeout", "1fortnight",
            target),
        // ---- health-check: TLS files
        row("health-check --cert <without --key>", 1, "--cert and --key go together", "--cert",
            certs.clientCert().toString(), target),
        row("health-check --key <of another certificate>", 1, "does not match the certificate", "--cacert", ca,
            "--cert", certs.clientCert().toString(), "--key", serverKey, "localhost:" + mtls.port()),
        row("health-check --cert <unreadable>", 1, "--cert " + unreadable + ": cannot read it", "--cert",
            unreadable, "--key", certs.clientKey().toString(), tlsTarget),
        // ---- health-check: connections
        row("health-check <closed port>", 2, "connection refused by " + closedTarget, closedTarget),
        row("health-check <unresolvable name>", 2, "cannot resolve " + UNRESOLVABLE_HOST,
            UNRESOLVABLE_HOST),
        row("health-check <HTTP/1.1 server>", 2, "is not a gRPC (HTTP/2) server", http1Target),
        row("health-check <silent TCP server>", 2, "no gRPC connection to " + silentTarget + " within 2s",
            "--connect-timeout", "2s", silentTarget),
        row("health-check <server that closes at once>", 2,
            closingTarget + " closed the connection before the HTTP/2 handshake", closingTarget),
        row("health-check --tls <to plaintext server>", 2, "speaks plaintext, not TLS", "--tls",
            "localhost:" + plaintext.port()),
        row("health-check <expired certificate>", 2, "has expired", "--cacert", ca,
            "localhost:" + expiredTls.port()),
        // ---- ping-server
        row("ping-server --no-such-flag", 1, "Unknown option: '--no-such-flag'", "--no-such-flag", local),
        row("ping-server 127.0.0.1:70000", 1, "LISTEN '127.0.0.1:70000' is not PORT", "127.0.0.1:70000"),
        row("ping-server host:port:x", 1, "LISTEN 'host:port:x' is not PORT", "host:port:x"),
        row("ping-server --max-streams -1", 1, "--max-streams must be 0", "--max-streams", "-1", local),
        row("ping-server --max-streams many", 1, "'many' is not an int", "--max-streams", "many", local),
        row("ping-server --max-delay soon", 1, "'soon' is not a duration", "--max-delay", "soon", local),
        row("ping-server --handshake-timeout 0", 1, "--handshake-timeout must be more than 0",
            "--handshake-timeout", "0", local),
        row("ping-server --max-message-size 0", 1, "'0' is out of range", "--max-message-size", "0", local),
        row("ping-server --max-inflight-bytes lots", 1, "'lots' is not a size in bytes", "--max-inflight-bytes",
            "lots", local),
        row("ping-server <port in use>", 2, "address already in use", "127.0.0.1:" + occupied.getLocalPort()),
        row("ping-server <socket path exists>", 2, "cannot listen on unix " + existingPath + ": the path exists",
            existingPath),
        row("ping-server <socket directory missing>", 2, "no directory " + dir.resolve("no-such-dir"),
            noDirectory),
        row("ping-server <unresolvable name>", 2, "cannot listen on " + UNRESOLVABLE_HOST + ": unknown host",
            UNRESOLVABLE_HOST + ":0"),
        row("ping-server --cert <missing>", 1, "--cert " + missing + ": no such file", "--cert", missing,
            "--key", serverKey, local),
        row("ping-server --cert <unreadable>", 1, "--cert " + unreadable + ": cannot read it", "--cert",
            unreadable, "--key", serverKey, local),
        row("ping-server --cert <not PEM>", 1, "--cert " + notPem + ": not a PEM certificate", "--cert", notPem,
            "--key", serverKey, local),
        row("ping-server --key <not PEM>", 1, "--key " + notPem + ": not a PEM private key", "--cert", serverCert,
            "--key", notPem, local),
        row("ping-server --cert <without --key>", 1, "--cert and --key go together", "--cert", serverCert, local),
        row("ping-server --key <of another certificate>", 1, "does not match the certificate", "--cert",
            serverCert, "--key", certs.clientKey().toString(), local),
        row("ping-server --cacert <missing>", 1, "--cacert " + missing + ": no such file", "--cert", serverCert,
            "--key", serverKey, "--cacert", missing, local),
        row("ping-server --cacert <without --cert>", 1, "--cacert and --mtls need TLS", "--cacert", ca, local));
  }

  @TestFactory
  Stream<DynamicTest> eachBadInputEndsWithItsExitCodeAndOneLineNamingTheProblem() throws IOException {
    List<Case> cases = table();
    assertTrue(cases.size() >= 30, "the issue asks for at least 30 cases: " + cases.size());
    ExecutorService runner = Executors.newFixedThreadPool(PROCESSES_AT_ONCE, work -> {
      Thread thread = new Thread(work, "bad-input-runner");
      thread.setDaemon(true);
      return thread;
    });
    List<Future<Ended>> ended = new ArrayList<>();
    for (Case c : cases) {
      ended.add(runner.submit(() -> runToItsEnd(c)));
    }
    runner.shutdown(); // the submitted runs go on; the pool's threads end after the last
    return IntStream.range(0, cases.size()).mapToObj(i ->
        DynamicTest.dynamicTest(cases.get(i).name(), () -> check(cases.get(i), ended.get(i))));
  }

  /** A case's process once it has ended: its exit code and everything it printed. */
  record Ended(int exitCode, List<String> stdout, List<String> stderr) {}

  /**
   * Runs the case's process to its end, which must come within a minute of its start. Its output goes to files, which
   * are complete once it has exited (a pipe's reader may still be behind then).
   */
  private static Ended runToItsEnd(Case c) throws IOException, InterruptedException {
    // names resolve from a file listing only localhost: no case, even a broken one, sends a DNS query out
    List<String> command = javaCommand(List.of("-XX:SharedArchiveFile=" + classArchive,
        "-Djdk.net.hosts.file=" + hostsFile));
    command.add(c.mainClass());
    command.addAll(c.args());
    Path stdout = Files.createTempFile(dir, "stdout", ".txt");
    Path stderr = Files.createTempFile(dir, "stderr", ".txt");
    Process process = new ProcessBuilder(command).directory(TestSupport.repo().toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
    if (!process.waitFor(EXIT_WITHIN_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
      throw new AssertionError("still running " + EXIT_WITHIN_SECONDS + " s after its start: " + c.commandLine()
          + "\n  stdout: " + lines(stdout) + "\n  stderr: " + lines(stderr));
    }
    return new Ended(process.exitValue(), lines(stdout), lines(stderr));
  }

  /** A JVM with this runner's classpath and the scripts' options; its notes on class-data sharing stay silent. */
  private static List<String> javaCommand(List<String> jvmOptions) {
    List<String> command = TestSupport.javaCommand("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
        "-Xlog:cds=off", "-Xlog:cds+dynamic=off");
    command.addAll(jvmOptions);
    return command;
  }

  private static List<String> lines(Path file) throws IOException {
    return new String(Files.readAllBytes(file), StandardCharsets.UTF_8).lines().toList();
  }

  private static void check(Case c, Future<Ended> run) throws InterruptedException {
    Ended ended;
    try {
      ended = run.get();
    } catch (ExecutionException e) {
      throw new AssertionError(e.getCause().getMessage(), e.getCause());
    }
    String output = "\n  command: " + c.commandLine() + "\n  stdout: " + ended.stdout() + "\n  stderr: "
        + ended.stderr();
    List<String> everything = new ArrayList<>(ended.stdout());
    everything.addAll(ended.stderr());
    assertTrue(everything.stream().noneMatch(line -> line.contains("Exception") || line.startsWith("\tat ")),
        "a stack trace or an exception's name was printed:" + output);
    assertEquals(c.exitCode(), ended.exitCode(), "exit code" + output);
    assertEquals(1, ended.stderr().size(), "stderr must be one line" + output);
    assertTrue(ended.stderr().get(0).contains(c.messagePart()),
        "stderr must name the problem ('" + c.messagePart() + "')" + output);
  }

  // ---- fixtures ------------------------------------------------------------------------------------------

  /**
   * A file this user cannot read: mode 000, or, for root (whom mode 000 does not stop), a directory, which no
   * one can read as a file.
   */
  private static Path unreadableFile() throws IOException {
    Path file = Files.writeString(dir.resolve("unreadable.pem"), "-----BEGIN CERTIFICATE-----\n");
    Files.setPosixFilePermissions(file, Set.of());
    if (Files.isReadable(file)) {
      return Files.createDirectories(dir.resolve("a-directory.pem"));
    }
    return file;
  }

  /**
   * A certificate for localhost/127.0.0.1/::1 signed by the test CA, valid only on 1 January 2020, and its key
   * beside it (expired.key). openssl 3.0 has no x509 -not_after: openssl ca sets the dates.
   */
  private static Path expiredServerCertificate() throws IOException {
    Path caDir = Files.createDirectories(dir.resolve("expired-ca"));
    Files.writeString(caDir.resolve("ca.cnf"), """
        [ca]
        default_ca = test_ca
        [test_ca]
        database = index.txt
        new_certs_dir = .
        serial = serial
        default_md = sha256
        policy = any_name
        unique_subject = no
        [any_name]
        commonName = supplied
        [server]
        subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
        """);
    Files.writeString(caDir.resolve("index.txt"), "");
    Files.writeString(caDir.resolve("serial"), "01\n");
    TestSupport.run(caDir, "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-subj", "/CN=expired", "-keyout", "expired.key", "-out", "expired.csr");
    TestSupport.run(caDir, "openssl", "ca", "-batch", "-config", "ca.cnf", "-cert", certs.caCert().toString(),
        "-keyfile", certs.dir().resolve("ca.key").toString(), "-in", "expired.csr", "-out", "expired.pem",
        "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-extensions", "server", "-notext");
    return caDir.resolve("expired.pem");
  }

  /** A TCP server on loopback that hands each accepted connection to {@code onAccept} and keeps it open. */
  private static final class FakeServer implements AutoCloseable {
    private final ServerSocket socket;
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();

    interface OnAccept {
      void accept(Socket connection) throws IOException;
    }

    FakeServer(OnAccept onAccept) throws IOException {
      socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread acceptor = new Thread(() -> {
        while (!socket.isClosed()) {
          Socket connection;
          try {
            connection = socket.accept();
          } catch (IOException e) {
            return; // the server socket was closed: the fixture ends
          }
          accepted.add(connection);
          try {
            onAccept.accept(connection);
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
      }, "fake-server-" + socket.getLocalPort());
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return socket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      socket.close();
      for (Socket connection : accepted) {
        connection.close();
      }
    }
  }
}
