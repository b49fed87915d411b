package io.shoalfs.server.meta;

import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.MemberInfo;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.List;

/**
 * Where a new chunk goes: the order in which members are offered as its replicas.
 *
 * <p>Emptier members first, compared in 1 GiB buckets so that a few bytes of difference do not
 * send every new chunk to the same member; within a bucket, rendezvous (highest random weight)
 * hashing of (member id, inode, index) spreads the chunks of one file over all members and
 * moves few of them when a member comes or goes.
 */
public final class ChunkPlacement {

  /** The free-space granularity: members within one bucket count as equally empty. */
  public static final long BUCKET_BYTES = 1L << 30;

  private ChunkPlacement() {}

  /**
   * The ids of {@code members} in placement order for {@code chunk}; the caller passes the
   * members a chunk may go to (the data nodes that are up, see ClusterView).
   */
  public static List<String> order(List<MemberInfo> members, ChunkId chunk) {
    Comparator<MemberInfo> emptierFirst = Comparator.comparingLong(
        (MemberInfo m) -> Long.divideUnsigned(m.getFreeBytes(), BUCKET_BYTES))
        .reversed();
    Comparator<MemberInfo> byWeight = (a, b) -> Long.compareUnsigned(
        weight(b.getId(), chunk.getInode(), chunk.getIndex()),
        weight(a.getId(), chunk.getInode(), chunk.getIndex()));
    return members.stream()
        .sorted(emptierFirst.thenComparing(byWeight).thenComparing(MemberInfo::getId))
        .map(MemberInfo::getId)
        .toList();
  }

  /**
   * The rendezvous weight of a member for one chunk (compared unsigned, highest first). FNV-1a
   * over the id, mixed with the chunk through SplitMix64's finaliser: stable across JVMs and
   * releases, unlike String.hashCode-based mixing of such short inputs.
   */
  static long weight(String memberId, long inode, int index) {
    long h = 0xcbf29ce484222325L;
    for (byte b : memberId.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    return mix(h ^ mix(inode ^ mix(Integer.toUnsignedLong(index) + 0x9e3779b97f4a7c15L)));
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
