// GET /v1/customers writes its JSON straight from the database rows
// (render_customer_page(CustomerRowsPage), http/customer_page_json.hpp). It must be
// byte for byte what the renderer of domain objects writes for the same page
// (get_customers + render_customer_page(items, ...), itself checked against the
// nlohmann DOM in tests/unit/customer_page_json_test.cpp), on values that exercise
// every escape and conversion: unicode, quotes, backslashes, control characters,
// NULLs, empty and escaped tags, attributes, long notes, odd timestamps.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core_fixture.hpp"
#include "services/customer_crud_service.hpp"
#include "http/customer_page_json.hpp"

namespace {

using tradesphere::services::CustomerCrudService;
using tradesphere::domain::CustomerFilters;
using tradesphere::domain::SortKey;
using tradesphere::http::render_customer_page;
namespace domain = tradesphere::domain;

class CustomerPageJsonTest : public tradesphere::testing::CoreTest {
 protected:
  // Both renderings of one page; returns the fast one (after checking they are equal).
  std::string both(CustomerCrudService& repo, const CustomerFilters& f) {
    const auto rows = repo.get_customer_rows(agent_a, f);
    const auto page = repo.get_customers(agent_a, f);
    const std::string fast = render_customer_page(rows);
    const std::string reference = render_customer_page(page.items, page.next_cursor, page.total);
    EXPECT_EQ(fast, reference);
    EXPECT_EQ(rows.items.size(), page.items.size());
    EXPECT_EQ(rows.next_cursor, page.next_cursor);
    EXPECT_EQ(rows.total, page.total);
    return fast;
  }

  // Sets columns of one customer as the owner (no API validation in the way).
  void owner_set(const std::string& id, const std::string& assignments) {
    owner_exec("UPDATE customers SET " + assignments + " WHERE id = '" + id + "'");
  }
  void owner_set_metrics(const std::string& id, const std::string& assignments) {
    owner_exec("UPDATE customer_metrics SET " + assignments + " WHERE customer_id = '" + id + "'");
  }
};

TEST_F(CustomerPageJsonTest, RowsRendererWritesTheSameBytesAsTheDomainRenderer) {
  CustomerCrudService repo(*db);
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) {
    auto nc = person("Customer " + std::to_string(i), "c" + std::to_string(i) + "@example.com");
    ids.push_back(repo.create_customer(agent_a, nc).id);
  }
  // 0: every kind of character a string may hold (E'' escapes: \x01, \x1f, \x7f, tab, newline, CR, BS, FF)
  owner_set(ids[0],
            "name = E'Zo\u00eb \"Q\" O''Brien \\\\ / \\t\\n\\r\\b\\f \\x01\\x1f\\x7f \u2014 \u6771\u4eac \U0001F600', "
            "email = E'quote\"back\\\\slash@example.com', phone = E'+1 (415) 555-0101\\u2028', "
            "address = E'line 1\\nline 2\\u2029', external_id = E'ext-\\x02-\u00e9', "
            "notes = repeat(E'long note \u00e9\\t\\\"x\\\" \\\\ ', 500), "
            "tags = ARRAY['vip', E'quo\"te', E'back\\\\slash', E'tab\\there', E'ctl\\x01', "
            "'\u00fcn\u00efc\u00f6d\u00e9', ''], "
            "attributes = '{\"plan\": \"gold\", \"nested\": {\"n\": 1.50, \"big\": 12345678901234567890, "
            "\"list\": [1, \"two\", null, true, false, -0.5e-3]}, \"\u00fc\": \"\\u0001\\\"\", \"a\": {}}'::jsonb, "
            "created_by = E'user \"1\"', updated_by = E'\\\\u0041'");
  owner_set_metrics(ids[0],
                    "last_message_preview = E'Hello <b>there</b> & \"bye\" \\\\n \\x01', conversation_count = 3, "
                    "message_count = 9000000000, first_contact_at = '2024-02-29 23:59:59.5+00', "
                    "last_contact_at = '2026-12-31 08:00:00.123456+00'");
  // 1: every optional empty, empty tags and attributes
  owner_set(ids[1],
            "name = NULL, email = NULL, phone = NULL, address = NULL, notes = NULL, external_id = NULL, "
            "tags = '{}', attributes = '{}', created_by = NULL, updated_by = NULL");
  // 2, 3, 5: timestamps on and off PostgreSQL's fast path: far years, whole seconds, one
  // fraction digit, days past the 28th, infinity, BC (created_at is kept by a trigger)
  owner_set(ids[2], "tags = ARRAY['a,b', '[x]', ' ']");
  owner_set_metrics(ids[2], "first_contact_at = '0999-01-01 00:00:00+00', last_contact_at = 'infinity'");
  owner_set_metrics(ids[3],
                    "first_contact_at = '0044-03-15 12:00:00+00 BC', "
                    "last_contact_at = '9999-12-31 23:59:59.999999+00'");
  owner_set_metrics(ids[5], "first_contact_at = '-infinity', last_contact_at = '2026-01-30 10:00:00.1+00'");
  // 5-7: escapes after whole clean 8-byte words, at a word's last byte, right after one
  owner_set(ids[5],
            "name = E'abcdefghijklmnopqrstuvwxyz0123456789\\x01 tail \\\\ \"q\"', "
            "address = E'1234567\\n', notes = E'12345678\\t12345678\\\\'");
  owner_set(ids[6], "name = E'\u00e9\u00e9\u00e9\u00e9\"', address = E'abcdefgh12345678\\x1f', notes = 'abcdefgh'");
  owner_set(ids[7], "name = repeat('x', 64) || E'\\x7f\"' || repeat('y', 7), address = repeat('z', 16)");
  // 4: empty strings (not NULL)
  owner_set(ids[4], "name = '', email = '', notes = '', tags = ARRAY['']");

