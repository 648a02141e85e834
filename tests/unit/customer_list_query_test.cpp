#include <gtest/gtest.h>

#include "db/customer_list_query.hpp"

namespace {

using tradesphere::db::customer_list_sql;
using tradesphere::db::filter_timestamp;
using tradesphere::db::like_escape;
using tradesphere::db::search_digits;
using tradesphere::domain::SortKey;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The cursor's value comes from a column the page has anyway; only the name (sorted by
// lower(name)) writes a sort_value of its own. Columns: total, 20 customer, 5 metrics, sort_value.
TEST(CustomerListQuery, TheCursorValueIsReadFromAColumnThePageHasAnyway) {
  using tradesphere::db::customer_list_cursor_column;
  for (bool descending : {false, true}) {
    EXPECT_TRUE(contains(customer_list_sql(SortKey::kName, descending), "(lower(c.name))::text AS sort_value"));
    for (SortKey key : {SortKey::kCreatedAt, SortKey::kLastContact, SortKey::kConversationCount}) {
      EXPECT_TRUE(contains(customer_list_sql(key, descending), "NULL::text AS sort_value"));
    }
  }
  EXPECT_EQ(customer_list_cursor_column(SortKey::kCreatedAt), 16);         // c.created_at::text
  EXPECT_EQ(customer_list_cursor_column(SortKey::kConversationCount), 21);  // coalesce(m.conversation_count, 0)
  EXPECT_EQ(customer_list_cursor_column(SortKey::kLastContact), 24);        // m.last_contact_at::text
  EXPECT_EQ(customer_list_cursor_column(SortKey::kName), 26);               // sort_value
}

TEST(CustomerListQuery, OrdersMatchTheListIndexesInBothDirections) {
  // The ORDER BY shapes docs/database.md ("Indexes and query shapes") asks for: the
  // sort key then the id of its index, in one direction.
  EXPECT_TRUE(contains(customer_list_sql(SortKey::kCreatedAt, false), "ORDER BY c.created_at ASC, c.id ASC"));
  EXPECT_TRUE(contains(customer_list_sql(SortKey::kCreatedAt, true), "ORDER BY c.created_at DESC, c.id DESC"));
  EXPECT_TRUE(contains(customer_list_sql(SortKey::kConversationCount, true),
                       "ORDER BY m.conversation_count DESC, m.customer_id DESC"));
  // A nullable key: the rows with a value in index order, the rows without by id,
  // each part ordered in the index's direction; the parts in the scan's order.
  EXPECT_TRUE(contains(customer_list_sql(SortKey::kName, false), "ORDER BY lower(c.name) ASC, c.id ASC"));
  EXPECT_TRUE(contains(customer_list_sql(SortKey::kName, true), "ORDER BY lower(c.name) DESC, c.id DESC"));
  EXPECT_TRUE(contains(customer_list_sql(SortKey::kLastContact, false),
                       "ORDER BY m.last_contact_at ASC, m.customer_id ASC"));
  EXPECT_TRUE(contains(customer_list_sql(SortKey::kLastContact, true),
                       "ORDER BY m.last_contact_at DESC, m.customer_id DESC"));
  for (SortKey key : {SortKey::kName, SortKey::kLastContact}) {
    for (bool descending : {false, true}) {
      const auto& sql = customer_list_sql(key, descending);
      EXPECT_TRUE(contains(sql, descending ? "ORDER BY u.sort_part, u.sort_key DESC, u.sort_id DESC"
                                           : "ORDER BY u.sort_part, u.sort_key ASC, u.sort_id ASC"));
      EXPECT_TRUE(contains(sql, " IS NULL AND ")) << "the part without a value";
    }
  }
  // names without a value come last ascending (first descending); contacts the other way round
  EXPECT_TRUE(contains(customer_list_sql(SortKey::kName, false), "IS NULL AND (NOT $13::boolean OR $14::text IS NOT NULL OR"));
  EXPECT_TRUE(contains(customer_list_sql(SortKey::kLastContact, false), "IS NULL AND (NOT $13::boolean OR ($14::text IS NULL AND"));
  // the cursor is a row comparison (an index range), never an OR of comparisons
  for (SortKey key : {SortKey::kName, SortKey::kCreatedAt, SortKey::kLastContact, SortKey::kConversationCount}) {
    EXPECT_TRUE(contains(customer_list_sql(key, false), ") > ($14::"));
    EXPECT_TRUE(contains(customer_list_sql(key, true), ") < ($14::"));
  }
}

TEST(CustomerListQuery, EveryStatementIsCompanyScopedHidesInactiveRowsAndUsesAllParameters) {
  for (SortKey key : {SortKey::kName, SortKey::kCreatedAt, SortKey::kLastContact, SortKey::kConversationCount}) {
    for (bool descending : {false, true}) {
      const auto& sql = customer_list_sql(key, descending);
      EXPECT_TRUE(contains(sql, "c.company_id = $1::uuid AND c.status = 'active'"));
      for (int n = 1; n <= 18; ++n) EXPECT_TRUE(contains(sql, "$" + std::to_string(n))) << n;
      EXPECT_FALSE(contains(sql, "$19"));
      EXPECT_TRUE(contains(sql, "LIMIT $16::integer"));
    }
  }
  EXPECT_NE(&customer_list_sql(SortKey::kName, false), &customer_list_sql(SortKey::kName, true));
}

TEST(CustomerListQuery, LikeEscapeMakesWildcardsLiteral) {
  EXPECT_EQ(like_escape("100%_off\\now"), "100\\%\\_off\\\\now");
  EXPECT_EQ(like_escape("plain text"), "plain text");
}

TEST(CustomerListQuery, SearchDigitsOnlyForPhoneLikeQueries) {
  EXPECT_EQ(search_digits("+1 (415) 555-01.99"), "14155550199");
  EXPECT_EQ(search_digits("555"), "555");
  EXPECT_EQ(search_digits("55"), std::nullopt);
  EXPECT_EQ(search_digits("john 555"), std::nullopt);
  EXPECT_EQ(search_digits(""), std::nullopt);
}

TEST(CustomerListQuery, DateOnlyFilterValuesMeanMidnightUtc) {
  EXPECT_EQ(filter_timestamp(std::string("2024-05-01")), "2024-05-01T00:00:00Z");
  EXPECT_EQ(filter_timestamp(std::string("2024-05-01T10:00:00+02:00")), "2024-05-01T10:00:00+02:00");
  EXPECT_EQ(filter_timestamp(std::nullopt), std::nullopt);
}

}  // namespace
