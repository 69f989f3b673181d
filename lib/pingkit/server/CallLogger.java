// ping-server's -v: a line per call, secrets redacted.

package pingkit.server;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.net.SocketAddress;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import pingkit.Logs;

/** With -v: one line per call, with the peer and the metadata (secrets redacted). */
public final class CallLogger implements ServerInterceptor {
  private static final Logger log = Logger.getLogger("pingkit.server");

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    SocketAddress peer = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    String metadata = headers.keys().stream().sorted()
        .map(key -> key + "=" + printable(headers, key))
        .collect(Collectors.joining(" "));
    log.info(call.getMethodDescriptor().getFullMethodName() + " from " + peer + " authority="
        + call.getAuthority() + " " + metadata);
    return next.startCall(call, headers);
  }

  private static String printable(Metadata headers, String key) {
    if (Logs.SECRET_METADATA_KEY.matcher(key).matches()) {
      return "<redacted>";
    }
    if (key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
      var values = headers.getAll(Metadata.Key.of(key, Metadata.BINARY_BYTE_MARSHALLER));
      return values == null ? "" : StreamSupport.stream(values.spliterator(), false)
          .map(v -> "<" + v.length + " bytes>").collect(Collectors.joining(","));
    }
    var values = headers.getAll(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
    return values == null ? "" : String.join(",", values);
  }
}
