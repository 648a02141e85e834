#include "services/idempotency_service.hpp"

#include "db/database.hpp"

namespace tradesphere::services {

IdempotencyClaim IdempotencyService::claim(const domain::RequestContext& ctx, const std::string& key,
                                           const std::string& request_hash) {
  return db_.transact(ctx, "idempotency_claim", [&](db::Tx& tx) {
    if (store_.insert_claim(tx, ctx.company_id, key, request_hash)) return IdempotencyClaim{ClaimOutcome::kClaimed, {}};
    auto record = store_.find_for_update(tx, ctx.company_id, key, stale_after_);
    if (!record) return IdempotencyClaim{ClaimOutcome::kInProgress, {}};  // deleted meanwhile: let the client retry
    if (record->request_hash != request_hash) return IdempotencyClaim{ClaimOutcome::kMismatch, {}};
    if (!record->response) {
      if (record->stale) {
        store_.take_over(tx, ctx.company_id, key);
        return IdempotencyClaim{ClaimOutcome::kClaimed, {}};
      }
      return IdempotencyClaim{ClaimOutcome::kInProgress, {}};
    }
    return IdempotencyClaim{ClaimOutcome::kReplay, std::move(record->response)};
  });
}

void IdempotencyService::complete(const domain::RequestContext& ctx, const std::string& key,
                                  const StoredResponse& response) {
  db_.transact(ctx, "idempotency_complete",
               [&](db::Tx& tx) { store_.complete(tx, ctx.company_id, key, response); });
}

void IdempotencyService::release(const domain::RequestContext& ctx, const std::string& key) {
  db_.transact(ctx, "idempotency_release", [&](db::Tx& tx) { store_.release(tx, ctx.company_id, key); });
}

}  // namespace tradesphere::services
