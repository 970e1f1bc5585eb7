package io.nlpstream.models.hub;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One file of a Hub repository at a commit, as the tree API lists it.
 *
 * @param path      path inside the repository, '/'-separated
 * @param size      size of the file's content in bytes (for LFS files, of the stored object, not of the pointer)
 * @param gitOid    git blob id (sha1 hex) of what git stores: the content for small files, the LFS
 *                  pointer for LFS files
 * @param lfsSha256 sha256 (hex) of the content of an LFS (or Xet) file; empty for files stored in git
 */
public record RepoFile(String path, long size, String gitOid, Optional<String> lfsSha256) {

  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern SHA1 = Pattern.compile("[0-9a-f]{40}");

  public RepoFile {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(lfsSha256, "lfsSha256");
    if (size < 0) {
      throw new IllegalArgumentException(path + ": negative size " + size);
    }
    if (lfsSha256.isPresent() && !SHA256.matcher(lfsSha256.get()).matches()) {
      throw new IllegalArgumentException(path + ": lfs.oid is not a sha256: " + lfsSha256.get());
    }
    if (lfsSha256.isEmpty() && (gitOid == null || !SHA1.matcher(gitOid).matches())) {
      throw new IllegalArgumentException(path + ": oid is not a git sha1: " + gitOid);
    }
  }

  /** Whether the content is stored in LFS (verified by sha256) rather than in git (verified by git blob sha1). */
  public boolean isLfs() {
    return lfsSha256.isPresent();
  }
}
