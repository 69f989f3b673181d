// A result file as --merge reads it: one JSON object, without the values a merge derives again, numbers exact.

package pingkit.report;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import pingkit.Pingkit;

/**
 * A --json file read for a merge: what it derives again from the histograms (buckets, percentiles) is skipped
 * unread, and a whole number that fits a long stays exact (nanoseconds, counts).
 */
final class ResultFile {
  private ResultFile() {}

  /** What a merge never reads of a result: the buckets and percentiles it derives again from the histograms. */
  private static final Set<String> DERIVED = Set.of("Data", "Percentiles", "percentiles");

  /** The JSON object a --json file holds, or the line that says why it is not one. */
  static JsonObject parse(Path file) {
    try (JsonReader in = new JsonReader(Files.newBufferedReader(file, StandardCharsets.UTF_8))) {
      if (in.peek() != JsonToken.BEGIN_OBJECT) {
        throw Merge.refused(file, "is not a JSON object");
      }
      JsonObject json = read(in).getAsJsonObject();
      if (in.peek() != JsonToken.END_DOCUMENT) {
        throw Merge.refused(file, "is not JSON: more after its object");
      }
      return json;
    } catch (IOException | RuntimeException e) {
      if (e instanceof Pingkit.UserError error) {
        throw error;
      }
      if (e instanceof IOException && !(e instanceof com.google.gson.stream.MalformedJsonException)
          && !(e instanceof java.io.EOFException)) {
        throw Merge.refused(file, "cannot be read: " + Pingkit.oneLine(e));
      }
      // Gson's message: the place it stopped, then a line pointing to its troubleshooting page
      throw Merge.refused(file, "is not JSON: " + String.valueOf(e.getMessage()).split("\\n")[0]);
    }
  }

  /** A JSON value as Gson's tree, without the values a merge derives again (they are skipped, not built). */
  private static JsonElement read(JsonReader in) throws IOException {
    JsonToken token = in.peek();
    if (token == JsonToken.BEGIN_OBJECT) {
      JsonObject object = new JsonObject();
      in.beginObject();
      while (in.hasNext()) {
        String name = in.nextName();
        if (DERIVED.contains(name)) {
          in.skipValue();
        } else {
          object.add(name, read(in));
        }
      }
      in.endObject();
      return object;
    }
    if (token == JsonToken.BEGIN_ARRAY) {
      JsonArray array = new JsonArray();
      in.beginArray();
      while (in.hasNext()) {
        array.add(read(in));
      }
      in.endArray();
      return array;
    }
    if (token == JsonToken.STRING) {
      return new JsonPrimitive(in.nextString());
    }
    if (token == JsonToken.NUMBER) {
      return new JsonPrimitive(number(in.nextString()));
    }
    if (token == JsonToken.BOOLEAN) {
      return new JsonPrimitive(in.nextBoolean());
    }
    in.nextNull(); // what is left: null (anything else is a syntax error the reader throws)
    return JsonNull.INSTANCE;
  }

  /** A JSON number as written: a whole one that fits a long stays exact (nanoseconds, counts), any other a double. */
  private static Number number(String text) {
    if (text.indexOf('.') < 0 && text.indexOf('e') < 0 && text.indexOf('E') < 0) {
      try {
        return Long.parseLong(text);
      } catch (NumberFormatException beyondLong) {
        // read as a double below
      }
    }
    return Double.parseDouble(text);
  }
}
