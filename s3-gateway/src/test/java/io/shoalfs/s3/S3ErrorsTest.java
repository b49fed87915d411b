package io.shoalfs.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

class S3ErrorsTest {
  @Test
  void theErrorDocumentIsS3sAndEscaped() throws Exception {
    String xml = S3Errors.xml(S3Errors.noSuchKey("a<&>\"b"), "/bucket/a<&>\"b", "REQ1");
    Element root = Xml.parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    assertEquals("Error", root.getLocalName());
    assertEquals("NoSuchKey", Xml.childText(root, "Code"));
    assertEquals("/bucket/a<&>\"b", Xml.childText(root, "Resource"));
    assertEquals("REQ1", Xml.childText(root, "RequestId"));
    assertTrue(Xml.childText(root, "Message").endsWith("a<&>\"b"));
  }

  @Test
  void posixOutcomesBecomeS3Codes() {
    assertEquals(404, S3Errors.of(new RpcException(Status.ENOENT, "x"), "k").status());
    assertEquals("NoSuchKey", S3Errors.of(new RpcException(Status.ENOENT, "x"), "k").code());
    assertEquals("AccessDenied", S3Errors.of(new RpcException(Status.EACCES, "x"), "k").code());
    assertEquals(503, S3Errors.of(new RpcException(Status.UNAVAILABLE, "x"), "k").status());
    assertEquals(409, S3Errors.of(new RpcException(Status.ENOTDIR, "x"), "k").status());
    assertEquals("KeyTooLongError", S3Errors.of(new RpcException(Status.ENAMETOOLONG, "x"), "k").code());
    assertEquals(500, S3Errors.of(new RpcException(Status.CORRUPT, "x"), "k").status());
  }

  @Test
  void xmlWithADoctypeIsRefused() {
    String evil = "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        + "<Delete><Object><Key>&x;</Key></Object></Delete>";
    S3Exception e = org.junit.jupiter.api.Assertions.assertThrows(S3Exception.class,
        () -> Xml.parse(new ByteArrayInputStream(evil.getBytes(StandardCharsets.UTF_8))));
    assertEquals("MalformedXML", e.code());
  }

  @Test
  void keysThatAreNotPathsAreRefused() throws Exception {
    ObjectKeys.checkKey("a/b/c");
    ObjectKeys.checkKey("a/b/");
    for (String bad : new String[] {"", "/a", "a//b", "a/./b", "a/../b", "..", "a\0b",
        "x".repeat(256)}) {
      assertEquals(400, org.junit.jupiter.api.Assertions.assertThrows(S3Exception.class,
          () -> ObjectKeys.checkKey(bad), bad).status());
    }
    assertTrue(ObjectKeys.isValidBucket("my-bucket.1"));
    for (String bad : new String[] {"ab", ".shoal-s3", "Upper", "a..b", "-ab", "ab-"}) {
      assertTrue(!ObjectKeys.isValidBucket(bad), bad);
    }
  }
}
