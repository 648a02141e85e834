#include "services/idempotency_service.hpp"

#include "db/database.hpp"

namespace tradesphere::services {

domain::IdempotencyClaim IdempotencyService::claim(const domain::RequestContext& ctx, const std::string& key,
                                           const std::string& request_hash) {
  return db_.transact(ctx, "idempotency_claim", [&](db::Tx& tx) {
    if (store_.insert_claim(tx, ctx.company_id, key, request_hash)) return domain::IdempotencyClaim{domain::ClaimOutcome::kClaimed, {}};
    auto record = store_.find_for_update(tx, ctx.company_id, key, stale_after_);
    if (!record) return domain::IdempotencyClaim{domain::ClaimOutcome::kInProgress, {}};  // deleted meanwhile: let the client retry
    if (record->request_hash != request_hash) return domain::IdempotencyClaim{domain::ClaimOutcome::kMismatch, {}};
    if (!record->response) {
      if (record->stale) {
        store_.take_over(tx, ctx.company_id, key);
        return domain::IdempotencyClaim{domain::ClaimOutcome::kClaimed, {}};
      }
      return domain::IdempotencyClaim{domain::ClaimOutcome::kInProgress, {}};
    }
    return domain::IdempotencyClaim{domain::ClaimOutcome::kReplay, std::move(record->response)};
  });
}

void IdempotencyService::complete(const domain::RequestContext& ctx, const std::string& key,
                                  const domain::StoredResponse& response) {
  db_.transact(ctx, "idempotency_complete",
               [&](db::Tx& tx) { store_.complete(tx, ctx.company_id, key, response); });
}

void IdempotencyService::release(const domain::RequestContext& ctx, const std::string& key) {
  db_.transact(ctx, "idempotency_release", [&](db::Tx& tx) { store_.release(tx, ctx.company_id, key); });
}

}  // namespace tradesphere::services
