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
import java.time.Duration;
