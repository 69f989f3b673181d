import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import pingkit.Pingkit;
import pingkit.health.HealthCheck;
import pingkit.ping.PingClient;
import pingkit.ping.PingResult;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Our clients against an independent server: Debian's python3-grpcio serving fgrpc.PingServer, pingkit.PingStream
 * and grpc.health.v1 from stubs generated at test time (proto/ and Debian's grpc-proto). Skipped without them,
 * except in CI, where it fails.
 */
class IndependentServerTest {
  private static final String PYTHON = TestSupport.PYTHON;

  private static final String SERVER = """
      import sys, time, threading, grpc
      from concurrent import futures
      import ping_pb2, ping_pb2_grpc, ping_stream_pb2_grpc
      import health_pb2, health_pb2_grpc

      class Ping(ping_pb2_grpc.PingServerServicer):
          def Ping(self, request, context):
              received = time.time_ns()
              if request.delayNanos > 0:
                  time.sleep(request.delayNanos / 1e9)
              return ping_pb2.PingMessage(seq=request.seq, ts=received, payload=request.payload,
                                          delayNanos=request.delayNanos)

      class Stream(ping_stream_pb2_grpc.PingStreamServicer):
          def Echo(self, requests, context):
              for request in requests:
                  received = time.time_ns()
                  if request.delayNanos > 0:
                      time.sleep(request.delayNanos / 1e9)
                  yield ping_pb2.PingMessage(seq=request.seq, ts=received, payload=request.payload,
                                             delayNanos=request.delayNanos)

      class Health(health_pb2_grpc.HealthServicer):
          STATUSES = {"": 1, "ping": 1, "ping_down": 2}
          def Check(self, request, context):
              if request.service not in self.STATUSES:
                  context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
              return health_pb2.HealthCheckResponse(status=self.STATUSES[request.service])

      server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
      ping_pb2_grpc.add_PingServerServicer_to_server(Ping(), server)
      if "--ping-only" not in sys.argv:  # like Fortio's server
          health_pb2_grpc.add_HealthServicer_to_server(Health(), server)
          ping_stream_pb2_grpc.add_PingStreamServicer_to_server(Stream(), server)
      port = server.add_insecure_port("127.0.0.1:0")
      server.start()
      print("listening on tcp 127.0.0.1:%d" % port, flush=True)
      sys.stdin.read()
      """;

  private static Path dir;
  private static TestSupport.ScriptProcess withHealth;
  private static TestSupport.ScriptProcess pingOnly;

  @BeforeAll
  static void startPythonServers() throws Exception {
    dir = TestSupport.pythonGrpc();
    Files.writeString(dir.resolve("server.py"), SERVER);
    withHealth = TestSupport.ScriptProcess.start(List.of(PYTHON, "server.py"), dir);
    pingOnly = TestSupport.ScriptProcess.start(List.of(PYTHON, "server.py", "--ping-only"), dir);
  }

  @AfterAll
  static void stopPythonServers() {
    if (withHealth != null) {
      withHealth.close();
      pingOnly.close();
    }
  }

  @Test
  void pingClientMeasuresAPythonServer() {
    String target = "127.0.0.1:" + withHealth.awaitListeningPort();
    PingResult result = PingClient.run("-n", "5", "--payload", "hi", "--delay", "1ms", target);
    assertEquals(15, result.rttHistogram().count());
    assertEquals(5, result.clockSkewHistogram().count());
  }

  @Test
  void pingClientMeasuresAPythonStreamingServer() {
    String target = "127.0.0.1:" + withHealth.awaitListeningPort();
    PingResult result = PingClient.run("--stream", "-n", "5", "--payload", "hi", "--delay", "1ms",
        target);
    assertEquals(5, result.iterations());
    assertEquals(15, result.rttHistogram().count());
    assertEquals(5, result.clockSkewHistogram().count());
    org.junit.jupiter.api.Assertions.assertTrue(result.streamOpenNanos() > 0, result.toString());
  }

  @Test
  void aServerWithoutTheStreamingServiceIsReportedAsUnimplemented() {
    String target = "127.0.0.1:" + pingOnly.awaitListeningPort();
    Pingkit.UserError e = assertThrows(Pingkit.UserError.class, () -> PingClient.run("--stream", target));
    assertEquals(Pingkit.EXIT_RPC_FAILED, e.exitCode);
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("UNIMPLEMENTED"), e.getMessage());
  }

  @Test
  void healthCheckReadsAPythonHealthService() {
    String target = "127.0.0.1:" + withHealth.awaitListeningPort();
    assertEquals(Map.of(ServingStatus.SERVING, 3L), HealthCheck.to(target).service("ping").times(3).check().statusCounts());
    assertEquals(Map.of(ServingStatus.NOT_SERVING, 1L), HealthCheck.to(target).service("ping_down").times(1).check().statusCounts());
    Pingkit.UserError notFound =
        assertThrows(Pingkit.UserError.class, () -> HealthCheck.to(target).service("other").times(1).check().statusCounts());
    assertEquals(Pingkit.EXIT_RPC_FAILED, notFound.exitCode);
  }

  @Test
  void aServerWithoutHealthServiceIsReportedAsUnimplemented() {
    String target = "127.0.0.1:" + pingOnly.awaitListeningPort();
    Pingkit.UserError e = assertThrows(Pingkit.UserError.class, () -> HealthCheck.to(target).service("").times(1).check().statusCounts());
    assertEquals(Pingkit.EXIT_RPC_FAILED, e.exitCode);
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("UNIMPLEMENTED"), e.getMessage());
  }
}
