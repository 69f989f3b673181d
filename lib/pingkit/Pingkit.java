// Shared by ping-server.java, ping-client.java, health-check.java and the tests: the one place that declares the
// stubs jar and pins every dependency, plus the helpers the scripts share.
//JAVA 25+
//DEPS io.grpc:grpc-bom:1.85.1@pom
//DEPS io.grpc:grpc-netty-shaded io.grpc:grpc-protobuf io.grpc:grpc-stub io.grpc:grpc-services
//DEPS com.google.protobuf:protobuf-java:3.25.9 com.google.guava:guava:33.6.0-jre com.google.code.gson:gson:2.14.0
//DEPS info.picocli:picocli:4.7.7
//DEPS org.hdrhistogram:HdrHistogram:2.2.2
//DEPS ../ping-stubs.jar
// sun.misc.Signal (jdk.unsupported) is how a JVM handles SIGINT/SIGTERM itself; -XDignore.symbol.file keeps javac
// quiet about it. Sources are UTF-8 and so is all text in and out, whatever the locale: javac takes the locale's
// charset (ASCII in the POSIX locale) for sources, and Java 19+ for stdout and stderr.
//COMPILE_OPTIONS -encoding UTF-8 -XDignore.symbol.file
//JAVA_OPTIONS -Dfile.encoding=UTF-8 -Dstdout.encoding=UTF-8 -Dstderr.encoding=UTF-8
// Netty loads its epoll library and protobuf reads arrays through sun.misc.Unsafe: both allowed, as on Java 17,
// without the JDK's warning lines for them (JDK 24+) on every run's stderr
//JAVA_OPTIONS --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow

package pingkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** What every pingkit command shares: versions, exit codes, one-line errors, running a command, durations, signals. */
public final class Pingkit {
  public static final String VERSION = "0.1.0";
  static final String GRPC_VERSION = "1.85.1";

  // One table for every script (grpc_health_probe's numbering), documented in the README.
  public static final int EXIT_OK = 0;
  public static final int EXIT_USAGE = 1;
  public static final int EXIT_CONNECTION = 2;
  public static final int EXIT_RPC_FAILED = 3;
  public static final int EXIT_UNHEALTHY = 4;
  /** A second Ctrl-C (or SIGTERM) stopped the run at once: 128 + SIGINT, as shells report it. */
  public static final int EXIT_INTERRUPTED = 130;

  public static final String EXIT_CODES_FOOTER = """

      Exit codes:
        0  success
        1  invalid arguments or unreadable files
        2  connection failure (refused, unreachable, TLS handshake, cannot listen)
        3  the RPC failed (a non-OK gRPC status)
        4  unhealthy (a health answer other than SERVING)
        130  a second Ctrl-C stopped it at once""";

  static {
    // Netty's buffer allocator registers Flight Recorder events when JFR is present: a good part of a start-up,
    // for events only a JFR recording would read. -Dio.grpc.netty.shaded.io.netty.jfr.enabled=true restores them.
    System.getProperties().putIfAbsent("io.grpc.netty.shaded.io.netty.jfr.enabled", "false");
    // Netty's sampled leak detection costs a busy server CPU (B2), to find leaks in gRPC itself;
    // -Dio.grpc.netty.shaded.io.netty.leakDetection.level=simple restores it.
    System.getProperties().putIfAbsent("io.grpc.netty.shaded.io.netty.leakDetection.level", "disabled");
  }

  private Pingkit() {}

  /** A failure to report to the user as one line, with the exit code it maps to. */
  public static class UserError extends RuntimeException {
    public final int exitCode;

    public UserError(int exitCode, String message) {
      super(message);
      this.exitCode = exitCode;
    }

    public UserError(int exitCode, String message, Throwable cause) {
      super(message, cause);
      this.exitCode = exitCode;
    }
  }

  /**
   * Runs a script's command line, or with {@code -Dpingkit.training=LAUNCHER} (the launcher making the script's AOT
   * cache) the role's {@link Training} in its place, which makes a new command for each of its command lines.
   */
  public static int execute(Supplier<Callable<Integer>> newCommand, String... args) {
    String launcher = System.getProperty("pingkit.training");
    return launcher != null ? Training.run(newCommand, Path.of(launcher))
        : executeCommandLine(newCommand.get(), args);
  }

  /** Runs a picocli command: usage errors and failures become one line on stderr and an exit code. */
  static int executeCommandLine(Callable<Integer> command, String... args) {
    CommandLine commandLine = newCommandLine(command);
    String name = commandLine.getCommandName();
    commandLine.setParameterExceptionHandler((e, ignoredArgs) -> {
      System.err.println(name + ": " + e.getMessage() + " (see " + name + " --help)");
      return EXIT_USAGE;
    });
    commandLine.setExecutionExceptionHandler((e, ignoredCommandLine, ignoredParseResult) -> {
      if (e instanceof UserError userError) {
        // one line, whatever a cause's text held (gRPC's descriptions may hold line breaks)
        System.err.println(name + ": " + userError.getMessage().replaceAll("\\s*\\R\\s*", " "));
        return userError.exitCode;
      }
      System.err.println(name + ": unexpected failure: " + oneLine(e) + " (please report it)");
      return EXIT_USAGE;
    });
    return commandLine.execute(args);
  }

