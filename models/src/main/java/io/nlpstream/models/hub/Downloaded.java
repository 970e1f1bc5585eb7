package io.nlpstream.models.hub;

import java.nio.file.Path;

/**
 * A repository file in place under its final name, verified against the Hub's checksum.
 *
 * @param file        the file as listed
 * @param path        where it is
 * @param sha256      sha256 (hex) of its content, computed while it was written or checked
 * @param transferred bytes received over the network for it in this call (0 when it was already there)
 * @param resumedFrom bytes of an earlier {@code .part} file this download continued from (0 = from the start)
 * @param upToDate    whether a verified copy was already in place and nothing was fetched
 */
public record Downloaded(RepoFile file, Path path, String sha256, long transferred, long resumedFrom,
                         boolean upToDate) {}
