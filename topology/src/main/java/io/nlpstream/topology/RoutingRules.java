package io.nlpstream.topology;

import io.nlpstream.config.NlpstreamConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.ConfigException;

/**
 * The rules of {@value NlpstreamConfig#ROUTING_RULES} that send enriched records to the GPT stage.
 *
 * <pre>
 * rules       = rule (';' rule)*                 empty or blank: no rules
 * rule        = cond ('&amp;' cond)* '-&gt;' kind       all conditions must hold
 * kind        = summary | reply
 * cond        = textField ('=' | '!=') value      compared ignoring case
 *             | numberField ('&gt;' | '&gt;=' | '&lt;' | '&lt;=' | '=') integer
 * textField   = source | lang | sentiment | class  (sentiment label; top class label)
 * numberField = words | entities | tokens          (whitespace-separated words of the text; entity count;
 *                                                  encoder tokens)
 * </pre>
 * Whitespace around tokens is ignored. A field that is absent from the record (no {@code source})
 * never equals a value and always differs from one. Rules are tried in order; the first that
 * matches wins. A record's own {@code task} field takes precedence over every rule.
 *
 * <p>Immutable and thread-safe.
 */
public final class RoutingRules {

  /** Where a record goes: the kind of request and what decided it ({@code task} or the rule's text). */
  public record Route(Task kind, String routedBy) {}

  /** One parsed rule; {@code text} is how it was written (trimmed). */
  public record Rule(String text, List<Condition> conditions, Task kind) {

    public Rule {
      conditions = List.copyOf(conditions);
    }

    public boolean matches(EnrichedEvent event) {
      for (Condition c : conditions) {
        if (!c.test(event)) {
          return false;
        }
      }
      return true;
    }
  }

  /** One condition of a rule. */
  public sealed interface Condition {
    boolean test(EnrichedEvent event);
  }

  /** {@code field = value} or {@code field != value}, ignoring case. */
  public record TextCondition(String field, boolean negated, String value) implements Condition {
    @Override
    public boolean test(EnrichedEvent e) {
      String actual = switch (field) {
        case "source" -> e.source();
        case "lang" -> e.lang();
        case "sentiment" -> e.sentiment().label();
        case "class" -> e.topClass();
        default -> throw new IllegalStateException("unknown text field " + field);
      };
      boolean equal = actual != null && actual.equalsIgnoreCase(value);
      return negated != equal;
    }
  }

  /** {@code field op n} over a count. */
  public record NumberCondition(String field, String op, long value) implements Condition {
    @Override
    public boolean test(EnrichedEvent e) {
      long actual = switch (field) {
        case "words" -> words(e.text());
        case "entities" -> e.entities().size();
        case "tokens" -> e.tokens();
        default -> throw new IllegalStateException("unknown number field " + field);
      };
      return switch (op) {
        case ">" -> actual > value;
        case ">=" -> actual >= value;
        case "<" -> actual < value;
        case "<=" -> actual <= value;
        case "=" -> actual == value;
        default -> throw new IllegalStateException("unknown operator " + op);
      };
    }
  }

  private static final List<String> TEXT_FIELDS = List.of("source", "lang", "sentiment", "class");
  private static final List<String> NUMBER_FIELDS = List.of("words", "entities", "tokens");
  private static final Pattern CONDITION = Pattern.compile("\\s*([A-Za-z_]+)\\s*(!=|>=|<=|=|>|<)\\s*(.*?)\\s*");

  private final List<Rule> rules;

