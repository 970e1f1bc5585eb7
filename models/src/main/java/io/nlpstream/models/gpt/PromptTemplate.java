package io.nlpstream.models.gpt;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How one kind of request becomes a prompt: a fixed text with exactly one {@value #INPUT}
 * placeholder where the (untrusted) input goes, the markers that delimit the input, what part of an
 * overlong input to keep, and stop strings that end generation for this template.
 *
 * <p>Delimiting: the template fences the input between markers it defines (e.g.
 * {@code <<<BEGIN TEXT>>>} ... {@code <<<END TEXT>>>}) and tells the model that what lies between them
 * is data. {@link #sanitize} removes every occurrence of a marker (case-insensitively) from the input,
 * repeatedly until none is left, so the input can neither close the fence early nor forge a
 * marker out of pieces. Role tags of chat templates and the tokenizer's special tokens are removed
 * the same way (the tokenizer would otherwise turn {@code <|im_end|>} typed by a user into a
 * control token). This is defence in depth, not a guarantee that a model obeys the fence.
 *
 * <p>Immutable and thread-safe.
 *
 * @param template    prompt text containing {@value #INPUT} exactly once
 * @param markers     strings reserved for the template (fence markers, role tags); each must occur
 *                    in the template and must not be blank
 * @param keep        which end of an input that does not fit the context is kept
 * @param stopStrings generation stops when the output contains one of these (the output is cut
 *                    before it); merged with the request's own stop strings
 */
public record PromptTemplate(String template, List<String> markers, Keep keep, List<String> stopStrings) {

  /** The placeholder for the input text. */
  public static final String INPUT = "{input}";

  /** The part of an overlong input that is kept; the rest is cut at a token boundary. */
  public enum Keep {
    /** Keep the beginning (articles: the lead carries the news). */
    START,
    /** Keep the end (conversations: the last turns are what a reply answers). */
    END
  }

  public PromptTemplate {
    Objects.requireNonNull(template, "template");
    Objects.requireNonNull(keep, "keep");
    markers = List.copyOf(markers);
    stopStrings = List.copyOf(stopStrings);
    int at = template.indexOf(INPUT);
    if (at < 0 || template.indexOf(INPUT, at + 1) >= 0) {
      throw new IllegalArgumentException("a prompt template must contain " + INPUT + " exactly once: " + template);
    }
    for (String marker : markers) {
      if (marker.isBlank()) {
        throw new IllegalArgumentException("a prompt template marker must not be blank");
      }
      if (!template.contains(marker)) {
        throw new IllegalArgumentException("marker '" + marker + "' does not occur in the template: " + template);
      }
    }
    for (String stop : stopStrings) {
      if (stop.isEmpty()) {
        throw new IllegalArgumentException("a stop string must not be empty");
      }
    }
  }

  /** Text before the input. */
  public String prefix() {
    return template.substring(0, template.indexOf(INPUT));
  }

  /** Text after the input. */
  public String suffix() {
    return template.substring(template.indexOf(INPUT) + INPUT.length());
  }

  /** The template with {@code input} (already sanitized) in place of the placeholder. */
  public String render(String sanitizedInput) {
    return prefix() + sanitizedInput + suffix();
  }

  /**
   * {@code input} without any of this template's markers or {@code reserved} strings, compared
   * case-insensitively, removed until none remains (removing one occurrence can join two halves
   * into a new one).
   */
  public String sanitize(String input, Collection<String> reserved) {
    List<String> all = new ArrayList<>(markers);
    for (String r : reserved) {
      if (!r.isEmpty()) {
        all.add(r);
      }
    }
    if (all.isEmpty()) {
      return input;
    }
    // Longest first, so that a marker containing another is removed whole.
    all.sort(Comparator.comparingInt(String::length).reversed());
    StringBuilder alternatives = new StringBuilder();
    for (String s : all) {
      alternatives.append(alternatives.length() == 0 ? "" : "|").append(Pattern.quote(s));
    }
    Pattern forbidden = Pattern.compile(alternatives.toString(), Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
    String current = input;
    while (true) {
      String next = forbidden.matcher(current).replaceAll("");
      if (next.equals(current)) {
        return current;
      }
      current = next; // strictly shorter each round, so this ends
    }
  }
}
