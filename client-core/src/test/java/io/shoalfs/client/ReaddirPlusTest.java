package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ReaddirPlusTest {
  @Test
  void aDirectorysFirstListingInTheWindowCarriesAttributesAndRepeatsDoNot() {
    AtomicLong nanos = new AtomicLong();
    ReaddirPlus plus = new ReaddirPlus(nanos::get);
    assertTrue(plus.withAttrs(5), "first listing");
    assertFalse(plus.withAttrs(5), "listed again at once");
    assertTrue(plus.withAttrs(6), "another directory");
    nanos.addAndGet(ReaddirPlus.WINDOW.toNanos() + 1);
    assertTrue(plus.withAttrs(5), "after the window, a walk may be back");
  }
}
