package io.shoalfs.client;

import io.shoalfs.proto.Caller;

/**
 * Who an operation of {@link MountFileSystem} is served for. Asked only where the operation
 * needs it, so that a front end can read it lazily: the mount reads the kernel's request
 * context there, as it always has, and builds nothing for an operation that never asks.
 */
public interface CallContext {
  /** The caller's uid, gid and supplementary groups, as the metadata service checks them. */
  Caller caller();

  /** The calling process. */
  long pid();

  /** A fixed caller: for front ends and tests that know it up front. */
  static CallContext of(Caller caller, long pid) {
    return new CallContext() {
      @Override
      public Caller caller() {
        return caller;
      }

      @Override
      public long pid() {
        return pid;
      }
    };
  }
}
