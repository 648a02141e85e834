#include "services/shared_email_merges.hpp"

#include <exception>
#include <map>
#include <optional>

#include "db/database.hpp"
#include "services/customer_merge_service.hpp"

namespace tradesphere::services {

SharedEmailMerges merge_shared_emails(db::Database& db, const std::vector<db::SharedEmailGroup>& groups) {
  SharedEmailMerges out;
  CustomerMergeService merges(db);
  for (const auto& g : groups) {
    if (g.customer_ids.size() < 2) continue;
    const domain::RequestContext ctx{g.company_id, "legacy-backfill", domain::Role::kAdmin, ""};
    const std::vector<std::string> sources(g.customer_ids.begin() + 1, g.customer_ids.end());
    try {
      // The legacy columns (name, email, phone) keep the oldest customer's values:
      // the upgrade never rewrites a legacy value, so `migrate down` still returns
      // the exact legacy rows. The new fields (address, stage, notes, tags) merge
      // as any merge does.
      std::map<std::string, std::optional<std::string>> keep;
      for (const auto& f : merges.preview_merge(ctx, g.customer_ids.front(), sources).fields)
        if ((f.field == "name" || f.field == "email" || f.field == "phone") && !f.values.empty())
          keep[f.field] = f.values.front().value;
      auto done = merges.merge_customers(ctx, g.customer_ids.front(), sources, keep);
      ++out.emails;
      out.customers_merged += done.source_ids.size();
      out.merge_ids.push_back(done.merge_id);
    } catch (const std::exception& e) {  // one group's guard (e.g. a later merge) leaves the others to run
      out.failures.push_back(g.email + " (company " + g.company_id + "): " + e.what());
    }
  }
  return out;
}

}  // namespace tradesphere::services
