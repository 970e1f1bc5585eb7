package io.nlpstream.cli;

import java.util.List;
import java.util.Locale;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;

/**
 * The configuration reference as a Markdown table, generated from the {@link ConfigDef} so that the
 * README cannot drift from the code (a unit test compares them).
 */
public final class ConfigReference {

  private ConfigReference() {}

  /** One row per key, in definition order: key, type, default, valid values, description. */
  public static String markdown(ConfigDef def) {
    StringBuilder sb = new StringBuilder();
    sb.append("| Key | Type | Default | Valid values | Description |\n");
    sb.append("|---|---|---|---|---|\n");
    List<ConfigKey> keys = List.copyOf(def.configKeys().values());
    for (ConfigKey k : keys) {
      sb.append("| `").append(k.name).append("` | ")
          .append(k.type.name().toLowerCase(Locale.ROOT)).append(" | ")
          .append(defaultValue(k)).append(" | ")
          .append(k.validator == null ? "" : cell(k.validator.toString())).append(" | ")
          .append(cell(k.documentation)).append(" |\n");
    }
    return sb.toString();
  }

  private static String defaultValue(ConfigKey k) {
    if (!k.hasDefault()) {
      return "(required)";
    }
    String v = k.defaultValue == null ? "null" : ConfigDef.convertToString(k.defaultValue, k.type);
    if (v.isEmpty()) {
      return "\"\"";
    }
    // Machine-dependent defaults are shown symbolically, so the README is the same everywhere.
    String tmp = System.getProperty("java.io.tmpdir");
    if (tmp != null && !tmp.isEmpty() && v.startsWith(tmp)) {
      v = "${java.io.tmpdir}" + v.substring(tmp.length());
    }
    return "`" + cell(v) + "`";
  }

  private static String cell(String s) {
    return s.replace("|", "\\|").replace("\n", " ");
  }
}
