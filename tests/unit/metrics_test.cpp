#include "common/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tradesphere::common {
namespace {

TEST(MetricsRegistry, CounterRendersHelpTypeAndLabeledSeries) {
  MetricsRegistry r;
  r.counter("requests_total", "Requests served", {{"method", "GET"}, {"code", "200"}}).inc();
  r.counter("requests_total", "Requests served", {{"code", "200"}, {"method", "GET"}}).inc(2);  // same series
  r.counter("requests_total", "Requests served", {{"method", "POST"}, {"code", "201"}}).inc();
  EXPECT_EQ(r.render_prometheus(),
            "# HELP requests_total Requests served\n"
            "# TYPE requests_total counter\n"
            "requests_total{code=\"200\",method=\"GET\"} 3\n"
            "requests_total{code=\"201\",method=\"POST\"} 1\n");
}

TEST(MetricsRegistry, GaugeSetsIncrementsAndDecrements) {
  MetricsRegistry r;
  Gauge& g = r.gauge("pool_in_use", "Connections leased");
  g.set(5);
  g.inc();
  g.dec(2.5);
  EXPECT_DOUBLE_EQ(g.value(), 3.5);
  EXPECT_EQ(r.render_prometheus(),
            "# HELP pool_in_use Connections leased\n"
            "# TYPE pool_in_use gauge\n"
            "pool_in_use 3.5\n");
}

TEST(MetricsRegistry, HistogramRendersCumulativeBucketsSumAndCount) {
  MetricsRegistry r;
  Histogram& h = r.histogram("query_seconds", "Query time", {{"method", "get_customers"}}, {0.01, 0.1, 1});
  h.observe(0.005);
  h.observe(0.01);  // le is inclusive
  h.observe(0.05);
  h.observe(3.0);
  EXPECT_EQ(r.render_prometheus(),
            "# HELP query_seconds Query time\n"
            "# TYPE query_seconds histogram\n"
            "query_seconds_bucket{method=\"get_customers\",le=\"0.01\"} 2\n"
            "query_seconds_bucket{method=\"get_customers\",le=\"0.1\"} 3\n"
            "query_seconds_bucket{method=\"get_customers\",le=\"1\"} 3\n"
            "query_seconds_bucket{method=\"get_customers\",le=\"+Inf\"} 4\n"
            "query_seconds_sum{method=\"get_customers\"} 3.065\n"
            "query_seconds_count{method=\"get_customers\"} 4\n");
}

TEST(MetricsRegistry, HistogramWithoutLabelsAndDurations) {
  MetricsRegistry r;
  Histogram& h = r.histogram("t_seconds", "t", {}, {1});
  h.observe(std::chrono::milliseconds(1500));
  h.observe(std::numeric_limits<double>::quiet_NaN());  // ignored
  const auto s = h.snapshot();
  EXPECT_EQ(s.count, 1u);
  EXPECT_DOUBLE_EQ(s.sum, 1.5);
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{0, 1}));
  EXPECT_NE(r.render_prometheus().find("t_seconds_bucket{le=\"+Inf\"} 1\n"), std::string::npos);
}

