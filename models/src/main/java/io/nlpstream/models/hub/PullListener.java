package io.nlpstream.models.hub;

import java.util.List;

/**
 * What a {@link ModelPull} reports while it runs, for a progress display. Called on the pulling
 * thread; implementations must be quick and must not throw.
 */
public interface PullListener {

  /** Reports nothing. */
  PullListener NONE = new PullListener() {};

  /** The files chosen at {@code commit}, in download order. */
  default void selected(String repo, String commit, List<RepoFile> files) {}

  /** {@code present} of {@code file.size()} bytes of {@code file} are on disk. */
  default void progress(RepoFile file, long present) {}

  /** {@code file} is in place and verified. */
  default void done(Downloaded file) {}

  /** A one-line note: a retry, a warning about the chosen graph. */
  default void note(String message) {}
}
