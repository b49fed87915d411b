package io.shoalfs.server.meta;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;

/** Builders for the common shapes of {@link MetaResponse}. */
final class Replies {

  private Replies() {}

  static MetaResponse fail(Status status, String error) {
    return MetaResponse.newBuilder().setStatus(status).setError(error).build();
  }

  static MetaResponse ok() {
    return MetaResponse.newBuilder().setStatus(Status.OK).build();
  }

  static MetaResponse ok(Attr attr) {
    return MetaResponse.newBuilder().setStatus(Status.OK).setAttr(attr).build();
  }

  static MetaResponse okFreed(long freedInode) {
    return MetaResponse.newBuilder().setStatus(Status.OK).setFreedInode(freedInode).build();
  }
}
