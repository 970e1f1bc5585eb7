package io.nlpstream.models.gpt;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The tiny decoder fixtures under {@code src/test/resources/gpt} (built by
 * {@code models/training/gpt/export_fixtures.py}) and what the tests need to run them.
 */
final class GptFixtures {

  static final String GPT2 = "tiny-gpt2";
  static final String LLAMA = "tiny-llama";
  static final ObjectMapper JSON = new ObjectMapper();

  private static OrtSession.SessionOptions sessionOptions;

  private GptFixtures() {}

  static Stream<String> models() {
    return Stream.of(GPT2, LLAMA);
  }

  static Path dir(String name) {
    URL url = GptFixtures.class.getResource("/gpt/" + name);
    if (url == null) {
      throw new IllegalStateException("fixture gpt/" + name + " is not on the test classpath");
    }
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static OrtEnvironment env() {
    return OrtEnvironment.getEnvironment();
  }

  /** One intra-op thread: the machine's cores are shared, and the fixtures are tiny. */
  static synchronized OrtSession.SessionOptions sessionOptions() {
    if (sessionOptions == null) {
      try {
        sessionOptions = new OrtSession.SessionOptions();
        sessionOptions.setIntraOpNumThreads(1);
      } catch (OrtException e) {
        throw new IllegalStateException(e);
      }
    }
    return sessionOptions;
  }

  /** Templates that put the input in the prompt as it is (no markers, no stop strings). */
  static PromptTemplates rawTemplates() {
    return new PromptTemplates(Map.of(
        GenerationKind.SUMMARY, new PromptTemplate(PromptTemplate.INPUT, List.of(), PromptTemplate.Keep.START, List.of()),
        GenerationKind.REPLY, new PromptTemplate(PromptTemplate.INPUT, List.of(), PromptTemplate.Keep.END, List.of())));
  }

  static GeneratorOptions.Builder rawOptions() {
    return GeneratorOptions.builder().templates(rawTemplates());
  }

  static Generator open(String model, GeneratorOptions options) {
    return Generator.open(dir(model), env(), sessionOptions(), options);
  }

  static Generator open(Path dir, GeneratorOptions options) {
    return Generator.open(dir, env(), sessionOptions(), options);
  }

  static JsonNode reference(String model) {
    try {
      return JSON.readTree(dir(model).resolve("reference.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static GenerationRequest request(String id, String text, DecodingParams params) {
    return new GenerationRequest(id, GenerationKind.SUMMARY, text, params);
  }

  static Generation await(CompletableFuture<Generation> f) {
    try {
      return f.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("generation did not complete", e);
    }
  }

  static List<Generation> awaitAll(List<CompletableFuture<Generation>> futures) {
    List<Generation> out = new ArrayList<>();
    for (CompletableFuture<Generation> f : futures) {
      out.add(await(f));
    }
    return out;
  }

  /** Copies a fixture into {@code target} so that a test can break it. */
  static Path copy(String model, Path target) {
    try {
      Files.createDirectories(target);
      try (Stream<Path> files = Files.list(dir(model))) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Files.copy(f, target.resolve(f.getFileName()));
        }
      }
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Prompts of varied lengths (ASCII, so byte-level cuts never split a character). */
  static final List<String> PROMPTS = List.of(
      "Hello, how are you today?",
      "The stream processor reads events from the input topic and writes enriched records.",
      "Sure.",
      "Please send the numbers before the meeting on Monday, and do not forget the report about the new release.",
      "A summary should be short.",
      "Thanks for the update!",
      "We keep the end of a conversation and the start of an article when the input is too long.",
      "Can we meet tomorrow at ten?");
}
