package io.nlpstream.cli;

import io.nlpstream.config.NlpstreamConfig;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code nlpstream models}: the model catalogue's {@code pull} and {@code list}. */
@Command(name = "models", mixinStandardHelpOptions = true,
    description = "Model catalogue: pull ONNX exports from the Hugging Face Hub, list the catalogue.",
    subcommands = {ModelsPullCommand.class, ModelsListCommand.class})
final class ModelsCommand implements Runnable {

  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "missing subcommand: pull or list");
  }

  /**
   * The catalogue directory of {@code models pull} and {@code models list}: {@code --catalog}, else
   * {@code model.catalog.dir} of the configuration ({@code --config}, {@code NLPSTREAM_MODEL_CATALOG_DIR},
   * {@code --set}), else {@code $XDG_CACHE_HOME/nlpstream/catalog} ({@code ~/.cache/nlpstream/catalog}).
   *
   * @throws org.apache.kafka.common.config.ConfigException naming a bad configuration key or file
   */
  static Path catalogDir(Path option, ConfigOptions config, Map<String, String> env) {
    if (option != null) {
      return option.toAbsolutePath().normalize();
    }
    String configured = config.load(Map.of()).getString(NlpstreamConfig.MODEL_CATALOG_DIR);
    if (!configured.isBlank()) {
      return Path.of(configured).toAbsolutePath().normalize();
    }
    String cache = env.getOrDefault("XDG_CACHE_HOME", "");
    Path base = cache.isBlank() ? Path.of(System.getProperty("user.home"), ".cache") : Path.of(cache);
    return base.resolve("nlpstream").resolve("catalog").toAbsolutePath().normalize();
  }
}
