package io.nlpstream.cli;

import io.nlpstream.config.NlpstreamConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine.Option;

/**
 * The configuration options every command takes: {@code --config FILE} and repeatable
 * {@code --set key=value}. Precedence, lowest first: the command's own defaults, the defaults of
 * {@link NlpstreamConfig}, the file, {@code NLPSTREAM_*} environment variables, {@code --set}, and
 * last what the command must impose (e.g. {@code demo}'s embedded broker address).
 */
public final class ConfigOptions {

  /** Environment variable that selects the log format (read by log4j2.xml): {@code text} or {@code json}. */
  public static final String LOG_FORMAT_VARIABLE = "NLPSTREAM_LOG_FORMAT";
  /** System property with the same role; either one set to {@code json} selects JSON lines. */
  public static final String LOG_FORMAT_PROPERTY = "nlpstream.log.format";
  /** Environment variable with the level of nlpstream's own loggers (read by log4j2.xml; default INFO). */
  public static final String LOG_LEVEL_VARIABLE = "NLPSTREAM_LOG_LEVEL";
  private static final Set<String> LOG_FORMATS = Set.of("text", "json");
  private static final Set<String> LOG_LEVELS = Set.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF");
  /** A Kafka config provider reference, {@code ${provider:[path:]key}}, resolved by the Kafka clients. */
  private static final Pattern PROVIDER_REFERENCE = Pattern.compile("\\$\\{[^}:]+:[^}]+}");

  @Option(names = "--config", paramLabel = "FILE",
      description = "Configuration file (Java properties; keys as in README 'Configuration').")
  Path file;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "Sets one configuration key, overriding the file and the environment. Repeatable. Secrets"
          + " (passwords, kafka.sasl.jaas.config) are refused here: use the environment or a file.")
  Map<String, String> overrides = new LinkedHashMap<>();

  /**
   * Refuses secret values ({@link NlpstreamConfig#isSecret}) given with {@code --set}: a command
   * line is visible to every user of the machine ({@code ps}) and lands in shell histories. Secrets
   * come from the environment ({@code NLPSTREAM_KAFKA_SASL_JAAS_CONFIG}), the {@code --config} file,
   * or a file through a Kafka config provider; a {@code --set} of a provider reference such as
   * {@code ${file:/etc/nlpstream/secrets.properties:sasl.jaas.config}} is accepted.
   *
   * @throws org.apache.kafka.common.config.ConfigException naming the key, never showing the value
   */
  static void checkNoSecretValues(Map<String, String> overrides) {
    overrides.forEach((key, value) -> {
      if (NlpstreamConfig.isSecret(key) && value != null && !value.isBlank()
          && !PROVIDER_REFERENCE.matcher(value.trim()).matches()) {
        throw new ConfigException("--set " + key + "=" + NlpstreamConfig.MASK + ": secrets are not accepted on the"
            + " command line (visible to other users through ps); set " + NlpstreamConfig.ENV_PREFIX
            + key.toUpperCase(Locale.ROOT).replace('.', '_') + " in the environment, put it in the --config file,"
            + " or reference a file: --set " + key + "=${file:/path/secrets.properties:" + key + "} with"
            + " kafka.config.providers=file (README 'Security')");
      }
    });
  }

  /**
   * Checks the logging switches that log4j2.xml reads (an unknown value would silently fall back to
   * the defaults there).
   *
   * @throws org.apache.kafka.common.config.ConfigException naming the variable or property
   */
  static void checkLogging(Map<String, String> env, String formatProperty) {
    String format = env.get(LOG_FORMAT_VARIABLE);
    if (format != null && !LOG_FORMATS.contains(format)) {
      throw new ConfigException(LOG_FORMAT_VARIABLE, format, "expected one of " + new TreeSet<>(LOG_FORMATS));
    }
    if (formatProperty != null && !LOG_FORMATS.contains(formatProperty)) {
      throw new ConfigException("-D" + LOG_FORMAT_PROPERTY, formatProperty, "expected one of "
          + new TreeSet<>(LOG_FORMATS));
    }
    String level = env.get(LOG_LEVEL_VARIABLE);
    if (level != null && !LOG_LEVELS.contains(level.toUpperCase(Locale.ROOT))) {
      throw new ConfigException(LOG_LEVEL_VARIABLE, level, "expected one of " + new TreeSet<>(LOG_LEVELS));
    }
  }

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
    checkNoSecretValues(overrides);
    checkLogging(System.getenv(), System.getProperty(LOG_FORMAT_PROPERTY));
    Map<String, Object> base = new LinkedHashMap<>(commandDefaults);
    NlpstreamConfig layered = NlpstreamConfig.load(file, System.getenv(), overrides);
    // Keys set by the file, the environment or --set win over the command's defaults.
    base.putAll(layered.originals());
    base.putAll(imposed);
    return NlpstreamConfig.of(base);
  }
}
