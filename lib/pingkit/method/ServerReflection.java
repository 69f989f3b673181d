// A client of the server's reflection service (grpc.reflection.v1, or v1alpha for older servers): the names of its
// services, and the file descriptors that define a symbol.

package pingkit.method;

import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import pingkit.Pingkit;
import pingkit.net.Connection;

/**
 * The server's reflection, asked over one stream: v1 first, then v1alpha (the same messages on the wire under
 * another method name, which servers older than grpc-java 1.57 and grpc-go 1.61 serve alone).
 */
final class ServerReflection implements AutoCloseable {
  private static final MethodDescriptor<ServerReflectionRequest, ServerReflectionResponse> V1 =
      ServerReflectionGrpc.getServerReflectionInfoMethod();
  private static final MethodDescriptor<ServerReflectionRequest, ServerReflectionResponse> V1ALPHA = V1.toBuilder()
      .setFullMethodName("grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo").build();

  private final Connection server;
  private final Duration timeout;
  private Stream stream;

  ServerReflection(Connection server, Duration timeout) {
    this.server = server;
    this.timeout = timeout;
  }

  /** The server has no reflection service, in neither version. */
  static final class Unavailable extends RuntimeException {
    Unavailable() {
      super(null, null, false, false);
    }
  }

  /** The fully qualified names of the services the server offers. */
  List<String> services() {
    ServerReflectionResponse response = ask(ServerReflectionRequest.newBuilder().setListServices("").build());
    if (response.hasErrorResponse()) {
      throw failed(response);
    }
    List<String> names = new ArrayList<>();
    for (ServiceResponse service : response.getListServicesResponse().getServiceList()) {
      names.add(service.getName());
    }
    return names;
  }

  /** The files that define {@code symbol} (a service or a message) and their imports, as the server sends them; empty: unknown to it. */
  List<FileDescriptorProto> filesDefining(String symbol) {
    return files(ask(ServerReflectionRequest.newBuilder().setFileContainingSymbol(symbol).build()));
  }

  /** The file named {@code fileName}, and maybe its imports; empty: unknown to the server. */
  List<FileDescriptorProto> file(String fileName) {
    return files(ask(ServerReflectionRequest.newBuilder().setFileByFilename(fileName).build()));
  }

  private List<FileDescriptorProto> files(ServerReflectionResponse response) {
    if (response.hasErrorResponse()) {
      if (response.getErrorResponse().getErrorCode() == Status.Code.NOT_FOUND.value()) {
        return List.of();
      }
      throw failed(response);
    }
    List<FileDescriptorProto> files = new ArrayList<>();
    for (ByteString bytes : response.getFileDescriptorResponse().getFileDescriptorProtoList()) {
      try {
        files.add(FileDescriptorProto.parseFrom(bytes));
      } catch (InvalidProtocolBufferException e) {
        throw new Pingkit.UserError(Pingkit.EXIT_RPC_FAILED, "the server's reflection sent a file descriptor that"
            + " does not parse: " + Pingkit.oneLine(e));
      }
    }
    return files;
  }

  /** The server's reflection answered a question with an error. */
  private static Pingkit.UserError failed(ServerReflectionResponse response) {
    return new Pingkit.UserError(Pingkit.EXIT_RPC_FAILED, "the server's reflection failed: "
        + Status.fromCodeValue(response.getErrorResponse().getErrorCode()).getCode() + " "
        + response.getErrorResponse().getErrorMessage());
  }

  /** One question and its answer, on the stream opened at the first question (v1, or v1alpha if v1 is missing). */
  private ServerReflectionResponse ask(ServerReflectionRequest request) {
    if (stream == null) {
      stream = new Stream(V1);
      try {
        return stream.ask(request);
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNIMPLEMENTED) {
          throw server.failure("server reflection", e);
        }
        stream = new Stream(V1ALPHA);
      }
    }
    try {
      return stream.ask(request);
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
        throw new Unavailable();
      }
      throw server.failure("server reflection", e);
    }
  }

  @Override
  public void close() {
    if (stream != null && !stream.ended) {
      stream.call.halfClose();
    }
  }

  /** One reflection stream: a question is answered before the next is asked. */
  private final class Stream {
    final ClientCall<ServerReflectionRequest, ServerReflectionResponse> call;
    /** Answers, then the stream's end (a Status) as the network thread hands them over. */
    final LinkedBlockingQueue<Object> arrived = new LinkedBlockingQueue<>();
    /** Ended for this side: failed, or cancelled (then nothing more may be sent, not even a half-close). */
    boolean ended;

    Stream(MethodDescriptor<ServerReflectionRequest, ServerReflectionResponse> method) {
      call = server.channel.newCall(method, CallOptions.DEFAULT);
      call.start(new ClientCall.Listener<>() {
        @Override
        public void onMessage(ServerReflectionResponse message) {
          arrived.add(message);
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
          arrived.add(status.isOk() ? Status.INTERNAL.withDescription("the reflection stream ended early")
              : status);
        }
      }, new Metadata());
    }

    ServerReflectionResponse ask(ServerReflectionRequest request) {
      call.request(1);
      call.sendMessage(request);
      Object answer;
      try {
        answer = arrived.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        answer = Status.CANCELLED.withDescription("interrupted");
      }
      if (answer == null) {
        call.cancel("no answer in time", null);
        answer = Status.DEADLINE_EXCEEDED.withDescription("the server's reflection did not answer within "
            + Pingkit.formatDuration(timeout) + " (--timeout)");
      }
      if (answer instanceof Status status) {
        ended = true;
        throw status.asRuntimeException();
      }
      return (ServerReflectionResponse) answer;
    }
  }
}
