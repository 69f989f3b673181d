// The types of a server's services, from its reflection or from a descriptor set file (--protoset): the services it
// offers, a method found by the name a user gives, and the registry that JSON's Any needs.

package pingkit.method;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import pingkit.Pingkit;

/**
 * What a server's services look like: from its reflection (asked as needed, on the run's connection) or from a
 * {@code FileDescriptorSet} file, as {@code protoc --descriptor_set_out=FILE --include_imports} writes it. Files a
 * source lacks that protobuf itself defines (Timestamp, Duration, Any, ...) come from protobuf-java.
 */
final class Schema {
  /** protobuf's own files, for sources that leave them out (a descriptor set made without --include_imports). */
  private static final Map<String, FileDescriptor> WELL_KNOWN = wellKnownFiles();

  private final String source;
  /** Whether the server tells the types (its reflection), not a file: a file it lacks is the server's failure. */
  private final boolean fromServer;
  private final Function<String, List<FileDescriptorProto>> filesDefining;
  private final Function<String, List<FileDescriptorProto>> fileNamed;
  private final java.util.function.Supplier<List<String>> serviceNames;
  private final Map<String, FileDescriptorProto> protos = new HashMap<>();
  private final Map<String, FileDescriptor> built = new LinkedHashMap<>();

  private Schema(String source, boolean fromServer, Function<String, List<FileDescriptorProto>> filesDefining,
      Function<String, List<FileDescriptorProto>> fileNamed, java.util.function.Supplier<List<String>> serviceNames) {
    this.source = source;
    this.fromServer = fromServer;
    this.filesDefining = filesDefining;
    this.fileNamed = fileNamed;
    this.serviceNames = serviceNames;
  }

  /** The types as the server's reflection tells them (asked only when needed). */
  static Schema of(ServerReflection reflection, String target) {
    return new Schema("the server's reflection at " + target, true, reflection::filesDefining, reflection::file,
        reflection::services);
  }

