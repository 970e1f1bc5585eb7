package io.nlpstream.cli;

/**
 * An expected failure of a command (a timeout, records not accounted for): reported as one clear
 * message and exit code 1, without a stack trace.
 */
public final class CommandFailure extends RuntimeException {

  public CommandFailure(String message) {
    super(message);
  }
}
