/**
 * ONNX Runtime for the process: {@link io.nlpstream.models.runtime.OrtRuntime} (the one environment,
 * session settings, execution provider), {@link io.nlpstream.models.runtime.ModelSession} (one
 * session per model file, interface validated at load) and the two failures the runtime reports:
 * {@link io.nlpstream.models.runtime.ModelLoadException} at start-up and {@link
 * io.nlpstream.models.runtime.InferenceException} at inference, both naming the model file.
 */
package io.nlpstream.models.runtime;
