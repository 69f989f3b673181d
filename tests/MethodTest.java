import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import pingkit.Pingkit;
import pingkit.health.HealthCheck;
import pingkit.load.LoadResult;
import pingkit.method.MethodClient;
import pingkit.method.MethodResult;
import pingkit.ping.PingClient;
import pingkit.report.ReportOptions;
import pingkit.server.PingServer;
import pingkit.server.RunningServer;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ping-client --method and --list: any unary method, its types from the server's reflection (ours: v1; a grpc-java
 * server with v1alpha only) or from a descriptor set, against our server and an independent one (Debian's
 * python3-grpcio serving a service of the test's own .proto: nested messages, enums, repeated and map fields, a
 * oneof, Timestamp and Duration; Debian has no Python reflection, so its types come from grpc_tools.protoc's
 * --descriptor_set_out).
 */
class MethodTest {
  private static final String SHOP_PROTO = """
      syntax = "proto3";
      package shop.v1;
      import "google/protobuf/timestamp.proto";
      import "google/protobuf/duration.proto";
      import "google/protobuf/any.proto";

      enum Size { SIZE_UNSPECIFIED = 0; SMALL = 1; LARGE = 2; }
      message Item { string sku = 1; int32 quantity = 2; Size size = 3; }
      message Order {
        message Address { string city = 1; repeated string lines = 2; }
        string id = 1;
        repeated Item items = 2;
        map<string, string> labels = 3;
        oneof payment { string card = 4; bool invoice = 5; }
        google.protobuf.Timestamp placed_at = 6;
        google.protobuf.Duration delivery_window = 7;
        Address address = 8;
      }
      message Receipt { Order order = 1; int64 total_quantity = 2; string summary = 3; }
      message Envelope { google.protobuf.Any content = 1; repeated google.protobuf.Any more = 2; }
      service Shop {
        rpc Place(Order) returns (Receipt);
        rpc Refuse(Order) returns (Receipt);
        rpc Follow(Order) returns (stream Receipt);
        rpc Forward(Envelope) returns (Envelope);
      }
      """;

  /** Reads every field of an order, so that the receipt shows what the server understood. */
  private static final String SHOP_SERVER = """
      import sys, grpc
      from concurrent import futures
      import shop_pb2, shop_pb2_grpc

      class Shop(shop_pb2_grpc.ShopServicer):
          def Place(self, order, context):
              summary = "%d items to %s (%d lines) paid by %s placed %d window %ds sizes %s labels %s" % (
                  len(order.items), order.address.city, len(order.address.lines), order.WhichOneof("payment"),
                  order.placed_at.seconds, order.delivery_window.seconds,
                  ",".join(shop_pb2.Size.Name(i.size) for i in order.items),
                  ",".join("%s=%s" % kv for kv in sorted(order.labels.items())))
              return shop_pb2.Receipt(order=order, total_quantity=sum(i.quantity for i in order.items),
                                      summary=summary)
          def Refuse(self, order, context):
              context.abort(grpc.StatusCode.FAILED_PRECONDITION, "closed for " + order.id)
          def Follow(self, order, context):
              yield shop_pb2.Receipt(order=order)
          def Forward(self, envelope, context):
              item = shop_pb2.Item()
              if not envelope.content.Unpack(item):
                  context.abort(grpc.StatusCode.INVALID_ARGUMENT, "not an Item: " + envelope.content.type_url)
              item.quantity += 1
              reply = shop_pb2.Envelope(more=envelope.more)
              reply.content.Pack(item)
              return reply

      server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
      shop_pb2_grpc.add_ShopServicer_to_server(Shop(), server)
      port = server.add_insecure_port("127.0.0.1:0")
      server.start()
      print("listening on tcp 127.0.0.1:%d" % port, flush=True)
      sys.stdin.read()
      """;

  private static final String ORDER = """
      {"id": "o-1", "items": [{"sku": "a", "quantity": 2, "size": "LARGE"}, {"sku": "b", "quantity": 3}],
       "labels": {"gift": "yes"}, "invoice": true, "placedAt": "2026-12-06T10:00:00Z", "deliveryWindow": "90s",
       "address": {"city": "Oslo", "lines": ["Karl Johans gate 1"]}}""";

