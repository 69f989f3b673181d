// The flags of ping-client that call the user's own service instead of pinging (a picocli mixin): the method, its
// request, where its types come from, and --list.

package pingkit.method;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;
import pingkit.Pingkit;

/** --method, --data, --protoset and --list; Fortio's {@code -grpc-method} is an alias. */
public final class MethodOptions {
  @Option(names = {"--method", "-grpc-method"}, paramLabel = "SERVICE/METHOD",
      description = "call this unary method of the server instead of pinging (pkg.Service/Method or"
          + " pkg.Service.Method); its types come from the server's reflection, or --protoset")
  public String method;

  @Option(names = {"-d", "--data"}, paramLabel = "JSON|@FILE",
      description = "with --method: the request as JSON (protobuf's JSON mapping), or @FILE to read it from FILE"
          + " (default: the empty message; Fortio's -payload works too)")
  String data;

  @Option(names = "--protoset", paramLabel = "FILE",
      description = "with --method or --list: the types from this descriptor set (protoc --include_imports"
          + " --descriptor_set_out=FILE) instead of the server's reflection")
  Path protoset;

  @Option(names = "--max-message-size", paramLabel = "BYTES", defaultValue = "4MiB",
      converter = Pingkit.ByteSizeConverter.class,
      description = "with --method: the largest response taken, e.g. 65536, 512KiB, 16MiB (default: ${DEFAULT-VALUE},"
          + " gRPC's)")
  int maxMessageBytes = 4 << 20;

  @Option(names = "--list", arity = "0..1", fallbackValue = "", paramLabel = "SERVICE",
      description = "list the services the server offers, or with SERVICE its methods and their types (from its"
          + " reflection, or --protoset)")
  String list;

  /** Whether a method of the user's service is called (--method). */
  public boolean active() {
    return method != null;
  }

  /** Whether the server's services are listed (--list). */
  public boolean listing() {
    return list != null;
  }

  /** Pings take no --data or --protoset: a one-line error when given without --method or --list. */
  public void rejectWithoutMethod() {
    String flag = active() || listing() ? null : data != null ? "--data" : protoset != null ? "--protoset" : null;
    if (flag != null) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, flag + " is for --method (or --list): pings send"
          + " --payload");
    }
  }

  /**
   * {@code --list TARGET} reads as the target, not a service: a lone value of --list with no TARGET is the
   * target, unless --protoset gives the types (then no server is asked).
   */
  public String target(String target) {
    if (target == null && protoset == null && list != null && !list.isEmpty()) {
      String value = list;
      list = "";
      return value;
    }
    return target;
  }

  /** The request's JSON: --data (read from the file after @), else {@code payload} (Fortio's -payload), else none. */
  String requestJson(String payload) {
    if (data != null && payload != null) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--data and --payload both give the request: give one");
    }
    if (data == null || !data.startsWith("@")) {
      return data != null ? data : payload;
    }
    Path file = Path.of(data.substring(1));
    if (!Files.isRegularFile(file)) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--data " + data + ": no such file");
    }
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--data " + data + ": cannot read " + file + ": "
          + Pingkit.oneLine(e));
    }
  }

  /** Where the request came from, for its errors: "--data", "--data @FILE" or "-payload". */
  String requestFlag() {
    return data == null ? "--payload" : data.startsWith("@") ? "--data " + data : "--data";
  }
}
