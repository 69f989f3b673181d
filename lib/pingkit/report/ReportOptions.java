// How the clients report (a picocli mixin of both): percentiles, text or JSON on stdout, --json FILE, --merge of
// such files; and the JSON helpers of their reports.

package pingkit.report;

import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Stack;
import java.util.function.Supplier;
import picocli.CommandLine.IParameterPreprocessor;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import pingkit.Pingkit;

/** How results are printed: the flags both clients share. */
public final class ReportOptions {
  @Option(names = "-p", paramLabel = "P,P,...", defaultValue = "50,75,90,99,99.9",
      description = "percentiles to print (default: ${DEFAULT-VALUE})")
  String percentiles;

  @Option(names = "--json", arity = "0..1", paramLabel = "FILE", preprocessor = JsonFileArgument.class,
      description = "JSON (fields in the README) instead of text on stdout; --json FILE writes it to FILE"
          + " and keeps the text (- = stdout)")
  public String json;

  @Option(names = "--merge", arity = "1..*", paramLabel = "FILE", description = "report FILEs written by --json"
      + " (on one host or many) as one run: histograms added exactly, counts summed, the rate over the time any"
      + " run covered; no TARGET, and only -p, --json, --hgrm, --allow-errors, -v besides")
  public List<Path> mergeFiles;

  @Spec(Spec.Target.MIXEE)
  CommandSpec command;

  private static final Set<String> MERGE_FLAGS =
      Set.of("--merge", "-p", "--json", "--hgrm", "--allow-errors", "--verbose");

  private PrintStream jsonFile;

  /** Whether this is a --merge of FILEs (which hold everything else: a flag of a run is a one-line error). */
  public boolean merging() {
    if (mergeFiles == null) {
      return false;
    }
    ParseResult given = command.commandLine().getParseResult();
    for (OptionSpec option : given.matchedOptions()) {
      if (!MERGE_FLAGS.contains(option.longestName())) {
        throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--merge reads what its FILEs hold: " + option.longestName()
            + " is for a run (with --merge: -p, --json, --hgrm, --allow-errors, -v)");
      }
    }
    if (!given.matchedPositionals().isEmpty()) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--merge FILE...: no TARGET, and every FILE right after"
          + " --merge ('" + given.matchedPositionals().get(0).getValue() + "' is apart)");
    }
    return true;
  }

  List<Double> percentiles() {
    return parsePercentiles(percentiles);
  }

  /** Whether stdout gets JSON, not text. */
  boolean jsonOnStdout() {
    return "-".equals(json);
  }

  /**
   * Opens --json FILE before any work starts (truncating it), so that a long run never ends unable to save what
   * it measured.
   */
  void openJsonFile() {
    if (json == null || jsonOnStdout()) {
      return;
    }
    try {
      jsonFile = new PrintStream(java.nio.file.Files.newOutputStream(Path.of(json)), false, StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--json: cannot write " + json + ": " + Pingkit.oneLine(e));
    }
  }

  /** Prints a report: {@code text} on stdout unless it gets JSON, and the JSON where --json says. */
  public void print(String text, Supplier<String> jsonText) {
    if (jsonOnStdout()) {
      System.out.println(jsonText.get());
    } else {
      System.out.print(text);
    }
    if (jsonFile != null) {
      jsonFile.println(jsonText.get());
      jsonFile.flush();
      if (jsonFile.checkError()) {
        throw new Pingkit.UserError(Pingkit.EXIT_USAGE, "--json: writing " + json + " failed");
      }
    }
  }

  /** Parses "-p 50,75,90,99,99.9". */
  public static List<Double> parsePercentiles(String text) {
    List<Double> percentiles = new ArrayList<>();
    for (String part : text.split(",")) {
      try {
        double percentile = Double.parseDouble(part.trim());
        if (!(percentile > 0 && percentile <= 100)) {
          throw new NumberFormatException();
        }
        percentiles.add(percentile);
      } catch (NumberFormatException e) {
        throw new Pingkit.UserError(Pingkit.EXIT_USAGE,
            "-p '" + text + "': expected percentiles in (0, 100] separated by commas, e.g. 50,90,99.9");
      }
    }
    return percentiles;
  }

  /** A JSON object whose fields keep the order given: key, value, key, value... */
  public static Map<String, Object> jsonObject(Object... keysAndValues) {
    Map<String, Object> object = new LinkedHashMap<>();
    for (int i = 0; i + 1 < keysAndValues.length; i += 2) {
      object.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return object;
  }

  public static String toJson(Object value) {
    return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeSpecialFloatingPointValues()
        .create().toJson(value);
  }

  /**
   * Whether the word after a bare --json is its FILE: it is when it is "-", or when a TARGET (or --merge) is
   * still to come after it (or was given before), so that both {@code --json TARGET} and
   * {@code --json out.json TARGET} read
   * as meant. {@code --json=FILE} always names a file.
   */
  static final class JsonFileArgument implements IParameterPreprocessor {
    @Override
    public boolean preprocess(Stack<String> args, CommandSpec command, ArgSpec json, Map<String, Object> info) {
      boolean attached = !" ".equals(info.get("separator"));
      String value = "-";
      if (attached || (!args.isEmpty() && (args.peek().equals("-")
          || (!args.peek().startsWith("-") && targetGivenOrToCome(args, command))))) {
        value = args.pop();
      }
      json.setValue(value);
      return true;
    }

    private static boolean targetGivenOrToCome(Stack<String> args, CommandSpec command) {
      if (command.positionalParameters().stream().anyMatch(target -> target.getValue() != null)
          || command.findOption("--merge").getValue() != null) {
        return true; // a TARGET, or --merge's FILEs instead of one
      }
      // the words after the candidate FILE, in command-line order (the stack's top is the next word)
      List<String> later = new ArrayList<>(args);
      java.util.Collections.reverse(later);
      for (int i = 1; i < later.size(); i++) {
        String word = later.get(i);
        if (word.equals("--")) {
          return i + 1 < later.size();
        }
        if (word.equals("--merge") || word.startsWith("--merge=")) {
          return true;
        }
        OptionSpec option = command.findOption(word.contains("=") ? word.substring(0, word.indexOf('=')) : word);
        if (option != null) {
          if (!word.contains("=") && option.arity().max() > 0 && option.arity().min() > 0) {
            i++; // its value
          }
        } else if (!word.startsWith("-") || word.equals("-")) {
          return true;
        }
      }
      return false;
    }
  }
}