  private static RunningServer ours;
  private static io.grpc.Server v1alphaOnly;
  private static Path dir;
  private static Path shopProtoset;
  private static Path shopProtosetWithoutImports;
  private static TestSupport.ScriptProcess python;
  private static TestSupport.ScriptProcess loggingServer;

  @BeforeAll
  static void startServers() throws Exception {
    ours = PingServer.start("127.0.0.1:0");
    HealthStatusManager health = new HealthStatusManager();
    health.setStatus("shop", ServingStatus.NOT_SERVING);
    @SuppressWarnings("deprecation") // the v1alpha service alone is what older servers offer
    var reflection = io.grpc.protobuf.services.ProtoReflectionService.newInstance();
    v1alphaOnly = io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(new java.net.InetSocketAddress("127.0.0.1", 0),
        io.grpc.InsecureServerCredentials.create()).addService(reflection).addService(health.getHealthService())
        .build().start();
  }

  @AfterAll
  static void stopServers() {
    ours.stopNow();
    v1alphaOnly.shutdownNow();
    for (var process : new TestSupport.ScriptProcess[] {python, loggingServer}) {
      if (process != null) {
        process.close();
      }
    }
  }

  /** The Python shop server and its descriptor sets, made at the first test that needs them. */
  private static synchronized String shop() throws Exception {
    if (python == null) {
      dir = TestSupport.pythonGrpc();
      Files.writeString(dir.resolve("shop.proto"), SHOP_PROTO);
      Files.writeString(dir.resolve("shop_server.py"), SHOP_SERVER);
      TestSupport.run(dir, TestSupport.PYTHON, "-m", "grpc_tools.protoc", "-I.", "--python_out=.",
          "--grpc_python_out=.", "--include_imports", "--descriptor_set_out=shop.pb", "shop.proto");
      TestSupport.run(dir, TestSupport.PYTHON, "-m", "grpc_tools.protoc", "-I.", "--descriptor_set_out=shop-alone.pb",
          "shop.proto");
      shopProtoset = dir.resolve("shop.pb");
      shopProtosetWithoutImports = dir.resolve("shop-alone.pb");
      python = TestSupport.ScriptProcess.start(List.of(TestSupport.PYTHON, "shop_server.py"), dir);
    }
    return "127.0.0.1:" + python.awaitListeningPort();
  }

  private static MethodResult call(String... args) {
    return Pingkit.parse(new PingClient(), args).callMethod(new CountDownLatch(1), null);
  }

  private static JsonObject lastResponse(MethodResult result) {
    return JsonParser.parseString(result.lastResponse()).getAsJsonObject();
  }

  @Test
  void ourPingThroughReflectionAnswersAsTheTypedClientDoes() {
    MethodResult result = call("--method", "fgrpc.PingServer/Ping", "-d", "{\"payload\": \"hi\", \"seq\": 7}",
        "-n", "5", ours.target());
    assertEquals(Map.of("OK", 5L), result.statusCounts());
    assertEquals(5, result.rttHistogram().count());
    JsonObject echo = lastResponse(result);
    assertEquals("hi", echo.get("payload").getAsString());
    assertEquals("7", echo.get("seq").getAsString()); // int64 as JSON writes it
    assertTrue(echo.get("ts").getAsLong() > 0, "the server's receive time: " + echo);
    assertEquals(PingClient.run("-n", "1", "--payload", "hi", ours.target()).rttHistogram().count(), 3);
  }

  @Test
  void healthThroughReflectionSaysWhatTheHealthClientSays() {
    MethodResult result = call("--method", "grpc.health.v1.Health.Check", "--data", "{\"service\": \"ping\"}",
        ours.target());
    ServingStatus typed = HealthCheck.to(ours.target()).service("ping").check().statusCounts().keySet()
        .iterator().next();
    assertEquals(typed.name(), lastResponse(result).get("status").getAsString());
  }

  @Test
  void aServerWithOnlyTheV1alphaReflectionIsReadToo() {
    String target = "127.0.0.1:" + v1alphaOnly.getPort();
    MethodResult result = call("--method", "/grpc.health.v1.Health/Check", "-payload", "{\"service\": \"shop\"}",
        target);
    assertEquals("NOT_SERVING", lastResponse(result).get("status").getAsString());
    var services = Pingkit.parse(new PingClient(), "--list", target).methodClient().list();
    assertEquals(List.of("grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"), services.services());
  }

