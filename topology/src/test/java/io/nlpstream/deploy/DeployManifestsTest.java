package io.nlpstream.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.nlpstream.config.NlpstreamConfig;
import io.nlpstream.ops.OpsHttpServer;
import java.io.IOException;
import java.io.Reader;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The manifests in {@code deploy/} agree with the application: every configuration key they set is
 * one it knows (and every value validates), probes hit the endpoint's real paths and port, KEDA
 * never scales a stage past its input topic's partitions, the topics the configuration names exist
 * as Strimzi resources, and every kustomize reference resolves. Kustomize itself is not available
 * here: overlays are built by a small strategic-merge of their patches onto the base (maps merge,
 * lists of named items merge by name), enough for what these manifests use.
 */
class DeployManifestsTest {

  private static final Path DEPLOY = Path.of("..", "deploy");
  private static final Path KUBERNETES = DEPLOY.resolve("kubernetes");
  private static final List<Path> OVERLAYS = List.of(KUBERNETES.resolve("overlays/cpu"), KUBERNETES.resolve("overlays/gpu"));
  private static final Set<String> ENDPOINT_PATHS =
      Set.of(OpsHttpServer.HEALTH_PATH, OpsHttpServer.READY_PATH, OpsHttpServer.METRICS_PATH);

  /** A built kustomization: its resources (patches applied) and the properties files of its ConfigMaps. */
  private record Build(List<Map<String, Object>> resources, Map<String, Properties> configMaps,
                       Map<String, String> images) {}

  // ---------------------------------------------------------------------------------------------

