package io.shoalfs.server.meta;

/**
 * Hears, on one member, that a directory capability was recalled (RecallCapabilityOp applied
 * there): the holder's mount, if this member has its connection, is to be asked to give it
 * back. Called on the apply thread once the entry is in the store, on every member, also when
 * a restarted member replays old entries; it must not block, and what it throws is logged and
 * dropped.
 */
@FunctionalInterface
public interface CapabilityRecallListener {

  /** Hears nothing: a member that serves no mounts. */
  CapabilityRecallListener NONE = (holder, dir) -> { };

  /** The session {@code holder} is asked to give back its capability on {@code dir}. */
  void recalled(long holder, long dir);
}
