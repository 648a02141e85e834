// SQL of merge and undo-merge (issue 6). Every function runs inside the
// caller's transaction (db::Database::transact); the service owns the rules.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "domain/merge_plan.hpp"

namespace tradesphere::db {

// What a merge does with the rows of a table that reference customers.
enum class ReferenceAction {
  kMove,     // rows of the source are re-pointed at the target (ids recorded for undo)
  kDerived,  // maintained by triggers from other rows (keys, metrics): follows by itself
  kHistory,  // records about the customer as it was (merge log, dismissals, merge chains): kept
};

struct ForeignKeyRef {
  std::string table;       // relation name, unquoted
  std::string constraint;  // pg_constraint.conname
  std::string columns;     // referencing columns, comma-separated
};

// Every foreign key that references customers, read from pg_constraint
// (readable by every role), ordered by table and constraint.
std::vector<ForeignKeyRef> customer_foreign_keys(Tx& tx);
// The action for a known foreign key; std::nullopt for one this code does not know.
std::optional<ReferenceAction> reference_action(const ForeignKeyRef& fk);

struct LockedCustomer {
  domain::MergeRecord record;
  std::string status;
  std::optional<std::string> merged_into;
  int version = 0;
  nlohmann::json image;  // to_jsonb(customers row)
};

// Locks the rows FOR UPDATE in id order (one statement) and returns them by id;
// ids of other companies are simply absent (row-level security).
std::map<std::string, LockedCustomer> lock_customers(Tx& tx, const std::string& company_id,
                                                     std::vector<std::string> ids);
// The non-undone merge that merged `customer_id` away, if any.
std::optional<std::string> merge_that_absorbed(Tx& tx, const std::string& company_id, const std::string& customer_id);

// Counts of the rows that reference `customer_id`, per moved table.
std::map<std::string, long> count_references(Tx& tx, const std::string& company_id, const std::string& customer_id);

// Re-points the rows of every kMove table from source to target; returns table -> moved ids.
nlohmann::json move_references(Tx& tx, const std::string& company_id, const std::string& source,
                               const std::string& target);
// Moves the listed rows back from target to source; returns the number of rows that
// did not move (no longer reference the target).
long move_references_back(Tx& tx, const std::string& company_id, const std::string& source,
                          const std::string& target, const nlohmann::json& moved_rows);
// Checks the rows are still where the merge put them; returns a description of the first that is not.
std::optional<std::string> first_moved_row_elsewhere(Tx& tx, const std::string& company_id, const std::string& target,
                                                     const nlohmann::json& moved_rows);

int update_target_fields(Tx& tx, const std::string& company_id, const std::string& target,
                         const domain::MergeOutcome& outcome);
int mark_merged(Tx& tx, const std::string& company_id, const std::string& source, const std::string& target);
// Restores the updatable columns of a customer row from a to_jsonb image.
int restore_customer(Tx& tx, const std::string& company_id, const std::string& id, const nlohmann::json& image);

std::string new_uuid(Tx& tx);

struct MergeLogRow {
  std::string id;
  std::string merge_id;
  std::string source_customer_id;
  std::string target_customer_id;
  nlohmann::json source_snapshot;
  nlohmann::json target_snapshot;
  nlohmann::json field_choices;
  nlohmann::json moved_rows;
  std::optional<std::string> actor;
  std::string created_at;
  std::optional<std::string> undone_at;
};

void insert_merge_log(Tx& tx, const std::string& company_id, const MergeLogRow& row);
// The log rows of one merge (all its sources), ordered by source id; empty when unknown.
std::vector<MergeLogRow> load_merge(Tx& tx, const std::string& company_id, const std::string& merge_id);
// A merge into `target` after `after_created_at` (not undone) other than merge_id.
std::optional<std::string> later_merge_into(Tx& tx, const std::string& company_id, const std::string& target,
                                            const std::string& merge_id, const std::string& after_created_at);
// One merge as listed in the merge history (all its log rows folded).
struct MergeSummaryRow {
  std::string merge_id;
  std::string target_customer_id;
  std::vector<std::string> source_customer_ids;  // ordered by id
  nlohmann::json field_choices;
  std::optional<std::string> actor;
  std::string created_at;
  std::optional<std::string> undone_at;
};
// The company's merges, newest first; `after` = (created_at text, merge_id) of the
// last row of the previous page. Returns at most `limit` rows.
std::vector<MergeSummaryRow> list_merges(Tx& tx, const std::string& company_id, int limit,
                                         const std::optional<std::pair<std::string, std::string>>& after);

void mark_merge_undone(Tx& tx, const std::string& company_id, const std::string& merge_id);

void insert_event(Tx& tx, const std::string& company_id, const std::string& customer_id, const std::string& type,
                  const nlohmann::json& payload);

}  // namespace tradesphere::db
