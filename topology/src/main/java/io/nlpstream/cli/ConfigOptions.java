package io.nlpstream.cli;

import io.nlpstream.config.NlpstreamConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The configuration options every command takes: {@code --config FILE} and repeatable
 * {@code --set key=value}. Precedence, lowest first: the command's own defaults, the defaults of
 * {@link NlpstreamConfig}, the file, {@code NLPSTREAM_*} environment variables, {@code --set}, and
 * last what the command must impose (e.g. {@code demo}'s embedded broker address).
 */
public final class ConfigOptions {

  @Option(names = "--config", paramLabel = "FILE",
      description = "Configuration file (Java properties; keys as in README 'Configuration').")
  Path file;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "Sets one configuration key, overriding the file and the environment. Repeatable.")
  Map<String, String> overrides = new LinkedHashMap<>();

  /** {@link #load(Map, Map)} with nothing imposed. */
  public NlpstreamConfig load(Map<String, String> commandDefaults) {
    return load(commandDefaults, Map.of());
  }

  /**
   * Builds the validated configuration.
   *
   * @param commandDefaults values this command prefers over the global defaults; the file, the
   *                        environment and {@code --set} still override them
   * @param imposed         values the command requires; they override everything
   * @throws org.apache.kafka.common.config.ConfigException naming the bad key or file
   */
  public NlpstreamConfig load(Map<String, String> commandDefaults, Map<String, String> imposed) {
    Map<String, Object> base = new LinkedHashMap<>(commandDefaults);
    NlpstreamConfig layered = NlpstreamConfig.load(file, System.getenv(), overrides);
    // Keys set by the file, the environment or --set win over the command's defaults.
    base.putAll(layered.originals());
    base.putAll(imposed);
    return NlpstreamConfig.of(base);
  }
}
