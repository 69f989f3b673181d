// What ping-server's flags mean: the LISTEN address, the TLS files, byte sizes; and why a bind failed, in one line.

package pingkit.server;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import pingkit.Pem;
import pingkit.Pingkit;

/** ping-server's flags turned into what the server needs, each problem a one-line error with its exit code. */
public final class ServerFlags {
  private ServerFlags() {}

  private static final Pattern HOST_PORT = Pattern.compile("(?:\\[([^\\]]+)\\]|([^:\\[\\]]*)):(\\d{1,5})");

  /** PORT, :PORT, HOST:PORT, [V6]:PORT, or a path with '/' (Unix socket). */
  static SocketAddress listenAddress(String listen) {
    if (listen.contains("/")) {
      Path path = Path.of(listen).toAbsolutePath();
      if (Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, "cannot listen on unix " + path
            + ": the path exists (remove it if it is a stale socket)");
      }
      if (!Files.isDirectory(path.getParent())) {
        throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, "cannot listen on unix " + path + ": no directory "
            + path.getParent());
      }
      return new DomainSocketAddress(path.toString());
    }
    String host = "";
    String port = listen;
    Matcher hostPort = HOST_PORT.matcher(listen);
    if (hostPort.matches()) {
      host = hostPort.group(1) != null ? hostPort.group(1) : hostPort.group(2);
      port = hostPort.group(3);
    }
    if (!port.matches("\\d{1,5}") || Integer.parseInt(port) > 65535) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "LISTEN '" + listen
          + "' is not PORT (0-65535), HOST:PORT, [V6]:PORT or a Unix socket path");
    }
    if (host.isEmpty()) {
      return new InetSocketAddress(Integer.parseInt(port));
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(host), Integer.parseInt(port));
    } catch (UnknownHostException e) {
      throw new Pingkit.UserError(Pingkit.EXIT_CONNECTION, "cannot listen on " + host + ": unknown host");
    }
  }

  static String hostPort(InetSocketAddress address) {
    InetAddress ip = address.getAddress();
    String host = ip.isAnyLocalAddress() ? "[::]"
        : ip instanceof Inet6Address ? "[" + com.google.common.net.InetAddresses.toAddrString(ip) + "]"
        : ip.getHostAddress();
    return host + ":" + address.getPort();
  }

  public static String describe(SocketAddress address) {
    return address instanceof InetSocketAddress tcp ? "tcp " + hostPort(tcp)
        : "unix " + ((DomainSocketAddress) address).path();
  }

  static String bindFailure(IOException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String message = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
      if (t instanceof BindException || message.contains("address already in use")) {
        return message.contains("in use") ? "address already in use (pick another port, or 0 for a free one)"
            : Pingkit.oneLine(t);
      }
      if (message.contains("permission denied") || message.contains("access denied")) {
        return "permission denied (ports below 1024 need privileges)";
      }
    }
    return Pingkit.oneLine(e);
  }

  /**
   * The server's TLS context of --cert and --key (null: none, plaintext); with --cacert {@code clientCaFile} (or
   * --mtls {@code requireClientCert}) clients must present a certificate.
   */
  static SslContext serverTls(Path certFile, Path keyFile, Path clientCaFile, boolean requireClientCert) {
    if ((certFile == null) != (keyFile == null)) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--cert and --key go together: give both, or neither");
    }
    if ((clientCaFile != null || requireClientCert) && certFile == null) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--cacert and --mtls need TLS: add --cert FILE --key FILE");
    }
    if (certFile == null) {
      return null;
    }
    List<X509Certificate> chain = Pem.readCertificates("--cert", certFile);
    PrivateKey key = Pem.readPrivateKey("--key", keyFile);
    Pem.checkKeyMatches(chain.get(0), key, certFile, keyFile);
    SslContextBuilder builder = GrpcSslContexts.configure(SslContextBuilder.forServer(key, chain))
        .protocols("TLSv1.3", "TLSv1.2");
    if (clientCaFile != null) {
      builder.trustManager(Pem.readCertificates("--cacert", clientCaFile));
    }
    if (clientCaFile != null || requireClientCert) {
      builder.clientAuth(ClientAuth.REQUIRE);
    }
    try {
      return builder.build();
    } catch (IOException | RuntimeException e) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "cannot use the TLS files: " + Pingkit.oneLine(e));
    }
  }

  /**
   * --max-inflight-bytes when not given: an eighth of the memory this process may use (the container's limit, or
   * the machine's), at most 128 MiB: a burst that fills it takes the JVM about 1.5 times the budget more.
   */
  static long defaultInFlightBytes() {
    long totalBytes = ((com.sun.management.OperatingSystemMXBean)
        java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
    return Math.min(128L << 20, totalBytes / 8 >> 20 << 20);
  }

  /** Removes the socket file of a Unix socket server that stopped (null: a TCP server, nothing to do). */
  static void removeSocketFile(Path socketPath) {
    if (socketPath != null) {
      try {
        Files.deleteIfExists(socketPath);
      } catch (IOException e) {
        Logger.getLogger("pingkit.server").warning("cannot remove the socket file " + socketPath + ": "
            + Pingkit.oneLine(e));
      }
    }
  }
}