  @Test
  void aPythonServiceOfEveryKindOfFieldThroughADescriptorSet() throws Exception {
    String target = shop();
    for (Path protoset : List.of(shopProtoset, shopProtosetWithoutImports)) {
      MethodResult result = call("--protoset", protoset.toString(), "--method", "shop.v1.Shop/Place", "-d", ORDER,
          "-n", "3", target);
      assertEquals(Map.of("OK", 3L), result.statusCounts(), protoset.toString());
      JsonObject receipt = lastResponse(result);
      assertEquals("5", receipt.get("totalQuantity").getAsString());
      assertEquals("2 items to Oslo (1 lines) paid by invoice placed 1796551200 window 90s sizes LARGE,"
          + "SIZE_UNSPECIFIED labels gift=yes", receipt.get("summary").getAsString());
      JsonObject order = receipt.getAsJsonObject("order");
      assertEquals("2026-12-06T10:00:00Z", order.get("placedAt").getAsString());
      assertEquals("90s", order.get("deliveryWindow").getAsString());
      assertEquals("LARGE", order.getAsJsonArray("items").get(0).getAsJsonObject().get("size").getAsString());
      assertEquals("yes", order.getAsJsonObject("labels").get("gift").getAsString());
    }
  }

  @Test
  void overMutualTlsAndAUnixSocketAsPingsGo() throws Exception {
    TestSupport.Certs certs = TestSupport.certs();
    try (RunningServer mtls = PingServer.start("--cert", certs.serverCert().toString(), "--key",
        certs.serverKey().toString(), "--cacert", certs.caCert().toString(), "127.0.0.1:0")) {
      MethodResult result = call("--cacert", certs.caCert().toString(), "--cert", certs.clientCert().toString(),
          "--key", certs.clientKey().toString(), "--authority", "localhost", "--method", "fgrpc.PingServer/Ping",
          "-d", "{\"payload\": \"tls\"}", mtls.target());
      assertEquals("tls", lastResponse(result).get("payload").getAsString());
    }
    Path socket = Files.createTempDirectory("pingkit").resolve("ping.sock");
    try (RunningServer unix = PingServer.start(socket.toString())) {
      MethodResult result = call("--method", "fgrpc.PingServer/Ping", "-d", "{\"payload\": \"unix\"}",
          "unix://" + socket);
      assertEquals("unix", lastResponse(result).get("payload").getAsString());
    }
  }

  @Test
  void anyFieldsTakeAndShowTheirTypes() throws Exception {
    String target = shop();
    MethodResult result = call("--protoset", shopProtoset.toString(), "--method", "shop.v1.Shop/Forward", "-d", """
        {"content": {"@type": "type.googleapis.com/shop.v1.Item", "sku": "a", "quantity": 2},
         "more": [{"@type": "type.googleapis.com/google.protobuf.Duration", "value": "3s"}]}""", target);
    JsonObject envelope = lastResponse(result);
    JsonObject item = envelope.getAsJsonObject("content");
    assertEquals("type.googleapis.com/shop.v1.Item", item.get("@type").getAsString());
    assertEquals(3, item.get("quantity").getAsInt()); // the server unpacked it, as an Item
    assertEquals("3s", envelope.getAsJsonArray("more").get(0).getAsJsonObject().get("value").getAsString());
  }

  @Test
  void aMethodsErrorStatusIsCountedAndTheRunExits3() throws Exception {
    String target = shop();
    MethodResult result = call("--protoset", shopProtoset.toString(), "--method", "shop.v1.Shop/Refuse", "-d",
        "{\"id\": \"o-2\"}", "-n", "4", target);
    assertEquals(Map.of("FAILED_PRECONDITION", 4L), result.statusCounts());
    assertEquals(4, result.rttHistogram().count()); // an error status is an answer: its RTT is measured
    assertEquals(Pingkit.EXIT_RPC_FAILED, result.failure().exitCode);
    assertTrue(result.failure().getMessage().contains("closed for o-2"), result.failure().getMessage());
  }

