package io.shoalfs.client;

import com.google.protobuf.ByteString;
import io.shoalfs.client.writeback.WriteBack;
import io.shoalfs.fs.XattrNamespaces;
import io.shoalfs.proto.Caller;
import io.shoalfs.proto.ListXattrOp;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.RemoveXattrOp;
import io.shoalfs.proto.SetXattrOp;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.nio.charset.StandardCharsets;

/**
 * Extended attributes of a mount's files, by path. getxattr and listxattr follow the buffer
 * contract of {@link XattrBuffers}: size 0 asks for the length, a smaller buffer is ERANGE.
 */
public final class MountXattrs {
  private final MountParts parts;

  MountXattrs(MountParts parts) {
    this.parts = parts;
  }

  /** Sets {@code name} to the first {@code size} bytes of {@code value}; setxattr(2) flags. */
  public void setxattr(CallContext who, String path, String name, WriteSource value, int size,
      int flags) throws RpcException {
    refuseUnstoredXattr(name);
    byte[] bytes = new byte[size];
    if (size > 0) {
      value.copyTo(bytes, 0, size);
    }
    Caller caller = who.caller();
    parts.resolver.withInode(caller, path, inode -> parts.meta.call(caller,
        MetaRequest.newBuilder().setSetXattr(SetXattrOp.newBuilder()
            .setInode(inode)
            .setName(name)
            .setValue(ByteString.copyFrom(bytes))
            .setFlags(flags)
            .setNowNs(NanoTimes.nowNs()))));
  }

  /** Puts the value of {@code name} in {@code value} ({@code size} bytes); returns its length. */
  public int getxattr(CallContext who, String path, String name, ReadTarget value, long size)
      throws RpcException {
    if (path.equals("/") && name.equals(ShortCircuitCounters.XATTR)) {
      // The mount's own figures, not stored anywhere: how tests and operators see them.
      byte[] figures = parts.shortCircuit.counters().format(parts.shortCircuit.enabled())
          .getBytes(StandardCharsets.US_ASCII);
      return XattrBuffers.copyOut(figures, value, size);
    }
    if (path.equals("/") && name.equals(WriteBack.CAPABILITIES_XATTR)) {
      byte[] figures = parts.meta.writeBack().capabilityFigures()
          .getBytes(StandardCharsets.US_ASCII);
      return XattrBuffers.copyOut(figures, value, size);
    }
    refuseUnstoredXattr(name);
    Caller caller = who.caller();
    byte[] bytes = parts.resolver.withInode(caller, path,
        inode -> parts.meta.getXattr(caller, inode, name));
    return XattrBuffers.copyOut(bytes, value, size);
  }

  /** Puts the names, each followed by a NUL byte, in {@code list}; returns their length. */
  public int listxattr(CallContext who, String path, ReadTarget list, long size)
      throws RpcException {
    Caller caller = who.caller();
    byte[] names = XattrBuffers.nameList(parts.resolver.withInode(caller, path, inode ->
        parts.meta.call(caller, MetaRequest.newBuilder().setListXattr(
            ListXattrOp.newBuilder().setInode(inode))).getNamesList()));
    return XattrBuffers.copyOut(names, list, size);
  }

  public void removexattr(CallContext who, String path, String name) throws RpcException {
    refuseUnstoredXattr(name);
    Caller caller = who.caller();
    parts.resolver.withInode(caller, path, inode -> parts.meta.call(caller,
        MetaRequest.newBuilder().setRemoveXattr(RemoveXattrOp.newBuilder()
            .setInode(inode)
            .setName(name)
            .setNowNs(NanoTimes.nowNs()))));
  }

  /**
   * Answers here what the server would answer for a name it never stores: `cp -a` tries
   * system.posix_acl_access on every file, and the kernel asks security.capability on writes.
   */
  private static void refuseUnstoredXattr(String name) throws RpcException {
    Status status = XattrNamespaces.check(name);
    if (status != Status.OK) {
      throw new RpcException(status, "xattr " + name + " is not stored by ShoalFS");
    }
  }
}
