// Idempotency-Key records for the HTTP API (table idempotency_keys, migration
// 0010). The first request with a key claims it, runs, then stores its
// response; a retry with the same key and the same request gets that response
// back; the same key with a different request is refused.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "domain/request_context.hpp"

namespace tradesphere::db {

class Database;

struct StoredResponse {
  int status = 0;
  std::string body;
  std::optional<std::string> location;
};

enum class ClaimOutcome {
  kClaimed,     // first use (or a stale unfinished claim taken over): run the request, then complete()
  kReplay,      // finished before: return `stored`
  kInProgress,  // the first request with this key is still running
  kMismatch,    // the key was used for a different request
};

struct Claim {
  ClaimOutcome outcome = ClaimOutcome::kClaimed;
  std::optional<StoredResponse> stored;
};

class IdempotencyStore {
 public:
  // An unfinished claim older than `stale_after` (a crashed request) may be taken over.
  explicit IdempotencyStore(Database& db, std::chrono::seconds stale_after = std::chrono::seconds(300));

  Claim claim(const domain::RequestContext& ctx, const std::string& key, const std::string& request_hash);
  void complete(const domain::RequestContext& ctx, const std::string& key, const StoredResponse& response);
  // The claimed request failed without effect: forget the key so a retry runs again.
  void release(const domain::RequestContext& ctx, const std::string& key);

 private:
  Database& db_;
  std::chrono::seconds stale_after_;
};

}  // namespace tradesphere::db