  @Test
  void loadModeCallsTheMethodAndCountsItsStatuses() throws Exception {
    LoadResult pings = PingClient.load("--method", "fgrpc.PingServer/Ping", "-d", "{\"payload\": \"x\"}", "-c", "2",
        "-qps", "0", "-n", "60", ours.target());
    assertEquals(60, pings.latency().count());
    assertEquals(Map.of("SERVING", 60L), pings.outcomes());
    assertTrue(pings.plan().runType().startsWith("Custom GRPC Method fgrpc.PingServer/Ping and Payload"),
        pings.plan().runType());
    String target = shop();
    LoadResult refused = PingClient.load("--protoset", shopProtoset.toString(), "--method", "shop.v1.Shop/Refuse",
        "-c", "1", "-qps", "0", "-n", "10", target);
    assertEquals(Map.of("FAILED_PRECONDITION", 10L), refused.outcomes());
  }

  @Test
  void runsSavedAsJsonMergeAsOne() throws Exception {
    Path runs = Files.createTempDirectory("pingkit-method-merge");
    for (String name : List.of("a.json", "b.json")) {
      MethodResult result = call("--method", "fgrpc.PingServer/Ping", "-n", "3", ours.target());
      Files.writeString(runs.resolve(name), ReportOptions.toJson(result.toJson(List.of(50.0, 99.0))));
    }
    try (var merged = TestSupport.ScriptProcess.java("PingClientCommand", "--merge", runs.resolve("a.json").toString(),
        runs.resolve("b.json").toString(), "--json", "-")) {
      assertEquals(0, merged.awaitExit(60), merged.stderr.toString());
      JsonObject json = JsonParser.parseString(String.join("\n", merged.stdout)).getAsJsonObject();
      assertEquals(6, json.get("calls").getAsLong());
      assertEquals(6, json.getAsJsonObject("statuses").get("OK").getAsLong());
      assertEquals(2, json.getAsJsonArray("runs").size());
    }
  }

  @Test
  void listShowsServicesThenAServicesMethods() throws Exception {
    try (var services = TestSupport.ScriptProcess.java("PingClientCommand", "--list", ours.target())) {
      assertEquals(0, services.awaitExit(60), services.stderr.toString());
      assertEquals(List.of("fgrpc.PingServer", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
          "grpc.reflection.v1alpha.ServerReflection", "pingkit.PingStream"), services.stdout);
    }
    shop(); // its descriptor set
    var shop = Pingkit.parse(new PingClient(), "--list", "shop.v1.Shop", "--protoset", shopProtoset.toString())
        .methodClient().list();
    assertEquals("""
        shop.v1.Shop:
          Place(shop.v1.Order) returns (shop.v1.Receipt)
          Refuse(shop.v1.Order) returns (shop.v1.Receipt)
          Follow(shop.v1.Order) returns (stream shop.v1.Receipt)
          Forward(shop.v1.Envelope) returns (shop.v1.Envelope)
        """, shop.text());
    JsonObject json = JsonParser.parseString(shop.json()).getAsJsonObject();
    assertEquals("shop.v1.Shop/Follow", json.getAsJsonArray("methods").get(2).getAsJsonObject().get("fullName")
        .getAsString());
    assertTrue(json.getAsJsonArray("methods").get(2).getAsJsonObject().get("serverStreaming").getAsBoolean());
  }

  @Test
  void oneCallFromJShellGivesTheResponseAndItsTime() {
    MethodClient.Reply reply = MethodClient.call(ours.target(), "fgrpc.PingServer/Ping", "{\"payload\": \"hi\"}");
    assertEquals("OK", reply.status());
    assertEquals("hi", JsonParser.parseString(reply.response()).getAsJsonObject().get("payload").getAsString());
    assertTrue(reply.rtt().toNanos() > 0, reply.toString());
    // an error status is the method's answer too
    MethodClient.Reply notFound = MethodClient.call(ours.target(), "grpc.health.v1.Health/Check",
        "{\"service\": \"nope\"}");
    assertEquals("NOT_FOUND", notFound.status());
    assertEquals(null, notFound.response());
    assertTrue(notFound.toString().startsWith("Reply[NOT_FOUND in "), notFound.toString());
  }

