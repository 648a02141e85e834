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

IdempotencyStore::IdempotencyStore(Database& db, std::chrono::seconds stale_after)
    : db_(db), stale_after_(stale_after) {}

Claim IdempotencyStore::claim(const domain::RequestContext& ctx, const std::string& key,
                              const std::string& request_hash) {
  return db_.transact(ctx, "idempotency_claim", [&](Tx& tx) {
    if (tx.exec01(kInsertIdempotencyKey, ctx.company_id, key, request_hash)) return Claim{ClaimOutcome::kClaimed, {}};
    auto row = tx.exec01(kSelectIdempotencyKey, ctx.company_id, key, static_cast<double>(stale_after_.count()));
    if (!row) return Claim{ClaimOutcome::kInProgress, {}};  // deleted meanwhile: let the client retry
    if ((*row)["request_hash"].as<std::string>() != request_hash) return Claim{ClaimOutcome::kMismatch, {}};
    auto status = (*row)["status_code"].as<std::optional<int>>();
    if (!status) {
      if ((*row)["stale"].as<bool>()) {
        tx.exec0(kTakeOverIdempotencyKey, ctx.company_id, key);
        return Claim{ClaimOutcome::kClaimed, {}};
      }
      return Claim{ClaimOutcome::kInProgress, {}};
    }
    StoredResponse stored{*status, (*row)["response_body"].as<std::optional<std::string>>().value_or(""),
                          (*row)["location"].as<std::optional<std::string>>()};
    return Claim{ClaimOutcome::kReplay, std::move(stored)};
  });
}

void IdempotencyStore::complete(const domain::RequestContext& ctx, const std::string& key,
                                const StoredResponse& response) {
  db_.transact(ctx, "idempotency_complete", [&](Tx& tx) {
    tx.exec0(kCompleteIdempotencyKey, ctx.company_id, key, response.status, response.body, response.location);
  });
}

void IdempotencyStore::release(const domain::RequestContext& ctx, const std::string& key) {
  db_.transact(ctx, "idempotency_release", [&](Tx& tx) { tx.exec0(kDeleteIdempotencyKey, ctx.company_id, key); });
}

}  // namespace tradesphere::db
