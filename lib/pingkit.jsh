// All three roles in one JShell: ./jbang --interactive lib/pingkit.jsh (see the README for a session).
// JShell reads sources in order and cannot refer ahead to a nested class: the shared ones come first.
//SOURCES ../health-check.java ../ping-client.java ../ping-server.java Load.java Client.java Pingkit.java
import java.time.Duration;
