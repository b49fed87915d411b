package io.shoalfs.server.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.ratis.metrics.LongCounter;
import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.junit.jupiter.api.Test;

class UncollectedRatisMetricsTest {
  private static final MetricRegistryInfo INFO =
      new MetricRegistryInfo("s1", "ratis", "server", "test registry");

  @Test
  void ratisLoadsThisImplementation() {
    assertInstanceOf(UncollectedRatisMetrics.class, MetricRegistries.global());
  }

  @Test
  void registriesAreKeptByInfoAndCountersCount() {
    UncollectedRatisMetrics metrics = new UncollectedRatisMetrics();
    RatisMetricRegistry registry = metrics.create(INFO);
    assertSame(registry, metrics.create(INFO));
    assertSame(registry, metrics.get(INFO).orElseThrow());
    LongCounter counter = registry.counter("appends");
    counter.inc();
    counter.inc(4);
    counter.dec();
    assertEquals(4, registry.counter("appends").getCount());
    assertEquals(0, registry.timer("apply").time().stop());
    assertTrue(metrics.remove(INFO));
    assertTrue(metrics.get(INFO).isEmpty());
  }
}
