package io.shoalfs.cluster;

import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberRole;
import io.shoalfs.proto.MemberState;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The cluster at one moment, as every decision about members reads it: which members are up,
 * which are dead, which store chunks ({@link #dataNodes()}) and which answer metadata calls
 * ({@link #metadataEndpoints()}). Placement, the healer, {@code shoal status}, and the mount's
 * data fan-out and metadata routing all ask it, so no call site filters members by itself.
 *
 * <p>A member that lists no role is both a metadata endpoint and a data node: that is the
 * converged topology, and every record published before roles existed.
 *
 * <p>Immutable; lists come in member id order. Take one per decision, so that every part of
 * the decision sees the same cluster.
 */
public final class ClusterView {
  private static final Set<MemberRole> BOTH =
      Collections.unmodifiableSet(EnumSet.of(MemberRole.METADATA, MemberRole.DATA));
  private static final ClusterView EMPTY = new ClusterView(List.of(), false);

  /** By id, in id order. */
  private final Map<String, MemberInfo> byId;
  private final boolean unlistedAreDead;
  // Worked out once: the healer asks isDataNode for every replica of every chunk in a pass.
  private final List<MemberInfo> dataNodes;
  private final Set<String> dataNodeIds;
  private final List<MemberInfo> metadataEndpoints;

  private ClusterView(Collection<MemberInfo> members, boolean unlistedAreDead) {
    Map<String, MemberInfo> sorted = new LinkedHashMap<>();
    members.stream().sorted(Comparator.comparing(MemberInfo::getId))
        .forEach(m -> sorted.put(m.getId(), m));
    if (sorted.size() != members.size()) {
      throw new IllegalArgumentException("a member is listed twice: " + members.stream()
          .map(MemberInfo::getId).toList());
    }
    this.byId = Collections.unmodifiableMap(sorted);
    this.unlistedAreDead = unlistedAreDead;
    this.dataNodes = upWithRole(MemberRole.DATA);
    this.dataNodeIds = Set.copyOf(dataNodes.stream().map(MemberInfo::getId).toList());
    this.metadataEndpoints = upWithRole(MemberRole.METADATA);
  }

  /** A view of {@code members} (each with its state) in which an unlisted member is not dead. */
  public static ClusterView of(Collection<MemberInfo> members) {
    return new ClusterView(members, false);
  }

  /**
   * @param unlistedAreDead whether a member {@code members} does not list counts as dead: a
   *     member directory says so once its grace period has passed since it first loaded (a
   *     chunk holder gone before the directory started would otherwise never be dead)
   */
  public static ClusterView of(Collection<MemberInfo> members, boolean unlistedAreDead) {
    return new ClusterView(members, unlistedAreDead);
  }

  /** No member known. */
  public static ClusterView empty() {
    return EMPTY;
  }

  /**
   * The roles {@code member} serves, in {@link MemberRole} order: those it lists, or both when
   * it lists none.
   */
  public static Set<MemberRole> rolesOf(MemberInfo member) {
    EnumSet<MemberRole> roles = EnumSet.noneOf(MemberRole.class);
    for (MemberRole r : member.getRolesList()) {
      if (r == MemberRole.METADATA || r == MemberRole.DATA) {
        roles.add(r);
      }
    }
    return roles.isEmpty() ? BOTH : Collections.unmodifiableSet(roles);
  }

  public static boolean hasRole(MemberInfo member, MemberRole role) {
    return rolesOf(member).contains(role);
  }

  /**
   * How people and scripts read a state: {@code up}, {@code down}, {@code dead}, or {@code ?}
   * when it is not set. {@code shoal status} prints it, and scripts compare it.
   */
  public static String stateName(MemberState state) {
    return switch (state) {
      case UP -> "up";
      case DOWN -> "down";
      case DEAD -> "dead";
      default -> "?";
    };
  }

  /** How people and scripts read roles: {@code metadata,data}, {@code metadata} or {@code data}. */
  public static String roleNames(MemberInfo member) {
    List<String> names = new ArrayList<>();
    for (MemberRole r : rolesOf(member)) {
      names.add(r == MemberRole.METADATA ? "metadata" : "data");
    }
    return String.join(",", names);
  }

  /** Every member known, whatever its state and roles. */
  public List<MemberInfo> members() {
    return List.copyOf(byId.values());
  }

  public boolean isEmpty() {
    return byId.isEmpty();
  }

  public Optional<MemberInfo> member(String id) {
    return Optional.ofNullable(byId.get(id));
  }

  /** Up in this view; a member the view does not list is not. */
  public boolean isUp(String id) {
    MemberInfo m = byId.get(id);
    return m != null && m.getState() == MemberState.UP;
  }

  /** Dead by its state; a member the view does not list, as the view was built to say. */
  public boolean isDead(String id) {
    MemberInfo m = byId.get(id);
    return m != null ? m.getState() == MemberState.DEAD : unlistedAreDead;
  }

  /** The members that are up, whatever their roles. */
  public List<MemberInfo> up() {
    return byId.values().stream().filter(m -> m.getState() == MemberState.UP).toList();
  }

  /** Every member with {@code role}, whatever its state. */
  public List<MemberInfo> withRole(MemberRole role) {
    return byId.values().stream().filter(m -> hasRole(m, role)).toList();
  }

  /** The members that store chunks and are up: where chunks are placed, copied and read. */
  public List<MemberInfo> dataNodes() {
    return dataNodes;
  }

  /** True if {@code id} stores chunks and is up. */
  public boolean isDataNode(String id) {
    return dataNodeIds.contains(id);
  }

  /** The members that answer metadata calls and are up: where a mount sends them. */
  public List<MemberInfo> metadataEndpoints() {
    return metadataEndpoints;
  }

  private List<MemberInfo> upWithRole(MemberRole role) {
    return byId.values().stream()
        .filter(m -> m.getState() == MemberState.UP && hasRole(m, role))
        .toList();
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("ClusterView[");
    for (MemberInfo m : byId.values()) {
      if (sb.length() > "ClusterView[".length()) {
        sb.append(", ");
      }
      sb.append(m.getId()).append(' ').append(stateName(m.getState())).append(' ')
          .append(roleNames(m));
    }
    return sb.append(']').toString();
  }
}
