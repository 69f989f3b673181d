// Where the clients connect: a TARGET as the command line gives it (ping-client.java and health-check.java pull
// this file through Dialer.java).

package pingkit.net;

import com.google.common.net.InetAddresses;
import java.nio.file.Path;
import java.util.Locale;
import pingkit.Pingkit;

/**
 * Where to connect: {@code host}, {@code host:port}, {@code [v6]:port}, a v6 literal, {@code http://host[:port]}
 * (plaintext, port 80), {@code https://host[:port]} (TLS, port 443), {@code dns:///host[:port]} (gRPC's name
 * syntax: every address of the name, as for a bare host), {@code unix:/path} or {@code unix:///path}; no port
 * means 8079. {@code tls} is what the scheme asks for (null: no scheme).
 */
public record Target(String text, String host, int port, Path unixSocket, Boolean tls) {
  /** Fortio's port, for a target without one. */
  static final int DEFAULT_PORT = 8079;

  public static Target parse(String text) {
    String lower = text.toLowerCase(Locale.ROOT);
    if (lower.startsWith("unix:")) {
      String path = text.substring("unix:".length());
      path = path.startsWith("//") ? path.substring(2) : path;
      if (path.isEmpty()) {
        throw bad(text, "no socket path after unix:");
      }
      return new Target(text, null, -1, Path.of(path), null);
    }
    String rest = text;
    Boolean tls = null;
    int defaultPort = DEFAULT_PORT;
    if (lower.startsWith("http://")) {
      rest = text.substring("http://".length());
      tls = false;
      defaultPort = 80;
    } else if (lower.startsWith("https://")) {
      rest = text.substring("https://".length());
      tls = true;
      defaultPort = 443;
    } else if (lower.startsWith("dns:///")) {
      rest = text.substring("dns:///".length()); // gRPC's resolver, which a plain host:port goes through too
    } else if (lower.contains("://")) {
      throw bad(text, "only http://, https://, dns:/// and unix: are understood");
    }
    rest = rest.endsWith("/") ? rest.substring(0, rest.length() - 1) : rest;
    String host;
    String port = null;
    if (rest.startsWith("[")) {
      int close = rest.indexOf(']');
      if (close < 0) {
        throw bad(text, "'[' without ']'");
      }
      host = rest.substring(1, close);
      String after = rest.substring(close + 1);
      if (!after.isEmpty() && !after.startsWith(":")) {
        throw bad(text, "expected :PORT after ']'");
      }
      port = after.isEmpty() ? null : after.substring(1);
      if (!InetAddresses.isInetAddress(host) || !host.contains(":")) {
        throw bad(text, "'" + host + "' is not an IPv6 address");
      }
    } else if (rest.indexOf(':') != rest.lastIndexOf(':')) {
      if (!InetAddresses.isInetAddress(rest)) {
        throw bad(text, "too many ':' (an IPv6 address with a port is written [::1]:8079)");
      }
      host = rest;
    } else if (rest.contains(":")) {
      host = rest.substring(0, rest.indexOf(':'));
      port = rest.substring(rest.indexOf(':') + 1);
    } else {
      host = rest;
    }
    if (host.isEmpty()) {
      host = "localhost";
    }
    if (!host.contains(":") && !host.matches("[A-Za-z0-9._-]+")) {
      throw bad(text, "'" + host + "' is not a host name or address");
    }
    return new Target(text, host, port == null ? defaultPort : parsePort(text, port), null, tls);
  }

  private static int parsePort(String text, String port) {
    if (!port.matches("\\d{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
      throw bad(text, "port '" + port + "' is not 1-65535");
    }
    return Integer.parseInt(port);
  }

  private static Pingkit.UserError bad(String text, String why) {
    return new Pingkit.UserError(Pingkit.EXIT_USAGE, "target '" + text + "': " + why);
  }

  /** host:port with IPv6 in brackets, or the socket path: what messages name. */
  String authority() {
    if (unixSocket != null) {
      return "localhost";
    }
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  public String display() {
    return unixSocket != null ? "unix:" + unixSocket : authority();
  }
}
