package io.shoalfs.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ByteRangeTest {
  @Test
  void theThreeFormsOfARange() throws Exception {
    assertEquals(new ByteRange(0, 99), ByteRange.parse("bytes=0-99", 1000));
    assertEquals(new ByteRange(900, 999), ByteRange.parse("bytes=900-", 1000));
    assertEquals(new ByteRange(900, 999), ByteRange.parse("bytes=-100", 1000));
    assertEquals(new ByteRange(0, 999), ByteRange.parse("bytes=-5000", 1000));
    assertEquals("bytes 0-99/1000", ByteRange.parse("bytes=0-99", 1000).contentRange(1000));
    assertEquals(100, ByteRange.parse("bytes=0-99", 1000).length());
  }

  @Test
  void aRangePastTheEndIsCutToTheObject() throws Exception {
    assertEquals(new ByteRange(990, 999), ByteRange.parse("bytes=990-5000", 1000));
  }

  @Test
  void aRangeStartingAtOrPastTheEndIsInvalid() {
    assertEquals(416, assertThrows(S3Exception.class, () -> ByteRange.parse("bytes=1000-", 1000)).status());
    assertEquals("InvalidRange", assertThrows(S3Exception.class,
        () -> ByteRange.parse("bytes=0-0", 0)).code());
    assertEquals("InvalidRange", assertThrows(S3Exception.class,
        () -> ByteRange.parse("bytes=-0", 10)).code());
  }

  @Test
  void headersS3IgnoresSendTheWholeObject() throws Exception {
    assertNull(ByteRange.parse(null, 10));
    assertNull(ByteRange.parse("bytes=0-1,4-5", 10));
    assertNull(ByteRange.parse("items=0-1", 10));
    assertNull(ByteRange.parse("bytes=5-1", 10));
    assertNull(ByteRange.parse("bytes=a-b", 10));
    assertNull(ByteRange.parse("bytes=-", 10));
  }
}
