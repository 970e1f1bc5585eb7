package io.nlpstream.models.catalog;

import io.nlpstream.models.bert.EntityDecoder;
import io.nlpstream.models.bert.LabelProjection;
import io.nlpstream.models.bert.Role;
import io.nlpstream.models.runtime.ModelLoadException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a Hugging Face model's labels ({@code config.json id2label}) become the labels of the {@link
 * io.nlpstream.models.bert.Analysis} contract.
 *
 * <p>Sequence classification, role sentiment: each label is mapped by {@code model.json label_map}
 * when listed there, else taken as is when it equals negative, neutral or positive ignoring case
 * (POSITIVE, Negative); any other label ({@code LABEL_0}, {@code 4 stars}) fails the load until
 * {@code label_map} maps it. Several labels may map onto one (their probabilities add up).
 * Role classes: labels are kept as they are unless {@code label_map} renames them.
 *
 * <p>Token classification: {@code O} is outside; other labels are {@code <prefix>-<type>} with
 * prefix B or I (IOB2), S or U (single-token, read as B), E or L (last token, read as I), separated
 * by '-' or '_'; a label without a prefix ({@code PER}, IO tagging) is read as I. The type is
 * mapped by {@code model.json entity_types} when listed there, else by name ignoring case (PER or
 * PERSON, ORG or ORGANIZATION/ORGANISATION, LOC or LOCATION, MISC or MISCELLANEOUS). A type that
 * maps to nothing (DATE, product, ...) or that {@code entity_types} maps to O is decoded as outside:
 * its probability counts for O. The caller logs these ignored types at start-up.
 *
 * <p>A key of {@code label_map} or {@code entity_types} that is not a label or type of the model
 * fails the load: it is a typo or a mapping meant for another model.
 */
final class HuggingFaceLabels {

  /** A projection and the model's entity types that it decodes as outside. */
  record Mapping(LabelProjection projection, Set<String> ignoredTypes) {}

  private static final List<String> SENTIMENTS = List.of("negative", "neutral", "positive");
  private static final List<String> TYPES = List.of("PER", "ORG", "LOC", "MISC");
  private static final Map<String, String> TYPE_NAMES = Map.of(
      "per", "PER", "person", "PER",
      "org", "ORG", "organization", "ORG", "organisation", "ORG",
      "loc", "LOC", "location", "LOC",
      "misc", "MISC", "miscellaneous", "MISC");
  private static final Pattern PREFIXED = Pattern.compile("([BIESUL])[-_](.+)");

  private HuggingFaceLabels() {}

  /** Labels of a sequence classifier serving {@code role} (sentiment or classes). */
  static Mapping sentence(Role role, HuggingFaceConfig config, Map<String, String> labelMap, String manifest) {
    List<String> labels = config.labels();
    Map<String, String> map = labelMap == null ? Map.of() : labelMap;
    for (String key : map.keySet()) {
      if (!labels.contains(key)) {
        throw new ModelLoadException(manifest, "label_map key '" + key + "' is not a label of " + config.source()
            + " id2label " + labels);
      }
    }
    List<String> targetOfLabel = new ArrayList<>();
    for (String label : labels) {
      String target = map.get(label);
      if (role == Role.SENTIMENT) {
        if (target == null) {
          target = label.toLowerCase(Locale.ROOT);
          if (!SENTIMENTS.contains(target)) {
            throw new ModelLoadException(config.source(), "id2label value '" + label + "' is not a sentiment label "
                + SENTIMENTS + ": map it in " + manifest + " label_map (e.g. \"label_map\": {\"" + label
                + "\": \"negative\"})");
          }
        } else if (!SENTIMENTS.contains(target)) {
          throw new ModelLoadException(manifest, "label_map maps '" + label + "' to '" + target + "', which is not a"
              + " sentiment label " + SENTIMENTS);
        }
      } else if (target == null) {
        target = label;
      }
      targetOfLabel.add(target);
    }
    List<String> targets = new ArrayList<>(role == Role.SENTIMENT
        ? SENTIMENTS.stream().filter(targetOfLabel::contains).toList()
        : new ArrayList<>(new LinkedHashSet<>(targetOfLabel)));
    if (targets.size() < 2) {
      throw new ModelLoadException(manifest, "the labels " + labels + " of " + config.source() + " map onto "
          + targets + ": the " + role.key() + " role needs at least two");
    }
    return new Mapping(projection(targets, targetOfLabel), Set.of());
  }

  /** Labels of a token classifier (entities). */
  static Mapping entities(HuggingFaceConfig config, Map<String, String> entityTypes, String manifest) {
    List<String> labels = config.labels();
    Map<String, String> types = entityTypes == null ? Map.of() : entityTypes;
    types.forEach((type, target) -> {
      if (!target.equals("O") && !TYPES.contains(target)) {
        throw new ModelLoadException(manifest, "entity_types maps '" + type + "' to '" + target
            + "', expected one of " + TYPES + " or O (ignore the type)");
      }
    });
    Set<String> modelTypes = new TreeSet<>();
    Set<String> ignored = new TreeSet<>();
    List<String> targetOfLabel = new ArrayList<>();
    for (String label : labels) {
      if (label.equals("O")) {
        targetOfLabel.add("O");
        continue;
      }
      Matcher m = PREFIXED.matcher(label);
      boolean begins = m.matches() && "BSU".indexOf(m.group(1).charAt(0)) >= 0;
      String type = m.matches() ? m.group(2) : label;
      modelTypes.add(type);
      String target = types.containsKey(type) ? types.get(type) : TYPE_NAMES.get(type.toLowerCase(Locale.ROOT));
      if (target == null || target.equals("O")) {
        ignored.add(type);
        targetOfLabel.add("O");
      } else {
        targetOfLabel.add((begins ? "B-" : "I-") + target);
      }
    }
    for (String key : types.keySet()) {
      if (!modelTypes.contains(key)) {
        throw new ModelLoadException(manifest, "entity_types key '" + key + "' is not an entity type of "
            + config.source() + " id2label " + labels + " (types " + modelTypes + ")");
      }
    }
    List<String> targets = new ArrayList<>(List.of("O"));
    for (String type : TYPES) {
      if (targetOfLabel.contains("B-" + type) || targetOfLabel.contains("I-" + type)) {
        targets.add("B-" + type);
        targets.add("I-" + type);
      }
    }
    if (targets.size() == 1) {
      throw new ModelLoadException(config.source(), "no label of id2label " + labels + " maps to an entity type of "
          + EntityDecoder.TYPES + ": map the model's types in " + manifest + " entity_types");
    }
    return new Mapping(projection(targets, targetOfLabel), Set.copyOf(ignored));
  }

  private static LabelProjection projection(List<String> targets, List<String> targetOfLabel) {
    int[] index = new int[targetOfLabel.size()];
    for (int i = 0; i < index.length; i++) {
      index[i] = targets.indexOf(targetOfLabel.get(i));
    }
    return new LabelProjection(targets, index);
  }
}
