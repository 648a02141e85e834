#include "db/idempotency_store.hpp"

#include "db/database.hpp"

namespace tradesphere::db {
namespace {

constexpr const char* kInsertIdempotencyKey =
    "INSERT INTO idempotency_keys (company_id, idempotency_key, request_hash) "
    "VALUES ($1::uuid, $2, $3) ON CONFLICT DO NOTHING RETURNING 1";
constexpr const char* kSelectIdempotencyKey =
    "SELECT request_hash, status_code, response_body, location, "
    "       (status_code IS NULL AND created_at < now() - make_interval(secs => $3)) AS stale "
    "FROM idempotency_keys WHERE company_id = $1::uuid AND idempotency_key = $2 FOR UPDATE";
constexpr const char* kTakeOverIdempotencyKey =
    "UPDATE idempotency_keys SET created_at = now() "
    "WHERE company_id = $1::uuid AND idempotency_key = $2 AND status_code IS NULL";
constexpr const char* kCompleteIdempotencyKey =
    "UPDATE idempotency_keys SET status_code = $3, response_body = $4, location = $5, completed_at = now() "
    "WHERE company_id = $1::uuid AND idempotency_key = $2";
constexpr const char* kDeleteIdempotencyKey =
    "DELETE FROM idempotency_keys WHERE company_id = $1::uuid AND idempotency_key = $2 AND status_code IS NULL";

}  // namespace

bool IdempotencyStore::insert_claim(Tx& tx, const std::string& company_id, const std::string& key,
                                    const std::string& request_hash) {
  return tx.exec01(kInsertIdempotencyKey, company_id, key, request_hash).has_value();
}

std::optional<IdempotencyRecord> IdempotencyStore::find_for_update(Tx& tx, const std::string& company_id,
                                                                   const std::string& key,
                                                                   std::chrono::seconds stale_after) {
  auto row = tx.exec01(kSelectIdempotencyKey, company_id, key, static_cast<double>(stale_after.count()));
  if (!row) return std::nullopt;
  IdempotencyRecord record;
  record.request_hash = (*row)["request_hash"].as<std::string>();
  if (auto status = (*row)["status_code"].as<std::optional<int>>()) {
    record.response = StoredResponse{*status, (*row)["response_body"].as<std::optional<std::string>>().value_or(""),
                                     (*row)["location"].as<std::optional<std::string>>()};
  }
  record.stale = (*row)["stale"].as<bool>();
  return record;
}

void IdempotencyStore::take_over(Tx& tx, const std::string& company_id, const std::string& key) {
  tx.exec0(kTakeOverIdempotencyKey, company_id, key);
}

void IdempotencyStore::complete(Tx& tx, const std::string& company_id, const std::string& key,
                                const StoredResponse& response) {
  tx.exec0(kCompleteIdempotencyKey, company_id, key, response.status, response.body, response.location);
}

void IdempotencyStore::release(Tx& tx, const std::string& company_id, const std::string& key) {
  tx.exec0(kDeleteIdempotencyKey, company_id, key);
}

}  // namespace tradesphere::db
