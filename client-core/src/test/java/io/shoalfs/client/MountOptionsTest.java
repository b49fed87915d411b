package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class MountOptionsTest {
  @Test
  void defaultsAreOneDashOArgument() {
    assertArrayEquals(new String[] {"-o",
            "fsname=shoalfs,subtype=shoal,allow_other,default_permissions,big_writes,"
                + "max_read=131072,max_write=131072,use_ino,attr_timeout=0,entry_timeout=1"},
        MountOptions.defaults().toArgs());
    assertEquals(0, new MountOptions(List.of()).toArgs().length);
  }

  @Test
  void configDefaultsAndChecks() {
    ShoalFuseConfig c = ShoalFuseConfig.defaults();
    assertEquals(64L << 20, c.chunkSize());
    assertEquals(Duration.ofSeconds(2), c.pathCacheTtl());
    assertEquals(1024, c.withChunkSize(1024).chunkSize());
    assertThrows(IllegalArgumentException.class, () -> c.withChunkSize(0));
    assertThrows(IllegalArgumentException.class, () -> c.withCallTimeout(Duration.ZERO));
  }
}
