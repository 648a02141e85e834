// Idempotency-Key records for the HTTP API (table idempotency_keys, migration
// 0010). The first request with a key claims it, runs, then stores its
// response; a retry with the same key and the same request gets that response
// back; the same key with a different request is refused. Query code: every
// method runs in the caller's transaction; services::IdempotencyService owns the
// transaction and decides what a stored record means.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "domain/idempotency.hpp"
#include "domain/request_context.hpp"

namespace tradesphere::db {

class Tx;

// The values (domain/idempotency.hpp), by their names in this layer.
using domain::ClaimOutcome;
using domain::StoredResponse;
using Claim = domain::IdempotencyClaim;

// A stored key, locked (FOR UPDATE) by find_for_update.
struct IdempotencyRecord {
  std::string request_hash;
  std::optional<StoredResponse> response;  // absent while the first request runs
  bool stale = false;                       // unfinished and claimed longer ago than `stale_after`
};

class IdempotencyStore {
 public:
  // Claims the key for the request; false when the key exists already.
  bool insert_claim(Tx& tx, const std::string& company_id, const std::string& key, const std::string& request_hash);
  // The key's record, row-locked; nullopt when it does not exist (deleted meanwhile).
  std::optional<IdempotencyRecord> find_for_update(Tx& tx, const std::string& company_id, const std::string& key,
                                                   std::chrono::seconds stale_after);
  // Takes an unfinished claim over (restarts its age).
  void take_over(Tx& tx, const std::string& company_id, const std::string& key);
  void complete(Tx& tx, const std::string& company_id, const std::string& key, const StoredResponse& response);
  // Deletes an unfinished claim.
  void release(Tx& tx, const std::string& company_id, const std::string& key);
};

}  // namespace tradesphere::db
