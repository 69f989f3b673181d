// The connection flags of both clients (a picocli mixin): where to connect, how, and for how long.

package pingkit.net;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import pingkit.Pingkit;

/** The flags both clients share; Fortio's single-dash spellings are aliases. */
public final class ConnectionOptions {
  @Parameters(paramLabel = "TARGET", arity = "0..1",
      description = "host, host:port, [v6]:port, http://host[:port], https://host[:port], dns:///host[:port],"
          + " unix:/path (no port: 8079); none with --merge")
  public String target;

  @Option(names = {"--unix-socket", "-unix-socket"}, paramLabel = "PATH",
      description = "dial this Unix socket instead; TARGET stays the authority")
  Path unixSocket;

  @Option(names = {"--cacert", "-cacert"}, paramLabel = "FILE", description = "TLS, trusting this PEM CA")
  Path caCert;

  @Option(names = "--tls", description = "TLS, trusting the JDK's CAs (implied by https://)")
  boolean tls;

  @Option(names = {"-k", "--insecure"}, description = "TLS without verifying the server's certificate")
  boolean insecure;

  @Option(names = {"--cert", "-cert"}, paramLabel = "FILE", description = "client certificate (mTLS), PEM")
  Path clientCert;

  @Option(names = {"--key", "-key"}, paramLabel = "FILE", description = "key of --cert, PKCS#8 PEM")
  Path clientKey;

  @Option(names = "--authority", paramLabel = "NAME",
      description = ":authority to send, and the name the server's certificate must have")
  String authority;

  @Option(names = {"-H", "--header"}, paramLabel = "'KEY: VALUE'",
      description = "metadata to send (repeatable); 'host' sets the authority, 'user-agent' the user agent")
  List<String> headers = new ArrayList<>();

  @Option(names = "--lb", paramLabel = "POLICY", defaultValue = "pick_first",
      description = "over the addresses TARGET's name resolves to: pick_first (one of them) or round_robin (each"
          + " call to the next); gRPC's policies (default: ${DEFAULT-VALUE})")
  String loadBalancing;

  @Option(names = "--compression", paramLabel = "NAME",
      description = "compress requests: gzip, or identity (none, the default); how the server answers is its"
          + " choice (ping-server answers uncompressed)")
  String compression;

  @Option(names = "-grpc-compression", description = "Fortio's spelling of --compression gzip")
  boolean fortioCompression;

  @Option(names = "--connect-timeout", paramLabel = "DURATION", defaultValue = "5s",
      description = "limit for connecting, TLS included (default: ${DEFAULT-VALUE})")
  public Duration connectTimeout;

  @Option(names = "--timeout", paramLabel = "DURATION",
      description = "limit for each call (default: 5s, plus the requested delay for pings)")
  public Duration timeout;

  @Option(names = {"-v", "--verbose"}, description = "more detail: per-call lines, and the causes of errors")
  public boolean[] verbose = new boolean[0];

  public boolean verbose() {
    return verbose.length > 0;
  }

  /** TARGET, which every run needs (only --merge goes without one). */
  String target() {
    if (target == null) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "Missing required parameter: 'TARGET'");
    }
    return target;
  }

  /** --timeout, or 5 s plus {@code expectedDelay} (a ping's requested delay) when not given. */
  public Duration callTimeout(Duration expectedDelay) {
    return timeout != null ? timeout : Duration.ofSeconds(5).plus(expectedDelay);
  }
}
