package io.shoalfs.cluster;

/** A change in the member set, as delivered to a {@link MembershipListener}. */
public record MembershipEvent(Type type, Member member) {
  public enum Type {
    /** A member the directory did not know appeared; it is up. */
    JOINED,
    /** An up member republished its info (e.g. new free space, or a new lease after a loss). */
    UPDATED,
    /**
     * An up member's key is gone (clean shutdown or lease expiry). It stays known, state down,
     * with what it last published; {@link Member#wentDownAt()} says since when.
     */
    DOWN,
    /** A member has been down longer than the directory's grace period. */
    DEAD,
    /** A down or dead member registered again; it is up. */
    UP
  }
}
