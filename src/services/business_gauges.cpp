#include "services/business_gauges.hpp"

#include <map>
#include <utility>

#include "common/json_log.hpp"
#include "common/metrics.hpp"
#include "db/database.hpp"
#include "db/metrics_repository.hpp"
#include "domain/customer.hpp"
#include "domain/request_context.hpp"

namespace tradesphere::services {
namespace {

constexpr domain::LifecycleStage kStages[] = {domain::LifecycleStage::kProspect, domain::LifecycleStage::kLead,
                                              domain::LifecycleStage::kCustomer, domain::LifecycleStage::kChurned};

void family_header(std::string& out, const char* name, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += common::escape_help(help);
  out += "\n# TYPE ";
  out += name;
  out += " gauge\n";
}

void series(std::string& out, const char* name, const std::vector<std::pair<const char*, std::string>>& labels,
            double value) {
  out += name;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    out += common::escape_label_value(v);
    out += '"';
  }
  out += "} ";
  out += common::format_metric_value(value);
  out += '\n';
}

}  // namespace

void BusinessGauges::refresh_if_stale() {
  const auto now = std::chrono::steady_clock::now();
  if (last_attempt_ && now - *last_attempt_ < ttl_) return;
  last_attempt_ = now;
  // Not tenant-scoped: customer_gauges() visits every company itself.
  const domain::RequestContext ctx{"", "metrics", domain::Role::kViewer, "metrics"};
  try {
    auto loaded = db_.transact(
        ctx, "customer_gauges",
        [](db::Tx& tx) { return std::make_pair(db::load_customer_gauges(tx), db::load_chat_sync_failure_gauges(tx)); },
        db::TxMode::kReadOnly);
    rows_ = std::move(loaded.first);
    failure_rows_ = std::move(loaded.second);
  } catch (const std::exception& e) {
    static auto& failures = common::metrics().counter("tradesphere_business_gauges_failures_total",
                                                      "Refreshes of the business gauges on /metrics that failed");
    failures.inc();
    common::log(spdlog::level::warn, "metrics.business_gauges_failed", {{"error", e.what()}});
  }
}

std::vector<domain::CustomerGaugeRow> BusinessGauges::snapshot() {
  std::lock_guard lock(mutex_);
  refresh_if_stale();
  return rows_;
}

std::vector<domain::ChatSyncFailureGaugeRow> BusinessGauges::failures_snapshot() {
  std::lock_guard lock(mutex_);
  refresh_if_stale();
  return failure_rows_;
}

std::string BusinessGauges::render_prometheus() {
  std::vector<domain::CustomerGaugeRow> rows;
  std::vector<domain::ChatSyncFailureGaugeRow> failures;
  {
    std::lock_guard lock(mutex_);
    refresh_if_stale();
    rows = rows_;
    failures = failure_rows_;
  }
  struct Company {
    std::map<std::string, std::int64_t> by_stage;
    std::int64_t active = 0;
    std::int64_t with_duplicate = 0;
  };
  std::map<std::string, Company> companies;
  for (const auto& r : rows) {
    auto& c = companies[r.company_id];
    c.by_stage[r.lifecycle_stage] += r.customers;
    c.active += r.customers;
    c.with_duplicate += r.with_duplicate;
  }
  std::string out;
  family_header(out, "tradesphere_customer_duplicate_rate",
                "Share of active customers that share an email or phone key with another active customer, per "
                "company (cached for a few seconds)");
  for (const auto& [id, c] : companies) {
    series(out, "tradesphere_customer_duplicate_rate", {{"company_id", id}},
           c.active == 0 ? 0.0 : static_cast<double>(c.with_duplicate) / static_cast<double>(c.active));
  }
  family_header(out, "tradesphere_customers_active",
                "Active customers by lifecycle stage, per company (cached for a few seconds)");
  for (const auto& [id, c] : companies) {
    for (auto stage : kStages) {
      const std::string name = domain::to_string(stage);
      auto it = c.by_stage.find(name);
      series(out, "tradesphere_customers_active", {{"company_id", id}, {"lifecycle_stage", name}},
             static_cast<double>(it == c.by_stage.end() ? 0 : it->second));
    }
  }
  family_header(out, "tradesphere_customers_with_duplicates",
                "Active customers that share an email or phone key with another active customer, per company "
                "(cached for a few seconds)");
  for (const auto& [id, c] : companies) {
    series(out, "tradesphere_customers_with_duplicates", {{"company_id", id}}, static_cast<double>(c.with_duplicate));
  }
  family_header(out, "tradesphere_chat_sync_failures_open",
                "Chat rows stored but not linked to a customer (open chat_sync_failures), per company, reason and "
                "SQLSTATE (cached for a few seconds)");
  for (const auto& f : failures) {
    series(out, "tradesphere_chat_sync_failures_open",
           {{"company_id", f.company_id}, {"reason", f.reason}, {"sqlstate", f.sqlstate}},
           static_cast<double>(f.failures));
  }
  return out;
}

}  // namespace tradesphere::services
