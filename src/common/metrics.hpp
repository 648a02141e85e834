// Thread-safe in-process metrics registry with Prometheus text exposition
// (format 0.0.4), served by the HTTP layer at /metrics.
//
// Hot paths: look a series up once and keep the reference, e.g.
//   static auto& created = common::metrics().counter_family(
//       "tradesphere_customers_created_total", "Customers created, by source");
//   created.with({{"source", "chat"}}).inc();
// or, for a fixed label set,
//   static auto& c = common::metrics().counter("name", "help", {{"k", "v"}});
// References returned by the registry and by families stay valid for the
// registry's lifetime. inc/set/observe are lock-free atomics; with() takes a
// per-family mutex; registration takes the registry mutex.
//
// Misuse (bad metric or label name, same name registered with another type,
// label set or buckets, negative counter increment) throws std::invalid_argument:
// these are programming errors, not request errors.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace tradesphere::common {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(double n = 1.0);  // n >= 0
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void inc(double n = 1.0) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  void dec(double n = 1.0) noexcept { value_.fetch_sub(n, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // Upper bounds, strictly increasing and finite; +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);
  void observe(double v) noexcept;  // NaN is ignored
  void observe(std::chrono::nanoseconds d) noexcept { observe(std::chrono::duration<double>(d).count()); }

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf last
    double sum = 0;
    std::uint64_t count = 0;  // == cumulative.back()
  };
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const noexcept { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0.0};
};

// Records the elapsed time (seconds) into a histogram when destroyed.
class ScopedTimer {
 public:
  explicit ScopedTimer(Histogram& h) : h_(h), start_(std::chrono::steady_clock::now()) {}
  ~ScopedTimer() { h_.observe(std::chrono::steady_clock::now() - start_); }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  Histogram& h_;
  std::chrono::steady_clock::time_point start_;
};

// 0.5 ms … 10 s, for request and query durations.
const std::vector<double>& default_duration_buckets();

enum class MetricType { kCounter, kGauge, kHistogram };

namespace detail {
// Canonical label key: sorted by name, validated.
Labels canonical_labels(const Labels& labels, bool histogram);
}  // namespace detail

template <typename Metric>
class Family {
 public:
  Family(std::string name, std::string help, MetricType type, std::vector<double> bounds = {})
      : name_(std::move(name)), help_(std::move(help)), type_(type), bounds_(std::move(bounds)) {}

  // The series for this label set (order of pairs does not matter), created on first use.
  Metric& with(const Labels& labels) {
    Labels key = detail::canonical_labels(labels, type_ == MetricType::kHistogram);
    std::lock_guard lock(mutex_);
    auto it = series_.find(key);
    if (it == series_.end()) it = series_.emplace(std::move(key), make()).first;
    return *it->second;
  }

  const std::string& name() const noexcept { return name_; }
  const std::string& help() const noexcept { return help_; }
  MetricType type() const noexcept { return type_; }
  const std::vector<double>& bounds() const noexcept { return bounds_; }

  // Calls fn(labels, metric) for each series in label order, under the family lock.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    std::lock_guard lock(mutex_);
    for (const auto& [labels, metric] : series_) fn(labels, *metric);
  }

 private:
  std::unique_ptr<Metric> make() const {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      return std::make_unique<Histogram>(bounds_);
    } else {
      return std::make_unique<Metric>();
    }
  }

  std::string name_;
  std::string help_;
  MetricType type_;
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::map<Labels, std::unique_ptr<Metric>> series_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Registers the family on first use; later calls with the same name return the
  // same family (the first help text wins). Counter names should end in "_total".
  CounterFamily& counter_family(std::string_view name, std::string_view help);
  GaugeFamily& gauge_family(std::string_view name, std::string_view help);
  HistogramFamily& histogram_family(std::string_view name, std::string_view help,
                                    const std::vector<double>& bounds = default_duration_buckets());

  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {}) {
    return counter_family(name, help).with(labels);
  }
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {}) {
    return gauge_family(name, help).with(labels);
  }
  Histogram& histogram(std::string_view name, std::string_view help, const Labels& labels = {},
                       const std::vector<double>& bounds = default_duration_buckets()) {
    return histogram_family(name, help, bounds).with(labels);
  }

  // Prometheus text exposition format 0.0.4: families sorted by name, each with
  // # HELP and # TYPE, series sorted by labels; histograms as cumulative
  // _bucket{le="…"} (ending with le="+Inf"), _sum and _count. A family with no
  // series yet is emitted with its HELP/TYPE only.
  // Content-Type: text/plain; version=0.0.4; charset=utf-8
  std::string render_prometheus() const;

 private:
  struct Entry {
    MetricType type;
    std::unique_ptr<CounterFamily> counter;
    std::unique_ptr<GaugeFamily> gauge;
    std::unique_ptr<HistogramFamily> histogram;
  };
  Entry& entry(std::string_view name, std::string_view help, MetricType type, const std::vector<double>* bounds);

  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> families_;
};

// The process-wide registry.
MetricsRegistry& metrics();

// Helpers for the exposition format (exposed for tests and reuse).
std::string escape_label_value(std::string_view value);  // \ " newline
std::string escape_help(std::string_view help);           // \ newline
std::string format_metric_value(double v);                // "+Inf", "-Inf", "NaN", shortest round-trip

}  // namespace tradesphere::common
