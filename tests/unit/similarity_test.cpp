#include <gtest/gtest.h>

#include "domain/similarity.hpp"

namespace {
using namespace tradesphere::domain;

TEST(Similarity, JaroWinklerMatchesKnownValues) {
  EXPECT_NEAR(jaro_winkler("martha", "marhta"), 0.961, 0.001);
  EXPECT_NEAR(jaro_winkler("dwayne", "duane"), 0.84, 0.001);
  EXPECT_DOUBLE_EQ(jaro_winkler("abc", "abc"), 1.0);
  EXPECT_DOUBLE_EQ(jaro_winkler("abc", "xyz"), 0.0);
}

TEST(Similarity, EditDistancesCountTranspositionsOnceInOsa) {
  EXPECT_EQ(levenshtein("kitten", "sitting"), 3u);
  EXPECT_EQ(levenshtein("ab", "ba"), 2u);
  EXPECT_EQ(osa_distance("ab", "ba"), 1u);
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
