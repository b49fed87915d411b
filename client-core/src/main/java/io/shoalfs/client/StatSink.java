package io.shoalfs.client;

import io.shoalfs.proto.Attr;
import io.shoalfs.rpc.RpcException;

/** Takes what a stat of a file shows: its attributes, and its size as this mount sees it. */
@FunctionalInterface
public interface StatSink {
  /** {@code size} may be past {@code attr}'s: writes of this mount not committed yet. */
  void accept(Attr attr, long size) throws RpcException;
}
