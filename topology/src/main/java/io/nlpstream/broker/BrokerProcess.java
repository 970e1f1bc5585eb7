package io.nlpstream.broker;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Main class of the broker's child JVM (started by {@link EmbeddedKafkaBroker}, not by users).
 *
 * <p>Arguments: {@code <server.properties> <cluster-id>}. Formats the log directory with Kafka's
 * {@code kafka.tools.StorageTool format} when it holds no {@code meta.properties} yet (so a
 * restart on the same data keeps its cluster id and topics), then runs {@code kafka.Kafka}.
 *
 * <p>The parent holds this process's stdin open for as long as it lives. End of stdin means the
 * parent is gone (even after {@code kill -9}, when no shutdown hook of the parent ran): the broker
 * then exits through its own shutdown hook instead of lingering as an orphan on the ports.
 */
public final class BrokerProcess {

  private BrokerProcess() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: BrokerProcess <server.properties> <cluster-id>");
      System.exit(2);
    }
    Path props = Path.of(args[0]);
    String clusterId = args[1];
    watchParent();

    Properties server = new Properties();
    try (InputStream in = Files.newInputStream(props)) {
      server.load(in);
    }
    Path logDir = Path.of(server.getProperty("log.dirs"));
    if (!Files.exists(logDir.resolve("meta.properties"))) {
      int rc = kafka.tools.StorageTool.execute(
          new String[] {"format", "-t", clusterId, "-c", props.toString()}, System.out);
      if (rc != 0) {
        System.err.println("kafka-storage format failed with exit code " + rc);
        System.exit(rc);
      }
    }
    kafka.Kafka.main(new String[] {props.toString()});
  }

  private static void watchParent() {
    Thread watcher = new Thread(() -> {
      try {
        InputStream in = System.in;
        while (in.read() >= 0) {
          // The parent writes nothing; any byte is ignored.
        }
      } catch (IOException e) {
        // A broken pipe means the same as end of stream: the parent is gone.
        e.printStackTrace();
      }
      System.err.println("parent process gone (stdin closed): shutting the broker down");
      System.exit(0);
    }, "nlpstream-parent-watch");
    watcher.setDaemon(true);
    watcher.start();
  }
}
