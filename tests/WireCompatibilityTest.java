import static org.junit.jupiter.api.Assertions.assertEquals;
import pingkit.server.PingServer;
import pingkit.server.RunningServer;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * An independent gRPC implementation (Debian's python3-grpcio, stubs generated from proto/ at test time) calls
 * /fgrpc.PingServer/Ping on our server: the wire contract is Fortio's, not an artefact of our Java stubs.
 * Skipped where python3-grpcio is missing, except in CI, where it fails.
 */
class WireCompatibilityTest {
  private static final String PYTHON = TestSupport.PYTHON;

  private static final String CLIENT = """
      import sys, time, grpc, ping_pb2, ping_pb2_grpc
      channel = grpc.insecure_channel(sys.argv[1])
      stub = ping_pb2_grpc.PingServerStub(channel)
      before = time.time_ns()
      reply = stub.Ping(ping_pb2.PingMessage(seq=77, ts=1, payload="from python", delayNanos=1000), timeout=10)
      after = time.time_ns()
      print(reply.seq, reply.payload.replace(" ", "_"), reply.delayNanos, int(before <= reply.ts <= after))
      """;

  @Test
  void pythonGrpcClientPingsOurServerWithStubsGeneratedFromProto() throws Exception {
    Path dir = TestSupport.pythonGrpc();
    Files.writeString(dir.resolve("client.py"), CLIENT);
    try (RunningServer server = PingServer.start("127.0.0.1:0")) {
      String output = TestSupport.run(dir, PYTHON, "client.py", server.target()).trim();
      // seq, payload and delay echoed; ts is the server's wall clock in ns, between the client's before/after
      assertEquals("77 from_python 1000 1", output);
    }
  }
}
