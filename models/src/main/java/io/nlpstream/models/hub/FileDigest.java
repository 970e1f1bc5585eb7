package io.nlpstream.models.hub;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The two checksums of a file's content computed in one pass: sha256 (what LFS lists and what
 * {@code model.json} records) and the git blob id, {@code sha1("blob <size>\0" + content)} (what
 * the tree API lists as {@code oid} for files stored in git). Not thread-safe.
 */
final class FileDigest {

  private final MessageDigest sha256;
  private final MessageDigest gitBlob;

  /** @param size the content's full size: it is part of the git blob header */
  FileDigest(long size) {
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
      gitBlob = MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM lacks SHA-256 or SHA-1", e);
    }
    gitBlob.update(("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
  }

  void update(byte[] bytes, int offset, int length) {
    sha256.update(bytes, offset, length);
    gitBlob.update(bytes, offset, length);
  }

  /** Both checksums of what was fed, hex; call once. */
  Sums finish() {
    HexFormat hex = HexFormat.of();
    return new Sums(hex.formatHex(sha256.digest()), hex.formatHex(gitBlob.digest()));
  }

  /** The checksums of one content. */
  record Sums(String sha256, String gitBlobSha1) {}
}
