// SQL of duplicate detection (issue 6): what the C++ model compares, candidate
// blocking for one customer (indexed: email equality/trigram, phone digits,
// name trigram), and "not a duplicate" dismissals.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "db/database.hpp"
#include <nlohmann/json.hpp>

#include "domain/duplicate_scoring.hpp"

namespace tradesphere::db {

// Every active customer of the company, ordered by id.
std::vector<domain::MatchInput> load_active_match_inputs(Tx& tx, const std::string& company_id);
// One customer (any status); std::nullopt when not visible.
std::optional<domain::MatchInput> load_match_input(Tx& tx, const std::string& company_id, const std::string& id);
// Active customers sharing a block with `id` (at most 1000).
std::vector<domain::MatchInput> load_candidates(Tx& tx, const std::string& company_id, const std::string& id);

// Dismissed pairs of the company (customer_a < customer_b), or only those involving `customer_id`.
std::set<std::pair<std::string, std::string>> load_dismissals(Tx& tx, const std::string& company_id,
                                                              const std::optional<std::string>& customer_id = {});
// Stores the pair in canonical order; true when it was new.
bool insert_dismissal(Tx& tx, const std::string& company_id, const std::string& a, const std::string& b,
                      const std::optional<std::string>& reason);

// The company's stored duplicate model (parameters jsonb), std::nullopt when never trained.
std::optional<nlohmann::json> load_duplicate_model(Tx& tx, const std::string& company_id);
void store_duplicate_model(Tx& tx, const std::string& company_id, const domain::MatchModel& model,
                           const std::optional<std::string>& actor);

}  // namespace tradesphere::db
