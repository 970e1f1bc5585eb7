package io.nlpstream.faults;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One incarnation of the enrichment service (the BERT stage), {@code nlpstream run --stage bert
 * --config FILE}, in a child JVM
 * started from this process's own classpath (the built jar and {@code lib/}, or a test classpath),
 * with stdout and stderr going to a log file. Made to be hurt: {@link #kill()} is SIGKILL (no
 * shutdown hook, no commit, no leaving the group: a crash), {@link #stop(Duration)} is SIGTERM (the
 * service's clean shutdown). A restart is a new {@code ServiceProcess} on the same configuration.
 *
 * <p>The child runs {@link ExitWithParent}: if this JVM dies without closing it, the child stops too.
 *
 * <p>Thread safety: the methods may be called from any thread; the life-cycle ones are synchronized.
 * Ownership: the caller closes it; {@link #close()} kills the child if it still runs.
 */
public final class ServiceProcess implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ServiceProcess.class);

  /** What {@code nlpstream run} logs once Kafka Streams is RUNNING for the first time. */
  public static final String RUNNING_LINE = "enrichment running";
  /** What {@code nlpstream run} logs at the end of a clean (SIGTERM) shutdown. */
  public static final String CLEAN_SHUTDOWN_LINE = "clean shutdown complete";
  /** The line the BERT processor logs when a stream task (one input partition) starts on an instance. */
  private static final Pattern TASK_STARTED = Pattern.compile("Task (\\d+_\\d+): started");

  private final String name;
  private final Path log;
  private final Process process;
  private final OutputStream lifeline;

  private ServiceProcess(String name, Path log, Process process) {
    this.name = name;
    this.log = log;
    this.process = process;
    this.lifeline = process.getOutputStream();
  }

  /**
   * Starts {@code nlpstream run --stage bert --config config} (the BERT stage only), logging to
   * {@code log} (replaced). Returns at once; see {@link #awaitRunning(Duration)}.
   *
   * @param name       for messages (e.g. "A#2")
   * @param jvmOptions options of the child JVM, e.g. {@code -Xmx768m}
   */
  public static ServiceProcess start(String name, Path config, Path log, List<String> jvmOptions) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", absoluteClassPath(), ExitWithParent.class.getName(),
        "run", "--stage", "bert", "--config", config.toAbsolutePath().toString()));
    try {
      Files.createDirectories(log.toAbsolutePath().getParent());
      Process p = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .start();
      return new ServiceProcess(name, log, p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the service JVM " + name + ": " + command.get(0), e);
    }
  }

  /**
   * Writes a service configuration file (Java properties, keys sorted) and returns its path.
   */
  public static Path writeConfig(Path file, Map<String, String> settings) {
    StringBuilder sb = new StringBuilder("# written by nlpstream's fault machinery\n");
    new TreeMap<>(settings).forEach((k, v) -> sb.append(k).append('=')
        .append(v.replace("\\", "\\\\").replace("\n", "\\n")).append('\n'));
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
    return file;
  }

  public String name() {
    return name;
  }

  public Path log() {
    return log;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** The whole log so far ("" when there is none yet). */
  public String logText() {
    try {
      return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + log, e);
    }
  }

  /** The last {@code lines} lines of the log, for failure messages. */
  public String tail(int lines) {
    List<String> all = logText().lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  /**
   * The stream tasks (Kafka Streams task ids, {@code <subtopology>_<partition>}) that started on this
   * incarnation, from its log, in order of first appearance.
   */
  public List<String> tasksStarted() {
    return tasksStartedSince(0);
  }

  /** Like {@link #tasksStarted()}, counting only log lines after the first {@code logChars} characters. */
  public List<String> tasksStartedSince(int logChars) {
    String text = logText();
    Matcher m = TASK_STARTED.matcher(text.substring(Math.min(logChars, text.length())));
    List<String> tasks = new ArrayList<>();
    while (m.find()) {
      if (!tasks.contains(m.group(1))) {
        tasks.add(m.group(1));
      }
    }
    return tasks;
  }

  /** Waits until Kafka Streams is RUNNING in the child ({@link #RUNNING_LINE} logged). */
  public void awaitRunning(Duration timeout) {
    awaitLog(RUNNING_LINE, timeout);
  }

  /**
   * Waits until {@code text} appears in the log.
   *
   * @throws IllegalStateException if the child exits first or the timeout passes (with the log's tail)
   */
  public void awaitLog(String text, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!logText().contains(text)) {
      if (!process.isAlive()) {
        throw new IllegalStateException("service " + name + " exited with " + process.exitValue() + " before logging '"
            + text + "'; last lines of " + log + ":\n" + tail(60));
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("service " + name + " did not log '" + text + "' within " + timeout
            + "; last lines of " + log + ":\n" + tail(60));
      }
      sleep(200);
    }
  }

  /** SIGKILL and wait for the process to be gone. Returns its exit status (137 when killed by the signal). */
  public synchronized int kill() {
    process.destroyForcibly();
    return awaitExit(Duration.ofSeconds(30), "SIGKILL");
  }

  /**
   * SIGTERM and wait up to {@code timeout} for the clean shutdown. Returns the exit status (0 after a
   * clean shutdown).
   *
   * @throws IllegalStateException if it has not exited in time (it is then killed)
   */
  public synchronized int stop(Duration timeout) {
    process.destroy();
    return awaitExit(timeout, "SIGTERM");
  }

  private int awaitExit(Duration timeout, String signal) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        throw new IllegalStateException("service " + name + " did not exit within " + timeout + " of " + signal
            + "; killed. Last lines of " + log + ":\n" + tail(60));
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for service " + name + " to exit", e);
    } finally {
      closeLifeline();
    }
    return process.exitValue();
  }

  /** Kills the child if it still runs. Idempotent. */
  @Override
  public synchronized void close() {
    if (process.isAlive()) {
      kill();
    }
    closeLifeline();
  }

  private void closeLifeline() {
    try {
      lifeline.close();
    } catch (IOException e) {
      // The child is gone and its end of the pipe with it: nothing is left to release.
      LOG.debug("closing the stdin of service {}: {}", name, e.toString());
    }
  }

  @Override
  public String toString() {
    return "ServiceProcess[" + name + ", pid " + process.pid() + (process.isAlive() ? "" : ", exited") + "]";
  }

  private static String absoluteClassPath() {
    return Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(s -> !s.isEmpty())
        .map(s -> Path.of(s).toAbsolutePath().toString())
        .collect(Collectors.joining(File.pathSeparator));
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
