package io.shoalfs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.etcd.jetcd.ByteSequence;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MemberKeysTest {
  @Test
  void keyAndIdRoundTrip() {
    ByteSequence k = MemberKeys.keyOf("node-1");
    assertEquals("/shoalfs/members/node-1", k.toString(StandardCharsets.UTF_8));
    assertEquals("node-1", MemberKeys.idOf(k));
  }

  @Test
  void idsThatWouldNestOrBeEmptyAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> MemberKeys.keyOf(""));
    assertThrows(IllegalArgumentException.class, () -> MemberKeys.keyOf("a/b"));
    assertThrows(IllegalArgumentException.class, () -> MemberKeys.keyOf("a b"));
    assertNull(MemberKeys.idOf(ByteSequence.from("/shoalfs/members/a/b", StandardCharsets.UTF_8)));
    assertNull(MemberKeys.idOf(ByteSequence.from("/shoalfs/other/a", StandardCharsets.UTF_8)));
  }
}
