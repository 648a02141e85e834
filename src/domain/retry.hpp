// The pure retry rule for a whole database transaction (modelled on
// pqxx::perform): the db layer describes a failure in a FailureInfo, asks
// classify_failure, sleeps backoff_delay between attempts, and gives up after
// kMaxAttempts. No libpqxx type appears here.
#pragma once

#include <chrono>
#include <random>
#include <string>

namespace tradesphere::domain {

enum class RetryDecision { kRetry, kDoNotRetry };

const char* to_string(RetryDecision decision) noexcept;

struct FailureInfo {
  std::string sqlstate;            // five characters, "" when the server sent none
  bool broken_connection = false;  // the connection died (pqxx::broken_connection)
  bool in_doubt = false;           // commit outcome unknown (pqxx::in_doubt_error)
  bool during_commit = false;      // the failure happened while committing
};

// Total tries of one transaction, the first included.
inline constexpr int kMaxAttempts = 3;

// kRetry only for:
//   * 40001 serialization_failure and 40P01 deadlock_detected (the server
//     answered, so the transaction is known to be rolled back, even at COMMIT);
//   * a broken connection (also SQLSTATE class 08, and 57P01/57P02/57P03:
//     the server closed or refused the session) that happened before COMMIT.
// kDoNotRetry for anything in doubt, a connection lost during COMMIT (the
// commit may have happened), 40003 statement_completion_unknown, constraint
// violations (class 23), and every other state.
RetryDecision classify_failure(const FailureInfo& failure) noexcept;

// classify_failure(...) == kRetry && attempts_made < kMaxAttempts.
bool should_retry(const FailureInfo& failure, int attempts_made) noexcept;

inline constexpr std::chrono::milliseconds kBackoffBase{20};
inline constexpr std::chrono::milliseconds kBackoffCap{1000};

// Delay before the next try after `attempt` tries have failed (attempt >= 1):
// full jitter, uniform in [0, min(cap, base * 2^(attempt-1))] = [0,20], [0,40],
// [0,80] ms … capped at 1 s. attempt < 1 is treated as 1.
std::chrono::milliseconds backoff_delay(int attempt, std::mt19937& rng);

}  // namespace tradesphere::domain
