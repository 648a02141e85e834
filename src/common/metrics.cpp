#include "common/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>

namespace tradesphere::common {

namespace {

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

const char* type_name(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

void append_labels(std::string& out, const Labels& labels, const std::string* le = nullptr) {
  if (labels.empty() && !le) return;
  out.push_back('{');
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out.push_back(',');
    first = false;
    out += k;
    out += "=\"";
    out += escape_label_value(v);
    out.push_back('"');
  }
  if (le) {
    if (!first) out.push_back(',');
    out += "le=\"";
    out += *le;
    out.push_back('"');
  }
  out.push_back('}');
}

void append_sample(std::string& out, std::string_view name, std::string_view suffix, const Labels& labels,
                   double value, const std::string* le = nullptr) {
  out.append(name);
  out.append(suffix);
  append_labels(out, labels, le);
  out.push_back(' ');
  out += format_metric_value(value);
  out.push_back('\n');
}

}  // namespace

namespace detail {

Labels canonical_labels(const Labels& labels, bool histogram) {
  Labels out = labels;
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!valid_label_name(out[i].first)) throw std::invalid_argument("invalid label name '" + out[i].first + "'");
    if (histogram && out[i].first == "le") throw std::invalid_argument("label 'le' is reserved for histograms");
    if (i > 0 && out[i].first == out[i - 1].first) {
      throw std::invalid_argument("duplicate label name '" + out[i].first + "'");
    }
  }
  return out;
}

}  // namespace detail

// ---- metrics --------------------------------------------------------------

void Counter::inc(double n) {
  if (!(n >= 0)) throw std::invalid_argument("counter increment must be >= 0");
  value_.fetch_add(n, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i])) throw std::invalid_argument("histogram bounds must be finite");
    if (i > 0 && !(bounds_[i] > bounds_[i - 1])) {
      throw std::invalid_argument("histogram bounds must be strictly increasing");
    }
  }
}

void Histogram::observe(double v) noexcept {
  if (std::isnan(v)) return;
  // First bucket whose upper bound is >= v (le = "less or equal").
  const auto idx = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[idx].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  s.cumulative.resize(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

const std::vector<double>& default_duration_buckets() {
  static const std::vector<double> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
  return kBuckets;
}

// ---- registry -------------------------------------------------------------

MetricsRegistry::Entry& MetricsRegistry::entry(std::string_view name, std::string_view help, MetricType type,
                                               const std::vector<double>* bounds) {
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name '" + std::string(name) + "'");
  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    if (it->second.type != type) {
      throw std::invalid_argument("metric '" + std::string(name) + "' is already registered as a " +
                                  type_name(it->second.type));
    }
    if (bounds && it->second.histogram->bounds() != *bounds) {
      throw std::invalid_argument("histogram '" + std::string(name) + "' is already registered with other buckets");
    }
    return it->second;
  }
  if (type == MetricType::kHistogram) {
    // Bucket sanity checked once here, not on every series creation.
    Histogram probe(*bounds);
    (void)probe;
  }
  Entry e{type, nullptr, nullptr, nullptr};
  switch (type) {
    case MetricType::kCounter:
      e.counter = std::make_unique<CounterFamily>(std::string(name), std::string(help), type);
      break;
    case MetricType::kGauge:
      e.gauge = std::make_unique<GaugeFamily>(std::string(name), std::string(help), type);
      break;
    case MetricType::kHistogram:
      e.histogram = std::make_unique<HistogramFamily>(std::string(name), std::string(help), type, *bounds);
      break;
  }
  return families_.emplace(std::string(name), std::move(e)).first->second;
}

CounterFamily& MetricsRegistry::counter_family(std::string_view name, std::string_view help) {
  return *entry(name, help, MetricType::kCounter, nullptr).counter;
}

GaugeFamily& MetricsRegistry::gauge_family(std::string_view name, std::string_view help) {
  return *entry(name, help, MetricType::kGauge, nullptr).gauge;
}

HistogramFamily& MetricsRegistry::histogram_family(std::string_view name, std::string_view help,
                                                   const std::vector<double>& bounds) {
  return *entry(name, help, MetricType::kHistogram, &bounds).histogram;
}

std::string MetricsRegistry::render_prometheus() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, e] : families_) {
    const std::string* help = nullptr;
    switch (e.type) {
      case MetricType::kCounter: help = &e.counter->help(); break;
      case MetricType::kGauge: help = &e.gauge->help(); break;
      case MetricType::kHistogram: help = &e.histogram->help(); break;
    }
    out += "# HELP " + name + " " + escape_help(*help) + "\n";
    out += "# TYPE " + name + " " + type_name(e.type) + "\n";
    switch (e.type) {
      case MetricType::kCounter:
        e.counter->for_each([&](const Labels& l, const Counter& c) { append_sample(out, name, "", l, c.value()); });
        break;
      case MetricType::kGauge:
        e.gauge->for_each([&](const Labels& l, const Gauge& g) { append_sample(out, name, "", l, g.value()); });
        break;
      case MetricType::kHistogram:
        e.histogram->for_each([&](const Labels& l, const Histogram& h) {
          const Histogram::Snapshot s = h.snapshot();
          for (std::size_t i = 0; i < s.bounds.size(); ++i) {
            const std::string le = format_metric_value(s.bounds[i]);
            append_sample(out, name, "_bucket", l, static_cast<double>(s.cumulative[i]), &le);
          }
          const std::string inf = "+Inf";
          append_sample(out, name, "_bucket", l, static_cast<double>(s.count), &inf);
          append_sample(out, name, "_sum", l, s.sum);
          append_sample(out, name, "_count", l, static_cast<double>(s.count));
        });
        break;
    }
  }
  return out;
}

MetricsRegistry& metrics() {
  static MetricsRegistry registry;
  return registry;
}

// ---- formatting -----------------------------------------------------------

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string format_metric_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc{}) return "NaN";
  return std::string(buf, ptr);
}

}  // namespace tradesphere::common
