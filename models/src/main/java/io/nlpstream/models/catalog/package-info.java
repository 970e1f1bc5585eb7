/**
 * Model bundles ({@code model.json} + files) by id, from an extra directory ({@code
 * model.catalog.dir}) or the classpath, with sha256 verification of every file at load, and the
 * assembly of a {@link io.nlpstream.models.bert.TextAnalyzer} from them ({@link
 * io.nlpstream.models.catalog.ModelCatalog#openAnalyzer}).
 *
 * <h2>Bundle forms ({@code model.json})</h2>
 * Encoder + heads (kind {@code bert-multihead}): see the project brief; {@code encoder} (a BERT
 * encoder with {@code last_hidden_state}), {@code heads}, {@code labels}.
 *
 * <p>Fused (kind {@code bert-multihead}, a fine-tuned multi-head model exported as one graph):
 * <pre>{@code
 * {"id": "e5-small-ft", "version": "1", "kind": "bert-multihead",
 *  "model": {"file": "model.onnx", "sha256": "<hex>"},
 *  "tokenizer": {"file": "tokenizer.json", "sha256": "<hex>"},   // or "classpath:..."
 *  "max_tokens": 256,
 *  "labels": {"sentiment": [...], "classes": [...], "entities": ["O", "B-PER", ...]}}
 * }</pre>
 * The graph takes {@code input_ids}, {@code attention_mask} and, if it declares them, {@code
 * token_type_ids} and {@code case_ids} (int64 [B,S]; the casing class of each token, see {@link
 * io.nlpstream.models.tokenizer.Casing}), and returns {@code sentiment_logits} [B,Ns], {@code
 * class_logits} [B,Nc], {@code entity_logits} [B,S,Ne] in the label order of {@code labels}.
 *
 * <p>Hugging Face (kinds {@code hf-sequence-classification}, {@code hf-token-classification}): the
 * directory an ONNX export writes ({@code optimum-cli export onnx --model dslim/bert-base-NER
 * dir/}) with a {@code model.json} added next to its files:
 * <pre>{@code
 * {"id": "bert-base-ner", "version": "1", "kind": "hf-token-classification",
 *  "model": {"file": "model.onnx", "sha256": "<sha256sum model.onnx>"},
 *  "tokenizer": {"file": "tokenizer.json", "sha256": "<hex>"},
 *  "config": {"file": "config.json", "sha256": "<hex>"},
 *  "max_tokens": 512,                               // optional, at most what config.json allows
 *  "entity_types": {"product": "MISC", "DATE": "O"}} // optional (token classification)
 * {"id": "distilbert-sst2", ..., "kind": "hf-sequence-classification",
 *  "label_map": {"LABEL_0": "negative", "LABEL_1": "positive"}}   // optional (sequence classification)
 * }</pre>
 * Labels come from {@code config.json id2label}, the window from {@code max_position_embeddings}
 * (minus 2 for RoBERTa-style position ids); the graph's inputs are fed as declared (DistilBERT and
 * RoBERTa exports have no {@code token_type_ids}); its output is {@code logits}. Label mapping
 * rules: {@link io.nlpstream.models.catalog.HuggingFaceLabels}. Sentiment labels must map to
 * negative/neutral/positive (they match ignoring case, otherwise {@code label_map}); entity types
 * map by name (PER/PERSON, ORG/ORGANIZATION, LOC/LOCATION, MISC) or by {@code entity_types}, and
 * any other type is decoded as outside (logged at start-up).
 *
 * <h2>Which model serves which role</h2>
 * {@link io.nlpstream.models.catalog.AnalyzerSpec}: configuration key {@code model.bert} names the
 * base bundle; {@code model.sentiment}, {@code model.entities}, {@code model.classes} may each name
 * another bundle for that role. Each distinct model adds one encoder pass per batch (its own
 * tokenization and network call): a Hugging Face NER model next to the default bundle roughly
 * doubles the encoder work for the entity role's windows. A pass serving only sentence-level roles
 * runs the first window of each text only.
 *
 * <h2>Start-up checks</h2>
 * Every failure is a {@link io.nlpstream.models.runtime.ModelLoadException} naming the file: unknown
 * or ill-placed {@code model.json} fields, checksum mismatches, a file that is not an ONNX model or
 * not a tokenizer, missing or unexpected graph inputs, wrong element types or ranks, label counts
 * that differ from the logits (from the declared shape, or from a one-text probe run when the label
 * dimension is dynamic), a {@code config.json} without usable {@code id2label} or {@code
 * max_position_embeddings}, labels that cannot be mapped, a model configured for a role its kind
 * cannot serve.
 */
package io.nlpstream.models.catalog;
