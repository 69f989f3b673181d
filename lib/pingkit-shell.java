///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//SOURCES pingkit/*.java pingkit/wire/*.java pingkit/net/*.java pingkit/report/*.java pingkit/load/*.java
//SOURCES pingkit/method/*.java pingkit/ping/*.java pingkit/health/*.java pingkit/server/*.java

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jdk.jshell.tool.JavaShellToolBuilder;
import pingkit.Logs;

/**
 * JShell on pingkit's compiled classes, in this JVM: the session opens with the roles' packages imported, so
 * that {@code PingServer.start("127.0.0.1:0")} is the first line. Arguments are JShell's own (a script file, say).
 */
class PingkitShell {
  static final String IMPORTS = """
      import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
      import java.nio.file.Path;
      import java.time.Duration;
      import pingkit.health.*;
      import pingkit.load.*;
      import pingkit.method.*;
      import pingkit.ping.*;
      import pingkit.report.*;
      import pingkit.server.*;
      """;

  public static void main(String[] args) throws Exception {
    // warnings only, one line each, as the scripts log without -v
    Logs.configure("pingkit", 0, true);
    Path imports = Files.createTempFile("pingkit-shell", ".jsh");
    int exitCode;
    try {
      Files.writeString(imports, IMPORTS);
      // local: the snippets run in this JVM, whose class path already holds pingkit's classes, loaded once
      List<String> shellArgs = new ArrayList<>(List.of("--execution=local",
          "--class-path=" + System.getProperty("java.class.path"), "--startup=DEFAULT", "--startup=" + imports));
      shellArgs.addAll(List.of(args));
      exitCode = JavaShellToolBuilder.builder().start(shellArgs.toArray(String[]::new));
    } finally {
      deleteQuietly(imports);
    }
    System.exit(exitCode);
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // a temporary file left in the temporary folder
    }
  }
}
