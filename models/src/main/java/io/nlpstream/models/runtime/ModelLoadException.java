package io.nlpstream.models.runtime;

/**
 * A model or tokenizer file that cannot be used: missing, corrupt, wrong checksum, or incompatible
 * inputs/outputs. Thrown at start-up; the message names the file and what is wrong.
 */
public class ModelLoadException extends RuntimeException {

  private final String file;

  public ModelLoadException(String file, String message) {
    this(file, message, null);
  }

  public ModelLoadException(String file, String message, Throwable cause) {
    super(file + ": " + message, cause);
    this.file = file;
  }

  public String file() {
    return file;
  }
}