  /** Parses command-line arguments into a command's fields, as {@link #execute} would, for the static APIs. */
  public static <T> T parse(T command, String... args) {
    try {
      newCommandLine(command).parseArgs(args);
      return command;
    } catch (CommandLine.ParameterException e) {
      throw new UserError(EXIT_USAGE, e.getMessage());
    }
  }

  private static CommandLine newCommandLine(Object command) {
    return new CommandLine(command)
        .setExpandAtFiles(false) // an @FILE argument is --data's (curl's and grpcurl's sense), not picocli's
        .registerConverter(Duration.class, Pingkit::parseDuration)
        .setCaseInsensitiveEnumValuesAllowed(true);
  }

  /** --version of every script: the script, pingkit's version and grpc-java's. */
  public static final class Version implements CommandLine.IVersionProvider {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public String[] getVersion() {
      return new String[] {spec.name() + " (pingkit) " + VERSION + ", grpc-java " + GRPC_VERSION};
    }
  }

  /** A throwable and its causes as one line: what a user can act on, without a stack trace. */
  public static String oneLine(Throwable error) {
    StringBuilder line = new StringBuilder();
    for (Throwable t = error; t != null && line.length() < 300; t = t.getCause()) {
      String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
      if (line.indexOf(message) < 0) {
        line.append(line.length() == 0 ? "" : ": ").append(message);
      }
    }
    return line.toString().replaceAll("\\s+", " ").trim();
  }

  private static final Pattern BYTE_SIZE = Pattern.compile("(\\d+)\\s*(b|k|kb|kib|m|mb|mib)?");

  /** Parses a byte count: {@code 4194304}, {@code 512KiB}, {@code 4MiB} (k and m are binary units). */
  public static int parseByteSize(String text) {
    Matcher m = BYTE_SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new CommandLine.TypeConversionException(
          "'" + text + "' is not a size in bytes (examples: 65536, 512KiB, 4MiB)");
    }
    String unit = m.group(2) == null ? "b" : m.group(2);
    long multiplier = unit.startsWith("m") ? 1 << 20 : unit.startsWith("k") ? 1 << 10 : 1;
    long bytes;
    try {
      bytes = Math.multiplyExact(Long.parseLong(m.group(1)), multiplier);
    } catch (ArithmeticException | NumberFormatException e) {
      bytes = Long.MAX_VALUE;
    }
    if (bytes < 1 || bytes > Integer.MAX_VALUE) {
      throw new CommandLine.TypeConversionException("'" + text + "' is out of range (1 byte to 2GiB)");
    }
    return (int) bytes;
  }

  /** {@code bytes} as the flags take it: 4MiB, 64KiB, or a number of bytes. */
  public static String formatByteSize(long bytes) {
    return bytes % (1 << 20) == 0 ? bytes / (1 << 20) + "MiB" : bytes % (1 << 10) == 0 ? bytes / (1 << 10) + "KiB"
        : Long.toString(bytes);
  }

  public static final class ByteSizeConverter implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      return parseByteSize(value);
    }
  }

  private static final Pattern DURATION =
      Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)\\s*(ns|us|µs|ms|s|m|h)?");

  /** Parses {@code 250us}, {@code 100ms}, {@code 1.5s}, {@code 2m}, {@code 1h}; a bare number is seconds. */
  public static Duration parseDuration(String text) {
    Matcher m = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new CommandLine.TypeConversionException(
          "'" + text + "' is not a duration (examples: 250us, 100ms, 1.5s, 2m)");
    }
    String unit = m.group(2) == null ? "s" : m.group(2);
    double nanosPerUnit = switch (unit) {
      case "ns" -> 1;
      case "us", "µs" -> 1e3;
      case "ms" -> 1e6;
      case "s" -> 1e9;
      case "m" -> 60e9;
      default -> 3600e9;
    };
    double nanos = Double.parseDouble(m.group(1)) * nanosPerUnit;
    if (nanos > Long.MAX_VALUE) {
      throw new CommandLine.TypeConversionException("'" + text + "' is too long a duration");
    }
    return Duration.ofNanos(Math.round(nanos));
  }

  /** Waits {@code pause}, or less when {@code stop} comes first; returns whether a stop was asked for. */
  public static boolean awaitStop(java.util.concurrent.CountDownLatch stop, Duration pause) {
    try {
      return stop.await(pause.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return true;
    }
  }

  /**
   * Runs {@code action} on each SIGINT (Ctrl-C) and SIGTERM instead of the JVM's immediate exit, so that a run
   * can stop cleanly: drain, or print what it measured.
   */
  public static void onStopSignal(Runnable action) {
    for (String name : new String[] {"INT", "TERM"}) {
      sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> action.run());
    }
  }

  public static String formatDuration(Duration duration) {
    long nanos = duration.toNanos();
    if (nanos % 1_000_000_000L == 0) {
      return nanos / 1_000_000_000L + "s";
    }
    if (nanos % 1_000_000L == 0) {
      return nanos / 1_000_000L + "ms";
    }
    if (nanos % 1_000L == 0) {
      return nanos / 1_000L + "us";
    }
    return nanos + "ns";
  }
}
