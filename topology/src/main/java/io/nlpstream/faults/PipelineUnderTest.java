package io.nlpstream.faults;

import io.nlpstream.config.NlpstreamConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * One enrichment pipeline that faults are injected into: its cluster, {@code application.id} (the
 * GPT stage's: {@code <id>-gpt}) and topics ({@code <prefix>.in}, {@code .enriched}, {@code .dlq},
 * {@code .gpt}, {@code .summaries}, {@code .replies}), the service settings
 * for it, and the {@link EventFeed} and {@link DeliveryAudit} on its topics. Immutable; the feeds and
 * audits it opens belong to the caller.
 *
 * @param bootstrapServers the cluster
 * @param applicationId    Kafka Streams application id (consumer group) of every service instance
 * @param topicPrefix      prefix of the topic names
 */
public record PipelineUnderTest(String bootstrapServers, String applicationId, String topicPrefix) {

  /** JVM options of a service child: a heap that fits several instances and a broker on a small machine. */
  public static final List<String> SERVICE_JVM_OPTIONS = List.of("-Xmx768m", "-XX:+ExitOnOutOfMemoryError");

  /** Default wait for a service child to reach RUNNING (JVM start, model load, group join, restore). */
  public static final Duration START_TIMEOUT = Duration.ofMinutes(2);

  public String inputTopic() {
    return topicPrefix + ".in";
  }

  public String enrichedTopic() {
    return topicPrefix + ".enriched";
  }

  public String deadLetterTopic() {
    return topicPrefix + ".dlq";
  }

  public String gptRequestTopic() {
    return topicPrefix + ".gpt";
  }

  /** The GPT stage's summaries. */
  public String summariesTopic() {
    return topicPrefix + ".summaries";
  }

  /** The GPT stage's replies. */
  public String repliesTopic() {
    return topicPrefix + ".replies";
  }

  /** Kafka Streams application id of the GPT stage. */
  public String gptApplicationId() {
    return applicationId + "-gpt";
  }

  /**
   * The configuration of one service instance (keys of {@link NlpstreamConfig}), with its own state
   * directory. Differences from the defaults, and why:
   * <ul>
   *   <li>{@code kafka.session.timeout.ms=6000}, {@code kafka.heartbeat.interval.ms=1000}: a killed
   *       instance keeps its partitions until its session expires (45 s by default); short sessions
   *       keep each recovery within seconds;</li>
   *   <li>{@code routing.rules} empty: only events with a {@code task} are routed, so that the audit
   *       knows which inputs must yield a GPT request ({@link EventFeed#standardMix});</li>
   *   <li>{@code metrics.port=0}: several instances on one machine each get a free port.</li>
   * </ul>
   * The caller may change or add keys before writing the file ({@link ServiceProcess#writeConfig}).
   */
  public Map<String, String> serviceSettings(Path stateDir, int partitions) {
    Map<String, String> p = new HashMap<>();
    p.put(NlpstreamConfig.BOOTSTRAP_SERVERS, bootstrapServers);
    p.put(NlpstreamConfig.APPLICATION_ID, applicationId);
    p.put(NlpstreamConfig.STATE_DIR, stateDir.toAbsolutePath().toString());
    p.put(NlpstreamConfig.TOPIC_INPUT, inputTopic());
    p.put(NlpstreamConfig.TOPIC_ENRICHED, enrichedTopic());
    p.put(NlpstreamConfig.TOPIC_DLQ, deadLetterTopic());
    p.put(NlpstreamConfig.TOPIC_GPT_REQUESTS, gptRequestTopic());
    p.put(NlpstreamConfig.TOPIC_SUMMARIES, summariesTopic());
    p.put(NlpstreamConfig.TOPIC_REPLIES, repliesTopic());
    p.put(NlpstreamConfig.GPT_APPLICATION_ID, gptApplicationId());
    p.put(NlpstreamConfig.TOPIC_PARTITIONS, Integer.toString(partitions));
    p.put(NlpstreamConfig.ROUTING_RULES, "");
    p.put(NlpstreamConfig.METRICS_PORT, "0");
    p.put("kafka.session.timeout.ms", "6000");
    p.put("kafka.heartbeat.interval.ms", "1000");
    return p;
  }

  /** Plain Kafka client settings for this cluster. */
  public Map<String, Object> clientSettings() {
    Map<String, Object> settings = new HashMap<>();
    settings.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    return settings;
  }

  /**
   * Creates the pipeline's topics (those that exist are left alone): the input topic with
   * {@code inputPartitions}, the others (enriched, dead letters, GPT requests, summaries, replies)
   * with 2.
   */
  public void createTopics(int inputPartitions) {
    Map<String, Object> admin = clientSettings();
    admin.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000);
    try (Admin a = Admin.create(admin)) {
      Set<String> existing = a.listTopics().names().get(60, TimeUnit.SECONDS);
      List<NewTopic> missing = List.of(
              new NewTopic(inputTopic(), inputPartitions, (short) 1),
              new NewTopic(enrichedTopic(), 2, (short) 1),
              new NewTopic(deadLetterTopic(), 2, (short) 1),
              new NewTopic(gptRequestTopic(), 2, (short) 1),
              new NewTopic(summariesTopic(), 2, (short) 1),
              new NewTopic(repliesTopic(), 2, (short) 1))
          .stream().filter(t -> !existing.contains(t.name())).toList();
      a.createTopics(missing).all().get(60, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot create the topics of " + this + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    }
  }

  /** An audit of this pipeline's outputs (the topics must exist). */
  public DeliveryAudit audit() {
    return new DeliveryAudit(clientSettings(), enrichedTopic(), deadLetterTopic(), gptRequestTopic());
  }

  /** An audit of this pipeline's outputs including the GPT stage's summaries and replies. */
  public DeliveryAudit auditWithAnswers() {
    return new DeliveryAudit(clientSettings(), enrichedTopic(), deadLetterTopic(), gptRequestTopic(),
        List.of(summariesTopic(), repliesTopic()));
  }

  /** A feed of {@code mix} into this pipeline's input topic, reporting to {@code audit}. */
  public EventFeed feed(EventFeed.Mix mix, DeliveryAudit audit) {
    return new EventFeed(clientSettings(), inputTopic(), mix, audit);
  }

  /** Starts one service instance on {@code settings} (written next to its log as {@code <name>.properties}). */
  public static ServiceProcess startService(String name, Map<String, String> settings, Path dir, List<String> jvmOptions) {
    Path config = ServiceProcess.writeConfig(dir.resolve(fileName(name) + ".properties"), settings);
    return ServiceProcess.start(name, config, dir.resolve(fileName(name) + ".log"), jvmOptions);
  }

  private static String fileName(String name) {
    return name.replaceAll("[^A-Za-z0-9._-]", "_");
  }
}
