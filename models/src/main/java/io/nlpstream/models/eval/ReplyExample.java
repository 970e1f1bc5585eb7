package io.nlpstream.models.eval;

import java.util.List;

/** The turns of a conversation so far and the turn that followed them (the reference reply). */
public record ReplyExample(List<String> context, String reference) {
  public ReplyExample {
    context = List.copyOf(context);
  }
}
