import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The walls between lib/'s packages: the README's table of which package may use which is the rule, and every
 * reference in the sources (an import or a qualified name) must keep to it; the table has no circle.
 */
class PackagesTest {
  /** A row of the table: | `pingkit.load` | `pingkit`, `pingkit.net` | what it holds |. */
  private static final Pattern ROW = Pattern.compile("^\\| `(pingkit[\\w.]*)` \\| ([^|]*) \\|", Pattern.MULTILINE);
  private static final Pattern NAME = Pattern.compile("`(pingkit[\\w.]*)`");
  /** pingkit.X (a class of the base package) or pingkit.x (a package); fgrpc and stream are the stubs jar's. */
  private static final Pattern REFERENCE = Pattern.compile("\\bpingkit\\.(?!fgrpc\\b|stream\\b)(\\w+)");

  @Test
  void everyReferenceBetweenPackagesIsOneTheReadmeAllows() throws Exception {
    Map<String, Set<String>> allowed = readmeTable();
    List<String> wrong = new ArrayList<>();
    Path lib = TestSupport.repo().resolve("lib");
    try (Stream<Path> files = Files.walk(lib.resolve("pingkit"))) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        String from = lib.relativize(file.getParent()).toString().replace('/', '.');
        assertTrue(allowed.containsKey(from), "package " + from + " is not in the README's table");
        for (String to : references(Files.readString(file))) {
          if (!to.equals(from) && !allowed.get(from).contains(to)) {
            wrong.add(lib.relativize(file) + " uses " + to);
          }
        }
      }
    }
    assertEquals(List.of(), wrong, "arrows the README's table does not allow");
  }

  @Test
  void theTableHasNoCircle() throws Exception {
    Map<String, Set<String>> allowed = readmeTable();
    for (String start : allowed.keySet()) {
      Set<String> reached = new TreeSet<>();
      List<String> next = new ArrayList<>(allowed.get(start));
      while (!next.isEmpty()) {
        String at = next.remove(next.size() - 1);
        assertTrue(!at.equals(start), start + " reaches itself");
        if (reached.add(at)) {
          next.addAll(allowed.getOrDefault(at, Set.of()));
        }
      }
    }
  }

  /** The check itself: a reference the wrong way is seen, in an import or written out in the code. */
  @Test
  void aReferenceTheWrongWayIsFound() {
    assertEquals(Set.of("pingkit.load"), references("package pingkit.net;\nimport pingkit.load.Load;\n"));
    assertEquals(Set.of("pingkit", "pingkit.report"),
        references("package pingkit.wire;\n class A { Object o = pingkit.report.Merge.class; int c = pingkit.Pingkit"
            + ".EXIT_OK; } // pingkit.load in a comment\n String s = \"pingkit.server\"; pingkit.fgrpc.PingMessage m;"));
  }

  private static Map<String, Set<String>> readmeTable() throws Exception {
    String readme = Files.readString(TestSupport.repo().resolve("README.md"));
    Map<String, Set<String>> allowed = new TreeMap<>();
    Matcher row = ROW.matcher(readme);
    while (row.find()) {
      Set<String> uses = new TreeSet<>();
      NAME.matcher(row.group(2)).results().forEach(name -> uses.add(name.group(1)));
      allowed.put(row.group(1), uses);
    }
    assertTrue(allowed.size() >= 5, "the README's package table: " + allowed);
    return allowed;
  }

  /** The packages a source refers to, its own declaration left out, comments and strings too. */
  private static Set<String> references(String source) {
    String code = source.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\\n]*", "")
        .replaceAll("\"(\\\\.|[^\"\\\\\\n])*\"", "\"\"").replaceAll("(?m)^package [\\w.]+;", "");
    Set<String> packages = new TreeSet<>();
    REFERENCE.matcher(code).results().forEach(reference -> {
      String name = reference.group(1);
      packages.add(Character.isUpperCase(name.charAt(0)) ? "pingkit" : "pingkit." + name);
    });
    return packages;
  }
}
