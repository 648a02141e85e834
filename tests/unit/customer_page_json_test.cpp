// render_customer_page (the streamed list-page JSON) must be the same document as
// the nlohmann rendering it replaces: same values, same key order.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "domain/customer.hpp"
#include "http/customer_page_json.hpp"

namespace {

using tradesphere::domain::CustomerWithMetrics;
using tradesphere::http::render_customer_page;

std::vector<CustomerWithMetrics> sample() {
  std::vector<CustomerWithMetrics> v(3);
  auto& a = v[0];
  a.customer.id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  a.customer.company_id = "aaaaaaaa-0000-4000-8000-00000000000a";
  a.customer.name = "Zoë \"Q\" O'Brien \\ / \t\n\r\b\f \x01\x1f — 東京 😀";
  a.customer.email = "zoe@example.com";
  a.customer.notes = std::string("nul\0inside", 10);
  a.customer.attributes = nlohmann::json{{"plan", "gold"}, {"nested", {{"n", 1.5}, {"list", {1, "two", nullptr}}}}};
  a.customer.tags = {"vip", "ünïcödé", ""};
  a.customer.stage = tradesphere::domain::LifecycleStage::kCustomer;
  a.customer.source = tradesphere::domain::CustomerSource::kChat;
  a.customer.created_at = "2026-11-26T10:00:00.123456Z";
  a.customer.updated_at = "2026-11-26T10:00:01Z";
  a.customer.created_by = "u-1";
  a.customer.version = 7;
  a.metrics.conversation_count = 4;
  a.metrics.message_count = 9'000'000'000LL;
  a.metrics.last_contact_at = "2026-11-26T09:00:00Z";
  a.metrics.last_message_preview = "Hello <b>there</b> & bye";
  v[1].customer.id = "11111111-1111-4111-8111-111111111111";  // every optional empty
  v[1].customer.attributes = nlohmann::json();                 // null attributes render as {}
  v[2] = a;
  v[2].customer.status = tradesphere::domain::CustomerStatus::kMerged;
  v[2].customer.merged_into_customer_id = a.customer.id;
  v[2].customer.deleted_at = "2026-11-26T11:00:00Z";
  v[2].customer.attributes = nlohmann::json::object();
  return v;
}

nlohmann::ordered_json expected(const std::vector<CustomerWithMetrics>& items, const std::optional<std::string>& next,
                                const std::optional<std::int64_t>& total) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& c : items) arr.push_back(tradesphere::domain::to_json(c));
  nlohmann::json body = {{"items", arr}, {"next_cursor", next ? nlohmann::json(*next) : nlohmann::json()}};
  if (total) body["total"] = *total;
  return nlohmann::ordered_json::parse(body.dump());  // keeps nlohmann's (alphabetical) key order
}

TEST(CustomerPageJson, SameDocumentAndKeyOrderAsTheDomRendering) {
  const auto items = sample();
  for (const auto& [next, total] : std::vector<std::pair<std::optional<std::string>, std::optional<std::int64_t>>>{
           {std::nullopt, std::nullopt}, {"b64cursor==", 1234}, {std::nullopt, 0}}) {
    const std::string out = render_customer_page(items, next, total);
    const auto parsed = nlohmann::ordered_json::parse(out);  // throws on invalid JSON
    EXPECT_EQ(parsed, expected(items, next, total));         // ordered_json: equal values AND key order
  }
}

TEST(CustomerPageJson, AnEmptyPageIsAnEmptyItemsArray) {
  EXPECT_EQ(render_customer_page({}, std::nullopt, std::nullopt), R"({"items":[],"next_cursor":null})");
  EXPECT_EQ(render_customer_page({}, "c", 0), R"({"items":[],"next_cursor":"c","total":0})");
}

}  // namespace
