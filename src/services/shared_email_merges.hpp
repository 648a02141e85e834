// One email, one active customer (issue 15) for data that predates the rule: the
// customers of a legacy database that share a normalized email are merged into
// the oldest of them by the ordinary merge (one merge per email: in the merge log,
// audited, undoable with POST /v1/merges/{id}/undo). The oldest keeps its legacy
// name, email and phone (the rollback contract: legacy values are never
// rewritten). Run by `backfill` before it links the chat rows, so the rows go
// straight to the customer that stays.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "db/legacy_upgrade.hpp"

namespace tradesphere::db {
class Database;
}  // namespace tradesphere::db

namespace tradesphere::services {

struct SharedEmailMerges {
  std::size_t emails = 0;            // emails whose customers were merged
  std::size_t customers_merged = 0;  // customers merged into an older one
  std::vector<std::string> merge_ids;
  std::vector<std::string> failures;  // "email (company): reason" of groups left as they were
};

SharedEmailMerges merge_shared_emails(db::Database& db, const std::vector<db::SharedEmailGroup>& groups);

}  // namespace tradesphere::services
