package io.nlpstream.cli;

import picocli.CommandLine.IVersionProvider;

/** The version from the jar manifest (Implementation-Version), or "development" when run from classes. */
final class VersionProvider implements IVersionProvider {

  @Override
  public String[] getVersion() {
    String v = NlpstreamCommand.class.getPackage().getImplementationVersion();
    return new String[] {"nlpstream " + (v == null ? "development" : v)};
  }
}
