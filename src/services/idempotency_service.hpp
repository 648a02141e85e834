// Idempotency-Key records as the HTTP dispatcher uses them (db::IdempotencyStore,
// table idempotency_keys): claim a key before running a request, then store its
// response, or release the key when the request failed without effect. Each call
// is one transaction around db::IdempotencyStore's queries.
#pragma once

#include <chrono>
#include <string>

#include "db/idempotency_store.hpp"
#include "domain/idempotency.hpp"
#include "domain/request_context.hpp"

namespace tradesphere::db {
class Database;
}

namespace tradesphere::services {

class IdempotencyService {
 public:
  // An unfinished claim older than `stale_after` (a crashed request) may be taken over.
  explicit IdempotencyService(db::Database& db, std::chrono::seconds stale_after = std::chrono::seconds(300))
      : db_(db), stale_after_(stale_after) {}

  domain::IdempotencyClaim claim(const domain::RequestContext& ctx, const std::string& key, const std::string& request_hash);
  void complete(const domain::RequestContext& ctx, const std::string& key, const domain::StoredResponse& response);
  // The claimed request failed without effect: forget the key so a retry runs again.
  void release(const domain::RequestContext& ctx, const std::string& key);

 private:
  db::Database& db_;
  std::chrono::seconds stale_after_;
  db::IdempotencyStore store_;
};

}  // namespace tradesphere::services
