#include "domain/retry.hpp"

#include <algorithm>

namespace tradesphere::domain {

namespace {

bool is_connection_state(const std::string& sqlstate) {
  return sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
}

}  // namespace

const char* to_string(RetryDecision decision) noexcept {
  return decision == RetryDecision::kRetry ? "retry" : "do_not_retry";
}

RetryDecision classify_failure(const FailureInfo& failure) noexcept {
  if (failure.in_doubt) return RetryDecision::kDoNotRetry;
  const bool broken = failure.broken_connection || is_connection_state(failure.sqlstate);
  if (broken) {
    return failure.during_commit ? RetryDecision::kDoNotRetry : RetryDecision::kRetry;
  }
  if (failure.sqlstate == "40001" || failure.sqlstate == "40P01") return RetryDecision::kRetry;
  return RetryDecision::kDoNotRetry;
}

bool should_retry(const FailureInfo& failure, int attempts_made) noexcept {
  return attempts_made < kMaxAttempts && classify_failure(failure) == RetryDecision::kRetry;
}

std::chrono::milliseconds backoff_delay(int attempt, std::mt19937& rng) {
  const int exponent = std::clamp(attempt, 1, 31) - 1;
  const long long ceiling =
      exponent >= 10 ? kBackoffCap.count()
                     : std::min<long long>(kBackoffCap.count(), kBackoffBase.count() * (1LL << exponent));
  std::uniform_int_distribution<long long> dist(0, ceiling);
  return std::chrono::milliseconds(dist(rng));
}

}  // namespace tradesphere::domain
