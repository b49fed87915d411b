package io.shoalfs.server.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.GetAttrOp;
import io.shoalfs.proto.LinkOp;
import io.shoalfs.proto.LookupOp;
import io.shoalfs.proto.MakeNodeOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.ReadDirOp;
import io.shoalfs.proto.RenameOp;
import io.shoalfs.proto.ResolveOp;
import io.shoalfs.proto.RmdirOp;
import io.shoalfs.proto.SetXattrOp;
import io.shoalfs.proto.Status;
import io.shoalfs.proto.SymlinkOp;
import io.shoalfs.proto.UnlinkOp;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** A real RocksDB store with the namespace on top, and shorthands for the common ops. */
final class NamespaceFixture implements AutoCloseable {

  static final long ROOT = KeySchema.ROOT_INODE;
  static final Caller USER = Caller.newBuilder().setUid(1000).setGid(100).build();

  final RocksKv kv;
  final Namespace namespace;
  final EntryApplier entries;
  /** The capability recalls the entries applied so far announced, in order. */
  final List<EntryApplier.Recall> recalls = new ArrayList<>();
  long clock = 1_000_000_000L;
  private long logIndex;

  NamespaceFixture(Path dir) throws IOException {
    this(dir, Permissions.NOT_ENFORCED);
  }

  NamespaceFixture(Path dir, Permissions permissions) throws IOException {
    namespace = new Namespace(permissions);
    entries = new EntryApplier(namespace);
    kv = RocksKv.open(dir);
    try (KvBatch batch = kv.newBatch()) {
      if (Namespace.bootstrap(batch)) {
        kv.commit(batch);
      }
    }
  }

  MetaResponse apply(MetaRequest.Builder request) {
    if (!request.hasCaller()) {
      request.setCaller(USER);
    }
    try (KvBatch batch = kv.newBatch()) {
      MetaResponse response = namespace.apply(request.build(), batch);
      kv.commit(batch);
      return response;
    }
  }

  /**
   * Applies the request as the state machine applies a log entry (reply table, sessions,
   * journals), as the next entry of the log.
   */
  MetaResponse entry(MetaRequest.Builder request) {
    if (!request.hasCaller()) {
      request.setCaller(USER);
    }
    try (KvBatch batch = kv.newBatch()) {
      EntryApplier.Applied applied = entries.apply(request.build(), batch, ++logIndex);
      kv.commit(batch);
      recalls.addAll(applied.recalls());
      return applied.response();
    }
  }

  /** Applies the request to a batch that is dropped, not committed: the store stays as it is. */
  MetaResponse tryApply(MetaRequest.Builder request) {
    if (!request.hasCaller()) {
      request.setCaller(USER);
    }
    try (KvBatch batch = kv.newBatch()) {
      return namespace.apply(request.build(), batch);
    }
  }

  MetaResponse read(MetaRequest.Builder request) {
    return kv.read(reader -> namespace.read(request.build(), reader));
  }

  long now() {
    return clock += 1000;
  }

  MetaResponse mknod(long parent, String name, FileType type, int mode) {
    return apply(MetaRequest.newBuilder().setMakeNode(MakeNodeOp.newBuilder()
        .setParent(parent).setName(name).setType(type).setMode(mode).setNowNs(now())));
  }

  long file(long parent, String name) {
    return ok(mknod(parent, name, FileType.REGULAR, 0644)).getAttr().getInode();
  }

  long dir(long parent, String name) {
    return ok(mknod(parent, name, FileType.DIRECTORY, 0755)).getAttr().getInode();
  }

  MetaResponse symlink(long parent, String name, String target) {
    return apply(MetaRequest.newBuilder().setSymlink(SymlinkOp.newBuilder()
        .setParent(parent).setName(name).setTarget(target).setNowNs(now())));
  }

  MetaResponse link(long ino, long parent, String name) {
    return apply(MetaRequest.newBuilder().setLink(LinkOp.newBuilder()
        .setInode(ino).setNewParent(parent).setNewName(name).setNowNs(now())));
  }

  MetaResponse unlink(long parent, String name) {
    return apply(MetaRequest.newBuilder().setUnlink(UnlinkOp.newBuilder()
        .setParent(parent).setName(name).setNowNs(now())));
  }

  MetaResponse rmdir(long parent, String name) {
    return apply(MetaRequest.newBuilder().setRmdir(RmdirOp.newBuilder()
        .setParent(parent).setName(name).setNowNs(now())));
  }

  MetaResponse rename(long srcParent, String srcName, long dstParent, String dstName, int flags) {
    return apply(MetaRequest.newBuilder().setRename(RenameOp.newBuilder()
        .setSrcParent(srcParent).setSrcName(srcName).setDstParent(dstParent)
        .setDstName(dstName).setFlags(flags).setNowNs(now())));
  }

  MetaResponse lookup(long parent, String name) {
    return read(MetaRequest.newBuilder().setLookup(LookupOp.newBuilder().setParent(parent).setName(name)));
  }

  Attr attr(long ino) {
    return ok(read(MetaRequest.newBuilder().setGetAttr(GetAttrOp.newBuilder().setInode(ino)))).getAttr();
  }

  MetaResponse getAttr(long ino) {
    return read(MetaRequest.newBuilder().setGetAttr(GetAttrOp.newBuilder().setInode(ino)));
  }

  MetaResponse resolve(String path) {
    return read(MetaRequest.newBuilder().setResolve(ResolveOp.newBuilder().setPath(path)));
  }

  MetaResponse readDir(long ino, String startAfter, int limit) {
    return read(MetaRequest.newBuilder().setReadDir(ReadDirOp.newBuilder()
        .setInode(ino).setStartAfter(startAfter).setLimit(limit)));
  }

  List<String> names(long dir) {
    List<String> names = new ArrayList<>();
    ok(readDir(dir, "", 0)).getEntriesList().forEach(e -> names.add(e.getName()));
    return names;
  }

  MetaResponse setXattr(long ino, String name, byte[] value, int flags) {
    return apply(MetaRequest.newBuilder().setSetXattr(SetXattrOp.newBuilder()
        .setInode(ino).setName(name).setValue(ByteString.copyFrom(value)).setFlags(flags)
        .setNowNs(now())));
  }

  /** Every key and value in the store, for byte-for-byte comparison. */
  List<String> dump() {
    return kv.read(reader -> {
      List<String> out = new ArrayList<>();
      reader.scan(new byte[0], new byte[0], (k, v) -> out.add(
          Base64.getEncoder().encodeToString(k) + "=" + Base64.getEncoder().encodeToString(v)));
      return out;
    });
  }

  static MetaResponse ok(MetaResponse response) {
    assertEquals(Status.OK, response.getStatus(), response.getError());
    return response;
  }

  static void assertStatus(Status expected, MetaResponse response) {
    assertEquals(expected, response.getStatus(), response.getError());
  }

  static void assertStatus(Status expected, MetaResponse response, String what) {
    assertEquals(expected, response.getStatus(), what + ": " + response.getError());
  }

  @Override
  public void close() {
    kv.close();
  }
}
