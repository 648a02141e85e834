#include "domain/customer_filters.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "domain/cursor.hpp"
#include "domain/errors.hpp"

namespace tradesphere::domain {
namespace {

using Params = std::map<std::string, std::string>;

template <typename Fn>
std::vector<std::string> fields(Fn&& fn) {
  try {
    fn();
  } catch (const ValidationError& e) {
    std::vector<std::string> out;
    for (const auto& f : e.fields()) out.push_back(f.field);
    std::sort(out.begin(), out.end());
    return out;
  }
  ADD_FAILURE() << "expected ValidationError";
  return {};
}

constexpr const char* kId = "123e4567-e89b-12d3-a456-426614174000";

TEST(SortKey, RoundTripsAndHasNaturalDefaultDirection) {
  for (auto k : {SortKey::kName, SortKey::kCreatedAt, SortKey::kLastContact, SortKey::kConversationCount}) {
    EXPECT_EQ(parse_sort_key(to_string(k)), k);
  }
  EXPECT_STREQ(to_string(SortKey::kLastContact), "last_contact");
  EXPECT_FALSE(default_descending(SortKey::kName));
  EXPECT_TRUE(default_descending(SortKey::kCreatedAt));
  EXPECT_TRUE(default_descending(SortKey::kLastContact));
  EXPECT_TRUE(default_descending(SortKey::kConversationCount));
  EXPECT_EQ(fields([] { parse_sort_key("email"); }), std::vector<std::string>{"sort"});
}

TEST(CustomerFilters, EmptyQueryGivesDefaults) {
  const CustomerFilters f = parse_customer_filters({});
  EXPECT_EQ(f, CustomerFilters{});
  EXPECT_EQ(f.limit, 50);
  EXPECT_EQ(f.sort, SortKey::kCreatedAt);
  EXPECT_TRUE(f.descending);
  EXPECT_FALSE(f.include_total);
  EXPECT_FALSE(f.stage.has_value());
}

TEST(CustomerFilters, ParsesEveryParameter) {
  const CustomerFilters f = parse_customer_filters(Params{
      {"lifecycle_stage", "lead"},
      {"tags_any", "VIP, wholesale ,vip"},
      {"tags_all", "eu"},
      {"source", "chat"},
      {"created_from", "2026-01-01"},
      {"created_to", "2026-02-01T00:00:00Z"},
      {"last_contact_from", "2026-01-15T00:00:00+01:00"},
      {"last_contact_to", "2026-01-16"},
      {"has_email", "true"},
      {"has_phone", "0"},
      {"q", "  jane  "},
      {"sort", "name"},
      {"order", "desc"},
      {"limit", "1000"},
      {"include_total", "1"},
  });
  EXPECT_EQ(f.stage, LifecycleStage::kLead);
  EXPECT_EQ(f.tags_any, (std::vector<std::string>{"vip", "wholesale"}));
  EXPECT_EQ(f.tags_all, (std::vector<std::string>{"eu"}));
  EXPECT_EQ(f.source, CustomerSource::kChat);
  EXPECT_EQ(f.created_from, "2026-01-01");
  EXPECT_EQ(f.created_to, "2026-02-01T00:00:00Z");
  EXPECT_EQ(f.last_contact_from, "2026-01-15T00:00:00+01:00");
  EXPECT_EQ(f.last_contact_to, "2026-01-16");
  EXPECT_EQ(f.has_email, true);
  EXPECT_EQ(f.has_phone, false);
  EXPECT_EQ(f.query, "jane");
  EXPECT_EQ(f.sort, SortKey::kName);
  EXPECT_TRUE(f.descending);
  EXPECT_EQ(f.limit, 1000);
  EXPECT_TRUE(f.include_total);
}

TEST(CustomerFilters, OrderDefaultsPerSortKey) {
  EXPECT_FALSE(parse_customer_filters(Params{{"sort", "name"}}).descending);
  EXPECT_TRUE(parse_customer_filters(Params{{"sort", "conversation_count"}}).descending);
  EXPECT_FALSE(parse_customer_filters(Params{{"sort", "created_at"}, {"order", "asc"}}).descending);
}

TEST(CustomerFilters, EmptyQueryAndTagValuesMeanNoFilter) {
  const CustomerFilters f = parse_customer_filters(Params{{"q", "   "}, {"tags_any", ""}, {"tags_all", " "}});
  EXPECT_FALSE(f.query.has_value());
  EXPECT_TRUE(f.tags_any.empty());
  EXPECT_TRUE(f.tags_all.empty());
}

TEST(CustomerFilters, RejectsUnknownParameters) {
  EXPECT_EQ(fields([] { parse_customer_filters(Params{{"page", "2"}, {"stage", "lead"}, {"limit", "10"}}); }),
            (std::vector<std::string>{"page", "stage"}));
}

TEST(CustomerFilters, LimitOutsideRangeIsRejectedNotClamped) {
  for (const char* bad : {"0", "1001", "-1", "+5", "", "ten", "10.5", "5x", "99999999999"}) {
    EXPECT_EQ(fields([&] { parse_customer_filters(Params{{"limit", bad}}); }), std::vector<std::string>{"limit"})
        << "limit=" << bad;
  }
  EXPECT_EQ(parse_customer_filters(Params{{"limit", "1"}}).limit, 1);
}

TEST(CustomerFilters, RejectsBadValuesNamingEachParameter) {
  EXPECT_EQ(fields([] {
              parse_customer_filters(Params{{"lifecycle_stage", "vip"},
                                            {"source", "web"},
                                            {"has_email", "yes"},
                                            {"has_phone", "TRUE"},
                                            {"include_total", "2"},
                                            {"sort", "email"},
                                            {"order", "up"},
                                            {"created_from", "last week"},
                                            {"last_contact_to", "2026-01-01T00:00:00"}});
            }),
            (std::vector<std::string>{"created_from", "has_email", "has_phone", "include_total", "last_contact_to",
                                      "lifecycle_stage", "order", "sort", "source"}));
}

TEST(CustomerFilters, RejectsBadTagsWithIndex) {
  EXPECT_EQ(fields([] { parse_customer_filters(Params{{"tags_any", "ok,,bad/tag"}, {"tags_all", "fine"}}); }),
            (std::vector<std::string>{"tags_any/1", "tags_any/2"}));
}

TEST(CustomerFilters, RejectsInvertedRanges) {
  EXPECT_EQ(fields([] {
              parse_customer_filters(Params{{"created_from", "2026-02-01"}, {"created_to", "2026-01-01"}});
            }),
            std::vector<std::string>{"created_to"});
  EXPECT_EQ(fields([] {
              parse_customer_filters(
                  Params{{"last_contact_from", "2026-01-01T10:00:00+00:00"}, {"last_contact_to", "2026-01-01T11:00:00+02:00"}});
            }),
            std::vector<std::string>{"last_contact_to"});
  // Equal bounds are accepted (an empty half-open range is not an error).
  EXPECT_NO_THROW(parse_customer_filters(Params{{"created_from", "2026-01-01"}, {"created_to", "2026-01-01"}}));
}

TEST(CustomerFilters, RejectsOverlongQuery) {
  EXPECT_NO_THROW(parse_customer_filters(Params{{"q", std::string(200, 'a')}}));
  EXPECT_EQ(fields([] { parse_customer_filters(Params{{"q", std::string(201, 'a')}}); }),
            std::vector<std::string>{"q"});
  // Counted in characters, not bytes: 200 two-byte characters are fine.
  std::string umlauts;
  for (int i = 0; i < 200; ++i) umlauts += "\xC3\xBC";
  EXPECT_NO_THROW(parse_customer_filters(Params{{"q", umlauts}}));
}

TEST(CustomerFilters, AcceptsACursorIssuedForTheSameSortAndOrder) {
  const std::string token = encode_cursor(Cursor{SortKey::kName, false, "Jane", false, kId});
  const CustomerFilters f = parse_customer_filters(Params{{"sort", "name"}, {"cursor", token}});
  EXPECT_EQ(f.cursor, token);
}

TEST(CustomerFilters, RejectsACursorFromAnotherSortOrGarbage) {
  const std::string token = encode_cursor(Cursor{SortKey::kName, false, "Jane", false, kId});
  EXPECT_EQ(fields([&] { parse_customer_filters(Params{{"sort", "name"}, {"order", "desc"}, {"cursor", token}}); }),
            std::vector<std::string>{"cursor"});
  EXPECT_EQ(fields([&] { parse_customer_filters(Params{{"cursor", token}}); }), std::vector<std::string>{"cursor"});
  EXPECT_EQ(fields([] { parse_customer_filters(Params{{"cursor", "not-a-cursor"}}); }),
            std::vector<std::string>{"cursor"});
  // A bad sort is reported once; the cursor is not judged against it.
  EXPECT_EQ(fields([&] { parse_customer_filters(Params{{"sort", "bogus"}, {"cursor", token}}); }),
            std::vector<std::string>{"sort"});
}

TEST(CustomerFiltersValidation, ChecksFiltersBuiltInCode) {
  CustomerFilters f;
  EXPECT_NO_THROW(validate_customer_filters(f));
  f.limit = 0;
  f.tags_any = {"VIP"};  // not normalized
  f.created_from = "yesterday";
  f.query = "  ";
  EXPECT_EQ(fields([&] { validate_customer_filters(f); }),
            (std::vector<std::string>{"created_from", "limit", "q", "tags_any"}));
  f = CustomerFilters{};
  f.limit = 1001;
  EXPECT_EQ(fields([&] { validate_customer_filters(f); }), std::vector<std::string>{"limit"});
  f.limit = 1000;
  f.tags_all = {"a", "a"};  // duplicates
  EXPECT_EQ(fields([&] { validate_customer_filters(f); }), std::vector<std::string>{"tags_all"});
}

TEST(CustomerExportFilters, TakeTheListFiltersAndSort) {
  const Params params{{"lifecycle_stage", "lead"}, {"tags_any", "VIP,eu"}, {"has_email", "true"},
                      {"q", " ann "},           {"sort", "name"},         {"order", "desc"}};
  EXPECT_EQ(parse_customer_export_filters(params), parse_customer_filters(params));
  EXPECT_EQ(parse_customer_export_filters({}), parse_customer_filters({}));
}

TEST(CustomerExportFilters, RefusePagingParametersAndReportEveryBadOne) {
  EXPECT_EQ(fields([] { parse_customer_export_filters(Params{{"limit", "10"}}); }), std::vector<std::string>{"limit"});
  EXPECT_EQ(fields([] { parse_customer_export_filters(Params{{"include_total", "true"}}); }),
            std::vector<std::string>{"include_total"});
  EXPECT_EQ(fields([] {
              parse_customer_export_filters(Params{{"cursor", "abc"}, {"lifecycle_stage", "vip"}, {"colour", "red"}});
            }),
            (std::vector<std::string>{"colour", "cursor", "lifecycle_stage"}));
}

}  // namespace
}  // namespace tradesphere::domain