  /** The types in a descriptor set file (--protoset). */
  static Schema of(Path protoset) {
    if (!Files.isRegularFile(protoset)) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--protoset " + protoset + ": no such file");
    }
    FileDescriptorSet set;
    try {
      set = FileDescriptorSet.parseFrom(Files.readAllBytes(protoset));
    } catch (IOException e) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--protoset " + protoset + ": cannot read it as a"
          + " FileDescriptorSet (protoc --descriptor_set_out=FILE --include_imports): " + Pingkit.oneLine(e));
    }
    Map<String, FileDescriptorProto> files = new LinkedHashMap<>();
    set.getFileList().forEach(file -> files.put(file.getName(), file));
    Schema schema = new Schema("--protoset " + protoset, false, symbol -> List.of(),
        name -> files.containsKey(name) ? List.of(files.get(name)) : List.of(), () -> files.values().stream()
            .flatMap(file -> file.getServiceList().stream().map(service -> qualified(file, service.getName())))
            .toList());
    schema.protos.putAll(files);
    files.keySet().forEach(schema::build); // every type of the file is known, for JSON's Any
    return schema;
  }

  /** Where the types come from, for messages: "--protoset FILE" or "the server's reflection at TARGET". */
  String source() {
    return source;
  }

  /** The fully qualified names of the services offered, sorted. */
  List<String> services() {
    return serviceNames.get().stream().sorted().toList();
  }

  /** The service of this fully qualified name; null: the source knows none. */
  ServiceDescriptor service(String name) {
    ServiceDescriptor known = serviceRead(name);
    if (known != null) {
      return known;
    }
    filesDefining.apply(name).forEach(file -> protos.putIfAbsent(file.getName(), file));
    return serviceRead(name);
  }

  /** The service of this name in the files read so far; null: none. */
  private ServiceDescriptor serviceRead(String name) {
    for (FileDescriptorProto file : List.copyOf(protos.values())) {
      for (var service : file.getServiceList()) {
        if (qualified(file, service.getName()).equals(name)) {
          return build(file.getName()).findServiceByName(service.getName());
        }
      }
    }
    return null;
  }

  /**
   * The method a user names as grpcurl takes it: {@code pkg.Service/Method}, {@code /pkg.Service/Method} or
   * {@code pkg.Service.Method}; an unknown one is a one-line error listing what there is.
   */
  MethodDescriptor method(String fullName) {
    String name = fullName.startsWith("/") ? fullName.substring(1) : fullName;
    int split = name.indexOf('/') >= 0 ? name.indexOf('/') : name.lastIndexOf('.');
    if (split <= 0 || split == name.length() - 1 || name.indexOf('/', split + 1) >= 0) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--method '" + fullName + "': expected SERVICE/METHOD, e.g."
          + " fgrpc.PingServer/Ping");
    }
    String serviceName = name.substring(0, split);
    String methodName = name.substring(split + 1);
    ServiceDescriptor service = service(serviceName);
    if (service == null) {
      List<String> offered = services();
      if (offered.contains(serviceName)) {
        throw new Pingkit.UserError(Pingkit.EXIT_RPC_FAILED, source + " lists '" + serviceName + "' but gives no"
            + " descriptor of it (NOT_FOUND)");
      }
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "no service '" + serviceName + "' in " + source
          + (offered.isEmpty() ? ", which lists none" : "; it offers: " + String.join(", ", offered)));
    }
    MethodDescriptor method = service.findMethodByName(methodName);
    if (method == null) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "service " + serviceName + " has no method '" + methodName
          + "'; its methods: " + service.getMethods().stream().map(MethodDescriptor::getName)
          .collect(Collectors.joining(", ")));
    }
    return method;
  }

  /** Every message type of the files read so far and of protobuf's own, for JSON's Any. */
  JsonFormat.TypeRegistry types() {
    JsonFormat.TypeRegistry.Builder types = JsonFormat.TypeRegistry.newBuilder();
    Map<String, FileDescriptor> files = new LinkedHashMap<>(WELL_KNOWN);
    files.putAll(built); // a source's own copy of a file of protobuf's comes instead (a type is added once)
    files.values().forEach(file -> types.add(file.getMessageTypes()));
    return types.build();
  }

  /**
   * Learns the message type {@code fullName} (an Any's type) from the server's reflection; returns whether it is
   * known now. A descriptor set's types are all known from the start.
   */
  boolean learn(String fullName) {
    if (!fromServer || types().find(fullName) != null) {
      return false;
    }
    List<FileDescriptorProto> files = filesDefining.apply(fullName);
    files.forEach(file -> protos.putIfAbsent(file.getName(), file));
    files.forEach(file -> build(file.getName()));
    return types().find(fullName) != null;
  }

  /** The file of this name, built with its imports (asked from the source as needed). */
  private FileDescriptor build(String fileName) {
    return build(fileName, new HashSet<>());
  }

  private FileDescriptor build(String fileName, Set<String> building) {
    FileDescriptor done = built.get(fileName);
    if (done != null) {
      return done;
    }
    FileDescriptorProto proto = protos.get(fileName);
    if (proto == null) {
      fileNamed.apply(fileName).forEach(file -> protos.putIfAbsent(file.getName(), file));
      proto = protos.get(fileName);
    }
    if (proto == null) {
      if (WELL_KNOWN.containsKey(fileName)) {
        built.put(fileName, WELL_KNOWN.get(fileName));
        return WELL_KNOWN.get(fileName);
      }
      throw fromServer ? new Pingkit.UserError(Pingkit.EXIT_RPC_FAILED, source + " gives no file " + fileName
          + " (an import) (NOT_FOUND)")
          : new Pingkit.UserError(Pingkit.EXIT_USAGE, source + " lacks the file " + fileName + " (an import): make"
          + " it with protoc --include_imports");
    }
    if (!building.add(fileName)) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, source + ": " + fileName + " imports itself");
    }
    List<FileDescriptor> imports = new ArrayList<>();
    for (String imported : proto.getDependencyList()) {
      imports.add(build(imported, building));
    }
    try {
      FileDescriptor file = FileDescriptor.buildFrom(proto, imports.toArray(FileDescriptor[]::new));
      built.put(fileName, file);
      return file;
    } catch (DescriptorValidationException e) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, source + ": " + fileName + " is not a valid file"
          + " descriptor: " + Pingkit.oneLine(e));
    }
  }

  private static String qualified(FileDescriptorProto file, String name) {
    return file.getPackage().isEmpty() ? name : file.getPackage() + "." + name;
  }

  private static Map<String, FileDescriptor> wellKnownFiles() {
    Map<String, FileDescriptor> files = new HashMap<>();
    for (FileDescriptor file : List.of(com.google.protobuf.AnyProto.getDescriptor(),
        com.google.protobuf.DurationProto.getDescriptor(), com.google.protobuf.TimestampProto.getDescriptor(),
        com.google.protobuf.EmptyProto.getDescriptor(), com.google.protobuf.StructProto.getDescriptor(),
        com.google.protobuf.WrappersProto.getDescriptor(), com.google.protobuf.FieldMaskProto.getDescriptor(),
        com.google.protobuf.ApiProto.getDescriptor(), com.google.protobuf.TypeProto.getDescriptor(),
        com.google.protobuf.SourceContextProto.getDescriptor(), com.google.protobuf.DescriptorProtos.getDescriptor())) {
      files.put(file.getName(), file);
    }
    return files;
  }
}
