package io.shoalfs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.MemberInfo;
import io.shoalfs.proto.MemberRole;
import io.shoalfs.proto.MemberState;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ClusterViewTest {

  static MemberInfo member(String id, MemberState state, MemberRole... roles) {
    return MemberInfo.newBuilder().setId(id).setAddress(id + ":1").setState(state)
        .addAllRoles(List.of(roles)).build();
  }

  static List<String> ids(List<MemberInfo> members) {
    return members.stream().map(MemberInfo::getId).toList();
  }

  /** A disaggregated cluster: two metadata servers, three data nodes, one of each kind down. */
  static final List<MemberInfo> SPLIT = List.of(
      member("m1", MemberState.UP, MemberRole.METADATA),
      member("m2", MemberState.DOWN, MemberRole.METADATA),
      member("d1", MemberState.UP, MemberRole.DATA),
      member("d2", MemberState.DEAD, MemberRole.DATA),
      member("d3", MemberState.UP, MemberRole.DATA));

  @Test
  void dataNodesAreTheUpMembersWithTheDataRole() {
    ClusterView view = ClusterView.of(SPLIT);
    assertEquals(List.of("d1", "d3"), ids(view.dataNodes()));
    assertTrue(view.isDataNode("d1"));
    assertFalse(view.isDataNode("m1"), "up, but stores no chunks");
    assertFalse(view.isDataNode("d2"), "stores chunks, but dead");
    assertFalse(view.isDataNode("nobody"));
    assertEquals(List.of("d1", "d2", "d3"), ids(view.withRole(MemberRole.DATA)),
        "with the role, whatever the state");
  }

  @Test
  void metadataEndpointsAreTheUpMembersWithTheMetadataRole() {
    ClusterView view = ClusterView.of(SPLIT);
    assertEquals(List.of("m1"), ids(view.metadataEndpoints()));
    assertEquals(List.of("m1", "m2"), ids(view.withRole(MemberRole.METADATA)));
  }

  @Test
  void aMemberThatListsNoRoleIsBoth() {
    MemberInfo old = member("s1", MemberState.UP);
    assertEquals(Set.of(MemberRole.METADATA, MemberRole.DATA), ClusterView.rolesOf(old));
    ClusterView view = ClusterView.of(List.of(old, member("d1", MemberState.UP, MemberRole.DATA)));
    assertEquals(List.of("d1", "s1"), ids(view.dataNodes()));
    assertEquals(List.of("s1"), ids(view.metadataEndpoints()));
    assertEquals("metadata,data", ClusterView.roleNames(old));
    assertEquals("data", ClusterView.roleNames(view.member("d1").orElseThrow()));
    assertEquals("metadata,data", ClusterView.roleNames(
        member("x", MemberState.UP, MemberRole.DATA, MemberRole.METADATA, MemberRole.DATA)),
        "in role order, once each");
  }

  @Test
  void aRoleThisVersionDoesNotKnowCountsAsNone() {
    // A record from a newer member naming a role this one cannot read (the enum's numeric
    // value arrives unrecognised): with no role left, it is taken as both.
    MemberInfo unknown = MemberInfo.newBuilder().setId("n").setState(MemberState.UP)
        .addRolesValue(7).build();
    assertEquals(Set.of(MemberRole.METADATA, MemberRole.DATA), ClusterView.rolesOf(unknown));
    MemberInfo unknownAndData = unknown.toBuilder().addRoles(MemberRole.DATA).build();
    assertEquals(Set.of(MemberRole.DATA), ClusterView.rolesOf(unknownAndData));
  }

  @Test
  void statesAreReadFromEachMember() {
    ClusterView view = ClusterView.of(SPLIT);
    assertTrue(view.isUp("m1"));
    assertFalse(view.isUp("m2"));
    assertFalse(view.isUp("d2"));
    assertFalse(view.isUp("nobody"), "a member the view does not list is not up");
    assertTrue(view.isDead("d2"));
    assertFalse(view.isDead("m2"), "down is not dead");
    assertFalse(view.isDead("d1"));
    assertEquals(List.of("d1", "d3", "m1"), ids(view.up()), "up, whatever the role");
    assertFalse(ClusterView.of(List.of(member("u", MemberState.MEMBER_STATE_UNKNOWN)))
        .isUp("u"), "a state never set is not up");
  }

  @Test
  void anUnlistedMemberIsDeadOnlyWhenTheViewWasBuiltToSaySo() {
    assertFalse(ClusterView.of(SPLIT).isDead("gone"));
    assertTrue(ClusterView.of(SPLIT, true).isDead("gone"));
    assertFalse(ClusterView.of(SPLIT, true).isDead("d1"), "a listed member goes by its state");
    assertFalse(ClusterView.empty().isDead("gone"));
  }

  @Test
  void membersComeInIdOrderWhateverTheInputOrder() {
    List<MemberInfo> shuffled = new ArrayList<>(SPLIT);
    Collections.reverse(shuffled);
    ClusterView view = ClusterView.of(shuffled);
    assertEquals(List.of("d1", "d2", "d3", "m1", "m2"), ids(view.members()));
    assertEquals(List.of("d1", "d3"), ids(view.dataNodes()));
  }

  @Test
  void aMemberListedTwiceIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ClusterView.of(List.of(member("a", MemberState.UP), member("a", MemberState.DOWN))));
    assertTrue(e.getMessage().contains("listed twice"), e.getMessage());
  }

  @Test
  void theViewDoesNotChangeWithItsInput() {
    List<MemberInfo> input = new ArrayList<>(SPLIT);
    ClusterView view = ClusterView.of(input);
    input.clear();
    assertEquals(5, view.members().size());
    assertThrows(UnsupportedOperationException.class, () -> view.members().clear());
    assertThrows(UnsupportedOperationException.class,
        () -> ClusterView.rolesOf(SPLIT.get(0)).clear());
  }

  @Test
  void statesReadAsScriptsExpectThem() {
    assertEquals("up", ClusterView.stateName(MemberState.UP));
    assertEquals("down", ClusterView.stateName(MemberState.DOWN));
    assertEquals("dead", ClusterView.stateName(MemberState.DEAD));
    assertEquals("?", ClusterView.stateName(MemberState.MEMBER_STATE_UNKNOWN));
  }
}
