package io.shoalfs.client;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.google.protobuf.ByteString;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.FileDescriptor;
import io.shoalfs.localread.LocalReadRequest;
import io.shoalfs.proto.ChunkId;
import io.shoalfs.proto.ChunkLocation;
import io.shoalfs.proto.MemberInfo;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Short-circuit local reads: a piece of a chunk read straight from the descriptors of a copy
 * held by a server on this host, when the chunk map names that server a replica. The server
 * hands the descriptors over only if its copy is at exactly the version of the mount's location
 * (a stale copy is refused; so is a newer one, whose location this mount should refresh), and
 * the bytes are verified block by block here ({@link LocalChunkCopy}). Anything else (no local
 * replica, a refusal, a checksum mismatch, an error) answers empty and the caller reads over
 * the network, where a damaged copy is reported and repaired as on any read.
 *
 * <p>Open copies are kept per chunk while the location's version and replica stay the same and
 * the files keep their names (a copy the server replaces or deletes is reopened); a refusal is
 * remembered for a second, so a stale local copy costs one request per second, not per read.
 */
final class ShortCircuitReads implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ShortCircuitReads.class);
  static final int MAX_OPEN_COPIES = 512;
  static final Duration REFUSAL_MEMORY = Duration.ofSeconds(1);
  static final Duration ASK_TIMEOUT = Duration.ofSeconds(2);
  /**
   * A read shorter than this opens a chunk's local copy only if the chunk was read before in the
   * last {@link #SEEN_MEMORY}. Asking a server for descriptors takes a connection of its own,
   * which costs more than one network read of a small file does; so a small file read once goes
   * over the network, and a chunk read again (random reads, a file read twice) opens its copy.
   * Large reads open at once: the request is paid back within the read.
   */
  static final int SMALL_READ = 64 << 10;
  static final Duration SEEN_MEMORY = Duration.ofSeconds(30);

  /** Asks a local server for a copy's descriptors; {@link LocalReadClient} in a mount. */
  @FunctionalInterface
  interface DescriptorSource {
    Optional<FileDescriptor[]> open(String socket, LocalReadRequest request);
  }

  private record ChunkKey(long inode, int index) {}

  private record Refusal(long inode, int index, long version, String member) {}

  private final boolean enabled;
  private final int blockSize;
  private final int smallRead;
  private final DescriptorSource source;
  private final AutoCloseable sourceCloser;
  private final LocalServers locals;
  private final ShortCircuitCounters counters = new ShortCircuitCounters();
  private final Cache<ChunkKey, LocalChunkCopy> open;
  private final Cache<Refusal, Boolean> refusals =
      Caffeine.newBuilder().expireAfterWrite(REFUSAL_MEMORY).maximumSize(10_000).build();
  /** Chunks read once by a small read and not opened (see {@link #SMALL_READ}). */
  private final Cache<ChunkKey, Boolean> readOnce =
      Caffeine.newBuilder().expireAfterWrite(SEEN_MEMORY).maximumSize(10_000).build();

  private ShortCircuitReads(boolean enabled, int blockSize, int smallRead,
      DescriptorSource source, AutoCloseable sourceCloser, LocalServers locals) {
    this.enabled = enabled;
    this.blockSize = blockSize;
    this.smallRead = smallRead;
    this.source = source;
    this.sourceCloser = sourceCloser;
    this.locals = locals;
    this.open = Caffeine.newBuilder()
        .maximumSize(MAX_OPEN_COPIES)
        .removalListener((ChunkKey k, LocalChunkCopy copy, RemovalCause cause) -> {
          if (copy != null) {
            copy.retire();
          }
        })
        .executor(Runnable::run) // closed at once, not on the common pool
        .build();
  }

  /** For a mount: on when asked and this host can pass descriptors (native epoll). */
  static ShortCircuitReads forMount(ShortCircuitSettings settings) {
    if (!settings.enabled()) {
      return disabled();
    }
    if (!Epoll.isAvailable()) {
      LOG.warn("short-circuit local reads off: native epoll unavailable ({})",
          Epoll.unavailabilityCause().toString());
      return disabled();
    }
    LocalReadClient client = new LocalReadClient(ASK_TIMEOUT);
    return new ShortCircuitReads(true, settings.blockSize(), SMALL_READ, client::open, client,
        new LocalServers());
  }

  static ShortCircuitReads disabled() {
    return new ShortCircuitReads(false, 1, 0, (s, r) -> Optional.empty(), () -> { },
        new LocalServers());
  }

  /** With a given source of descriptors and local-server check, every read opening: for tests. */
  static ShortCircuitReads using(int blockSize, DescriptorSource source, LocalServers locals) {
    return using(blockSize, 0, source, locals);
  }

  /** As {@link #using(int, DescriptorSource, LocalServers)}, with a small-read bound. */
  static ShortCircuitReads using(int blockSize, int smallRead, DescriptorSource source,
      LocalServers locals) {
    return new ShortCircuitReads(true, blockSize, smallRead, source, () -> { }, locals);
  }

  boolean enabled() {
    return enabled;
  }

  ShortCircuitCounters counters() {
    return counters;
  }

  /**
   * The chunk's bytes in {@code [offset, offset + length)} from a local replica (fewer past the
   * copy's end), or empty: then the network path must answer.
   */
  Optional<ByteString> read(ChunkId chunk, long offset, int length, ChunkLocation location,
      MemberView view) {
    if (!enabled) {
      return Optional.empty();
    }
    String member = null;
    String socket = null;
    for (String replica : location.getReplicasList()) {
      Optional<MemberInfo> info = view.member(replica);
      socket = info.map(locals::socketOf).orElse(null);
      if (socket != null) {
        member = replica;
        break;
      }
    }
    if (member == null) {
      return Optional.empty();
    }
    ChunkKey key = new ChunkKey(chunk.getInode(), chunk.getIndex());
    if (length < smallRead && open.getIfPresent(key) == null
        && readOnce.asMap().putIfAbsent(key, Boolean.TRUE) == null) {
      return Optional.empty(); // the first small read of this chunk: the network's
    }
    LocalChunkCopy copy = copyOf(key, member, socket, location.getVersion());
    if (copy == null || !copy.acquire()) {
      return Optional.empty();
    }
    try {
      ByteString bytes = copy.read(offset, length);
      counters.served.incrementAndGet();
      return Optional.of(bytes);
    } catch (LocalChunkCopy.Unusable e) {
      counters.fallbacks.incrementAndGet();
      LOG.debug("short-circuit read of chunk {}/{} on {} fell back: {}", key.inode(),
          Integer.toUnsignedLong(key.index()), member, e.getMessage());
      if (e.drop) {
        open.asMap().remove(key, copy);
      }
      return Optional.empty();
    } finally {
      copy.release();
    }
  }

  /** The open copy for this location, opened if needed; null when the server refused. */
  private LocalChunkCopy copyOf(ChunkKey key, String member, String socket, long version) {
    LocalChunkCopy cached = open.getIfPresent(key);
    if (cached != null) {
      if (cached.version() == version && cached.member().equals(member)) {
        return cached;
      }
      open.asMap().remove(key, cached);
    }
    Refusal refusal = new Refusal(key.inode(), key.index(), version, member);
    if (refusals.getIfPresent(refusal) != null) {
      return null;
    }
    Optional<FileDescriptor[]> fds =
        source.open(socket, new LocalReadRequest(key.inode(), key.index(), version));
    if (fds.isEmpty()) {
      counters.refused.incrementAndGet();
      refusals.put(refusal, Boolean.TRUE);
      return null;
    }
    counters.opened.incrementAndGet();
    LocalChunkCopy fresh =
        new LocalChunkCopy(member, version, blockSize, fds.get()[0], fds.get()[1]);
    LocalChunkCopy raced = open.asMap().putIfAbsent(key, fresh);
    if (raced != null) {
      fresh.retire(); // another reader opened it first: use that one
      return raced;
    }
    return fresh;
  }

  /** Closes every open copy (once its readers are done) and the connection machinery. */
  @Override
  public void close() {
    open.invalidateAll();
    try {
      sourceCloser.close();
    } catch (Exception e) {
      LOG.debug("closing the short-circuit client: {}", e.toString());
    }
  }
}
