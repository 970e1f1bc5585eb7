package io.nlpstream.models.runtime;

/** Where ONNX Runtime executes the models. */
public enum ExecutionProvider {
  /** ONNX Runtime's own CPU kernels; in the default build. */
  CPU,
  /**
   * NVIDIA CUDA. Needs the GPU build of ONNX Runtime ({@code mvn -Pgpu}, artefact
   * {@code onnxruntime_gpu}) and a CUDA device with its drivers; otherwise start-up fails.
   */
  CUDA
}
