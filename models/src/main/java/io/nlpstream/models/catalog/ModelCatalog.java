package io.nlpstream.models.catalog;

import io.nlpstream.models.bert.BertAnalyzer;
import io.nlpstream.models.bert.ClassHead;
import io.nlpstream.models.bert.EncoderPass;
import io.nlpstream.models.bert.EncoderWithHeads;
import io.nlpstream.models.bert.EntityDecoder;
import io.nlpstream.models.bert.FusedMultiHead;
import io.nlpstream.models.bert.HuggingFaceClassifier;
import io.nlpstream.models.bert.Role;
import io.nlpstream.models.bert.SentimentHead;
import io.nlpstream.models.bert.SlidingWindows;
import io.nlpstream.models.bert.TextAnalyzer;
import io.nlpstream.models.gpt.Generator;
import io.nlpstream.models.gpt.GeneratorOptions;
import io.nlpstream.models.runtime.ModelLoadException;
import io.nlpstream.models.runtime.ModelSession;
import io.nlpstream.models.runtime.OrtRuntime;
import io.nlpstream.models.tokenizer.TextTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.io.OutputStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.EnumSet;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model catalogue: model bundles ({@code <id>/model.json} plus files) looked up by id, first in
 * an optional extra directory, then on the classpath under {@value #CLASSPATH_ROOT} (the bundles the
 * repository keeps in {@code models/catalog/}, packaged into the models jar).
 *
 * <p>Opening a model reads every file it references, verifies each file's sha256 against {@code
 * model.json} and validates the graphs' inputs and outputs, so that a wrong, corrupt or missing file
 * fails at start-up with a {@link ModelLoadException} naming it. Nothing is downloaded.
 *
 * <p>Immutable and thread-safe; holds no resources (what {@link #openAnalyzer} returns is the
 * caller's to close).
 */
public final class ModelCatalog {

  /** Classpath folder of the packaged catalogue. */
  public static final String CLASSPATH_ROOT = "nlpstream/catalog/";
  /** Prefix of {@code model.json} file references resolved on the classpath. */
  public static final String CLASSPATH_PREFIX = "classpath:";
  /** Window overlap used when none is given. */
  public static final double DEFAULT_WINDOW_OVERLAP = 0.5;

  private static final Logger LOG = LoggerFactory.getLogger(ModelCatalog.class);
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
  private static final String MANIFEST = "model.json";

  private final Optional<Path> extraDir;
  private final ClassLoader classLoader;

  private ModelCatalog(Optional<Path> extraDir, ClassLoader classLoader) {
    this.extraDir = extraDir;
    this.classLoader = classLoader;
  }

  /**
   * A catalogue over {@code extraDir} (searched first) and the classpath.
   *
   * @throws ModelLoadException if {@code extraDir} is given but is not a directory
   */
  public static ModelCatalog open(Optional<Path> extraDir) {
    Objects.requireNonNull(extraDir, "extraDir");
    extraDir.ifPresent(dir -> {
      if (!Files.isDirectory(dir)) {
        throw new ModelLoadException(dir.toString(), "the model directory does not exist or is not a directory");
      }
    });
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    return new ModelCatalog(extraDir.map(p -> p.toAbsolutePath().normalize()),
        loader != null ? loader : ModelCatalog.class.getClassLoader());
  }

  /** Ids of all bundles found, in the extra directory and on the classpath. */
  public SortedSet<String> ids() {
    SortedSet<String> ids = new TreeSet<>();
    extraDir.ifPresent(dir -> {
      try (Stream<Path> entries = Files.list(dir)) {
        entries.filter(p -> Files.isRegularFile(p.resolve(MANIFEST)))
            .map(p -> p.getFileName().toString())
            .forEach(ids::add);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot list the model directory " + dir, e);
      }
    });
    ids.addAll(classpathIds());
    return ids;
  }

  /**
   * The parsed and validated manifest of {@code id}.
   *
   * @throws ModelLoadException if the id is unknown (the message lists the known ids) or the
   *                            manifest is invalid
   */
  public ModelManifest manifest(String id) {
    Bundle bundle = bundle(id);
    return ModelManifest.parse(bundle.describe(MANIFEST), bundle.read(MANIFEST, "the manifest"));
  }

  /** {@link #openAnalyzer(AnalyzerSpec, OrtRuntime, int, double)}: every role from bundle {@code id}. */
  public TextAnalyzer openBertAnalyzer(String id, OrtRuntime runtime, int maxBatchTokens) {
    return openAnalyzer(AnalyzerSpec.of(id), runtime, maxBatchTokens, DEFAULT_WINDOW_OVERLAP);
  }

  /** {@link #openAnalyzer(AnalyzerSpec, OrtRuntime, int, double)}: every role from bundle {@code id}. */
  public TextAnalyzer openBertAnalyzer(String id, OrtRuntime runtime, int maxBatchTokens, double windowOverlap) {
    return openAnalyzer(AnalyzerSpec.of(id), runtime, maxBatchTokens, windowOverlap);
  }

  /** {@link #openAnalyzer(AnalyzerSpec, OrtRuntime, int, double)} with {@link #DEFAULT_WINDOW_OVERLAP}. */
  public TextAnalyzer openAnalyzer(AnalyzerSpec spec, OrtRuntime runtime, int maxBatchTokens) {
    return openAnalyzer(spec, runtime, maxBatchTokens, DEFAULT_WINDOW_OVERLAP);
  }

  /**
   * Loads the models of {@code spec}, one {@link EncoderPass} per distinct model id, each serving
   * the roles {@code spec} gives it: verifies the sha256 of every file, loads tokenizers and
   * sessions, checks each graph's interface and each model's labels against the role.
   *
   * @param maxBatchTokens padded tokens per network call, per model
   * @param windowOverlap  overlap of consecutive windows over long texts, in [0, 1)
   * @return an analyzer owned by the caller
   * @throws ModelLoadException naming the file (or manifest field) that is wrong; nothing stays open
   */
  public TextAnalyzer openAnalyzer(AnalyzerSpec spec, OrtRuntime runtime, int maxBatchTokens, double windowOverlap) {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(runtime, "runtime");
    Map<String, Set<Role>> rolesByModel = new LinkedHashMap<>();
    if (Arrays.stream(Role.values()).anyMatch(role -> spec.modelFor(role).equals(spec.base()))) {
      rolesByModel.put(spec.base(), EnumSet.noneOf(Role.class)); // the base model's pass runs first
    }
    for (Role role : Role.values()) {
      rolesByModel.computeIfAbsent(spec.modelFor(role), id -> EnumSet.noneOf(Role.class)).add(role);
    }
    List<OpenedPass> opened = new ArrayList<>();
    try {
      for (Map.Entry<String, Set<Role>> e : rolesByModel.entrySet()) {
        opened.add(openPass(e.getKey(), e.getValue(), runtime, maxBatchTokens, windowOverlap));
      }
      Map<String, String> models = new LinkedHashMap<>();
      models.put("encoder", String.join("+", opened.stream().map(OpenedPass::encoderId).toList()));
      for (Role role : Role.values()) {
        for (OpenedPass p : opened) {
          if (p.pass().roles().contains(role)) {
            models.put(role.key(), p.modelId());
          }
        }
      }
      return new BertAnalyzer(opened.stream().map(OpenedPass::pass).toList(), models);
    } catch (RuntimeException e) {
      for (OpenedPass p : opened) {
        try {
          p.pass().close();
        } catch (RuntimeException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  /**
   * Opens the {@value ModelManifest#GPT_DECODER} bundle {@code id} as a {@link Generator} on
   * {@code runtime}. Every file's sha256 is verified first. The decoder runtime reads a directory,
   * so a bundle packaged on the classpath (in the models jar) is first extracted to
   * {@code cacheDir/<id>-<version>-<manifest hash>/}: each file is written to a temporary name while
   * its sha256 is computed and moved into place only when it matches, so a crash mid-extraction or a
   * concurrent process never leaves a wrong file under the final name; files already there are
   * verified again and reused.
   *
   * <p>From the manifest: the generator's model id ({@code <id>@<version>}), its decoder file, and,
   * unless {@code options} sets one, its context cap ({@code context_tokens}). Prompt templates are
   * {@code options}'; {@link ModelManifest#promptTemplates()} says which built-in style the bundle
   * was made for.
   *
   * @return a generator owned by the caller
   * @throws ModelLoadException naming the manifest field or file that is wrong, or a cache directory
   *                            that cannot be written
   */
  public Generator openGenerator(String id, OrtRuntime runtime, GeneratorOptions options, Path cacheDir) {
    Objects.requireNonNull(runtime, "runtime");
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(cacheDir, "cacheDir");
    long started = System.nanoTime();
    Bundle bundle = bundle(id);
    String manifestFile = bundle.describe(MANIFEST);
    byte[] manifestBytes = bundle.read(MANIFEST, "the manifest");
    ModelManifest m = ModelManifest.parse(manifestFile, manifestBytes);
    if (!ModelManifest.GPT_DECODER.equals(m.kind())) {
      throw new ModelLoadException(manifestFile, "a model of kind " + m.kind() + " cannot generate text; the GPT"
          + " stage needs kind " + ModelManifest.GPT_DECODER);
    }
    Path dir;
    if (bundle instanceof DirectoryBundle directory) {
      dir = directory.dir();
      for (ModelManifest.FileRef ref : m.decoderFiles()) {
        verifyFile(bundle, ref);
      }
    } else {
      dir = cacheDir.toAbsolutePath().normalize()
          .resolve(m.id() + "-" + m.version() + "-" + sha256(manifestBytes).substring(0, 16));
      for (ModelManifest.FileRef ref : m.decoderFiles()) {
        extract(bundle, ref, dir);
      }
    }
    GeneratorOptions.Builder b = options.toBuilder().modelId(m.versionedId()).onnxFile(m.model().file());
    if (options.maxContextTokens() == 0 && m.contextTokens() != null) {
      b.maxContextTokens(m.contextTokens());
    }
    Generator generator = Generator.open(dir, runtime, b.build());
    LOG.info("Loaded {} ({}) from {} on ONNX Runtime {} {} with {} intra-op threads in {} ms, context {} tokens",
        m.versionedId(), m.kind(), dir, runtime.version(), runtime.options().provider(), runtime.intraOpThreads(),
        (System.nanoTime() - started) / 1_000_000, generator.contextLength());
    return generator;
  }

  private void verifyFile(Bundle bundle, ModelManifest.FileRef ref) {
    try (InputStream in = bundle.open(ref.file(), "the file " + ref.file())) {
      String actual = sha256(in, OutputStream.nullOutputStream());
      checkSha(bundle, ref, actual);
    } catch (IOException e) {
      throw new ModelLoadException(bundle.describe(ref.file()), "cannot read: " + e.getMessage(), e);
    }
  }

  private void extract(Bundle bundle, ModelManifest.FileRef ref, Path dir) {
    Path target = dir.resolve(ref.file()).normalize();
    if (!target.startsWith(dir)) {
      throw new ModelLoadException(bundle.describe(MANIFEST), "file " + ref.file() + " must stay inside the bundle");
    }
    try {
      if (Files.isRegularFile(target)) {
        try (InputStream in = Files.newInputStream(target)) {
          if (sha256(in, OutputStream.nullOutputStream()).equals(ref.sha256())) {
            return;
          }
        }
        LOG.warn("{}: cached copy does not match its sha256; extracting it again", target);
      }
      Files.createDirectories(target.getParent());
      Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".part");
      try {
        String actual;
        try (InputStream in = bundle.open(ref.file(), "the file " + ref.file());
             OutputStream out = Files.newOutputStream(tmp)) {
          actual = sha256(in, out);
        }
        checkSha(bundle, ref, actual);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new ModelLoadException(target.toString(), "cannot extract " + bundle.describe(ref.file())
          + " to the model cache: " + e, e);
    }
  }

  private static void checkSha(Bundle bundle, ModelManifest.FileRef ref, String actual) {
    if (!actual.equals(ref.sha256())) {
      throw new ModelLoadException(bundle.describe(ref.file()), "sha256 mismatch: " + bundle.describe(MANIFEST)
          + " expects " + ref.sha256() + " but the file has " + actual);
    }
  }

  /** Copies {@code in} to {@code out} and returns the sha256 (hex) of what passed. */
  private static String sha256(InputStream in, OutputStream out) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM lacks SHA-256", e);
    }
    try (DigestInputStream d = new DigestInputStream(in, digest)) {
      d.transferTo(out);
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  /** A loaded pass and what {@link TextAnalyzer#models()} reports for it. */
  private record OpenedPass(EncoderPass pass, String encoderId, String modelId) {}

  private OpenedPass openPass(String id, Set<Role> roles, OrtRuntime runtime, int maxBatchTokens,
                              double windowOverlap) {
    long started = System.nanoTime();
    Bundle bundle = bundle(id);
    String manifestFile = bundle.describe(MANIFEST);
    ModelManifest m = ModelManifest.parse(manifestFile, bundle.read(MANIFEST, "the manifest"));
    if (!m.servableRoles().containsAll(roles)) {
      throw new ModelLoadException(manifestFile, "a model of kind " + m.kind() + " serves " + roleKeys(m.servableRoles())
          + ", it was configured for " + roleKeys(roles));
    }
    OpenedPass pass = switch (m.kind()) {
      case ModelManifest.BERT_MULTIHEAD -> m.fused()
          ? openFused(bundle, m, roles, runtime, maxBatchTokens, windowOverlap)
          : openEncoderWithHeads(bundle, m, roles, runtime, maxBatchTokens, windowOverlap);
      default -> openHuggingFace(bundle, m, roles, runtime, maxBatchTokens, windowOverlap);
    };
    LOG.info("Loaded {} ({}) for {} on ONNX Runtime {} {} with {} intra-op threads in {} ms, window {} tokens",
        m.versionedId(), m.kind() + (m.fused() ? ", fused" : ""), roleKeys(roles), runtime.version(),
        runtime.options().provider(), runtime.intraOpThreads(), (System.nanoTime() - started) / 1_000_000,
        pass.pass().windows().maxTokens());
    return pass;
  }

  private static List<String> roleKeys(Set<Role> roles) {
    return roles.stream().map(Role::key).toList();
  }

  /** The heads of a multi-head bundle for {@code roles}; all three are built so that the labels are checked. */
  private static EncoderPass.Heads multiheadHeads(ModelManifest m, String manifestFile, Set<Role> roles) {
    try {
      SentimentHead sentiment = new SentimentHead(m.labels().sentiment());
      ClassHead classes = new ClassHead(m.labels().classes());
      EntityDecoder entities = new EntityDecoder(m.labels().entities());
      return new EncoderPass.Heads(roles.contains(Role.SENTIMENT) ? sentiment : null,
          roles.contains(Role.CLASSES) ? classes : null, roles.contains(Role.ENTITIES) ? entities : null);
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException(manifestFile, "field labels: " + e.getMessage(), e);
    }
  }

  private OpenedPass openEncoderWithHeads(Bundle bundle, ModelManifest m, Set<Role> roles, OrtRuntime runtime,
                                          int maxBatchTokens, double windowOverlap) {
    ModelManifest.Encoder enc = m.encoder();
    EncoderPass.Heads heads = multiheadHeads(m, bundle.describe(MANIFEST), roles);
    // Small files first: a wrong bundle fails before the encoder's ~90 MB are read and hashed.
    Resolved tokenizerFile = resolve(bundle, enc.tokenizer(), enc.tokenizerSha256(), "encoder.tokenizer");
    Resolved headsFile = resolve(bundle, m.heads().file(), m.heads().sha256(), "heads.file");
    Resolved encoderFile = resolve(bundle, enc.file(), enc.sha256(), "encoder.file");
    Deque<AutoCloseable> opened = new ArrayDeque<>();
    try {
      TextTokenizer tokenizer = TextTokenizer.fromJson(tokenizerFile.name(), tokenizerFile.bytes());
      opened.push(tokenizer);
      ModelSession encoder = ModelSession.open(runtime, enc.id(), encoderFile.name(), encoderFile.bytes(),
          EncoderWithHeads.ENCODER_INPUTS, EncoderWithHeads.ENCODER_OUTPUTS);
      opened.push(encoder);
      ModelSession headsSession = ModelSession.open(runtime, m.versionedId(), headsFile.name(), headsFile.bytes(),
          EncoderWithHeads.HEADS_INPUTS, EncoderWithHeads.HEADS_OUTPUTS);
      opened.push(headsSession);
      EncoderWithHeads network = new EncoderWithHeads(encoder, headsSession, enc.hiddenSize(),
          m.labels().sentiment().size(), m.labels().classes().size(), m.labels().entities().size());
      EncoderPass pass = new EncoderPass(tokenizer, network, heads,
          SlidingWindows.withOverlap(enc.maxTokens(), windowOverlap), maxBatchTokens);
      return new OpenedPass(pass, enc.id(), m.versionedId());
    } catch (RuntimeException e) {
      throw closeAll(opened, e);
    }
  }

  private OpenedPass openFused(Bundle bundle, ModelManifest m, Set<Role> roles, OrtRuntime runtime,
                               int maxBatchTokens, double windowOverlap) {
    EncoderPass.Heads heads = multiheadHeads(m, bundle.describe(MANIFEST), roles);
    Resolved tokenizerFile = resolve(bundle, m.tokenizer().file(), m.tokenizer().sha256(), "tokenizer.file");
    Resolved modelFile = resolve(bundle, m.model().file(), m.model().sha256(), "model.file");
    Deque<AutoCloseable> opened = new ArrayDeque<>();
    try {
      TextTokenizer tokenizer = TextTokenizer.fromJson(tokenizerFile.name(), tokenizerFile.bytes());
      opened.push(tokenizer);
      ModelSession session = ModelSession.open(runtime, m.versionedId(), modelFile.name(), modelFile.bytes(),
          FusedMultiHead.REQUIRED_INPUTS, FusedMultiHead.OPTIONAL_INPUTS, FusedMultiHead.OUTPUTS);
      opened.push(session);
      FusedMultiHead network = new FusedMultiHead(session, m.labels().sentiment().size(),
          m.labels().classes().size(), m.labels().entities().size());
      EncoderPass pass = new EncoderPass(tokenizer, network, heads,
          SlidingWindows.withOverlap(m.maxTokens(), windowOverlap), maxBatchTokens);
      return new OpenedPass(pass, m.versionedId(), m.versionedId());
    } catch (RuntimeException e) {
      throw closeAll(opened, e);
    }
  }

  private OpenedPass openHuggingFace(Bundle bundle, ModelManifest m, Set<Role> roles, OrtRuntime runtime,
                                     int maxBatchTokens, double windowOverlap) {
    String manifestFile = bundle.describe(MANIFEST);
    if (roles.size() != 1) {
      throw new ModelLoadException(manifestFile, "a model of kind " + m.kind() + " serves one role, it was"
          + " configured for " + roleKeys(roles));
    }
    Role role = roles.iterator().next();
    Resolved configFile = resolve(bundle, m.config().file(), m.config().sha256(), "config.file");
    HuggingFaceConfig config = HuggingFaceConfig.parse(configFile.name(), configFile.bytes());
    int maxTokens = config.maxTokens();
    if (m.maxTokens() != null) {
      if (m.maxTokens() > maxTokens) {
        throw new ModelLoadException(manifestFile, "field max_tokens is " + m.maxTokens() + " but "
            + configFile.name() + " allows at most " + maxTokens + " (max_position_embeddings "
            + config.maxPositionEmbeddings() + ")");
      }
      maxTokens = m.maxTokens();
    }
    HuggingFaceLabels.Mapping labels = role == Role.ENTITIES
        ? HuggingFaceLabels.entities(config, m.entityTypes(), manifestFile)
        : HuggingFaceLabels.sentence(role, config, m.labelMap(), manifestFile);
    if (!labels.ignoredTypes().isEmpty()) {
      LOG.info("{}: entity types {} are not in the analysis contract {} and are decoded as outside (O);"
          + " map them in {} entity_types to keep them", configFile.name(), new TreeSet<>(labels.ignoredTypes()),
          EntityDecoder.TYPES, manifestFile);
    }
    List<String> targets = labels.projection().targets();
    EncoderPass.Heads heads;
    try {
      heads = switch (role) {
        case SENTIMENT -> new EncoderPass.Heads(new SentimentHead(targets), null, null);
        case CLASSES -> new EncoderPass.Heads(null, new ClassHead(targets), null);
        case ENTITIES -> new EncoderPass.Heads(null, null, new EntityDecoder(targets));
      };
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException(configFile.name(), "id2label " + config.labels() + ": " + e.getMessage(), e);
    }
    Resolved tokenizerFile = resolve(bundle, m.tokenizer().file(), m.tokenizer().sha256(), "tokenizer.file");
    Resolved modelFile = resolve(bundle, m.model().file(), m.model().sha256(), "model.file");
    Deque<AutoCloseable> opened = new ArrayDeque<>();
    try {
      TextTokenizer tokenizer = TextTokenizer.fromJson(tokenizerFile.name(), tokenizerFile.bytes());
      opened.push(tokenizer);
      ModelSession session = ModelSession.open(runtime, m.versionedId(), modelFile.name(), modelFile.bytes(),
          HuggingFaceClassifier.REQUIRED_INPUTS, HuggingFaceClassifier.OPTIONAL_INPUTS, HuggingFaceClassifier.OUTPUTS);
      opened.push(session);
      HuggingFaceClassifier network = new HuggingFaceClassifier(session, role, labels.projection(), configFile.name());
      EncoderPass pass = new EncoderPass(tokenizer, network, heads,
          SlidingWindows.withOverlap(maxTokens, windowOverlap), maxBatchTokens);
      return new OpenedPass(pass, m.versionedId(), m.versionedId());
    } catch (RuntimeException e) {
      throw closeAll(opened, e);
    }
  }

  /** Closes what was opened, newest first, and returns {@code e} with any close failure suppressed. */
  private static RuntimeException closeAll(Deque<AutoCloseable> opened, RuntimeException e) {
    while (!opened.isEmpty()) {
      try {
        opened.pop().close();
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
    }
    return e;
  }

  /** A file's bytes, verified, and the name to report it by. */
  private record Resolved(String name, byte[] bytes) {}

  private Resolved resolve(Bundle bundle, String ref, String expectedSha256, String field) {
    String name;
    byte[] bytes;
    if (ref.startsWith(CLASSPATH_PREFIX)) {
      String resource = ref.substring(CLASSPATH_PREFIX.length());
      name = ref;
      bytes = readClasspath(resource, name, field, bundle);
    } else {
      name = bundle.describe(ref);
      bytes = bundle.read(ref, "the file of field " + field);
    }
    String actual = sha256(bytes);
    if (!actual.equals(expectedSha256)) {
      throw new ModelLoadException(name, "sha256 mismatch: " + bundle.describe(MANIFEST) + " (field "
          + field + ") expects " + expectedSha256 + " but the file has " + actual);
    }
    return new Resolved(name, bytes);
  }

  private byte[] readClasspath(String resource, String name, String field, Bundle bundle) {
    try (InputStream in = classLoader.getResourceAsStream(resource)) {
      if (in == null) {
        throw new ModelLoadException(name, "file of field " + field + " in " + bundle.describe(MANIFEST)
            + " is not on the classpath (is its weight-carrier jar a dependency?)");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new ModelLoadException(name, "cannot read: " + e.getMessage(), e);
    }
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM lacks SHA-256", e);
    }
  }

  private Bundle bundle(String id) {
    Objects.requireNonNull(id, "id");
    if (!ID.matcher(id).matches()) {
      throw new ModelLoadException(id, "not a valid model id (letters, digits, '.', '_', '-')");
    }
    if (extraDir.isPresent() && Files.isRegularFile(extraDir.get().resolve(id).resolve(MANIFEST))) {
      return new DirectoryBundle(extraDir.get().resolve(id));
    }
    if (classLoader.getResource(CLASSPATH_ROOT + id + "/" + MANIFEST) != null) {
      return new ClasspathBundle(id);
    }
    throw new ModelLoadException(id, "unknown model id; known ids: " + ids()
        + extraDir.map(d -> " (searched " + d + " and the classpath " + CLASSPATH_ROOT + ")")
            .orElse(" (searched the classpath " + CLASSPATH_ROOT + "; no model directory configured)"));
  }

  /** Where one bundle's files live. */
  private interface Bundle {
    /** How to name {@code relative} in messages. */
    String describe(String relative);

    /** Reads {@code relative}; {@code what} says in messages why it is needed. */
    default byte[] read(String relative, String what) {
      try (InputStream in = open(relative, what)) {
        return in.readAllBytes();
      } catch (IOException e) {
        throw new ModelLoadException(describe(relative), "cannot read " + what + ": " + e.getMessage(), e);
      }
    }

    /** Opens {@code relative} for reading; the caller closes the stream. */
    InputStream open(String relative, String what);
  }

  private record DirectoryBundle(Path dir) implements Bundle {
    @Override
    public String describe(String relative) {
      return dir.resolve(relative).toString();
    }

    @Override
    public InputStream open(String relative, String what) {
      Path file = dir.resolve(relative).normalize();
      if (Paths.get(relative).isAbsolute() || !file.startsWith(dir)) {
        throw new ModelLoadException(describe(MANIFEST), what + " (" + relative
            + ") must be a relative path inside the bundle directory");
      }
      try {
        return Files.newInputStream(file);
      } catch (NoSuchFileException e) {
        throw new ModelLoadException(file.toString(), what + " does not exist", e);
      } catch (IOException e) {
        throw new ModelLoadException(file.toString(), "cannot read " + what + ": " + e.getMessage(), e);
      }
    }
  }

  private final class ClasspathBundle implements Bundle {
    private final String root;

    ClasspathBundle(String id) {
      this.root = CLASSPATH_ROOT + id + "/";
    }

    @Override
    public String describe(String relative) {
      return CLASSPATH_PREFIX + root + relative;
    }

    @Override
    public InputStream open(String relative, String what) {
      Path normalized = Paths.get(relative).normalize();
      if (normalized.isAbsolute() || normalized.startsWith("..")) {
        throw new ModelLoadException(describe(MANIFEST), what + " (" + relative
            + ") must be a relative path inside the bundle");
      }
      InputStream in = classLoader.getResourceAsStream(root + normalized.toString().replace('\\', '/'));
      if (in == null) {
        throw new ModelLoadException(describe(relative), what + " does not exist");
      }
      return in;
    }
  }

  /** Bundle ids on the classpath: scans directories and jars holding {@value #CLASSPATH_ROOT}. */
  private SortedSet<String> classpathIds() {
    SortedSet<String> ids = new TreeSet<>();
    String root = CLASSPATH_ROOT.substring(0, CLASSPATH_ROOT.length() - 1);
    try {
      Enumeration<URL> roots = classLoader.getResources(root);
      while (roots.hasMoreElements()) {
        URL url = roots.nextElement();
        if (url.getProtocol().equals("file")) {
          try (Stream<Path> entries = Files.list(Paths.get(url.toURI()))) {
            entries.filter(p -> Files.isRegularFile(p.resolve(MANIFEST)))
                .map(p -> p.getFileName().toString())
                .forEach(ids::add);
          }
        } else if (url.getProtocol().equals("jar")) {
          JarURLConnection connection = (JarURLConnection) url.openConnection();
          connection.setUseCaches(false);
          try (JarFile jar = connection.getJarFile()) {
            for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
              String name = e.nextElement().getName();
              if (name.startsWith(CLASSPATH_ROOT) && name.endsWith("/" + MANIFEST)) {
                String rest = name.substring(CLASSPATH_ROOT.length(), name.length() - MANIFEST.length() - 1);
                if (!rest.contains("/")) {
                  ids.add(rest);
                }
              }
            }
          }
        }
      }
    } catch (IOException | URISyntaxException e) {
      throw new IllegalStateException("cannot list the classpath catalogue " + CLASSPATH_ROOT, e);
    }
    return ids;
  }
}
