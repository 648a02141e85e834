#include <gtest/gtest.h>

#include "domain/contact_extraction.hpp"

namespace {
using namespace tradesphere::domain;

ChatMessage msg(std::int64_t id, const std::string& session, const std::string& text, const std::string& at,
                const std::string& ai = "Sure, happy to help with that request today.") {
  return {id, session, text, ai, at};
}

TEST(ContactExtraction, FindsEmailsPhonesAndIntroducedNamesWithTheirMessage) {
  auto info = extract_contact_info({msg(1, "s1", "Hi, my name is Jane Doe and I need help", "2024-01-01"),
                                    msg(2, "s1", "Reach me at Jane.Doe@Example.com, or call (415) 555-2671.", "2024-01-01"),
                                    msg(3, "s2", "I'm looking for a quote, order 123", "2024-01-02")});
  ASSERT_EQ(info.names.size(), 1u);
  EXPECT_EQ(info.names[0].value, "Jane Doe");
  EXPECT_EQ(info.names[0].message_id, 1);
  ASSERT_EQ(info.emails.size(), 1u);
  EXPECT_EQ(info.emails[0].value, "jane.doe@example.com");
  EXPECT_EQ(info.emails[0].session_id, "s1");
  ASSERT_EQ(info.phones.size(), 1u);
  EXPECT_EQ(info.phones[0].value, "+14155552671");
  EXPECT_EQ(info.phones[0].message_id, 2);
}

TEST(ContactExtraction, UsesTheDefaultRegionAndRejectsInvalidNumbers) {
  auto gb = extract_contact_info({msg(1, "s", "my number is 020 7946 0018", "t")}, "GB");
  ASSERT_EQ(gb.phones.size(), 1u);
  EXPECT_EQ(gb.phones[0].value, "+442079460018");
  auto none = extract_contact_info({msg(1, "s", "order 1234567 shipped", "t")}, "US");
  EXPECT_TRUE(none.phones.empty());
  EXPECT_EQ(region_for_calling_code("44"), "GB");
}

TEST(ContactExtraction, SummaryIsDeterministicAndExtractive) {
  std::vector<ChatMessage> m{msg(2, "s2", "Does the warranty cover water damage?", "2024-02-01", "Let me check?"),
                             msg(1, "s1", "Warranty question about my blender warranty", "2024-01-01")};
  auto a = summarize_conversations(m);
  auto b = summarize_conversations({m[1], m[0]});
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.sessions, 2u);
  EXPECT_EQ(a.top_terms.at(0), "warranty");
  ASSERT_EQ(a.open_questions.size(), 1u);
  EXPECT_EQ(*a.last_user_message, "Does the warranty cover water damage?");
  EXPECT_EQ(summarize_conversations({}).text, "No conversations.");
}

TEST(ContactExtraction, CompletenessIsShareOfFilledFields) {
  EXPECT_DOUBLE_EQ(profile_completeness("A", std::nullopt, std::nullopt, std::nullopt, std::nullopt, 0), 1.0 / 6);
  EXPECT_DOUBLE_EQ(profile_completeness("A", "a@b.co", "1", "x", "n", 1), 1.0);
  EXPECT_DOUBLE_EQ(profile_completeness(" ", std::nullopt, std::nullopt, std::nullopt, std::nullopt, 0), 0.0);
}

}  // namespace
