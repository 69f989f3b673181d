// What --list shows: the services a server offers, or one service's methods with their types.

package pingkit.method;

import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import pingkit.report.ReportOptions;

/**
 * The services of a server ({@code service} null), or the methods of {@code service}, as {@code source} tells them.
 */
public record ServiceList(String source, List<String> services, ServiceDescriptor service) {

  /** One line a service, or one line a method: {@code Name(pkg.Request) returns (pkg.Response)}, streams marked. */
  public String text() {
    if (service == null) {
      return services.isEmpty() ? "(" + source + " lists no service)\n" : String.join("\n", services) + "\n";
    }
    StringBuilder out = new StringBuilder(service.getFullName()).append(":\n");
    for (MethodDescriptor method : service.getMethods()) {
      out.append("  ").append(method.getName()).append('(').append(method.isClientStreaming() ? "stream " : "")
          .append(method.getInputType().getFullName()).append(") returns (")
          .append(method.isServerStreaming() ? "stream " : "").append(method.getOutputType().getFullName())
          .append(")\n");
    }
    return out.toString();
  }

  /** {"source", "services": [names]}, or {"source", "service", "methods": [{name, requestType, ...}]}. */
  public String json() {
    if (service == null) {
      return ReportOptions.toJson(ReportOptions.jsonObject("source", source, "services", services));
    }
    List<Map<String, Object>> methods = new ArrayList<>();
    for (MethodDescriptor method : service.getMethods()) {
      methods.add(ReportOptions.jsonObject("name", method.getName(), "fullName", service.getFullName() + "/"
          + method.getName(), "requestType", method.getInputType().getFullName(), "responseType",
          method.getOutputType().getFullName(), "clientStreaming", method.isClientStreaming(), "serverStreaming",
          method.isServerStreaming()));
    }
    return ReportOptions.toJson(ReportOptions.jsonObject("source", source, "service", service.getFullName(),
        "methods", methods));
  }
}
