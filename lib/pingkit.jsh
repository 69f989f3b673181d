// All three roles in one JShell: ./jbang --interactive lib/pingkit.jsh (see the README for a session).
// JShell reads sources in order and cannot refer ahead to a class, and JBang hands them over last listed first:
// the lib/ files are listed after the scripts, each before the files it uses (the scripts list them in the order
// JShell needs).
//SOURCES ../health-check.java ../ping-client.java ../ping-server.java HealthResult.java Load.java LoadEngine.java
//SOURCES LoadTally.java
//SOURCES LoadProgress.java IntervalLog.java LoadResult.java PingIterations.java PingMeasurement.java Backends.java
//SOURCES Recording.java Pacer.java EchoStreams.java LoadRun.java
//SOURCES Merge.java Session.java Dialer.java Connection.java EchoStream.java ServerStream.java
//SOURCES EventLoops.java Diagnosis.java Overhead.java WireClock.java FrameTap.java SocketClock.java ArrivalWatch.java
//SOURCES EpollNatives.java
//SOURCES StreamTimes.java HistogramJson.java SampleHistogram.java
//SOURCES ReportOptions.java ConnectionOptions.java Target.java RunningServer.java PingStreamService.java
//SOURCES ServerWarmUp.java
//SOURCES InFlightBudget.java ServerLoops.java MemoryReturn.java CallLogger.java HealthCommands.java Drain.java
//SOURCES ServerFlags.java
//SOURCES Pem.java Pingkit.java
// JShell 25 instruments each class it loads with no view of the others (JDK-8366926): a local variable, a catch or a
// ?: that joins two of these files' types fails to load, and JShellTest says which file. JBang opens every system
// module to JShell, the incubating one too, which would print a warning: the modules are limited to what is used.
//JAVA_OPTIONS --limit-modules=java.se,jdk.jshell,jdk.editpad,jdk.unsupported,jdk.management,jdk.jfr,jdk.net,jdk.naming.dns,jdk.charsets,jdk.localedata,jdk.zipfs,jdk.crypto.cryptoki,jdk.security.auth,jdk.security.jgss
import java.time.Duration;
