package io.nlpstream.models.runtime;

/**
 * A native inference failure, wrapped at the inference boundary with the model id and file so that
 * the dead-letter record and the log line say which model failed.
 */
public class InferenceException extends RuntimeException {

  private final String modelId;
  private final String modelFile;

  public InferenceException(String modelId, String modelFile, String message, Throwable cause) {
    super("model " + modelId + " (" + modelFile + "): " + message, cause);
    this.modelId = modelId;
    this.modelFile = modelFile;
  }

  public String modelId() {
    return modelId;
  }

  public String modelFile() {
    return modelFile;
  }
}
