package io.nlpstream.models.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class OrtRuntimeTest {

  @Test
  void cpuStartsWithOneThreadPerProcessorByDefault() {
    OrtRuntime runtime = OrtRuntime.create(OrtRuntime.Options.cpu());
    assertThat(runtime.intraOpThreads()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(runtime.version()).isNotBlank();
    assertThat(OrtRuntime.create(new OrtRuntime.Options(ExecutionProvider.CPU, 0, 3)).intraOpThreads()).isEqualTo(3);
  }

  /** This build carries the CPU-only ONNX Runtime: selecting CUDA must fail at start-up, saying what to do. */
  @Test
  void cudaWithoutTheGpuBuildFailsAtStartUpWithTheRemedy() {
    assertThatThrownBy(() -> OrtRuntime.create(new OrtRuntime.Options(ExecutionProvider.CUDA, 0, 0)))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("inference.provider=cuda")
        .hasMessageContaining("mvn -Pgpu")
        .hasMessageContaining("CUDA device");
  }

  @Test
  void optionsAreValidated() {
    assertThatThrownBy(() -> new OrtRuntime.Options(ExecutionProvider.CPU, 0, -1))
        .hasMessageContaining("intraOpThreads");
    assertThatThrownBy(() -> new OrtRuntime.Options(ExecutionProvider.CUDA, -1, 0))
        .hasMessageContaining("cudaDevice");
  }
}
