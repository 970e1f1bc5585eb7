package io.nlpstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nlpstream.models.catalog.ModelCatalog;
import io.nlpstream.models.catalog.ModelManifest;
import io.nlpstream.models.runtime.ModelLoadException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code nlpstream models list}: the catalogue's ids, built-in and in the catalogue directory, with kind and source. */
@Command(name = "list", mixinStandardHelpOptions = true,
    description = "Lists the model catalogue: the models built into nlpstream and those in the catalogue directory"
        + " (which wins for an id in both), with kind, version and, for pulled models, the Hub repository and commit.")
final class ModelsListCommand implements Callable<Integer> {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec
  CommandSpec spec;

  @Mixin
  ConfigOptions configOptions;

  @Option(names = "--catalog", paramLabel = "DIR",
      description = "Catalogue directory (default: as for 'models pull').")
  Path catalog;

  private final Map<String, String> env;

  ModelsListCommand() {
    this(System.getenv());
  }

  ModelsListCommand(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Path dir = ModelsCommand.catalogDir(catalog, configOptions, env);
    boolean exists = Files.isDirectory(dir);
    if (!exists) {
      spec.commandLine().getErr().println("nlpstream models list: " + dir + " does not exist (nothing pulled there yet);"
          + " listing the built-in models");
    }
    ModelCatalog models = ModelCatalog.open(exists ? Optional.of(dir) : Optional.empty());
    Table table = new Table("ID", "KIND", "VERSION", "WHERE", "SOURCE");
    for (String id : models.ids()) {
      Path manifestFile = dir.resolve(id).resolve("model.json");
      boolean pulled = exists && Files.isRegularFile(manifestFile);
      String kind;
      String version;
      try {
        ModelManifest m = models.manifest(id);
        kind = m.kind();
        version = m.version();
      } catch (ModelLoadException e) {
        kind = "invalid: " + e.getMessage();
        version = "";
      }
      table.row(id, kind, version, pulled ? dir.resolve(id).toString() : "built-in", pulled ? source(manifestFile) : "");
    }
    table.print(out);
    return 0;
  }

  /** {@code repo@commit} from a pulled manifest's {@code source}, empty for a bundle made by hand. */
  private static String source(Path manifestFile) {
    try {
      JsonNode source = JSON.readTree(manifestFile.toFile()).path("source");
      String repo = source.path("repo").asText("");
      return repo.isEmpty() ? "" : repo + "@" + source.path("commit").asText("?");
    } catch (IOException e) {
      return "unreadable: " + e.getMessage();
    }
  }
}
