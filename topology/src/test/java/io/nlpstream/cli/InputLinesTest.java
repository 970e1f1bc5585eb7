package io.nlpstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class InputLinesTest {

  @Test
  void splitsAtNewlinesAndKeepsBytesAsTheyAre() {
    byte[] file = {'a', '\n', (byte) 0xff, (byte) 0xfe, '\r', '\n', '\n', 'z'};
    List<byte[]> lines = InputLines.split(file);
    assertThat(lines).hasSize(4);
    assertThat(lines.get(0)).containsExactly('a');
    assertThat(lines.get(1)).containsExactly((byte) 0xff, (byte) 0xfe, '\r');
    assertThat(lines.get(2)).isEmpty();
    assertThat(lines.get(3)).containsExactly('z');
  }

  @Test
  void finalNewlineDoesNotStartALine() {
    assertThat(InputLines.split("x\ny\n".getBytes(java.nio.charset.StandardCharsets.UTF_8))).hasSize(2);
    assertThat(InputLines.split(new byte[0])).isEmpty();
  }
}