  @Test
  void everyYamlFileParsesAndEveryKubernetesDocumentHasAKind() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.walk(DEPLOY)) {
      files = s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
    }
    assertThat(files).hasSizeGreaterThanOrEqualTo(10);
    for (Path f : files) {
      List<Map<String, Object>> docs = loadAll(f);
      assertThat(docs).as(f.toString()).isNotEmpty();
      if (!f.getFileName().toString().startsWith("docker-compose")) {
        for (Map<String, Object> d : docs) {
          assertThat(d).as(f.toString()).containsKeys("apiVersion", "kind");
        }
      }
    }
  }

  @Test
  void everyKustomizeReferenceExistsAndEveryPatchHasATarget() throws IOException {
    for (Path overlay : OVERLAYS) {
      Build build = build(overlay);   // fails on a missing file, an unknown patch target
      assertThat(kinds(build)).as(overlay.toString()).contains("Deployment", "KafkaTopic", "ScaledObject");
      // An image override must name an image some container uses.
      Set<String> used = new java.util.HashSet<>();
      for (Map<String, Object> c : containers(build)) {
        used.add(string(c, "image"));
      }
      assertThat(used).as("images of %s", overlay).containsAll(build.images().keySet());
    }
  }

  @Test
  void everyConfigurationKeyIsKnownAndEveryValueValidates() throws IOException {
    for (Path overlay : OVERLAYS) {
      Build build = build(overlay);
      assertThat(build.configMaps()).as("configuration of %s", overlay).isNotEmpty();
      build.configMaps().values().forEach(p -> p.stringPropertyNames().forEach(k -> assertKnown(k, overlay + " properties")));
      for (Map<String, Object> deployment : ofKind(build, "Deployment")) {
        for (Map<String, Object> container : containersOf(deployment)) {
          Map<String, Object> effective = effectiveConfig(build, container);
          // Validates types and ranges exactly as the application does at start-up.
          NlpstreamConfig config = NlpstreamConfig.of(effective);
          assertThat(config).isNotNull();
        }
      }
    }
  }

  @Test
  void composeSetsOnlyKnownKeys() throws IOException {
    Map<String, Object> compose = loadAll(DEPLOY.resolve("docker-compose.yml")).get(0);
    Map<String, Object> services = map(compose, "services");
    int stages = 0;
    for (Map.Entry<String, Object> e : services.entrySet()) {
      Map<String, Object> service = asMap(e.getValue());
      if (!"nlpstream:latest".equals(service.get("image"))) {
        continue;
      }
      stages++;
      Map<String, String> env = new HashMap<>();
      asMap(service.get("environment")).forEach((k, v) -> env.put(k, String.valueOf(v)));
      NlpstreamConfig config = NlpstreamConfig.of(toKeys(env, "compose service " + e.getKey()));
      // Health check on /ready and the port the service listens on; published ports need a non-loopback bind.
      String test = String.join(" ", list(map(service, "healthcheck"), "test").stream().map(String::valueOf).toList());
      assertThat(test).contains(OpsHttpServer.READY_PATH).contains("/" + config.getInt(NlpstreamConfig.METRICS_PORT));
      assertThat(isLoopback(config.getString(NlpstreamConfig.METRICS_BIND_ADDRESS))).as(e.getKey()).isFalse();
      List<Object> command = list(service, "command");
      assertThat(command).as(e.getKey()).startsWith("run", "--stage");
      assertThat(command.get(2)).as("compose service %s runs its own stage", e.getKey()).isEqualTo(e.getKey());
    }
    assertThat(stages).as("the BERT and the GPT stage").isEqualTo(2);
  }

  @Test
  void probesHitTheEndpointsPathsAndPort() throws IOException {
    for (Path overlay : OVERLAYS) {
      Build build = build(overlay);
      for (Map<String, Object> deployment : ofKind(build, "Deployment")) {
        Map<String, Object> template = map(map(deployment, "spec"), "template");
        for (Map<String, Object> c : containersOf(deployment)) {
          NlpstreamConfig config = NlpstreamConfig.of(effectiveConfig(build, c));
          int metricsPort = config.getInt(NlpstreamConfig.METRICS_PORT);
          assertThat(metricsPort).as("a fixed port for the probes").isPositive();
          assertThat(isLoopback(config.getString(NlpstreamConfig.METRICS_BIND_ADDRESS)))
              .as("probes reach the pod IP: metrics.bind.address must not be loopback").isFalse();
          Map<String, Integer> ports = new HashMap<>();
          for (Map<String, Object> p : listOfMaps(c, "ports")) {
            ports.put(string(p, "name"), ((Number) p.get("containerPort")).intValue());
          }
          Map<String, String> expectedPath = Map.of("livenessProbe", OpsHttpServer.HEALTH_PATH,
              "startupProbe", OpsHttpServer.HEALTH_PATH, "readinessProbe", OpsHttpServer.READY_PATH);
          for (Map.Entry<String, String> probe : expectedPath.entrySet()) {
            Map<String, Object> httpGet = map(map(c, probe.getKey()), "httpGet");
            assertThat(ENDPOINT_PATHS).contains(string(httpGet, "path"));
            assertThat(string(httpGet, "path")).as(probe.getKey()).isEqualTo(probe.getValue());
            Object port = httpGet.get("port");
            int number = port instanceof Number n ? n.intValue() : ports.getOrDefault(String.valueOf(port), -1);
            assertThat(number).as("%s port of %s", probe.getKey(), name(deployment)).isEqualTo(metricsPort);
          }
          Map<String, Object> annotations = map(map(template, "metadata"), "annotations");
          assertThat(annotations).containsEntry("prometheus.io/port", String.valueOf(metricsPort))
              .containsEntry("prometheus.io/path", OpsHttpServer.METRICS_PATH);
        }
      }
    }
  }

  @Test
  void oneDeploymentPerStageEachRunningItsStage() throws IOException {
    for (Path overlay : OVERLAYS) {
      Build build = build(overlay);
      List<String> stages = new ArrayList<>();
      for (Map<String, Object> deployment : ofKind(build, "Deployment")) {
        List<Map<String, Object>> containers = containersOf(deployment);
        assertThat(containers).as(name(deployment)).hasSize(1);
        List<Object> args = list(containers.get(0), "args");
        assertThat(args).as(name(deployment)).startsWith("run", "--stage");
        String stage = stageOf(containers.get(0));
        assertThat(name(deployment)).as("the Deployment of stage %s", stage).isEqualTo("nlpstream-" + stage);
        stages.add(stage);
      }
      assertThat(stages).as(overlay.toString()).containsExactlyInAnyOrder("bert", "gpt");
    }
  }

  @Test
  void kedaScalesEachStageOnItsInputAtMostToItsPartitions() throws IOException {
    for (Path overlay : OVERLAYS) {
      Build build = build(overlay);
      Map<String, Integer> partitions = new HashMap<>();
      for (Map<String, Object> t : ofKind(build, "KafkaTopic")) {
        String topic = map(t, "spec").containsKey("topicName") ? string(map(t, "spec"), "topicName") : name(t);
        partitions.put(topic, ((Number) map(t, "spec").get("partitions")).intValue());
      }
      List<Map<String, Object>> scaled = ofKind(build, "ScaledObject");
      assertThat(scaled).hasSize(ofKind(build, "Deployment").size());
      for (Map<String, Object> so : scaled) {
        Map<String, Object> spec = map(so, "spec");
        Map<String, Object> deployment = byName(build, "Deployment", string(map(spec, "scaleTargetRef"), "name"));
        Map<String, Object> container = containersOf(deployment).get(0);
        NlpstreamConfig config = NlpstreamConfig.of(effectiveConfig(build, container));
        String stage = stageOf(container);
        int max = ((Number) spec.get("maxReplicaCount")).intValue();
        int min = ((Number) spec.get("minReplicaCount")).intValue();
        assertThat(min).isBetween(1, max);
        for (Map<String, Object> trigger : listOfMaps(spec, "triggers")) {
          assertThat(trigger.get("type")).isEqualTo("kafka");
          Map<String, Object> md = map(trigger, "metadata");
          String topic = string(md, "topic");
          assertThat(partitions).as("KafkaTopic of the trigger's topic").containsKey(topic);
          assertThat(max).as("%s: maxReplicaCount <= partitions of %s", name(so), topic).isLessThanOrEqualTo(partitions.get(topic));
          assertThat(string(md, "bootstrapServers")).isEqualTo(config.getString(NlpstreamConfig.BOOTSTRAP_SERVERS));
          switch (stage) {
            case "bert" -> {
              assertThat(topic).isEqualTo(config.getString(NlpstreamConfig.TOPIC_INPUT));
              assertThat(string(md, "consumerGroup")).isEqualTo(config.getString(NlpstreamConfig.APPLICATION_ID));
            }
            case "gpt" -> {
              assertThat(topic).isEqualTo(config.getString(NlpstreamConfig.TOPIC_GPT_REQUESTS));
              // The GPT stage's own Kafka Streams application, not the BERT stage's group.
              assertThat(string(md, "consumerGroup")).isEqualTo(config.getString(NlpstreamConfig.GPT_APPLICATION_ID));
            }
            default -> throw new AssertionError("unknown stage " + stage + " in " + name(deployment));
          }
        }
      }
    }
  }

  @Test
  void theConfiguredTopicsExistAsStrimziResources() throws IOException {
    for (Path overlay : OVERLAYS) {
      Build build = build(overlay);
      Set<String> topics = new java.util.HashSet<>();
      ofKind(build, "KafkaTopic").forEach(t -> topics.add(name(t)));
      for (Map<String, Object> c : containers(build)) {
        NlpstreamConfig config = NlpstreamConfig.of(effectiveConfig(build, c));
        assertThat(topics).contains(config.getString(NlpstreamConfig.TOPIC_INPUT),
            config.getString(NlpstreamConfig.TOPIC_ENRICHED), config.getString(NlpstreamConfig.TOPIC_DLQ),
            config.getString(NlpstreamConfig.TOPIC_GPT_REQUESTS), config.getString(NlpstreamConfig.TOPIC_SUMMARIES),
            config.getString(NlpstreamConfig.TOPIC_REPLIES));
      }
    }
  }

  @Test
  void theGpuOverlayAsksForAGpuAndCudaAndTheCpuOverlayForNeither() throws IOException {
    for (Path overlay : OVERLAYS) {
      boolean gpu = overlay.endsWith("gpu");
      Build build = build(overlay);
      for (Map<String, Object> c : containers(build)) {
        NlpstreamConfig config = NlpstreamConfig.of(effectiveConfig(build, c));
        Map<String, Object> limits = map(map(c, "resources"), "limits");
        assertThat(config.getString(NlpstreamConfig.INFERENCE_PROVIDER)).isEqualTo(gpu ? "cuda" : "cpu");
        assertThat(limits.containsKey("nvidia.com/gpu")).as(overlay + " " + c.get("name")).isEqualTo(gpu);
        if (gpu) {
          assertThat(String.valueOf(limits.get("nvidia.com/gpu"))).isEqualTo("1");
          assertThat(config.getInt(NlpstreamConfig.BATCH_MAX_QUEUED_TOKENS))
              .isGreaterThanOrEqualTo(config.getInt(NlpstreamConfig.BATCH_MAX_TOKENS));
        } else {
          // Without a CPU limit the JVM sees every core of the node: the intra-op threads are pinned to the request.
          String cpu = String.valueOf(map(map(c, "resources"), "requests").get("cpu"));
          assertThat(config.getInt(NlpstreamConfig.INFERENCE_INTRA_OP_THREADS)).isEqualTo(Integer.parseInt(cpu));
        }
      }
    }
  }

  @Test
  void theImageExposesTheDefaultMetricsPort() throws IOException {
    String dockerfile = Files.readString(DEPLOY.resolve("Dockerfile"), StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("(?m)^EXPOSE\\s+(\\d+)").matcher(dockerfile);
    assertThat(m.find()).isTrue();
    assertThat(Integer.parseInt(m.group(1)))
        .isEqualTo(NlpstreamConfig.of(Map.of()).getInt(NlpstreamConfig.METRICS_PORT));
    assertThat(dockerfile).contains("USER 10001").contains("MaxRAMPercentage");
  }

  // --- configuration ---------------------------------------------------------------------------

  /** Properties of the ConfigMap mounted into the container, then its NLPSTREAM_* variables with literal values. */
  private static Map<String, Object> effectiveConfig(Build build, Map<String, Object> container) {
    Map<String, Object> config = new LinkedHashMap<>();
    build.configMaps().values().forEach(p -> p.stringPropertyNames().forEach(k -> config.put(k, p.getProperty(k))));
    Map<String, String> env = new LinkedHashMap<>();
    for (Map<String, Object> e : listOfMaps(container, "env")) {
      String name = string(e, "name");
      if (e.containsKey("value")) {
        env.put(name, String.valueOf(e.get("value")));
      } else {
        // From a Secret: the value is not here, the name still has to map to a known key.
        toKeys(Map.of(name, "x"), "variable " + name);
      }
    }
    config.putAll(toKeys(env, "container " + container.get("name")));
    return config;
  }

  private static Map<String, String> toKeys(Map<String, String> env, String where) {
    for (String name : env.keySet()) {
      assertThat(name).as(where).startsWith(NlpstreamConfig.ENV_PREFIX);
    }
    Map<String, String> keys = NlpstreamConfig.fromEnvironment(env);
    keys.keySet().forEach(k -> assertKnown(k, where));
    return keys;
  }

  private static void assertKnown(String key, String where) {
    assertThat(NlpstreamConfig.CONFIG.names().contains(key) || key.startsWith(NlpstreamConfig.KAFKA_PREFIX))
        .as("%s sets '%s', which is not a configuration key", where, key).isTrue();
  }

  private static boolean isLoopback(String address) {
    try {
      return InetAddress.getByName(address).isLoopbackAddress();
    } catch (IOException e) {
      return false;
    }
  }

  private static String stageOf(Map<String, Object> container) {
    List<Object> args = list(container, "args");
    int i = args.indexOf("--stage");
    assertThat(i).as("run --stage in %s", args).isNotNegative();
    return String.valueOf(args.get(i + 1));
  }

  // --- a minimal kustomize ---------------------------------------------------------------------

  private static Build build(Path dir) throws IOException {
    Path file = dir.resolve("kustomization.yaml");
    assertThat(file).as("kustomization in " + dir).isRegularFile();
    Map<String, Object> k = loadAll(file).get(0);
    assertThat(k.get("kind")).isEqualTo("Kustomization");
    List<Map<String, Object>> resources = new ArrayList<>();
    Map<String, Properties> configMaps = new LinkedHashMap<>();
    Map<String, String> images = new LinkedHashMap<>();
    for (Object r : list(k, "resources")) {
      Path p = dir.resolve(String.valueOf(r)).normalize();
      assertThat(Files.exists(p)).as("%s references %s", file, p).isTrue();
      if (Files.isDirectory(p)) {
        Build base = build(p);
        resources.addAll(base.resources());
        configMaps.putAll(base.configMaps());
        images.putAll(base.images());
      } else {
        resources.addAll(loadAll(p));
      }
    }
    for (Map<String, Object> gen : listOfMaps(k, "configMapGenerator")) {
      Properties props = new Properties();
      for (Object f : list(gen, "files")) {
        String spec = String.valueOf(f);
        Path p = dir.resolve(spec.contains("=") ? spec.substring(spec.indexOf('=') + 1) : spec);
        assertThat(p).as("%s generates from %s", file, p).isRegularFile();
        try (Reader in = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
          props.load(in);
        }
      }
      for (Object l : list(gen, "literals")) {
        String lit = String.valueOf(l);
        props.setProperty(lit.substring(0, lit.indexOf('=')), lit.substring(lit.indexOf('=') + 1));
      }
      configMaps.put(string(gen, "name"), props);
    }
    for (Map<String, Object> img : listOfMaps(k, "images")) {
      images.put(string(img, "name"), img.getOrDefault("newName", img.get("name")) + ":" + img.get("newTag"));
    }
    for (Map<String, Object> patch : listOfMaps(k, "patches")) {
      Path p = dir.resolve(string(patch, "path"));
      assertThat(p).as("%s patches with %s", file, p).isRegularFile();
      for (Map<String, Object> doc : loadAll(p)) {
        Map<String, Object> target = byName(new Build(resources, configMaps, images), string(doc, "kind"), name(doc));
        merge(target, doc);
      }
    }
    Build build = new Build(resources, configMaps, images);
    // Every ConfigMap a Deployment mounts is one that is generated.
    for (Map<String, Object> d : ofKind(build, "Deployment")) {
      for (Map<String, Object> v : listOfMaps(map(map(map(d, "spec"), "template"), "spec"), "volumes")) {
        if (v.containsKey("configMap")) {
          assertThat(configMaps).containsKey(string(map(v, "configMap"), "name"));
        }
      }
    }
    return build;
  }

  /** Strategic merge, simplified: maps merge recursively, lists of maps with a name merge by name, the rest is replaced. */
  @SuppressWarnings("unchecked")
  private static void merge(Map<String, Object> target, Map<String, Object> patch) {
    for (Map.Entry<String, Object> e : patch.entrySet()) {
      Object current = target.get(e.getKey());
      Object update = e.getValue();
      if (current instanceof Map && update instanceof Map) {
        merge((Map<String, Object>) current, (Map<String, Object>) update);
      } else if (current instanceof List<?> cl && update instanceof List<?> ul && isNamedList(cl) && isNamedList(ul)) {
        List<Object> merged = new ArrayList<>(cl);
        for (Object u : ul) {
          Map<String, Object> um = (Map<String, Object>) u;
          Map<String, Object> existing = null;
          for (Object c : merged) {
            if (um.get("name").equals(((Map<String, Object>) c).get("name"))) {
              existing = (Map<String, Object>) c;
            }
          }
          if (existing != null) {
            merge(existing, um);
          } else {
            merged.add(um);
          }
        }
        target.put(e.getKey(), merged);
      } else {
        target.put(e.getKey(), update);
      }
    }
  }

  private static boolean isNamedList(List<?> l) {
    return !l.isEmpty() && l.stream().allMatch(o -> o instanceof Map<?, ?> m && m.containsKey("name"));
  }

  // --- YAML access -----------------------------------------------------------------------------

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> loadAll(Path file) throws IOException {
    Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
    List<Map<String, Object>> docs = new ArrayList<>();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      for (Object o : yaml.loadAll(in)) {
        if (o != null) {
          assertThat(o).as(file.toString()).isInstanceOf(Map.class);
          docs.add((Map<String, Object>) o);
        }
      }
    }
    return docs;
  }

  private static List<String> kinds(Build b) {
    return b.resources().stream().map(r -> string(r, "kind")).toList();
  }

  private static List<Map<String, Object>> ofKind(Build b, String kind) {
    return b.resources().stream().filter(r -> kind.equals(r.get("kind"))).toList();
  }

  private static Map<String, Object> byName(Build b, String kind, String name) {
    return ofKind(b, kind).stream().filter(r -> name.equals(name(r))).findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " named " + name));
  }

  private static List<Map<String, Object>> containers(Build b) {
    List<Map<String, Object>> all = new ArrayList<>();
    ofKind(b, "Deployment").forEach(d -> all.addAll(containersOf(d)));
    return all;
  }

  private static List<Map<String, Object>> containersOf(Map<String, Object> deployment) {
    return listOfMaps(map(map(map(deployment, "spec"), "template"), "spec"), "containers");
  }

  private static String name(Map<String, Object> resource) {
    return string(map(resource, "metadata"), "name");
  }

  private static Map<String, Object> map(Map<String, Object> m, String key) {
    Object v = m.get(key);
    assertThat(v).as("'%s' in %s", key, m.keySet()).isInstanceOf(Map.class);
    return asMap(v);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object o) {
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Map<String, Object> m, String key) {
    Object v = m.get(key);
    return v == null ? List.of() : (List<Object>) v;
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> listOfMaps(Map<String, Object> m, String key) {
    return list(m, key).stream().map(o -> (Map<String, Object>) o).toList();
  }

  private static String string(Map<String, Object> m, String key) {
    Object v = m.get(key);
    assertThat(v).as("'%s' in %s", key, m.keySet()).isNotNull();
    return String.valueOf(v);
  }
}