TEST(MetricsRegistry, EscapesLabelValuesAndHelp) {
  MetricsRegistry r;
  r.counter("odd_total", "Help with \\ and\nnewline", {{"v", "a\\b\"c\nd"}}).inc();
  EXPECT_EQ(r.render_prometheus(),
            "# HELP odd_total Help with \\\\ and\\nnewline\n"
            "# TYPE odd_total counter\n"
            "odd_total{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(MetricsRegistry, FamiliesAreSortedByNameAndEmptyFamiliesShowMetadata) {
  MetricsRegistry r;
  r.counter("zeta_total", "z").inc();
  r.gauge_family("alpha", "a");
  const std::string out = r.render_prometheus();
  EXPECT_EQ(out,
            "# HELP alpha a\n# TYPE alpha gauge\n"
            "# HELP zeta_total z\n# TYPE zeta_total counter\nzeta_total 1\n");
}

TEST(MetricsRegistry, ReturnsStableReferences) {
  MetricsRegistry r;
  Counter& a = r.counter("c_total", "c", {{"k", "1"}});
  CounterFamily& fam = r.counter_family("c_total", "c");
  for (int i = 0; i < 100; ++i) fam.with({{"k", std::to_string(i + 2)}}).inc();  // grow the map
  Counter& again = fam.with({{"k", "1"}});
  EXPECT_EQ(&a, &again);
  a.inc(4);
  EXPECT_DOUBLE_EQ(again.value(), 4);
}

TEST(MetricsRegistry, RejectsMisuse) {
  MetricsRegistry r;
  r.counter("x_total", "x");
  EXPECT_THROW(r.gauge("x_total", "x"), std::invalid_argument);                 // other type
  EXPECT_THROW(r.counter("1bad", "x"), std::invalid_argument);                  // metric name
  EXPECT_THROW(r.counter("bad-name", "x"), std::invalid_argument);
  EXPECT_THROW(r.counter("y_total", "y", {{"bad-label", "v"}}), std::invalid_argument);
  EXPECT_THROW(r.counter("y_total", "y", {{"__reserved", "v"}}), std::invalid_argument);
  EXPECT_THROW(r.counter("y_total", "y", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "h", {{"le", "1"}}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h2", "h", {}, {1, 1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h3", "h", {}, {2, 1}), std::invalid_argument);
  r.histogram("h4", "h", {}, {1, 2});
  EXPECT_THROW(r.histogram("h4", "h", {}, {1, 3}), std::invalid_argument);  // other buckets
  EXPECT_THROW(r.counter("x_total", "x").inc(-1), std::invalid_argument);
  // A failed registration leaves nothing behind.
  EXPECT_EQ(r.render_prometheus().find("h2"), std::string::npos);
}

TEST(MetricsRegistry, IsThreadSafe) {
  MetricsRegistry r;
  constexpr int kThreads = 4;
  constexpr int kIterations = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&r, t] {
      for (int i = 0; i < kIterations; ++i) {
        r.counter("hits_total", "hits", {{"shard", std::to_string(i % 3)}}).inc();
        r.gauge("g", "g").inc();
        r.histogram("lat_seconds", "lat", {{"t", std::to_string(t)}}).observe(0.001);
        if (i % 1000 == 0) (void)r.render_prometheus();
      }
    });
  }
  for (auto& th : threads) th.join();
  double total = 0;
  r.counter_family("hits_total", "hits").for_each([&](const Labels&, const Counter& c) { total += c.value(); });
  EXPECT_DOUBLE_EQ(total, kThreads * kIterations);
  EXPECT_DOUBLE_EQ(r.gauge("g", "g").value(), kThreads * kIterations);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(r.histogram("lat_seconds", "lat", {{"t", std::to_string(t)}}).snapshot().count,
              static_cast<std::uint64_t>(kIterations));
  }
}

TEST(MetricsRegistry, GlobalRegistryIsASingleton) {
  EXPECT_EQ(&metrics(), &metrics());
  Counter& c = metrics().counter("tradesphere_unit_test_probe_total", "probe");
  c.inc();
  EXPECT_NE(metrics().render_prometheus().find("tradesphere_unit_test_probe_total"), std::string::npos);
}

TEST(MetricsRegistry, ScopedTimerObservesElapsedSeconds) {
  MetricsRegistry r;
  Histogram& h = r.histogram("op_seconds", "op", {}, {0.001, 10});
  {
    ScopedTimer timer(h);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto s = h.snapshot();
  EXPECT_EQ(s.count, 1u);
  EXPECT_GE(s.sum, 0.005);
  EXPECT_EQ(s.cumulative[0], 0u);  // not under 1 ms
  EXPECT_EQ(s.cumulative[1], 1u);
}

TEST(MetricsFormat, ValuesUsePrometheusSpelling) {
  EXPECT_EQ(format_metric_value(1), "1");
  EXPECT_EQ(format_metric_value(0.25), "0.25");
  EXPECT_EQ(format_metric_value(-3), "-3");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_metric_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_metric_value(std::nan("")), "NaN");
  EXPECT_EQ(escape_label_value("plain"), "plain");
  EXPECT_EQ(escape_help("a\"b"), "a\"b");  // quotes are not escaped in HELP
}

TEST(MetricsRegistry, DefaultBucketsAreIncreasingSeconds) {
  const auto& b = default_duration_buckets();
  ASSERT_FALSE(b.empty());
  for (std::size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
  EXPECT_LE(b.front(), 0.001);
  EXPECT_GE(b.back(), 5.0);
}

}  // namespace
}  // namespace tradesphere::common
