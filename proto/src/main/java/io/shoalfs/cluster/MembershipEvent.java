package io.shoalfs.cluster;

/** A change in the member set, as delivered to a {@link MembershipListener}. */
public record MembershipEvent(Type type, Member member) {
  public enum Type {
    /** A member appeared. */
    JOINED,
    /** A known member republished its info (e.g. new free space, or a new lease after a loss). */
    UPDATED,
    /** A member's key is gone (clean shutdown or lease expiry); {@code member} is its last state. */
    LEFT
  }
}
