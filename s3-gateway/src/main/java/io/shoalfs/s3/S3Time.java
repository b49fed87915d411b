package io.shoalfs.s3;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** The two time formats S3 speaks: HTTP dates in headers, ISO 8601 in XML. */
final class S3Time {
  private static final DateTimeFormatter HTTP =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
          .withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter ISO =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private S3Time() {}

  static String http(Instant t) {
    return HTTP.format(t);
  }

  static String iso(Instant t) {
    return ISO.format(t);
  }

  /** An HTTP date header (RFC 1123); null when absent or not a date (S3 then ignores it). */
  static Instant parseHttp(String value) {
    if (value == null) {
      return null;
    }
    try {
      return Instant.from(DateTimeFormatter.RFC_1123_DATE_TIME.parse(value.trim()));
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  static Instant ofNanos(long ns) {
    return Instant.ofEpochSecond(Math.floorDiv(ns, 1_000_000_000L),
        Math.floorMod(ns, 1_000_000_000L));
  }
}
