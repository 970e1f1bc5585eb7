package io.nlpstream.broker;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Apache Kafka broker (KRaft, combined broker and controller) in a child JVM,
 * started from the Kafka jars on this process's own classpath: no download, no Docker. Used by
 * {@code nlpstream demo}, {@code nlpstream bench} and the integration tests.
 *
 * <p>Layout of its {@link #directory() directory}: {@code server.properties}, {@code log4j2.xml},
 * {@code broker.log} (everything the broker logs, appended across restarts; nothing goes to this
 * process's stdout) and {@code kraft/} (the log directory: topics and the metadata log).
 *
 * <p>Life cycle: {@link Builder#start()} formats the storage (first start only), starts the JVM and
 * returns once the broker answers {@code describeCluster}. {@link #stop()} sends SIGTERM and waits
 * for the controlled shutdown; {@link #restart()} starts it again on the same ports and the same
 * data, so clients configured with {@link #bootstrapServers()} reconnect by themselves.
 * {@link #kill()} is SIGKILL, to simulate a crash. If this JVM dies without closing the broker
 * (even by SIGKILL), the child notices its stdin closing and shuts down too.
 *
 * <p>Thread safety: the life-cycle methods are synchronized; {@link #bootstrapServers()} is fixed
 * for the life of the object. Ownership: the caller closes it; {@link #close()} stops the broker
 * and deletes the directory if the broker created it ({@link Builder#directory} not given).
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);
  private static final int LOG_TAIL_LINES = 30;

  private final Path directory;
  private final boolean deleteOnClose;
  private final int brokerPort;
  private final int controllerPort;
  private final int saslPort;
  private final Map<String, String> saslUsers;
  private final Duration startTimeout;
  private final Duration stopTimeout;
  private final List<String> jvmOptions;
  private final Map<String, String> serverOverrides;

  private Process process;
  private OutputStream parentLifeline;
  private boolean closed;

  private EmbeddedKafkaBroker(Builder b, Path directory, boolean deleteOnClose) {
    this.directory = directory;
    this.deleteOnClose = deleteOnClose;
    // All free ports come from sockets held open together: one at a time, the OS may hand out the
    // same ephemeral port twice, and Kafka then refuses two listeners on one port.
    int[] free = freePorts(3, b.brokerPort, b.controllerPort);
    this.brokerPort = b.brokerPort != 0 ? b.brokerPort : free[0];
    this.controllerPort = b.controllerPort != 0 ? b.controllerPort : free[1];
    this.saslUsers = Map.copyOf(b.saslUsers);
    this.saslPort = saslUsers.isEmpty() ? -1 : free[2];
    this.startTimeout = b.startTimeout;
    this.stopTimeout = b.stopTimeout;
    this.jvmOptions = List.copyOf(b.jvmOptions);
    this.serverOverrides = Map.copyOf(b.serverOverrides);
  }

  /** A broker in a fresh temporary directory (deleted on {@link #close()}), on free ports. */
  public static EmbeddedKafkaBroker start() {
    return builder().start();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** {@code 127.0.0.1:<port>} of the PLAINTEXT listener; the same across {@link #restart()}s. */
  public String bootstrapServers() {
    return "127.0.0.1:" + brokerPort;
  }

  /**
   * {@code 127.0.0.1:<port>} of the SASL_PLAINTEXT listener (mechanism PLAIN) that
   * {@link Builder#saslPlainUser} enabled; the same across restarts.
   *
   * @throws IllegalStateException when the broker has no SASL listener
   */
  public String saslBootstrapServers() {
    if (saslPort < 0) {
      throw new IllegalStateException("this broker has no SASL listener (Builder.saslPlainUser)");
    }
    return "127.0.0.1:" + saslPort;
  }

  /** The broker's working directory (configuration, log file, data). */
  public Path directory() {
    return directory;
  }

  /** The file the broker logs to. */
  public Path logFile() {
    return directory.resolve("broker.log");
  }

  /** True while the broker JVM runs (started and neither stopped nor dead). */
  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  /**
   * Starts the broker again on the same ports and data after {@link #stop()} or {@link #kill()}.
   * Returns once it is ready.
   *
   * @throws IllegalStateException if it is running or closed, or does not become ready in time
   */
  public synchronized void restart() {
    if (closed) {
      throw new IllegalStateException("broker is closed");
    }
    if (isRunning()) {
      throw new IllegalStateException("broker is running; stop() it first");
    }
    launch();
  }

  /**
   * SIGTERM, then waits for the controlled shutdown (falls back to SIGKILL after the stop timeout).
   * The data stays; {@link #restart()} resumes on it. No-op when not running.
   */
  public synchronized void stop() {
    if (process == null) {
      return;
    }
    Process p = process;
    process = null;
    p.destroy();
    try {
      if (!p.waitFor(stopTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.warn("broker {} did not stop within {}; killing it", bootstrapServers(), stopTimeout);
        p.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    } finally {
      closeLifeline();
    }
  }

  /** SIGKILL: a crash, no controlled shutdown. The data stays; {@link #restart()} recovers it. */
  public synchronized void kill() {
    if (process == null) {
      return;
    }
    Process p = process;
    process = null;
    try {
      p.destroyForcibly().waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      closeLifeline();
    }
  }

  /** Stops the broker and, if this object created its directory, deletes it. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    stop();
    if (deleteOnClose) {
      deleteRecursively(directory);
    }
  }

  private void launch() {
    try {
      Files.createDirectories(directory);
      Files.writeString(directory.resolve("server.properties"), serverProperties(), StandardCharsets.UTF_8);
      Files.writeString(directory.resolve("log4j2.xml"), LOG4J2_XML, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the broker configuration into " + directory, e);
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // C1 only: the broker starts ~40% faster and its JIT leaves the cores to inference; a local
    // broker's steady state is far from being the bottleneck of a BERT pipeline.
    command.addAll(List.of("-Xms128m", "-Xmx1g", "-XX:TieredStopAtLevel=1", "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        "-Dlog4j2.configurationFile=" + directory.resolve("log4j2.xml").toUri()));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", absoluteClassPath(), BrokerProcess.class.getName(),
        directory.resolve("server.properties").toString(), Uuid.randomUuid().toString()));
    ProcessBuilder pb = new ProcessBuilder(command)
        .directory(directory.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()));
    long startNanos = System.nanoTime();
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the broker JVM: " + command.get(0), e);
    }
    // stdin stays open as the child's lifeline; see BrokerProcess.
    parentLifeline = process.getOutputStream();
    try {
      awaitReady(startNanos + startTimeout.toNanos());
    } catch (RuntimeException e) {
      kill();
      throw e;
    }
    LOG.info("Kafka broker ready at {} in {} ms (directory {})", bootstrapServers(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos), directory);
  }

  private void awaitReady(long deadlineNanos) {
    // TCP first: cheap, and keeps the Admin client from logging connection failures while the JVM starts.
    while (!portOpen(brokerPort)) {
      checkAlive();
      checkDeadline(deadlineNanos, "its port " + brokerPort + " to open");
      sleep(100);
    }
    Map<String, Object> adminConfig = Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000,
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000,
        AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
    try (Admin admin = Admin.create(adminConfig)) {
      while (true) {
        checkAlive();
        checkDeadline(deadlineNanos, "describeCluster to answer");
        try {
          Collection<Node> nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs(2000))
              .nodes().get(3, TimeUnit.SECONDS);
          if (!nodes.isEmpty()) {
            return;
          }
        } catch (ExecutionException | TimeoutException e) {
          LOG.debug("broker {} not ready yet: {}", bootstrapServers(), e.toString());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for the broker", e);
        }
        sleep(100);
      }
    }
  }

  private void checkAlive() {
    if (!process.isAlive()) {
      throw new IllegalStateException("the Kafka broker JVM exited with code " + process.exitValue()
          + " during start-up; last lines of " + logFile() + ":\n" + logTail());
    }
  }

  private void checkDeadline(long deadlineNanos, String what) {
    if (System.nanoTime() - deadlineNanos > 0) {
      throw new IllegalStateException("the Kafka broker at " + bootstrapServers() + " did not become ready within "
          + startTimeout + " (waiting for " + what + "); last lines of " + logFile() + ":\n" + logTail());
    }
  }

  private String logTail() {
    try (Stream<String> lines = Files.lines(logFile(), StandardCharsets.UTF_8)) {
      List<String> all = lines.collect(Collectors.toList());
      return String.join("\n", all.subList(Math.max(0, all.size() - LOG_TAIL_LINES), all.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(cannot read it: " + e + ")";
    }
  }

  private String serverProperties() {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    String sasl = saslPort < 0 ? "" : ",SASL_PLAINTEXT://127.0.0.1:" + saslPort;
    p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort + sasl);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + sasl);
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
        + (saslPort < 0 ? "" : ",SASL_PLAINTEXT:SASL_PLAINTEXT"));
    if (saslPort >= 0) {
      // PLAIN on its own listener; the broker itself keeps talking PLAINTEXT (inter-broker, controller).
      p.put("sasl.enabled.mechanisms", "PLAIN");
      StringBuilder jaas = new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required");
      saslUsers.forEach((user, password) -> jaas.append(" user_").append(user).append("=\"").append(password).append('"'));
      p.put("listener.name.sasl_plaintext.plain.sasl.jaas.config", jaas.append(';').toString());
    }
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("log.dirs", directory.resolve("kraft").toString());
    // A single node: every internal topic (offsets, transactions for exactly_once_v2, share groups)
    // must be satisfiable with one replica, or consumers and transactions hang.
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "5");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "5");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("default.replication.factor", "1");
    p.put("min.insync.replicas", "1");
    p.put("num.partitions", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    // Topics are created explicitly (nlpstream's Admin set-up, Kafka Streams' internal topics), as in production.
    p.put("auto.create.topics.enable", "false");
    p.putAll(serverOverrides);
    StringBuilder sb = new StringBuilder("# Written by nlpstream's EmbeddedKafkaBroker; rewritten at every start.\n");
    p.forEach((k, v) -> sb.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
    return sb.toString();
  }

  private void closeLifeline() {
    if (parentLifeline != null) {
      try {
        parentLifeline.close();
      } catch (IOException e) {
        LOG.debug("closing the broker's stdin: {}", e.toString());
      }
      parentLifeline = null;
    }
  }

  private static String absoluteClassPath() {
    return Stream.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
        .filter(s -> !s.isEmpty())
        .map(s -> Path.of(s).toAbsolutePath().toString())
        .collect(Collectors.joining(java.io.File.pathSeparator));
  }

  private static boolean portOpen(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** {@code n} distinct free TCP ports on 127.0.0.1, none of them in {@code taken}. */
  private static int[] freePorts(int n, int... taken) {
    List<ServerSocket> open = new ArrayList<>();
    try {
      int[] ports = new int[n];
      int found = 0;
      while (found < n) {
        ServerSocket s = new ServerSocket();
        open.add(s);
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress("127.0.0.1", 0));
        int port = s.getLocalPort();
        if (Arrays.stream(taken).noneMatch(t -> t == port)) {
          ports[found++] = port;
        }
      }
      return ports;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find a free TCP port on 127.0.0.1", e);
    } finally {
      for (ServerSocket s : open) {
        try {
          s.close();
        } catch (IOException e) {
          throw new UncheckedIOException("cannot release probe socket of port " + s.getLocalPort(), e);
        }
      }
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the broker", e);
    }
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      LOG.warn("could not delete the broker directory {}: {}", dir, e.toString());
    }
  }

  /** The broker logs to its stdout, which the parent appends to {@code broker.log}. */
  private static final String LOG4J2_XML = """
      <?xml version="1.0" encoding="UTF-8"?>
      <Configuration status="WARN">
        <Appenders>
          <Console name="out" target="SYSTEM_OUT">
            <PatternLayout pattern="[%d{ISO8601}] %-5p %m (%c{1})%n"/>
          </Console>
        </Appenders>
        <Loggers>
          <Logger name="kafka.coordinator" level="WARN"/>
          <Logger name="state.change.logger" level="WARN"/>
          <Logger name="org.apache.kafka.storage" level="WARN"/>
          <Root level="INFO"><AppenderRef ref="out"/></Root>
        </Loggers>
      </Configuration>
      """;

  /**
   * Options of an {@link EmbeddedKafkaBroker}. Defaults: a fresh temporary directory deleted on
   * close, free ports, 60 s to become ready, 30 s to stop.
   */
  public static final class Builder {
    private Path directory;
    private int brokerPort;
    private int controllerPort;
    private Duration startTimeout = Duration.ofSeconds(60);
    private Duration stopTimeout = Duration.ofSeconds(30);
    private final List<String> jvmOptions = new ArrayList<>();
    private final Map<String, String> serverOverrides = new LinkedHashMap<>();
    private final Map<String, String> saslUsers = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Adds a SASL_PLAINTEXT listener (mechanism PLAIN, on a free port: {@link #saslBootstrapServers()})
     * that accepts this user; repeatable. The PLAINTEXT listener stays for the broker itself and for
     * set-up. The credentials go into {@code server.properties} in the broker's directory: test use only.
     */
    public Builder saslPlainUser(String user, String password) {
      if (!user.matches("[A-Za-z0-9_-]+") || password.contains("\"") || password.contains("\\")) {
        throw new IllegalArgumentException("SASL user names are [A-Za-z0-9_-]+ and passwords hold no quote or backslash");
      }
      saslUsers.put(user, password);
      return this;
    }

    /**
     * Working directory; kept on close. A directory holding the data of an earlier broker is
     * resumed (not reformatted). Pass the same ports to reach the same address.
     */
    public Builder directory(Path dir) {
      this.directory = Objects.requireNonNull(dir, "dir");
      return this;
    }

    /** PLAINTEXT listener port; 0 (default) = a free port. */
    public Builder port(int port) {
      this.brokerPort = port;
      return this;
    }

    /** CONTROLLER listener port; 0 (default) = a free port. */
    public Builder controllerPort(int port) {
      this.controllerPort = port;
      return this;
    }

    public Builder startTimeout(Duration timeout) {
      this.startTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    public Builder stopTimeout(Duration timeout) {
      this.stopTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** Extra options of the broker JVM (e.g. {@code -Xmx512m}). */
    public Builder jvmOption(String option) {
      jvmOptions.add(Objects.requireNonNull(option, "option"));
      return this;
    }

    /** A {@code server.properties} entry, overriding the single-node defaults. */
    public Builder serverProperty(String key, String value) {
      serverOverrides.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Starts the broker; returns once it is ready. */
    public EmbeddedKafkaBroker start() {
      Path dir = directory;
      boolean temporary = dir == null;
      if (temporary) {
        try {
          dir = Files.createTempDirectory("nlpstream-kafka-");
        } catch (IOException e) {
          throw new UncheckedIOException("cannot create a temporary directory for the broker", e);
        }
      }
      EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(this, dir.toAbsolutePath(), temporary);
      try {
        broker.launch();
      } catch (RuntimeException e) {
        broker.close();
        throw e;
      }
      return broker;
    }
  }
}
