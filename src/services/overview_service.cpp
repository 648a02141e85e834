#include "services/overview_service.hpp"

#include "db/database.hpp"
#include "db/overview_repository.hpp"
#include "domain/duplicate_scoring.hpp"
#include "services/customer_merge_service.hpp"

namespace tradesphere::services {

Overview OverviewService::get_overview(const domain::RequestContext& ctx) {
  Overview o;
  o.min_duplicate_score = domain::ScoringConfig{}.threshold;
  o.counts = db_.transact(
      ctx, "overview", [&](db::Tx& tx) { return db::load_overview(tx, ctx.company_id, o.min_duplicate_score); },
      db::TxMode::kReadOnly);
  const auto& c = o.counts;
  o.active_customers = c.prospect + c.lead + c.customer + c.churned;
  o.duplicate_rate = o.active_customers == 0 ? 0.0
                                             : static_cast<double>(c.customers_in_duplicate_pairs) /
                                                   static_cast<double>(o.active_customers);
  if (groups_) {
    auto cached = groups_->find(ctx.company_id, o.min_duplicate_score);
    if (cached && cached->version == c.duplicate_pairs_version) o.duplicate_groups = cached->groups.size();
  }
  return o;
}

nlohmann::json to_json(const Overview& o) {
  const auto& c = o.counts;
  return {
      {"as_of", c.as_of},
      {"day_start", c.day_start},
      {"customers",
       {{"total", o.active_customers},
        {"by_stage", {{"prospect", c.prospect}, {"lead", c.lead}, {"customer", c.customer}, {"churned", c.churned}}}}},
      {"duplicates",
       {{"min_score", o.min_duplicate_score},
        {"open_pairs", c.duplicate_pairs},
        {"customers_in_pairs", c.customers_in_duplicate_pairs},
        {"rate", o.duplicate_rate},
        {"groups", o.duplicate_groups ? nlohmann::json(*o.duplicate_groups) : nlohmann::json(nullptr)}}},
      {"conversations",
       {{"started_today", c.conversations_started_today},
        {"active_today", c.conversations_active_today},
        {"messages_today", c.messages_today}}},
      {"chat_sync_failures",
       {{"open", c.sync_failures_error + c.sync_failures_paused + c.sync_failures_metrics},
        {"by_reason",
         {{"error", c.sync_failures_error}, {"paused", c.sync_failures_paused}, {"metrics", c.sync_failures_metrics}}}}},
      {"orphaned_chat_rows", c.orphaned_chat_rows},
  };
}

}  // namespace tradesphere::services
