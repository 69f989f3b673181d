// Why a client's call failed, in one line with its exit code, and (-v) what it took to connect: the diagnosis of
// ping-client.java and health-check.java.

package pingkit.net;

import io.grpc.Attributes;
import io.grpc.ClientTransportFilter;
import io.grpc.Grpc;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelOutboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import pingkit.Host;
import pingkit.Pingkit;

/**
 * What went wrong with a connection or a call, as one line a user can act on and the exit code it maps to: a
 * refused or unresolvable target, TLS on one side only (probed with a handshake), certificates, a server that is
 * not gRPC, a silent one; or the RPC's own status.
 */
final class Diagnosis {
  private static final Logger log = Logger.getLogger("pingkit.client");

  private final Target target;
  private final ConnectionOptions options;
  private final boolean useTls;
  private final String authority;

  Diagnosis(Target target, ConnectionOptions options, boolean useTls, String authority) {
    this.target = target;
    this.options = options;
    this.useTls = useTls;
    this.authority = authority;
  }

  /**
   * The one-line error and exit code for a failed call: a connection problem (2) or a failed RPC (3).
   * {@code connected}: the server had answered, or the channel was ready (the failure is then the RPC's).
   */
  Pingkit.UserError failure(String what, Throwable error, boolean connected) {
    Status status = Status.fromThrowable(error);
    if (Pingkit.oneLine(error).toLowerCase(Locale.ROOT).contains("too many open files")) {
      return new Pingkit.UserError(Pingkit.EXIT_CONNECTION, what + " failed: no socket could be opened: this process"
          + " has too many open files (" + Host.openFilesText() + "); raise the limit with ulimit -n", error);
    }
    // an HTTP/1.1 server's answer to the HTTP/2 preface fails the call with INTERNAL: still a connection problem
    boolean notHttp2 = status.getCode() == Status.Code.INTERNAL && (status.getDescription() + " "
        + status.getCause()).toLowerCase(Locale.ROOT).contains("first received frame was not settings");
    if (!connected && (status.getCode() == Status.Code.UNAVAILABLE
        || status.getCode() == Status.Code.DEADLINE_EXCEEDED || notHttp2)) {
      return new Pingkit.UserError(Pingkit.EXIT_CONNECTION, connectionFailure(status), error);
    }
    String detail = status.getDescription() == null ? "" : ": " + status.getDescription();
    if (options.verbose() && status.getCause() != null) {
      detail += " (" + Pingkit.oneLine(status.getCause()) + ")";
    }
    return new Pingkit.UserError(Pingkit.EXIT_RPC_FAILED, what + " failed: " + status.getCode() + detail, error);
  }

  private String connectionFailure(Status status) {
    String where = target.display();
    String causes = (status.getDescription() + " " + Pingkit.oneLine(
        status.getCause() == null ? status.asException() : status.getCause())).toLowerCase(Locale.ROOT);
    if (causes.contains("unable to resolve host") || causes.contains("unknownhost")
        || causes.contains("name or service not known") || causes.contains("nodename nor servname")) {
      return "cannot resolve " + target.host() + ": no such host (check the name)";
    }
    if (causes.contains("connection refused")) {
      return "connection refused by " + where + ": is a server listening there?";
    }
    if (causes.contains("no such file") && target.unixSocket() != null || options.unixSocket != null
        && causes.contains("no such file")) {
      return "no Unix socket at " + (options.unixSocket != null ? options.unixSocket : target.unixSocket());
    }
    if (useTls) {
      String tlsProblem = tlsFailure(causes);
      if (tlsProblem != null) {
        return tlsProblem;
      }
    } else if (speaksTls()) {
      return "the server at " + where + " speaks TLS: add --cacert FILE, --tls or -k";
    }
    if (causes.contains("timed out") || status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
      return noConnectionInTime();
    }
    if (causes.contains("first received frame was not settings") || causes.contains("http/1")) {
      return where + " is not a gRPC (HTTP/2) server: it answered HTTP/2's preface with something else"
          + " (HTTP/1.1?)";
    }
    if (causes.contains("network closed for unknown reason")) {
      return where + " closed the connection before the HTTP/2 handshake: not a gRPC server, or it refused us";
    }
    return "cannot connect to " + where + ": " + Pingkit.oneLine(
        status.getCause() == null ? status.asException() : status.getCause());
  }

  String noConnectionInTime() {
    return "no gRPC connection to " + target.display() + " within "
        + Pingkit.formatDuration(options.connectTimeout) + " (--connect-timeout): unreachable, or not a gRPC server";
  }