  CustomerFilters all;
  all.limit = 100;
  const std::string body = both(repo, all);
  const auto parsed = nlohmann::json::parse(body);  // valid JSON
  ASSERT_EQ(parsed["items"].size(), 8u);
  // the values above did reach the page (the comparison is not between two empty renderings)
  std::map<std::string, nlohmann::json> by_id;
  for (const auto& item : parsed["items"]) by_id[item["id"].get<std::string>()] = item;
  const auto& tricky = by_id.at(ids[0]);
  EXPECT_EQ(tricky["name"], "Zo\u00eb \"Q\" O'Brien \\ / \t\n\r\b\f \x01\x1f\x7f \u2014 \u6771\u4eac \U0001F600");
  EXPECT_EQ(tricky["tags"], (std::vector<std::string>{"vip", "quo\"te", "back\\slash", "tab\there", "ctl\x01",
                                                      "\u00fcn\u00efc\u00f6d\u00e9", ""}));
  EXPECT_EQ(tricky["notes"].get<std::string>().size(), 500u * std::string("long note \u00e9\t\"x\" \\ ").size());
  EXPECT_EQ(tricky["attributes"]["nested"]["n"], 1.5);
  EXPECT_EQ(tricky["metrics"]["message_count"], 9000000000LL);
  EXPECT_EQ(tricky["metrics"]["first_contact_at"], "2024-02-29T23:59:59.500000Z");
  EXPECT_NE(body.find(R"(\u0001)"), std::string::npos);  // control characters as \u00XX
  EXPECT_EQ(by_id.at(ids[1])["tags"], nlohmann::json::array());
  EXPECT_EQ(by_id.at(ids[1])["name"], nullptr);
  EXPECT_EQ(by_id.at(ids[2])["metrics"]["first_contact_at"], "0999-01-01T00:00:00.000000Z");
  EXPECT_EQ(by_id.at(ids[3])["metrics"]["last_contact_at"], "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(by_id.at(ids[5])["metrics"]["last_contact_at"], "2026-01-30T10:00:00.100000Z");
  EXPECT_EQ(by_id.at(ids[2])["metrics"]["last_contact_at"], "infinity");
  EXPECT_EQ(by_id.at(ids[3])["metrics"]["first_contact_at"], "0044-03-15 12:00:00+00 BC");
  EXPECT_EQ(by_id.at(ids[4])["tags"], std::vector<std::string>{""});
  EXPECT_EQ(by_id.at(ids[5])["name"], "abcdefghijklmnopqrstuvwxyz0123456789\x01 tail \\ \"q\"");
  EXPECT_EQ(by_id.at(ids[5])["notes"], "12345678\t12345678\\");
  EXPECT_EQ(by_id.at(ids[7])["name"], std::string(64, 'x') + "\x7f\"" + std::string(7, 'y'));

  // paged (cursor), with the total, in both directions and by every sort key
  for (const auto sort : {SortKey::kCreatedAt, SortKey::kName, SortKey::kLastContact, SortKey::kConversationCount}) {
    for (const bool desc : {false, true}) {
      CustomerFilters f;
      f.limit = 3;
      f.sort = sort;
      f.descending = desc;
      f.include_total = true;
      int pages = 0;
      for (; pages < 10; ++pages) {
        const auto rows = repo.get_customer_rows(agent_a, f);
        both(repo, f);
        if (!rows.next_cursor) break;
        f.cursor = rows.next_cursor;
      }
      EXPECT_EQ(pages, 2) << static_cast<int>(sort) << desc;  // 3 + 3 + 2
    }
  }

  // a filter that matches nothing: the empty page
  CustomerFilters none;
  none.query = "no such customer";
  none.include_total = true;
  EXPECT_EQ(both(repo, none), R"({"items":[],"next_cursor":null,"total":0})");
}

TEST_F(CustomerPageJsonTest, EachRowRendersLikeTheSingleCustomerRead) {
  CustomerCrudService repo(*db);
  auto nc = person("Ada \"Countess\" Lovelace", "ada@example.com", "+44 20 7946 0000");
  nc.tags = {"vip", "early"};
  nc.attributes = {{"plan", "gold"}, {"seats", 3}};
  const auto id = repo.create_customer(agent_a, nc).id;
  CustomerFilters f;
  const auto rows = repo.get_customer_rows(agent_a, f);
  ASSERT_EQ(rows.items.size(), 1u);
  const auto one = repo.get_customer_with_metrics(agent_a, id);  // another statement, same columns
  EXPECT_EQ(to_customer_with_metrics(rows.items[0]), one);
  EXPECT_EQ(render_customer_page(rows), render_customer_page({one}, std::nullopt, std::nullopt));
}

}  // namespace
