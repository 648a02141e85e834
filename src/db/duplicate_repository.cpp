#include "db/duplicate_repository.hpp"

namespace tradesphere::db {
namespace {

constexpr const char* kSelectActiveMatchInputs = R"SQL(
SELECT c.id::text, c.external_id, c.name, coalesce(c.email, c.attributes->>'invalid_email'),
       coalesce(c.phone, c.attributes->>'invalid_phone'), c.address
  FROM customers c
 WHERE c.company_id = $1 AND c.status = 'active'
 ORDER BY c.id
)SQL";

constexpr const char* kSelectMatchInput = R"SQL(
SELECT c.id::text, c.external_id, c.name, coalesce(c.email, c.attributes->>'invalid_email'),
       coalesce(c.phone, c.attributes->>'invalid_phone'), c.address
  FROM customers c
 WHERE c.company_id = $1 AND c.id = $2
)SQL";

// Blocking for one customer: duplicate_candidate_ids (migration 0011) matches on the
// indexed customer_search rows of the current tenant.
constexpr const char* kSelectCandidates = R"SQL(
SELECT c.id::text, c.external_id, c.name, coalesce(c.email, c.attributes->>'invalid_email'),
       coalesce(c.phone, c.attributes->>'invalid_phone'), c.address
  FROM duplicate_candidate_ids($2::uuid, 1000) AS d (id)
  JOIN customers c ON c.company_id = $1 AND c.id = d.id AND c.status = 'active'
 ORDER BY c.id
)SQL";

constexpr const char* kSelectDismissals = R"SQL(
SELECT d.customer_a::text, d.customer_b::text
  FROM duplicate_dismissals d
 WHERE d.company_id = $1 AND ($2::uuid IS NULL OR d.customer_a = $2 OR d.customer_b = $2)
)SQL";

constexpr const char* kInsertDismissal = R"SQL(
INSERT INTO duplicate_dismissals (company_id, customer_a, customer_b, reason)
VALUES ($1, least($2::uuid, $3::uuid), greatest($2::uuid, $3::uuid), $4)
ON CONFLICT DO NOTHING
RETURNING 1
)SQL";

constexpr const char* kSelectModel = R"SQL(
SELECT parameters::text FROM duplicate_models WHERE company_id = $1
)SQL";

constexpr const char* kUpsertModel = R"SQL(
INSERT INTO duplicate_models (company_id, parameters, source, trained_records, trained_pairs, trained_at, trained_by)
VALUES ($1, $2::jsonb, $3, $4, $5, now(), $6)
ON CONFLICT (company_id) DO UPDATE
   SET parameters = EXCLUDED.parameters, source = EXCLUDED.source, trained_records = EXCLUDED.trained_records,
       trained_pairs = EXCLUDED.trained_pairs, trained_at = EXCLUDED.trained_at, trained_by = EXCLUDED.trained_by
)SQL";

domain::MatchInput match_input_from_row(const pqxx::row& r) {
  return {r[0].as<std::string>(),
          r[1].as<std::optional<std::string>>(),
          r[2].as<std::optional<std::string>>(),
          r[3].as<std::optional<std::string>>(),
          r[4].as<std::optional<std::string>>(),
          r[5].as<std::optional<std::string>>()};
}

}  // namespace

std::vector<domain::MatchInput> load_active_match_inputs(Tx& tx, const std::string& company_id) {
  std::vector<domain::MatchInput> out;
  auto rows = tx.exec(kSelectActiveMatchInputs, company_id);
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(match_input_from_row(r));
  return out;
}

std::optional<domain::MatchInput> load_match_input(Tx& tx, const std::string& company_id, const std::string& id) {
  auto r = tx.exec01(kSelectMatchInput, company_id, id);
  if (!r) return std::nullopt;
  return match_input_from_row(*r);
}

std::vector<domain::MatchInput> load_candidates(Tx& tx, const std::string& company_id, const std::string& id) {
  std::vector<domain::MatchInput> out;
  for (const auto& r : tx.exec(kSelectCandidates, company_id, id)) out.push_back(match_input_from_row(r));
  return out;
}

std::set<std::pair<std::string, std::string>> load_dismissals(Tx& tx, const std::string& company_id,
                                                              const std::optional<std::string>& customer_id) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& r : tx.exec(kSelectDismissals, company_id, customer_id))
    out.emplace(r[0].as<std::string>(), r[1].as<std::string>());
  return out;
}

bool insert_dismissal(Tx& tx, const std::string& company_id, const std::string& a, const std::string& b,
                      const std::optional<std::string>& reason) {
  return !tx.exec(kInsertDismissal, company_id, a, b, reason).empty();
}

std::optional<nlohmann::json> load_duplicate_model(Tx& tx, const std::string& company_id) {
  auto rows = tx.exec(kSelectModel, company_id);
  if (rows.empty()) return std::nullopt;
  return nlohmann::json::parse(rows[0][0].as<std::string>());
}

void store_duplicate_model(Tx& tx, const std::string& company_id, const domain::MatchModel& model,
                           const std::optional<std::string>& actor) {
  tx.exec(kUpsertModel, company_id, domain::to_json(model).dump(), model.source,
          static_cast<long long>(model.trained_records), static_cast<long long>(model.trained_pairs), actor);
}

}  // namespace tradesphere::db
