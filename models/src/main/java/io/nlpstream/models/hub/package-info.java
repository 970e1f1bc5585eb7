/**
 * Pulling ONNX exports from the Hugging Face Hub into the model catalogue ({@code nlpstream models
 * pull}): a small Hub API client ({@link io.nlpstream.models.hub.HubClient}: revision to commit,
 * file tree, resumable verified downloads) and the pull itself ({@link
 * io.nlpstream.models.hub.ModelPull}: file choice, catalogue bundle, {@code model.json}).
 *
 * <h2>What a pull writes</h2>
 * {@code <catalog>/<id>/} holds the chosen files under their repository paths (e.g. {@code
 * onnx/decoder_model_merged.onnx}) and a {@code model.json} the catalogue reads:
 * <pre>{@code
 * {"id": "openai-community--gpt2", "version": "607a30d783df", "kind": "gpt-decoder",
 *  "model": {"file": "onnx/decoder_model_merged.onnx", "sha256": "<hex>"},
 *  "tokenizer": {"file": "tokenizer.json", "sha256": "<hex>"},
 *  "config": {"file": "config.json", "sha256": "<hex>"},
 *  "generation_config": {"file": "generation_config.json", "sha256": "<hex>"},
 *  "prompt_templates": "plain",
 *  "source": {"hub": "https://huggingface.co", "repo": "openai-community/gpt2", "revision": "main",
 *             "commit": "<40 hex>", "pulled_at": "...",
 *             "files": [{"file": "...", "size": 123, "sha256": "<hex>"}, ...]}}
 * }</pre>
 * {@code version} is the first 12 hex digits of the commit. {@code source} is provenance; the
 * runtime ignores it (and with it the sha256 of external data files, {@code *.onnx_data}, which
 * {@code gpt-decoder} manifests have no field for yet).
 *
 * <h2>Checksums</h2>
 * Every file is checked against the Hub's tree listing as it arrives: LFS files by sha256 ({@code
 * lfs.oid}), files stored in git by their git blob sha1 ({@code oid}); {@code model.json} records
 * the sha256 of each, which the catalogue verifies again whenever the model is opened.
 *
 * <p>Nothing in this package runs when the pipeline starts: the runtime never downloads.
 */
package io.nlpstream.models.hub;
