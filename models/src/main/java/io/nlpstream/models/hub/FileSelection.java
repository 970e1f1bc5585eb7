package io.nlpstream.models.hub;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which files of a repository a pull takes.
 *
 * <p>By default: the {@link #SUPPORT_FILES} the repository has at its root, and one ONNX graph,
 * the first that exists of {@code onnx/decoder_model_merged<suffix>.onnx}, {@code
 * onnx/model<suffix>.onnx}, {@code decoder_model_merged<suffix>.onnx}, {@code model<suffix>.onnx}
 * (Optimum's merged decoder with past first, then the single-graph exports of Optimum and of the
 * {@code onnx-community} repositories), with its external data ({@code <graph>_data*}, {@code
 * <graph>.data}). The suffix comes from the variant ({@link #VARIANT_SUFFIXES}, the names
 * transformers.js uses: {@code q4} selects {@code model_q4.onnx}); an unknown variant {@code v}
 * means the suffix {@code _v}.
 *
 * <p>With include globs, exactly the files matching one of them (glob syntax of {@link
 * java.nio.file.FileSystem#getPathMatcher}: {@code *} stays within a directory, {@code **}
 * crosses them), and the graph is chosen among the included {@code .onnx} files by the same rule,
 * or is the only included one.
 */
final class FileSelection {

  /** Files taken from the repository root when present; config.json and tokenizer.json are required later. */
  static final List<String> SUPPORT_FILES = List.of("config.json", "generation_config.json", "tokenizer.json",
      "tokenizer_config.json", "special_tokens_map.json");
  /** File name suffix of each ONNX variant (transformers.js dtype names); fp32 is the plain name. */
  static final Map<String, String> VARIANT_SUFFIXES = variants();
  private static final List<String> GRAPH_STEMS = List.of("onnx/decoder_model_merged", "onnx/model",
      "decoder_model_merged", "model");

  private FileSelection() {}

  private static Map<String, String> variants() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("fp32", "");
    m.put("fp16", "_fp16");
    m.put("int8", "_int8");
    m.put("uint8", "_uint8");
    m.put("q8", "_quantized");
    m.put("quantized", "_quantized");
    m.put("q4", "_q4");
    m.put("q4f16", "_q4f16");
    m.put("bnb4", "_bnb4");
    return m;
  }

  /**
   * The chosen files.
   *
   * @param graph        the ONNX graph the bundle runs
   * @param externalData the graph's external data files
   * @param files        everything to download: the other files smallest first, then the graph and
   *                     its data (so that a wrong repository fails on its config.json before
   *                     gigabytes are fetched)
   */
  record Selection(RepoFile graph, List<RepoFile> externalData, List<RepoFile> files) {}

  /** @throws HubException naming the repository when it has no graph to run */
  static Selection select(String repo, List<RepoFile> all, Optional<String> variant, List<String> includes) {
    String suffix = variant.map(v -> VARIANT_SUFFIXES.getOrDefault(v, "_" + v)).orElse("");
    Set<RepoFile> chosen = new LinkedHashSet<>();
    RepoFile graph;
    if (includes.isEmpty()) {
      for (RepoFile f : all) {
        if (SUPPORT_FILES.contains(f.path())) {
          chosen.add(f);
        }
      }
      graph = graph(repo, all, suffix, variant, false);
    } else {
      List<PathMatcher> matchers = includes.stream()
          .map(g -> FileSystems.getDefault().getPathMatcher("glob:" + g)).toList();
      for (RepoFile f : all) {
        if (matchers.stream().anyMatch(m -> m.matches(Path.of(f.path())))) {
          chosen.add(f);
        }
      }
      if (chosen.isEmpty()) {
        throw new HubException(repo + ": no file matches --include " + includes);
      }
      graph = graph(repo, List.copyOf(chosen), suffix, variant, true);
    }
    List<RepoFile> data = all.stream().filter(f -> isExternalData(graph, f)).toList();
    chosen.remove(graph);
    data.forEach(chosen::remove);
    List<RepoFile> ordered = new ArrayList<>(chosen);
    ordered.sort(Comparator.comparingLong(RepoFile::size).thenComparing(RepoFile::path));
    ordered.add(graph);
    ordered.addAll(data);
    return new Selection(graph, data, List.copyOf(ordered));
  }

  private static boolean isExternalData(RepoFile graph, RepoFile f) {
    return f.path().startsWith(graph.path() + "_data") || f.path().equals(graph.path() + ".data");
  }

  private static RepoFile graph(String repo, List<RepoFile> files, String suffix, Optional<String> variant,
                                boolean included) {
    for (String stem : GRAPH_STEMS) {
      String path = stem + suffix + ".onnx";
      for (RepoFile f : files) {
        if (f.path().equals(path)) {
          return f;
        }
      }
    }
    List<RepoFile> onnx = files.stream().filter(f -> f.path().endsWith(".onnx")).toList();
    if (included && onnx.size() == 1) {
      return onnx.get(0);
    }
    List<String> names = onnx.stream().map(RepoFile::path).toList();
    String wanted = "one of " + GRAPH_STEMS.stream().map(s -> s + suffix + ".onnx").toList();
    if (onnx.isEmpty()) {
      throw new HubException(repo + ": " + (included ? "the included files hold" : "the repository holds")
          + " no .onnx file (nlpstream runs ONNX exports: look for an onnx-community/ or Optimum export of the model)");
    }
    throw new HubException(repo + ": found no " + variant.map(v -> "variant " + v + " graph, ").orElse("graph, ")
        + wanted + "; its ONNX files are " + names + ": choose with --variant (" + VARIANT_SUFFIXES.keySet()
        + ") or --include");
  }
}
