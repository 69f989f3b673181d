// Calls of a unary method of the user's own service, its types found through the server's reflection or a
// descriptor set: one after the other (with their RTTs and statuses), as a load run, or --list.

package pingkit.method;

import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import pingkit.Pingkit;
import pingkit.load.LoadRun;
import pingkit.net.Connection;
import pingkit.net.ConnectionOptions;
import pingkit.net.Dialer;
import pingkit.report.Backends;
import pingkit.report.Overhead;
import pingkit.report.SampleHistogram;

/**
 * A client of one method of the user's service, as ping-client's flags describe it. From JShell,
 * {@code MethodClient.call("127.0.0.1:8079", "fgrpc.PingServer/Ping", "{\"payload\": \"hi\"}")} makes one call and
 * returns its response as JSON with its RTT.
 */
public final class MethodClient {
  private final ConnectionOptions connection;
  private final MethodOptions options;
  /** Fortio's -payload: the request's JSON when --data is not given (null: none). */
  private final String payload;
  /** The request's JSON, read once from --data, its file or -payload (null: not yet; "" or none: empty). */
  private String requestJson;

  public MethodClient(ConnectionOptions connection, MethodOptions options, String payload) {
    this.connection = connection;
    this.options = options;
    this.payload = payload;
  }

  /**
   * One call's status code ("OK", "NOT_FOUND", ...), its response as JSON (null: an error status) or the error's
   * message (null: OK), and its RTT (timed at the socket, as pings are).
   */
  public record Reply(String status, String response, String error, Duration rtt) {
    @Override
    public String toString() {
      return "Reply[" + status + " in " + SampleHistogram.millis(rtt.toNanos() / 1e9) + ": "
          + (response != null ? response : error) + "]";
    }
  }

  /** Calls {@code method} of {@code target} once with the request {@code json}, e.g. from JShell. */
  public static Reply call(String target, String method, String json) {
    ConnectionOptions connection = Pingkit.parse(new ConnectionOptions(), target);
    MethodOptions options = new MethodOptions();
    options.method = method;
    options.data = json;
    MethodResult result = new MethodClient(connection, options, null).call(1, Duration.ZERO, new CountDownLatch(1),
        null);
    Duration rtt = Duration.ofNanos(Math.round(result.rttHistogram().avg(SampleHistogram.Unit.SECONDS) * 1e9));
    Status error = result.lastError();
    return error == null ? new Reply("OK", result.lastResponse(), null, rtt)
        : new Reply(error.getCode().name(), null, String.valueOf(error.getDescription()), rtt);
  }

  /** --list: the services of the server, or the methods of --list SERVICE. */
  public ServiceList list() {
    try (Connection server = options.protoset != null ? null : connect(false);
        ServerReflection reflection = reflection(server)) {
      return list(schema(server, reflection));
    } catch (ServerReflection.Unavailable e) {
      throw noReflection();
    }
  }

