#include "domain/retry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

namespace tradesphere::domain {
namespace {

FailureInfo state(const char* sqlstate) { return FailureInfo{sqlstate, false, false, false}; }

TEST(RetryClassifier, RetriesSerializationFailureAndDeadlock) {
  EXPECT_EQ(classify_failure(state("40001")), RetryDecision::kRetry);
  EXPECT_EQ(classify_failure(state("40P01")), RetryDecision::kRetry);
}

TEST(RetryClassifier, RetriesSerializationFailureReportedAtCommit) {
  // The server answered COMMIT with an error: the transaction is known to be rolled back.
  EXPECT_EQ(classify_failure(FailureInfo{"40001", false, false, true}), RetryDecision::kRetry);
}

TEST(RetryClassifier, RetriesBrokenConnectionBeforeCommit) {
  EXPECT_EQ(classify_failure(FailureInfo{"", true, false, false}), RetryDecision::kRetry);
  EXPECT_EQ(classify_failure(state("08006")), RetryDecision::kRetry);
  EXPECT_EQ(classify_failure(state("08003")), RetryDecision::kRetry);
  EXPECT_EQ(classify_failure(state("57P01")), RetryDecision::kRetry);
}

TEST(RetryClassifier, NeverRetriesBrokenConnectionDuringCommit) {
  EXPECT_EQ(classify_failure(FailureInfo{"", true, false, true}), RetryDecision::kDoNotRetry);
  EXPECT_EQ(classify_failure(FailureInfo{"08006", false, false, true}), RetryDecision::kDoNotRetry);
  EXPECT_EQ(classify_failure(FailureInfo{"40001", true, false, true}), RetryDecision::kDoNotRetry);
}

TEST(RetryClassifier, NeverRetriesInDoubt) {
  EXPECT_EQ(classify_failure(FailureInfo{"", false, true, true}), RetryDecision::kDoNotRetry);
  EXPECT_EQ(classify_failure(FailureInfo{"", true, true, false}), RetryDecision::kDoNotRetry);
  EXPECT_EQ(classify_failure(FailureInfo{"40001", false, true, false}), RetryDecision::kDoNotRetry);
}

TEST(RetryClassifier, NeverRetriesConstraintViolationsOrOtherErrors) {
  for (const char* s : {"23505", "23503", "23514", "23502", "23P01", "40003", "40002", "40000", "42P01", "42501",
                        "22001", "57014", "53300", "P0001", "XX000", ""}) {
    EXPECT_EQ(classify_failure(state(s)), RetryDecision::kDoNotRetry) << s;
  }
}

TEST(RetryClassifier, ShouldRetryStopsAfterMaxAttempts) {
  EXPECT_EQ(kMaxAttempts, 3);
  EXPECT_TRUE(should_retry(state("40001"), 1));
  EXPECT_TRUE(should_retry(state("40001"), 2));
  EXPECT_FALSE(should_retry(state("40001"), 3));
  EXPECT_FALSE(should_retry(state("23505"), 1));
  EXPECT_STREQ(to_string(RetryDecision::kRetry), "retry");
  EXPECT_STREQ(to_string(RetryDecision::kDoNotRetry), "do_not_retry");
}

TEST(RetryBackoff, StaysWithinTheExponentialCeiling) {
  std::mt19937 rng(42);
  for (int attempt = 1; attempt <= 12; ++attempt) {
    const long long ceiling = std::min(1000LL, 20LL << (attempt - 1));
    for (int i = 0; i < 500; ++i) {
      const auto d = backoff_delay(attempt, rng).count();
      EXPECT_GE(d, 0);
      EXPECT_LE(d, ceiling) << "attempt " << attempt;
    }
  }
}

TEST(RetryBackoff, IsJitteredAndGrows) {
  std::mt19937 rng(1);
  std::set<long long> first;
  long long max1 = 0;
  long long max3 = 0;
  for (int i = 0; i < 1000; ++i) {
    const long long a = backoff_delay(1, rng).count();
    first.insert(a);
    max1 = std::max(max1, a);
    max3 = std::max(max3, static_cast<long long>(backoff_delay(3, rng).count()));
  }
  EXPECT_GT(first.size(), 10u);  // not a constant delay
  EXPECT_LE(max1, 20);
  EXPECT_GT(max3, 40);  // attempt 3 reaches beyond attempt 1's ceiling
  EXPECT_LE(max3, 80);
}

TEST(RetryBackoff, IsCappedAndToleratesOutOfRangeAttempts) {
  std::mt19937 rng(3);
  long long max_big = 0;
  for (int i = 0; i < 2000; ++i) {
    max_big = std::max(max_big, static_cast<long long>(backoff_delay(1'000'000, rng).count()));
    EXPECT_LE(backoff_delay(0, rng).count(), 20);
    EXPECT_LE(backoff_delay(-5, rng).count(), 20);
  }
  EXPECT_LE(max_big, 1000);
  EXPECT_GT(max_big, 500);
}

TEST(RetryBackoff, IsDeterministicForASeed) {
  std::mt19937 a(99);
  std::mt19937 b(99);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(backoff_delay(2, a), backoff_delay(2, b));
}

}  // namespace
}  // namespace tradesphere::domain
