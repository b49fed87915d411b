package io.shoalfs.cluster;

/**
 * Told about changes in the member set. Called on the directory's own thread, one event at a
 * time, in order: keep it quick and do not block (hand real work to your own executor).
 */
@FunctionalInterface
public interface MembershipListener {
  void onChange(MembershipEvent event);
}
