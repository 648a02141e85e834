// The normalization plan of an adopted legacy database (`migrate adopt` records
// it in legacy_normalization; docs/upgrade.md, "What adopt accepts"). The
// migration runner applies it in the transaction of migration 0002, before 0002's
// own SQL, and undoes it (in reverse order) in the transaction that reverts 0002,
// after 0002's down. Both are no-ops for a database that was not adopted.
// Every function runs in the caller's transaction (none opens one).
#pragma once

#include <vector>

#include "db/legacy_upgrade.hpp"

namespace pqxx {
class transaction_base;
}

namespace tradesphere::db {

// Every difference between the database's legacy tables and the shape of
// migration 0001, classified, in the order the normalization steps run; reads only.
std::vector<ShapeDifference> analyze_legacy_shape(pqxx::transaction_base& tx);
// Creates legacy_normalization (and legacy_normalization_parked_rows) and records
// one step per normalized difference, in order (`migrate adopt`, in its transaction).
void record_legacy_normalization_plan(pqxx::transaction_base& tx, const std::vector<ShapeDifference>& differences);
// Runs the plan's steps that are not applied yet; returns how many ran.
int apply_legacy_normalization(pqxx::transaction_base& tx);
// Runs the undo of every applied step, last first; returns how many ran.
int undo_legacy_normalization(pqxx::transaction_base& tx);

}  // namespace tradesphere::db