  private String tlsFailure(String causes) {
    String where = target.display();
    if (causes.contains("not an ssl/tls record") || causes.contains("notsslrecord")
        || causes.contains("unrecognized ssl message") || causes.contains("plaintext connection")) {
      return "the server at " + where + " speaks plaintext, not TLS: drop --cacert/--tls/-k (or use http://)";
    }
    if (causes.contains("certificateexpired") || causes.contains("validity check failed")
        || causes.contains("has expired") || causes.contains("not yet valid")) {
      return "the server's certificate at " + where + " has expired or is not yet valid";
    }
    if (causes.contains("no subject alternative") || causes.contains("doesn't match")
        || causes.contains("does not match") || causes.contains("hostname")) {
      String name = authority != null ? authority : target.host();
      return "the server's certificate does not name '" + name.replaceFirst(":\\d+$", "")
          + "': set --authority to a name it has";
    }
    if (causes.contains("pkix") || causes.contains("certification path")
        || causes.contains("unable to find valid") || causes.contains("signature check failed")) {
      return "the server's certificate at " + where + " is not signed by a trusted CA: pass its CA with"
          + " --cacert FILE (or -k to skip verification)";
    }
    if (causes.contains("certificate_required") || causes.contains("bad_certificate")
        || causes.contains("certificate required") || causes.contains("bad certificate")
        || causes.contains("unknown_ca") || causes.contains("unknown ca")) {
      return options.clientCert == null
          ? "the server at " + where + " requires a client certificate: add --cert FILE --key FILE"
          : "the server at " + where + " rejected the client certificate (is it signed by the CA it trusts?)";
    }
    if (causes.contains("alpn negotiation") || causes.contains("alpn protocol")) {
      return "the server at " + where + " speaks TLS but not HTTP/2 (it agreed on no 'h2' by ALPN): not a gRPC"
          + " server";
    }
    if (causes.contains("protocol_version") || causes.contains("protocol version")
        || causes.contains("no appropriate protocol") || causes.contains("unsupported protocol")) {
      return "the server at " + where + " speaks a TLS version this client refuses: only TLS 1.2 and 1.3 are"
          + " used";
    }
    if (causes.contains("handshake") || causes.contains("ssl") || causes.contains("tls")) {
      return "TLS handshake with " + where + " failed: " + causes.trim();
    }
    return null;
  }

  /** Whether a TLS handshake succeeds where plaintext gRPC failed: the reason a plaintext client is refused. */
  private boolean speaksTls() {
    if (target.unixSocket() != null || options.unixSocket != null) {
      return false;
    }
    try (Socket raw = new Socket()) {
      raw.connect(new InetSocketAddress(target.host(), target.port()), 2000);
      raw.setSoTimeout(2000);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
      try (SSLSocket tls = (SSLSocket) context.getSocketFactory()
          .createSocket(raw, target.host(), target.port(), false)) {
        tls.startHandshake();
        return true;
      }
    } catch (IOException | java.security.GeneralSecurityException e) {
      return false;
    }
  }

  /**
   * With -v, what it took to reach the server, phase by phase, each with its time since the connection started:
   * name resolution, TCP connect, TLS handshake (and HTTP/2 settings), the server's certificate, first answer.
   */
  static final class TransportPhases extends ClientTransportFilter {
    private static final AtomicBoolean firstConnectionSeen = new AtomicBoolean();
    private final long startNanos = System.nanoTime();
    private volatile long tcpConnectedNanos;
    private volatile Channel channel;

    /** Phases to log for the run's first connection to {@code host}; null for the others. */
    static TransportPhases ofFirst(String host) {
      return firstConnectionSeen.compareAndSet(false, true) ? new TransportPhases(host) : null;
    }

    private TransportPhases(String host) {
      try {
        InetAddress[] addresses = InetAddress.getAllByName(host);
        log.info("resolved " + host + " to " + java.util.Arrays.stream(addresses).map(InetAddress::getHostAddress)
            .collect(java.util.stream.Collectors.joining(", ")) + since(startNanos));
      } catch (UnknownHostException e) {
        log.info("cannot resolve " + host + since(startNanos)); // the connection reports it as its error
      }
    }

    /** {@code created}, with its TCP connect timed. */
    Channel watch(Channel created) {
      created.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
        @Override
        public void connect(ChannelHandlerContext context, SocketAddress remote, SocketAddress local,
            ChannelPromise promise) {
          long connectStartNanos = System.nanoTime();
          promise.addListener(connected -> {
            if (connected.isSuccess()) {
              tcpConnectedNanos = System.nanoTime();
              log.info("TCP connected to " + remote + " from " + context.channel().localAddress() + " in "
                  + millis(tcpConnectedNanos - connectStartNanos) + since(startNanos));
            }
          });
          context.connect(remote, local, promise);
        }
      });
      channel = created;
      return created;
    }

    @Override
    public Attributes transportReady(Attributes transport) {
      long readyNanos = System.nanoTime();
      SSLSession tls = transport.get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
      String took = millis(readyNanos - (tcpConnectedNanos != 0 ? tcpConnectedNanos : startNanos));
      if (tls == null) {
        log.info("HTTP/2 ready (plaintext; settings exchanged) in " + took + since(startNanos));
        return transport;
      }
      SslHandler handler = channel == null ? null : channel.pipeline().get(SslHandler.class);
      log.info("TLS " + tls.getProtocol() + ", " + tls.getCipherSuite() + ", ALPN "
          + (handler == null ? "?" : handler.applicationProtocol()) + ": handshake and HTTP/2 settings in " + took
          + since(startNanos));
      try {
        if (tls.getPeerCertificates()[0] instanceof X509Certificate server) {
          log.info("server certificate: subject " + server.getSubjectX500Principal().getName() + ", SANs "
              + subjectAlternativeNames(server) + ", issuer " + server.getIssuerX500Principal().getName()
              + ", expires " + server.getNotAfter().toInstant());
        }
      } catch (SSLPeerUnverifiedException | CertificateParsingException e) {
        log.info("server certificate: unreadable (" + Pingkit.oneLine(e) + ")");
      }
      return transport;
    }

    void answered() {
      log.info("first answer" + since(startNanos));
    }

    private static String subjectAlternativeNames(X509Certificate certificate) throws CertificateParsingException {
      var names = certificate.getSubjectAlternativeNames();
      return names == null ? "none" : names.stream().map(name -> name.get(1).toString()).toList().toString();
    }

    private static String since(long startNanos) {
      return " (at " + millis(System.nanoTime() - startNanos) + ")";
    }

    private static String millis(long nanos) {
      return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
    }
  }
}
