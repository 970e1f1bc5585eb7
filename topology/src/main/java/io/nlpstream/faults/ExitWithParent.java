package io.nlpstream.faults;

import io.nlpstream.cli.NlpstreamCommand;
import java.io.IOException;
import java.io.InputStream;

/**
 * Main class of a {@link ServiceProcess} child JVM: runs the {@code nlpstream} command line with the
 * given arguments, and exits when the parent process goes away.
 *
 * <p>The parent holds this process's stdin open for as long as it lives; end of stdin (or a broken
 * pipe) means it is gone, even after a {@code kill -9} of the parent when none of its shutdown hooks
 * ran. This process then calls {@link System#exit}, so that {@code nlpstream run}'s shutdown hook
 * closes the service cleanly, instead of leaving an orphan that retries a vanished broker forever.
 */
public final class ExitWithParent {

  private ExitWithParent() {}

  public static void main(String[] args) {
    Thread watcher = new Thread(ExitWithParent::watchStdin, "nlpstream-parent-watch");
    watcher.setDaemon(true);
    watcher.start();
    NlpstreamCommand.main(args);
  }

  private static void watchStdin() {
    InputStream in = System.in;
    try {
      while (in.read() >= 0) {
        // The parent writes nothing; any byte is ignored.
      }
      // Process.destroy() in the parent also closes our stdin, right after its SIGTERM: both stop us the same way.
      System.err.println("stdin closed (the parent is gone or stopping this process): stopping");
    } catch (IOException e) {
      System.err.println("parent process gone (stdin: " + e + "): stopping");
    }
    System.exit(0);
  }
}
