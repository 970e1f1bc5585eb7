package io.nlpstream.cli;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;

/**
 * The nlpstream checkout the command runs from, for its bundled files ({@code samples/}). The
 * launcher passes it as {@code -Dnlpstream.home}; otherwise it is found from the location of the
 * jar ({@code <home>/topology/target/nlpstream.jar}) or of the classes directory.
 */
final class NlpstreamHome {

  private NlpstreamHome() {}

  /** The checkout's root directory, or the working directory when it cannot be found. */
  static Path directory() {
    String property = System.getProperty("nlpstream.home");
    if (property != null && !property.isBlank()) {
      return Path.of(property);
    }
    CodeSource code = NlpstreamCommand.class.getProtectionDomain().getCodeSource();
    if (code != null && code.getLocation() != null) {
      try {
        // <home>/topology/target/{nlpstream.jar | classes}
        Path home = Path.of(code.getLocation().toURI()).toAbsolutePath().getParent();
        for (int up = 0; up < 2 && home != null; up++) {
          home = home.getParent();
        }
        if (home != null && Files.isDirectory(home.resolve("samples"))) {
          return home;
        }
      } catch (URISyntaxException e) {
        throw new IllegalStateException("cannot locate the nlpstream jar from " + code.getLocation(), e);
      }
    }
    return Path.of("").toAbsolutePath();
  }
}
