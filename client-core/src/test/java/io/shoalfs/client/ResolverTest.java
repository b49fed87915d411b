package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** Resolution through the cache, against a namespace of path -> inode held in a map. */
class ResolverTest {
  private static final Caller ROOT = Caller.getDefaultInstance();
  private final Map<String, Long> namespace = new ConcurrentHashMap<>();
  private final ChunkStoreTransport transport = new ChunkStoreTransport(16);
  private final PathCache cache = new PathCache(100, Duration.ofMinutes(1));
  private final Resolver resolver =
      new Resolver(new MetaClient(transport, Duration.ofSeconds(5), 1), cache);

  ResolverTest() {
    transport.metaAnswers = this::answer;
  }

  private MetaResponse answer(MetaRequest r) {
    switch (r.getOpCase()) {
      case RESOLVE: {
        Long inode = namespace.get(r.getResolve().getPath());
        if (inode == null) {
          return enoent();
        }
        MetaResponse.Builder found = attr(inode).toBuilder();
        for (int i = 0; i < Math.min(r.getResolve().getChunkLookahead(), 2); i++) {
          found.addLocations(io.shoalfs.proto.ChunkLocation.newBuilder()
              .setChunk(io.shoalfs.proto.ChunkId.newBuilder().setInode(inode).setIndex(i)));
        }
        return found.build();
      }
      case GET_ATTR:
        return namespace.containsValue(r.getGetAttr().getInode())
            ? attr(r.getGetAttr().getInode()) : enoent();
      default:
        throw new IllegalArgumentException(r.getOpCase().toString());
    }
  }

  @Test
  void aListingAnswersTheLookupsOfItsNames() throws Exception {
    namespace.put("/d/x", 7L);
    namespace.put("/d/y", 8L);
    long generation = cache.generation();
    MetaResponse listing = MetaResponse.newBuilder().setAppliedIndex(3)
        .addEntries(io.shoalfs.proto.DirEntry.newBuilder().setName("x").setInode(7)
            .setAttr(Attr.newBuilder().setInode(7).setSize(70)))
        .addEntries(io.shoalfs.proto.DirEntry.newBuilder().setName("y").setInode(8))
        .build();
    Resolver caching = new Resolver(new MetaClient(transport, Duration.ofSeconds(5), 1,
        Duration.ofMinutes(1), 100), cache);
    caching.listed("/d", listing, generation);
    assertEquals(70, caching.attr(ROOT, "/d/x").getSize(), "path and attributes from the listing");
    assertEquals(0, transport.metaRequests.size(), "no call at all");
    assertEquals(8L, caching.<Long>withInode(ROOT, "/d/y", inode -> inode));
    assertEquals(0, count(MetaRequest.OpCase.RESOLVE), "the inode came with the listing");

    // A listing taken before an invalidation (a rename meanwhile) is not cached.
    cache.invalidate("/d/z");
    caching.listed("/d", MetaResponse.newBuilder().addEntries(io.shoalfs.proto.DirEntry
        .newBuilder().setName("z").setInode(9)).build(), generation);
    assertEquals(null, cache.get("/d/z"));
  }

  @Test
  void aResolvedPathIsNotResolvedAgain() throws Exception {
    namespace.put("/a", 5L);
    assertEquals(5L, resolver.<Long>withInode(ROOT, "/a", inode -> inode));
    assertEquals(5L, resolver.<Long>withInode(ROOT, "/a", inode -> inode));
    assertEquals(1, count(MetaRequest.OpCase.RESOLVE));
  }

  @Test
  void resolvingForAnOpenAsksForTheFirstChunksAndCachesThePath() throws Exception {
    namespace.put("/a", 5L);
    MetaResponse r = resolver.resolveNow(ROOT, "/a", 8);
    assertEquals(5, r.getAttr().getInode());
    assertEquals(8, transport.metaRequests.get(0).getResolve().getChunkLookahead());
    assertEquals(2, r.getLocationsCount());
    assertEquals(5L, resolver.<Long>withInode(ROOT, "/a", inode -> inode));
    assertEquals(1, transport.metaRequests.size(), "the path was cached by the resolve");
  }

  @Test
  void getattrOfANewPathCostsOneCall() throws Exception {
    namespace.put("/a", 5L);
    assertEquals(5, resolver.attr(ROOT, "/a").getInode());
    assertEquals(1, transport.metaRequests.size(), "the resolve answer is the attr");
    resolver.attr(ROOT, "/a");
    assertEquals(1, count(MetaRequest.OpCase.GET_ATTR), "cached: getattr by inode");
  }

  @Test
  void aStaleCachedInodeIsResolvedAfresh() throws Exception {
    namespace.put("/a", 5L);
    resolver.attr(ROOT, "/a");
    // Another client replaced /a: the cached inode 5 is gone.
    namespace.put("/a", 6L);

    assertEquals(6, resolver.attr(ROOT, "/a").getInode());
    assertEquals(6L, resolver.<Long>withInode(ROOT, "/a", inode -> inode));
    assertEquals(6L, cache.get("/a"));
  }

  @Test
  void aMissingPathIsEnoent() {
    RpcException e = assertThrows(RpcException.class, () -> resolver.attr(ROOT, "/nope"));
    assertEquals(Status.ENOENT, e.status());
  }

  private long count(MetaRequest.OpCase op) {
    return transport.metaRequests.stream().filter(r -> r.getOpCase() == op).count();
  }

  private static MetaResponse attr(long inode) {
    return MetaResponse.newBuilder().setAttr(Attr.newBuilder().setInode(inode)).build();
  }

  private static MetaResponse enoent() {
    return MetaResponse.newBuilder().setStatus(Status.ENOENT).build();
  }
}