  @Test
  void responsesOverTheClientsLimitAreSaidToBeItsAndTheLimitRises() {
    try (RunningServer big = PingServer.start("--max-message-size", "16MiB", "127.0.0.1:0")) {
      String fiveMegabytes = "{\"payload\": \"" + "x".repeat(5_000_000) + "\"}";
      MethodResult refused = call("--method", "fgrpc.PingServer/Ping", "-d", fiveMegabytes, "-n", "3", big.target());
      assertEquals(Map.of("RESOURCE_EXHAUSTED", 3L), refused.statusCounts()); // each time, not by timing
      assertTrue(refused.failure().getMessage().endsWith("(this client takes responses of up to 4MiB:"
          + " --max-message-size)"), refused.failure().getMessage());
      MethodResult taken = call("--max-message-size", "8MiB", "--method", "fgrpc.PingServer/Ping", "-d",
          fiveMegabytes, "-n", "2", big.target());
      assertEquals(Map.of("OK", 2L), taken.statusCounts());
    }
  }

  /** A ping-server that logs every call with its metadata (-v), to see what reached it. */
  private static synchronized TestSupport.ScriptProcess loggingServer() {
    if (loggingServer == null) {
      loggingServer = TestSupport.ScriptProcess.java("PingServerCommand", "-v", "--warmup", "0s", "127.0.0.1:0");
    }
    return loggingServer;
  }

  /** The server's log lines of calls of {@code method} with metadata x-case: {@code testCase}. */
  private static long calls(TestSupport.ScriptProcess server, String method, String testCase) {
    return server.stderr.stream().filter(l -> l.contains(method + " from") && l.contains("x-case=" + testCase))
        .count();
  }

  @Test
  void gzipRequestsReachTheServerCompressed() {
    var server = loggingServer();
    String target = "127.0.0.1:" + server.awaitListeningPort();
    call("--compression", "gzip", "-H", "x-case: gzip-method", "--method", "fgrpc.PingServer/Ping", target);
    PingClient.run("-grpc-compression", "-H", "x-case: gzip-ping", target);
    PingClient.run("-H", "x-case: plain", target);
    for (String testCase : List.of("gzip-method", "gzip-ping")) {
      String line = server.awaitStderr(l -> l.contains("PingServer/Ping") && l.contains("x-case=" + testCase), 30);
      assertTrue(line.contains("grpc-encoding=gzip"), line);
    }
    String plain = server.awaitStderr(l -> l.contains("PingServer/Ping") && l.contains("x-case=plain"), 30);
    assertTrue(!plain.contains("grpc-encoding=gzip"), plain);
  }

  @Test
  void aLoadOfNCallsCallsTheMethodNTimesAndNothingMore() {
    var server = loggingServer();
    String target = "127.0.0.1:" + server.awaitListeningPort();
    LoadResult result = PingClient.load("--method", "fgrpc.PingServer/Ping", "-H", "x-case: exact", "-c", "2",
        "-qps", "0", "-n", "10", target);
    assertEquals(10, result.latency().count());
    assertEquals(0, result.warmupCalls());
    // the calls were logged before they were answered, so before this one was sent: its line comes after theirs
    PingClient.run("-H", "x-case: after-load", target);
    server.awaitStderr(l -> l.contains("x-case=after-load"), 30);
    assertEquals(10, calls(server, "fgrpc.PingServer/Ping", "exact"));
    // each connection was proven by a health check instead of a call of the method
    assertEquals(2, calls(server, "grpc.health.v1.Health/Check", "exact"));
  }

  @Test
  void theReadmesExamplesPrintWhatTheReadmeShows() {
    String[] examples = ReadmeTest.block("method-examples").split("(?m)^\\$ ");
    assertEquals(4, examples.length, "three commands, each with its output");
    for (String example : List.of(examples).subList(1, examples.length)) {
      String command = example.lines().findFirst().orElseThrow().replace("localhost:8079", ours.target());
      try (var client = TestSupport.ScriptProcess.start(List.of("bash", "-c", "exec " + command), TestSupport.repo())) {
        assertEquals(0, client.awaitExit(120), command + " stderr: " + client.stderr);
        for (String line : example.lines().skip(1).toList()) {
          // the lines the README shows, with this run's numbers
          String start = line.replace("localhost:8079", ours.target()).replaceFirst("[\\d.]+.*$", "");
          assertTrue(client.stdout.stream().anyMatch(l -> l.startsWith(start)), "no line like '" + line + "' in "
              + client.stdout);
        }
      }
    }
  }

