package io.shoalfs.client;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;

/**
 * Which listings ask for their entries' attributes (ReadDirOp.with_attrs). A tree walk (tar,
 * find, rsync, rm -r, ls -l) lists each directory once and then looks up every name in it: the
 * attributes in the listing answer those lookups without a call each. A directory listed again
 * and again (a program polling it) mostly wants the names, and fetching every entry's
 * attributes made such listings two to four times slower (mdbench). So the first listing of a
 * directory in a window asks for attributes and the repeats within it do not, as the Linux NFS
 * client uses READDIRPLUS for a directory's first listing.
 */
final class ReaddirPlus {
  static final Duration WINDOW = Duration.ofSeconds(10);
  private static final long MAX_DIRECTORIES = 10_000;

  private final Cache<Long, Boolean> listedLately;

  ReaddirPlus() {
    this(Ticker.systemTicker());
  }

  ReaddirPlus(Ticker ticker) {
    this.listedLately = ExpiringCaches.builder(MAX_DIRECTORIES, WINDOW, ticker).build();
  }

  /** Whether a listing of {@code dir} starting now should carry attributes. */
  boolean withAttrs(long dir) {
    return listedLately.asMap().putIfAbsent(dir, Boolean.TRUE) == null;
  }
}