  private RoutingRules(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  public static RoutingRules none() {
    return new RoutingRules(List.of());
  }

  /**
   * Parses {@code spec}.
   *
   * @throws ConfigException naming {@value NlpstreamConfig#ROUTING_RULES}, the rule (1-based) and the bad part
   */
  public static RoutingRules parse(String spec) {
    if (spec == null || spec.isBlank()) {
      return none();
    }
    List<Rule> rules = new ArrayList<>();
    String[] parts = spec.split(";", -1);
    for (int i = 0; i < parts.length; i++) {
      rules.add(parseRule(spec, i + 1, parts[i].trim()));
    }
    return new RoutingRules(rules);
  }

  private static Rule parseRule(String spec, int number, String text) {
    if (text.isEmpty()) {
      throw invalid(spec, number, text, "empty rule (two ';' in a row, or a ';' at either end)");
    }
    int arrow = text.indexOf("->");
    if (arrow < 0 || text.indexOf("->", arrow + 2) >= 0) {
      throw invalid(spec, number, text, "expected exactly one '->' between the conditions and the kind");
    }
    String kindText = text.substring(arrow + 2).trim();
    Task kind = Task.ofCode(kindText)
        .orElseThrow(() -> invalid(spec, number, text, "unknown kind '" + kindText + "' (expected summary or reply)"));
    String condsText = text.substring(0, arrow);
    if (condsText.isBlank()) {
      throw invalid(spec, number, text, "no condition before '->'");
    }
    List<Condition> conditions = new ArrayList<>();
    for (String condText : condsText.split("&", -1)) {
      conditions.add(parseCondition(spec, number, text, condText));
    }
    return new Rule(text, conditions, kind);
  }

  private static Condition parseCondition(String spec, int number, String rule, String text) {
    Matcher m = CONDITION.matcher(text);
    if (text.isBlank() || !m.matches()) {
      throw invalid(spec, number, rule, "condition '" + text.trim() + "' is not field op value"
          + " (ops: = != > >= < <=)");
    }
    String field = m.group(1).toLowerCase(Locale.ROOT);
    String op = m.group(2);
    String value = m.group(3);
    if (value.isEmpty()) {
      throw invalid(spec, number, rule, "condition '" + text.trim() + "' has no value");
    }
    if (TEXT_FIELDS.contains(field)) {
      if (!op.equals("=") && !op.equals("!=")) {
        throw invalid(spec, number, rule, "operator '" + op + "' does not apply to text field '" + field
            + "' (use = or !=)");
      }
      return new TextCondition(field, op.equals("!="), value);
    }
    if (NUMBER_FIELDS.contains(field)) {
      if (op.equals("!=")) {
        throw invalid(spec, number, rule, "operator '!=' does not apply to number field '" + field + "'");
      }
      try {
        return new NumberCondition(field, op, Long.parseLong(value));
      } catch (NumberFormatException e) {
        throw invalid(spec, number, rule, "'" + value + "' is not an integer (field '" + field + "')");
      }
    }
    throw invalid(spec, number, rule, "unknown field '" + m.group(1) + "' (known: "
        + String.join(", ", TEXT_FIELDS) + ", " + String.join(", ", NUMBER_FIELDS) + ")");
  }

  private static ConfigException invalid(String spec, int number, String rule, String detail) {
    return new ConfigException(NlpstreamConfig.ROUTING_RULES, spec, "rule " + number + " '" + rule + "': " + detail);
  }

  public List<Rule> rules() {
    return rules;
  }

  /** Where {@code event} goes: its own task first, then the first matching rule; empty when nowhere. */
  public Optional<Route> route(EnrichedEvent event) {
    if (event.task() != null) {
      return Optional.of(new Route(event.task(), "task"));
    }
    for (Rule r : rules) {
      if (r.matches(event)) {
        return Optional.of(new Route(r.kind(), r.text()));
      }
    }
    return Optional.empty();
  }

  /** Number of maximal runs of non-whitespace characters. */
  static int words(String text) {
    int count = 0;
    boolean inWord = false;
    for (int i = 0; i < text.length(); i++) {
      boolean ws = Character.isWhitespace(text.charAt(i));
      if (!ws && !inWord) {
        count++;
      }
      inWord = !ws;
    }
    return count;
  }
}
