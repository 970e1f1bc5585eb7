package io.nlpstream.broker;

import java.nio.file.Path;

/**
 * A process that owns an embedded broker and never closes it: the test kills it with SIGKILL to
 * check that the broker does not outlive its parent. Prints {@code BOOTSTRAP host:port} when ready.
 */
public final class BrokerOwnerMain {

  private BrokerOwnerMain() {}

  public static void main(String[] args) throws InterruptedException {
    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().directory(Path.of(args[0])).start();
    System.out.println("BOOTSTRAP " + broker.bootstrapServers());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
