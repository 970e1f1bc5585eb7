package io.nlpstream.models.catalog;

import io.nlpstream.models.bert.Role;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * Which catalogue model serves each {@link Role} of the BERT stage: a base model (a {@code
 * bert-multihead} bundle, configuration key {@code model.bert}) and, per role, an optional other
 * model (keys {@code model.sentiment}, {@code model.entities}, {@code model.classes}): a Hugging
 * Face bundle of kind {@code hf-sequence-classification} (sentiment, classes) or {@code
 * hf-token-classification} (entities), or another {@code bert-multihead} bundle (its head of that
 * role).
 *
 * <p>Each distinct model costs one encoder pass per batch: the base bundle plus an Hugging Face NER
 * model encode every text twice. The base model is not loaded at all when every role is taken by
 * another model. Roles given the same model id share one pass.
 *
 * @param base      model id of the roles not overridden
 * @param overrides model id per overridden role
 */
public record AnalyzerSpec(String base, Map<Role, String> overrides) {

  public AnalyzerSpec {
    Objects.requireNonNull(base, "base");
    if (base.isBlank()) {
      throw new IllegalArgumentException("the base model id is blank");
    }
    EnumMap<Role, String> copy = new EnumMap<>(Role.class);
    overrides.forEach((role, id) -> {
      if (id != null && !id.isBlank()) {
        copy.put(role, id.trim());
      }
    });
    overrides = Collections.unmodifiableMap(copy);
  }

  /** Every role from {@code base}. */
  public static AnalyzerSpec of(String base) {
    return new AnalyzerSpec(base, Map.of());
  }

  /**
   * This spec with {@code role} taken from {@code modelId}; a null or blank id means the base model
   * (how an unset {@code model.<role>} key reads).
   */
  public AnalyzerSpec with(Role role, String modelId) {
    EnumMap<Role, String> next = new EnumMap<>(Role.class);
    next.putAll(overrides);
    if (modelId == null || modelId.isBlank()) {
      next.remove(role);
    } else {
      next.put(role, modelId);
    }
    return new AnalyzerSpec(base, next);
  }

  /** The model id serving {@code role}. */
  public String modelFor(Role role) {
    return overrides.getOrDefault(role, base);
  }
}
