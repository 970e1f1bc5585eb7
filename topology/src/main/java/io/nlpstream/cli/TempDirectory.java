package io.nlpstream.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A fresh temporary directory, deleted with everything in it on {@link #close()} unless
 * {@link #keep() kept} (for inspection after a failure). Thread-safe.
 */
final class TempDirectory implements AutoCloseable {

  private final Path path;
  private volatile boolean keep;

  private TempDirectory(Path path) {
    this.path = path;
  }

  static TempDirectory create(String prefix) {
    try {
      return new TempDirectory(Files.createTempDirectory(prefix));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary directory", e);
    }
  }

  Path path() {
    return path;
  }

  Path resolve(String name) {
    return path.resolve(name);
  }

  /** Leaves the directory in place on {@link #close()}. */
  void keep() {
    keep = true;
  }

  @Override
  public synchronized void close() {
    if (keep || !Files.exists(path)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(path)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete the temporary directory " + path, e);
    }
  }
}
