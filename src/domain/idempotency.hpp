// What an Idempotency-Key claim answers (services::IdempotencyService, the HTTP
// dispatcher): the stored response of a finished request, or why not. No database
// type here.
#pragma once

#include <optional>
#include <string>

namespace tradesphere::domain {

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

struct IdempotencyClaim {
  ClaimOutcome outcome = ClaimOutcome::kClaimed;
  std::optional<StoredResponse> stored;
};

}  // namespace tradesphere::domain
