///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DEPS org.junit.jupiter:junit-jupiter-engine:5.13.4 org.junit.platform:junit-platform-launcher:1.13.4
// the Kubernetes manifests' structure (KubernetesJobTest)
//DEPS org.yaml:snakeyaml:2.7
//SOURCES ../ping-server.java ../ping-client.java ../health-check.java
// every test class, found by its file name: a file added here runs without being listed anywhere (RunnerTest)
//SOURCES TestSupport.java PingFirstServer.java *Test.java

import static org.junit.platform.engine.discovery.ClassNameFilter.includeClassNamePatterns;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClasspathRoots;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;
import pingkit.Logs;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.ClassNameFilter;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * Runs every *Test class compiled into this script with the JUnit Platform Launcher, prints one line per test
 * and closes with "N passed, N failed, N skipped"; exits 1 on any failure or when no test ran.
 * Arguments narrow the run: class names or patterns, e.g. {@code PingServerTest} or {@code '.*Tls.*'}.
 */
class run {
  /** The time limit of a test, unless its class says otherwise (the slowest take about a minute alone). */
  static final String TIME_LIMIT = "5 m";

  public static void main(String[] args) throws URISyntaxException {
    Logs.configure("tests", 0, true);
    Path compiled = Path.of(run.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> patterns = new ArrayList<>();
    for (String arg : args) {
      patterns.add(arg.matches("[\\w$]+") ? ".*" + arg + ".*" : arg);
    }
    ClassNameFilter classes = patterns.isEmpty() ? includeClassNamePatterns(".*Test")
        : includeClassNamePatterns(patterns.toArray(String[]::new));
    Results results = new Results();
    LauncherFactory.create().execute(request().selectors(selectClasspathRoots(Set.of(compiled))).filters(classes)
        // every test and every set-up has a time limit (a class may set a longer one with @Timeout); the test runs
        // in a thread of its own, so that a hang that ignores interrupts (a blocking read) still ends, as a failure
        .configurationParameter("junit.jupiter.execution.timeout.default", TIME_LIMIT)
        .configurationParameter("junit.jupiter.execution.timeout.thread.mode.default", "SEPARATE_THREAD")
        .build(), results);
    results.printFailures();
    System.out.printf("%d passed, %d failed, %d skipped%n", results.passed, results.failed, results.skipped);
    System.exit(results.failed > 0 || results.passed == 0 ? 1 : 0);
  }

  static final class Results implements TestExecutionListener {
    int passed;
    int failed;
    int skipped;
    private final List<String> failures = new ArrayList<>();
    private final ConcurrentHashMap<String, Long> startNanos = new ConcurrentHashMap<>();
    private TestPlan plan;

    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
      plan = testPlan;
    }

    @Override
    public void executionStarted(TestIdentifier test) {
      startNanos.put(test.getUniqueId(), System.nanoTime());
    }

    @Override
    public void executionSkipped(TestIdentifier test, String reason) {
      if (test.isTest()) {
        skipped++;
        System.out.printf("SKIP  %s (%s)%n", name(test), reason);
      }
    }

    @Override
    public void executionFinished(TestIdentifier test, TestExecutionResult result) {
      long millis = (System.nanoTime() - startNanos.getOrDefault(test.getUniqueId(), System.nanoTime())) / 1_000_000;
      boolean ok = result.getStatus() == TestExecutionResult.Status.SUCCESSFUL;
      if (!test.isTest()) {
        if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
          // a class whose set-up was skipped (an assumption) runs none of its tests: each counts as skipped
          List<TestIdentifier> tests = plan.getDescendants(test).stream().filter(Results::isTest).toList();
          for (TestIdentifier each : tests.isEmpty() && isTest(test) ? List.of(test) : tests) {
            skipped++;
            System.out.printf("SKIP  %s (%s)%n", name(each), describe(result));
          }
        } else if (!ok) {
          failed++;
          failures.add(name(test) + "\n  " + describe(result));
          System.out.printf("FAIL  %s (set-up or clean-up)%n", name(test));
        }
        return;
      }
      if (ok) {
        passed++;
        System.out.printf("ok    %s (%d ms)%n", name(test), millis);
      } else if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
        skipped++;
        System.out.printf("SKIP  %s (%s)%n", name(test), describe(result));
      } else {
        failed++;
        failures.add(name(test) + "\n  " + describe(result));
        System.out.printf("FAIL  %s (%d ms)%n", name(test), millis);
      }
    }

    /** A test, or a parameterized test's template (its invocations are found only when it runs). */
    private static boolean isTest(TestIdentifier test) {
      return test.isTest() || test.getSource()
          .filter(org.junit.platform.engine.support.descriptor.MethodSource.class::isInstance).isPresent();
    }

    void printFailures() {
      for (String failure : failures) {
        System.out.println();
        System.out.println("FAILED " + failure);
      }
      if (!failures.isEmpty()) {
        System.out.println();
      }
    }

    private static String name(TestIdentifier test) {
      // the class, and its @Nested classes: PingServerTest.AsAProcess > test()
      java.util.regex.Matcher classes =
          java.util.regex.Pattern.compile("\\[(?:nested-)?class:([^\\]]+)\\]").matcher(test.getUniqueId());
      StringBuilder name = new StringBuilder();
      while (classes.find()) {
        name.append(name.length() == 0 ? "" : ".").append(classes.group(1));
      }
      return name + " > " + test.getDisplayName();
    }

    private static String describe(TestExecutionResult result) {
      return result.getThrowable().map(t -> {
        StringBuilder text = new StringBuilder(String.valueOf(t));
        for (StackTraceElement frame : t.getStackTrace()) {
          if (frame.getClassName().startsWith("org.junit")) {
            break;
          }
          text.append("\n    at ").append(frame);
        }
        return text.toString();
      }).orElse("(no detail)");
    }
  }
}