  private ServiceList list(Schema schema) {
    if (options.list.isEmpty()) {
      return new ServiceList(schema.source(), schema.services(), null);
    }
    var service = schema.service(options.list);
    if (service == null) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "no service '" + options.list + "' in " + schema.source()
          + "; it offers: " + String.join(", ", schema.services()));
    }
    return new ServiceList(schema.source(), null, service);
  }

  /**
   * Calls the method {@code calls} times one after the other (0: until stopped), {@code pause} apart;
   * {@code eachCall} gets a line per call (null: none). An error status the server answers is counted, and the
   * run goes on (it exits 3 at the end); a call the server did not answer ends it, with what was measured before.
   */
  public MethodResult call(long calls, Duration pause, CountDownLatch stop, Consumer<String> eachCall) {
    if (calls < 0) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "-n must be 0 (until Ctrl-C) or more");
    }
    // the reflection stays open for the run: a response may hold an Any of a type still to be asked for
    try (Connection server = connect(true); ServerReflection reflection = reflection(server)) {
      UnaryMethod method = method(server, reflection);
      DynamicMessage request = method.request(requestJson(), options.requestFlag());
      Duration timeout = connection.callTimeout(Duration.ZERO);
      OffsetDateTime startTime = OffsetDateTime.now();
      long startNanos = System.nanoTime();
      SampleHistogram rttHistogram = new SampleHistogram();
      Overhead overhead = new Overhead();
      Backends backends = new Backends();
      Map<String, Long> statusCounts = new LinkedHashMap<>();
      String lastResponse = null;
      Status lastError = null;
      Pingkit.UserError cutShort = null;
      for (long i = 1; (calls == 0 || i <= calls) && stop.getCount() > 0; i++) {
        Connection.Outcome<DynamicMessage> ended = server.callAndWait(method.grpcMethod, request, timeout);
        if (ended.failure() != null && unparsable(ended.failure())) {
          cutShort = new Pingkit.UserError(Pingkit.EXIT_RPC_FAILED, "the response of " + method.fullName
              + " is not a " + method.descriptor.getOutputType().getFullName() + " as " + resolvedFrom()
              + " describes it: " + Pingkit.oneLine(ended.failure()));
        } else if (ended.failure() != null && (ended.clock() == null || !ended.clock().serverAnswered())) {
          cutShort = server.failure("call " + i + " of " + method.fullName, ended.failure());
        }
        if (cutShort != null) {
          if (i == 1) {
            throw cutShort;
          }
          break;
        }
        rttHistogram.record(ended.clock().rttNanos());
        overhead.record(ended.clock());
        backends.record(ended.clock().backend(), ended.clock().rttNanos(), ended.failure() != null);
        Status status = ended.failure() == null ? Status.OK : Status.fromThrowable(ended.failure());
        statusCounts.merge(status.getCode().name(), 1L, Long::sum);
        if (ended.failure() == null) {
          lastResponse = method.json(ended.reply(), true);
        } else {
          lastError = status;
        }
        if (eachCall != null) {
          eachCall.accept(String.format(java.util.Locale.ROOT, "%d: %s RTT %s us%s", i, status.getCode(),
              SampleHistogram.number(ended.clock().rttNanos() / 1e3), status.getDescription() == null ? ""
                  : " (" + status.getDescription() + ")"));
        }
        if (!pause.isZero() && Pingkit.awaitStop(stop, pause)) {
          break;
        }
      }
      long failed = statusCounts.entrySet().stream().filter(entry -> !entry.getKey().equals("OK"))
          .mapToLong(Map.Entry::getValue).sum();
      if (cutShort == null && failed > 0) {
        cutShort = new Pingkit.UserError(Pingkit.EXIT_RPC_FAILED, failed + " of " + rttHistogram.count()
            + " calls of " + method.fullName + " failed; the last: " + lastError.getCode()
            + (lastError.getDescription() == null ? "" : " " + lastError.getDescription())
            + (lastError.getCode() == Status.Code.RESOURCE_EXHAUSTED ? " (this client takes responses of up to "
                + Pingkit.formatByteSize(options.maxMessageBytes) + ": --max-message-size)" : ""));
      }
      return MethodResult.of(server.target.display(), method.fullName, method.json(request, true), statusCounts,
          rttHistogram, overhead, backends, lastResponse, lastError, calls == 1, startTime, startNanos, cutShort);
    }
  }

  /**
   * Load mode's calls (Fortio's -grpc-method): the method found once (its types asked on a connection of the load's
   * {@code dialer}), its request built once and reused.
   */
  public LoadRun.Calls loadCalls(Dialer dialer) {
    UnaryMethod method;
    DynamicMessage request;
    try (Connection server = options.protoset != null ? null : dialer.connect(options.maxMessageBytes, false);
        ServerReflection reflection = reflection(server)) {
      method = method(server, reflection);
      request = method.request(requestJson(), options.requestFlag());
    }
    // every answer with status OK counts as Fortio counts it: "Custom gRPC Method SERVING : N"
    return new LoadRun.Calls("Custom gRPC Method", LoadRun.unaryCall(method.grpcMethod, request,
        connection.callTimeout(Duration.ZERO), reply -> "SERVING"), "SERVING", false, null, false);
  }

  /**
   * Fortio's RunType: "Custom GRPC Method M and Payload P" (P cut after 100 characters: a request from a file may
   * be megabytes), then PayloadLength=N when there is a request.
   */
  public String runType() {
    String json = requestJson();
    String request = json.length() <= 100 ? json : json.substring(0, 100) + "...";
    return "Custom GRPC Method " + options.method + " and Payload " + request
        + (request.isEmpty() ? "" : " PayloadLength=" + json.getBytes(StandardCharsets.UTF_8).length);
  }

  /** The request's JSON as given (null: none), read once (a file's too). */
  private String requestJson() {
    if (requestJson == null) {
      String json = options.requestJson(payload);
      requestJson = json == null ? "" : json;
    }
    return requestJson;
  }

  /** The largest response taken (--max-message-size). */
  public int maxMessageBytes() {
    return options.maxMessageBytes;
  }

  /** A connection within --connect-timeout that takes responses up to --max-message-size. */
  private Connection connect(boolean watchArrivals) {
    return new Dialer(connection).connect(options.maxMessageBytes, watchArrivals);
  }

  /** The server's reflection on {@code server} (null: the types come from --protoset, and no server is asked). */
  private ServerReflection reflection(Connection server) {
    return server == null || options.protoset != null ? null
        : new ServerReflection(server, connection.callTimeout(Duration.ZERO));
  }

  private Schema schema(Connection server, ServerReflection reflection) {
    return reflection == null ? Schema.of(options.protoset) : Schema.of(reflection, server.target.display());
  }

  /** The method --method names, its types from --protoset or else from the server's {@code reflection}. */
  private UnaryMethod method(Connection server, ServerReflection reflection) {
    try {
      return new UnaryMethod(schema(server, reflection), options.method);
    } catch (ServerReflection.Unavailable e) {
      throw noReflection();
    }
  }

  private String resolvedFrom() {
    return options.protoset != null ? "--protoset " + options.protoset : "the server's reflection";
  }

  private Pingkit.UserError noReflection() {
    return new Pingkit.UserError(Pingkit.EXIT_RPC_FAILED, connection.target + " offers no server reflection"
        + " (grpc.reflection.v1 and v1alpha: UNIMPLEMENTED): give the types with --protoset FILE (protoc"
        + " --include_imports --descriptor_set_out=FILE your.proto), or turn reflection on in the server");
  }

  /** A failure to parse the server's response as the method's response type. */
  private static boolean unparsable(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof InvalidProtocolBufferException) {
        return true;
      }
    }
    return false;
  }
}
