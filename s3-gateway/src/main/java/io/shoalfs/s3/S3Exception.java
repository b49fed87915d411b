package io.shoalfs.s3;

/**
 * A request that ends in one of S3's error answers: its code (as S3 spells it), HTTP status
 * and message. Thrown anywhere below the router; the router writes it as S3's error XML.
 */
public final class S3Exception extends Exception {
  private final String code;
  private final int status;

  public S3Exception(String code, int status, String message) {
    super(message);
    this.code = code;
    this.status = status;
  }

  public String code() {
    return code;
  }

  public int status() {
    return status;
  }
}
