// A unary method as pingkit calls it without generated code: gRPC's method descriptor over dynamic messages, the
// request built from JSON, the response told in JSON.

package pingkit.method;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import pingkit.Pingkit;

/**
 * A unary method of the user's service, its types as the {@link Schema} says: {@link #grpcMethod} to call it,
 * {@link #request} to build its request from JSON (Fortio's {@code -payload}, grpcurl's {@code -d}), {@link #json}
 * to tell a response.
 */
final class UnaryMethod {
  private static final Pattern WHERE = Pattern.compile("at line \\d+ column \\d+");
  /** protobuf's JSON words for an Any whose type it does not know: the type's name is after the URL's last '/'. */
  private static final Pattern UNKNOWN_TYPE = Pattern.compile("(?:Cannot resolve type|Cannot find type for url):"
      + " \\S*/([\\w.]+)");

  /** Its fully qualified name, as gRPC sends it: {@code pkg.Service/Method}. */
  final String fullName;
  final Descriptors.MethodDescriptor descriptor;
  final MethodDescriptor<DynamicMessage, DynamicMessage> grpcMethod;
  private final Schema schema;
  private JsonFormat.TypeRegistry types;

  /** The method {@code name} names in {@code schema}: unary, or a one-line error that says what it is instead. */
  UnaryMethod(Schema schema, String name) {
    descriptor = schema.method(name);
    fullName = MethodDescriptor.generateFullMethodName(descriptor.getService().getFullName(), descriptor.getName());
    if (descriptor.isClientStreaming() || descriptor.isServerStreaming()) {
      String kind = descriptor.isClientStreaming() && descriptor.isServerStreaming() ? "bidirectional-streaming"
          : descriptor.isClientStreaming() ? "client-streaming" : "server-streaming";
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, fullName + " is a " + kind + " method: --method calls unary"
          + " methods only (pingkit's own echo stream: --stream without --method)");
    }
    this.schema = schema;
    types = schema.types();
    grpcMethod = MethodDescriptor.<DynamicMessage, DynamicMessage>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(fullName)
        .setRequestMarshaller(ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(descriptor.getInputType())))
        .setResponseMarshaller(ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(descriptor.getOutputType())))
        .build();
  }

  /** The request that {@code json} describes ("" or none: the empty message); {@code flag} names where it came from. */
  DynamicMessage request(String json, String flag) {
    Descriptors.Descriptor type = descriptor.getInputType();
    DynamicMessage.Builder request = DynamicMessage.newBuilder(type);
    if (json == null || json.isBlank()) {
      return request.build();
    }
    JsonElement parsed;
    try {
      parsed = new GsonBuilder().setStrictness(Strictness.STRICT).create().fromJson(json, JsonElement.class);
    } catch (JsonParseException e) {
      Matcher where = WHERE.matcher(String.valueOf(e.getMessage()));
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, flag + " is not JSON" + (where.find() ? ": malformed "
          + where.group() : ""));
    }
    if (!parsed.isJsonObject()) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, flag + " must be a JSON object: the fields of "
          + type.getFullName());
    }
    try {
      while (true) {
        try {
          JsonFormat.parser().usingTypeRegistry(types).merge(json, request);
          break;
        } catch (InvalidProtocolBufferException e) {
          if (!learnedTypeOf(e)) {
            throw e;
          }
          request.clear();
        }
      }
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      String field = culprit(type, parsed.getAsJsonObject(), "");
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, flag + " does not fit " + type.getFullName()
          + (field == null ? "" : " at field " + field) + ": " + Pingkit.oneLine(e));
    }
    return request.build();
  }

  /**
   * The path of the first field of {@code object} that {@code type} does not take (protobuf's JSON errors name the
   * value, not always its field), looking into messages and lists of them; null: not found.
   */
  private String culprit(Descriptors.Descriptor type, JsonObject object, String path) {
    for (var entry : object.entrySet()) {
      JsonObject alone = new JsonObject();
      alone.add(entry.getKey(), entry.getValue());
      try {
        JsonFormat.parser().usingTypeRegistry(types).merge(alone.toString(), DynamicMessage.newBuilder(type));
        continue;
      } catch (InvalidProtocolBufferException | RuntimeException e) {
        // this one: look inside it
      }
      String here = path + entry.getKey();
      Descriptors.FieldDescriptor field = type.findFieldByName(entry.getKey());
      for (var candidate : type.getFields()) {
        field = field != null ? field : candidate.getJsonName().equals(entry.getKey()) ? candidate : null;
      }
      if (field == null || field.getJavaType() != Descriptors.FieldDescriptor.JavaType.MESSAGE || field.isMapField()) {
        return here;
      }
      JsonElement value = entry.getValue();
      if (value.isJsonObject()) {
        String inside = culprit(field.getMessageType(), value.getAsJsonObject(), here + ".");
        return inside != null ? inside : here;
      }
      if (value.isJsonArray()) {
        for (int i = 0; i < value.getAsJsonArray().size(); i++) {
          JsonElement element = value.getAsJsonArray().get(i);
          String inside = element.isJsonObject()
              ? culprit(field.getMessageType(), element.getAsJsonObject(), here + "[" + i + "].") : null;
          if (inside != null) {
            return inside;
          }
        }
      }
      return here;
    }
    return null;
  }

  /**
   * Whether the type an Any names, unknown so far ({@code failure} of protobuf's JSON says which), is known now: asked
   * from the server's reflection, as grpcurl does.
   */
  private boolean learnedTypeOf(InvalidProtocolBufferException failure) {
    Matcher unknown = UNKNOWN_TYPE.matcher(String.valueOf(failure.getMessage()));
    if (!unknown.find() || !schema.learn(unknown.group(1))) {
      return false;
    }
    types = schema.types();
    return true;
  }

  /** A message of this method's types as JSON (proto3's mapping): indented, or on one line when {@code compact}. */
  String json(Message message, boolean compact) {
    try {
      while (true) {
        JsonFormat.Printer printer = JsonFormat.printer().usingTypeRegistry(types);
        try {
          return (compact ? printer.omittingInsignificantWhitespace() : printer).print(message);
        } catch (InvalidProtocolBufferException e) {
          if (!learnedTypeOf(e)) {
            throw e;
          }
        }
      }
    } catch (InvalidProtocolBufferException e) {
      // an Any whose type neither the schema nor the server's reflection knows
      JsonObject error = new JsonObject();
      error.addProperty("@error", "cannot show it: " + Pingkit.oneLine(e));
      return error.toString();
    }
  }
}