  /** Bad input of --method on the servers of this class: one line, the documented exit code, no stack trace. */
  @Test
  void badInputNeedingTheseServersSaysWhatIsWrongInOneLine() throws Exception {
    String target = shop();
    Path garbled = Files.writeString(dir.resolve("garbled.proto"), """
        syntax = "proto3";
        package fgrpc;
        message PingMessage { int64 seq = 1; int64 ts = 2; string payload = 3; int64 delayNanos = 4; }
        message Inner { int64 x = 1; }
        message Garbled { Inner payload = 3; }
        service PingServer { rpc Ping(PingMessage) returns (Garbled); }
        """);
    TestSupport.run(dir, TestSupport.PYTHON, "-m", "grpc_tools.protoc", "-I.", "--descriptor_set_out=garbled.pb",
        garbled.getFileName().toString());
    String garbledSet = dir.resolve("garbled.pb").toString();
    TestSupport.expectExit(3, "offers no server reflection (grpc.reflection.v1 and v1alpha: UNIMPLEMENTED): give"
        + " the types with --protoset FILE", "PingClientCommand", "--method", "shop.v1.Shop/Place", target);
    TestSupport.expectExit(1, "no service 'shop.v1.Shop' in --protoset " + garbledSet + "; it offers:"
        + " fgrpc.PingServer", "PingClientCommand", "--protoset", garbledSet, "--method", "shop.v1.Shop/Place", target);
    // a payload of one byte, 7: as the Inner message the descriptor set claims, it is a tag of wire type 7
    TestSupport.expectExit(3, "the response of fgrpc.PingServer/Ping is not a fgrpc.Garbled as --protoset "
        + garbledSet + " describes it", "PingClientCommand", "--protoset", garbledSet, "--method",
        "fgrpc.PingServer/Ping", "-d", "{\"payload\": \"\\u0007\"}", ours.target());
    TestSupport.expectExit(3, "3 of 3 calls failed (counted above by status; the last: CANCELLED: Failed to read"
        + " message.: INTERNAL: Invalid protobuf byte sequence", "PingClientCommand", "--protoset", garbledSet,
        "--method", "fgrpc.PingServer/Ping", "-d", "{\"payload\": \"\\u0007\"}", "-c", "1", "-n", "3",
        ours.target());
    TestSupport.expectExit(1, "shop.v1.Shop/Follow is a server-streaming method: --method calls unary methods only",
        "PingClientCommand", "--protoset", shopProtoset.toString(), "--method", "shop.v1.Shop/Follow", target);
    TestSupport.expectExit(3, "1 of 1 calls of shop.v1.Shop/Refuse failed; the last: FAILED_PRECONDITION closed for",
        "PingClientCommand", "--protoset", shopProtoset.toString(), "--method", "shop.v1.Shop/Refuse", target);
    Pingkit.UserError badEnum = assertThrows(Pingkit.UserError.class, () -> call("--protoset",
        shopProtoset.toString(), "--method", "shop.v1.Shop/Place", "-d",
        "{\"items\": [{\"sku\": \"a\"}, {\"size\": \"HUGE\"}]}", target));
    assertTrue(badEnum.getMessage().startsWith("--data does not fit shop.v1.Order at field items[1].size: "),
        badEnum.getMessage());
  }

  /** Fortio's server, where the machine has a fortio binary (this project's machines have none: skipped there). */
  @Test
  void fortiosServerThroughItsReflection() throws Exception {
    assumeTrue(TestSupport.onPath("fortio"), "no fortio binary on the PATH");
    int port;
    try (var free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    try (var fortio = TestSupport.ScriptProcess.start(List.of("fortio", "server", "-http-port", "127.0.0.1:0",
        "-grpc-port", "127.0.0.1:" + port, "-redirect-port", "disabled"), TestSupport.repo())) {
      String target = "127.0.0.1:" + port;
      assertEquals(Pingkit.EXIT_OK, Pingkit.parse(new HealthCheck(), "--wait-for-serving", "--timeout", "30s", target)
          .waitForServing(new CountDownLatch(1)));
      MethodResult result = call("--method", "fgrpc.PingServer/Ping", "-d", "{\"payload\": \"go\"}", target);
      assertEquals("go", lastResponse(result).get("payload").getAsString());
    }
  }
}
