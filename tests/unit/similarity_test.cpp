#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "domain/similarity.hpp"

namespace {
using namespace tradesphere::domain;

TEST(Similarity, JaroWinklerMatchesKnownValues) {
  EXPECT_NEAR(jaro_winkler("martha", "marhta"), 0.961, 0.001);
  EXPECT_NEAR(jaro_winkler("dwayne", "duane"), 0.84, 0.001);
  EXPECT_DOUBLE_EQ(jaro_winkler("abc", "abc"), 1.0);
  EXPECT_DOUBLE_EQ(jaro_winkler("abc", "xyz"), 0.0);
}

// The textbook definition with flag vectors, for comparison with the word-flag
// version short inputs take (and the vector one of long inputs).
double reference_jaro_winkler(const std::string& a, const std::string& b) {
  if (a.empty() && b.empty()) return 1.0;
  if (a.empty() || b.empty()) return 0.0;
  const std::size_t window = std::max<std::size_t>(std::max(a.size(), b.size()) / 2, 1) - 1;
  std::vector<bool> am(a.size()), bm(b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = i > window ? i - window : 0; j < std::min(i + window + 1, b.size()); ++j)
      if (!bm[j] && a[i] == b[j]) {
        am[i] = bm[j] = true;
        ++m;
        break;
      }
  if (m == 0) return 0.0;
  double t = 0;
  for (std::size_t i = 0, k = 0; i < a.size(); ++i) {
    if (!am[i]) continue;
    while (!bm[k]) ++k;
    if (a[i] != b[k++]) ++t;
  }
  const double jaro = (m / a.size() + m / b.size() + (m - t / 2) / m) / 3;
  std::size_t p = 0;
  while (p < 4 && p < a.size() && p < b.size() && a[p] == b[p]) ++p;
  return jaro + p * 0.1 * (1 - jaro);
}

TEST(Similarity, JaroWinklerEqualsTheTextbookDefinitionOnShortAndLongInputs) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20000; ++round) {
    // few distinct letters: repeated characters, transpositions and window edges
    const std::size_t la = rng() % (round % 10 == 0 ? 90 : 14), lb = rng() % (round % 10 == 0 ? 90 : 14);
    const int letters = 2 + static_cast<int>(rng() % 5);
    std::string a, b;
    for (std::size_t i = 0; i < la; ++i) a += static_cast<char>('a' + rng() % letters);
    for (std::size_t i = 0; i < lb; ++i) b += static_cast<char>('a' + rng() % letters);
    ASSERT_EQ(jaro_winkler(a, b), reference_jaro_winkler(a, b)) << a << " / " << b;
  }
  const std::string long64(64, 'x'), long65(65, 'x');
  EXPECT_EQ(jaro_winkler(long64 + "", long64.substr(0, 63) + "y"), reference_jaro_winkler(long64, long64.substr(0, 63) + "y"));
  EXPECT_EQ(jaro_winkler(long65, long64), reference_jaro_winkler(long65, long64));
}

TEST(Similarity, EditDistancesCountTranspositionsOnceInOsa) {
  EXPECT_EQ(levenshtein("kitten", "sitting"), 3u);
  EXPECT_EQ(levenshtein("ab", "ba"), 2u);
  EXPECT_EQ(osa_distance("ab", "ba"), 1u);
}

// The banded check must answer exactly what the full distance answers, for every
// bound, on strings close enough to hit every branch (small alphabet: many matches
// and transpositions; lengths up to 140: the heap path beyond 127).
TEST(Similarity, OsaWithinAnswersExactlyAsTheFullDistance) {
  std::mt19937 rng(20261207);
  auto random_string = [&](std::size_t max_len) {
    std::string s(std::uniform_int_distribution<std::size_t>(0, max_len)(rng), 'a');
    for (auto& c : s) c = static_cast<char>('a' + std::uniform_int_distribution<int>(0, 2)(rng));
    return s;
  };
  auto mutate = [&](std::string s) {  // a few edits, so that near strings are common
    const int edits = std::uniform_int_distribution<int>(0, 3)(rng);
    for (int e = 0; e < edits; ++e) {
      const int kind = std::uniform_int_distribution<int>(0, 3)(rng);
      const std::size_t at = s.empty() ? 0 : std::uniform_int_distribution<std::size_t>(0, s.size() - 1)(rng);
      if (kind == 0) s.insert(at, 1, 'b');
      else if (kind == 1 && !s.empty()) s.erase(at, 1);
      else if (kind == 2 && !s.empty()) s[at] = 'c';
      else if (at + 1 < s.size()) std::swap(s[at], s[at + 1]);
    }
    return s;
  };
  int within = 0;
  for (int round = 0; round < 60000; ++round) {
    const std::string a = random_string(round % 10 == 0 ? 140 : 12);
    const std::string b = round % 2 ? mutate(a) : random_string(12);
    for (std::size_t max = 0; max <= 3; ++max) {
      const bool expected = osa_distance(a, b) <= max;
      ASSERT_EQ(osa_within(a, b, max), expected) << '"' << a << "\" vs \"" << b << "\" within " << max;
      within += expected;
    }
  }
  EXPECT_GT(within, 10000);  // the corpus reaches both answers
  EXPECT_TRUE(osa_within("ab", "ba", 1));
  EXPECT_FALSE(osa_within("ab", "ba", 0));
  EXPECT_TRUE(osa_within("", "ab", 2));
  EXPECT_FALSE(osa_within("", "abc", 2));
}

TEST(Similarity, TrigramSimilarityLikePgTrgm) {
  EXPECT_DOUBLE_EQ(trigram_similarity("word", "word"), 1.0);
  EXPECT_GT(trigram_similarity("jonathan smith", "jonathon smith"), 0.5);
  EXPECT_LT(trigram_similarity("alice", "bob"), 0.1);
}

TEST(Similarity, NicknamesAndSoundex) {
  EXPECT_EQ(canonical_first_name("bob"), "robert");
  EXPECT_EQ(canonical_first_name("zelda"), "zelda");
  EXPECT_EQ(soundex("robert"), "r163");
  EXPECT_EQ(soundex("rupert"), "r163");
  EXPECT_EQ(soundex("ashcraft"), "a261");
}

TEST(Similarity, EmailAndPhoneKeysIgnoreFormatting) {
  EXPECT_EQ(email_match_key(" J.Smith+crm@Example.com "), "jsmith@example.com");
  EXPECT_EQ(email_match_key("not an email"), "");
  EXPECT_EQ(phone_match_key("+1 (415) 555-0100"), "4155550100");
  EXPECT_EQ(phone_match_key("415.555.0100 ext 12"), "4155550100");
  EXPECT_EQ(phone_match_key("123"), "");
}

}  // namespace
