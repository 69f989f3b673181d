package pingkit;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Locale;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/** Logging: one line each on stderr, levels by verbosity, secrets in metadata never written. */
public final class Logs {
  private Logs() {}

  /**
   * Logs go to stderr, one line each: warnings by default, pingkit's own INFO lines with {@code -v}, and gRPC's
   * details with stack traces with {@code -vv}. A client diagnoses failed calls itself, so gRPC's own warnings
   * about them ({@code grpcWarnings} false) appear only with {@code -v}.
   */
  public static void configure(String programName, int verbosity, boolean grpcWarnings) {
    LogManager.getLogManager().reset();
    Logger root = Logger.getLogger("");
    ConsoleHandler handler = new ConsoleHandler();
    handler.setLevel(Level.ALL);
    handler.setFormatter(new OneLineFormatter(programName, verbosity >= 2));
    root.addHandler(handler);
    root.setLevel(verbosity >= 2 ? Level.FINE : Level.WARNING);
    PINGKIT_LOGGER.setLevel(verbosity >= 1 ? Level.INFO : Level.WARNING);
    // Netty warns on every Unix-socket connection that TCP keep-alive does not apply to it: noise, not news
    NETTY_BOOTSTRAP_LOGGER.setLevel(verbosity >= 2 ? Level.FINE : Level.SEVERE);
    // a peer's oversized or malformed message: the peer is told (RESOURCE_EXHAUSTED...), the server log need not be
    GRPC_SERVER_STREAM_LOGGER.setLevel(verbosity >= 2 ? Level.FINE : Level.SEVERE);
    GRPC_LOGGER.setLevel(verbosity >= 2 ? Level.FINE : grpcWarnings || verbosity == 1 ? Level.WARNING : Level.SEVERE);
  }

  private static final String SECRET_KEYS =
      "authorization|proxy-authorization|cookie|set-cookie|[\\w-]*(?:token|secret|password|api-?key)[\\w-]*";

  /** Metadata keys whose values are secrets: never logged, at any verbosity. */
  public static final Pattern SECRET_METADATA_KEY = Pattern.compile(SECRET_KEYS, Pattern.CASE_INSENSITIVE);

  // "key: value" as Netty's debug logs print headers (a value, spaces included, ends at , ] } or the line's
  // end), or "key=value"; one already redacted is left alone (ping-server's call lines redact their own)
  private static final Pattern SECRET_HEADER_IN_TEXT = Pattern.compile(
      "\\b(" + SECRET_KEYS + ")(\\s*[:=]\\s*)(?!<redacted>)[^,\\]}\\n]*", Pattern.CASE_INSENSITIVE);

  /** {@code text} with the values of secret metadata (authorization, tokens, cookies...) replaced. */
  static String redactSecrets(String text) {
    return SECRET_HEADER_IN_TEXT.matcher(text).replaceAll("$1$2<redacted>");
  }

  // held here because java.util.logging keeps only weak references to configured loggers
  private static final Logger PINGKIT_LOGGER = Logger.getLogger("pingkit");
  private static final Logger GRPC_LOGGER = Logger.getLogger("io.grpc");
  private static final Logger GRPC_SERVER_STREAM_LOGGER =
      Logger.getLogger("io.grpc.netty.shaded.io.grpc.netty.NettyServerStream");
  private static final Logger NETTY_BOOTSTRAP_LOGGER =
      Logger.getLogger("io.grpc.netty.shaded.io.netty.bootstrap");

  private static final class OneLineFormatter extends Formatter {
    private final String programName;
    private final boolean withStackTraces;

    OneLineFormatter(String programName, boolean withStackTraces) {
      this.programName = programName;
      this.withStackTraces = withStackTraces;
    }

    @Override
    public String format(LogRecord record) {
      StringBuilder line = new StringBuilder(programName).append(": ");
      if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
        line.append(record.getLevel().getName().toLowerCase(Locale.ROOT)).append(": ");
      }
      String message = redactSecrets(formatMessage(record));
      // some gRPC messages embed a stack trace (a Status with its cause): keep their first line
      line.append(withStackTraces ? message : message.lines().findFirst().orElse(""));
      Throwable thrown = record.getThrown();
      if (thrown != null && withStackTraces) {
        StringWriter trace = new StringWriter();
        thrown.printStackTrace(new PrintWriter(trace));
        line.append(System.lineSeparator()).append(trace);
      } else if (thrown != null) {
        line.append(" (").append(Pingkit.oneLine(thrown)).append(")");
      }
      return line.append(System.lineSeparator()).toString();
    }
  }
}
