// The /v1 routes end to end: a happy path per route, roles, tenant isolation
// (BOLA), mass assignment, Idempotency-Key, concurrency, graceful shutdown.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <latch>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "common/metrics.hpp"
#include "support/http_fixture.hpp"

namespace {

using nlohmann::json;
using tradesphere::testing::HttpResponse;
using tradesphere::testing::HttpTest;

constexpr const char* kMissingId = "6f1c2b9e-0d4a-4c7b-9e3f-2a1b0c9d8e7f";

class CustomersHttpTest : public HttpTest {
 protected:
  json create(const json& body, const std::string& token = "") {
    auto r = call_json("POST", "/v1/customers", token.empty() ? admin_token() : token, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json();
  }
  json chat(const json& body, const std::string& token = "") {
    auto r = call_json("POST", "/v1/chat", token.empty() ? agent_token() : token, body);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }
  static json chat_row(const std::string& session, const std::string& email, const std::string& name = "Jane Roe") {
    json row = {{"session_id", session}, {"tech_id", "tech-1"}, {"user_message", "Hello, I need a quote"},
                {"ai_response", "Sure!"}, {"customer_name", name}};
    if (!email.empty()) row["customer_email"] = email;
    return row;
  }
};

TEST_F(CustomersHttpTest, CreateGetListPatchDeleteRestore) {
  auto r = call_json("POST", "/v1/customers", agent_token(),
                     {{"name", "Ann Lee"}, {"email", "Ann@Example.com"}, {"tags", {"VIP"}}});
  ASSERT_EQ(r.status, 201) << r.body;
  auto created = r.json();
  const std::string id = created["id"];
  EXPECT_EQ(r.header("Location"), "/v1/customers/" + id);
  EXPECT_EQ(r.header("ETag"), "\"1\"");
  EXPECT_EQ(created["email"], "ann@example.com");
  EXPECT_EQ(created["company_id"], company_a_);

  auto got = call("GET", "/v1/customers/" + id, viewer_token());
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json()["name"], "Ann Lee");
  EXPECT_TRUE(got.json()["metrics"].is_object());

  create({{"name", "Bob Stone"}});
  auto list = call("GET", "/v1/customers?limit=1&sort=name", viewer_token());
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list.json()["items"].size(), 1u);
  EXPECT_EQ(list.json()["items"][0]["name"], "Ann Lee");
  ASSERT_TRUE(list.json()["next_cursor"].is_string());
  auto page2 = call("GET", "/v1/customers?limit=1&sort=name&cursor=" + list.json()["next_cursor"].get<std::string>(),
                    viewer_token());
  ASSERT_EQ(page2.status, 200) << page2.body;
  EXPECT_EQ(page2.json()["items"][0]["name"], "Bob Stone");

  auto patched = call_json("PATCH", "/v1/customers/" + id, agent_token(), {{"phone", "+1 415 555 0100"}},
                           {{"If-Match", "\"1\""}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json()["version"], 2);
  EXPECT_EQ(patched.header("ETag"), "\"2\"");

  auto stale = call_json("PATCH", "/v1/customers/" + id, agent_token(), {{"name", "Stale"}}, {{"If-Match", "\"1\""}});
  EXPECT_EQ(stale.status, 412) << stale.body;
  EXPECT_EQ(call("GET", "/v1/customers/" + id, viewer_token()).json()["name"], "Ann Lee");

  auto deleted = call("DELETE", "/v1/customers/" + id, admin_token());
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.json()["status"], "deleted");
  EXPECT_EQ(call("GET", "/v1/customers/" + id, viewer_token()).status, 404);

  auto restored = call("POST", "/v1/customers/" + id + "/restore", admin_token());
  ASSERT_EQ(restored.status, 200) << restored.body;
  EXPECT_EQ(restored.json()["status"], "active");
  EXPECT_EQ(call("GET", "/v1/customers/" + id, viewer_token()).status, 200);
}

TEST_F(CustomersHttpTest, SearchStageTagsNotesTimeline) {
  auto c = create({{"name", "Margaret Hamilton"}, {"email", "mh@example.com"}});
  const std::string id = c["id"];

  auto search = call("GET", "/v1/customers/search?q=hamilton", viewer_token());
  ASSERT_EQ(search.status, 200) << search.body;
  ASSERT_FALSE(search.json()["items"].empty());
  EXPECT_EQ(search.json()["items"][0]["id"], id);
  EXPECT_EQ(call("GET", "/v1/customers/search", viewer_token()).status, 400) << "q is required";

  auto stage = call_json("PUT", "/v1/customers/" + id + "/stage", agent_token(), {{"lifecycle_stage", "lead"}});
  ASSERT_EQ(stage.status, 200) << stage.body;
  EXPECT_EQ(stage.json()["lifecycle_stage"], "lead");
  EXPECT_EQ(call_json("PUT", "/v1/customers/" + id + "/stage", agent_token(), {{"lifecycle_stage", "boss"}}).status,
            422);

  auto tags = call_json("POST", "/v1/customers/" + id + "/tags", agent_token(), {{"tags", {" VIP ", "east"}}});
  ASSERT_EQ(tags.status, 200) << tags.body;
  EXPECT_EQ(tags.json()["tags"], json({"vip", "east"}));
  auto untag = call_json("DELETE", "/v1/customers/" + id + "/tags", agent_token(), {{"tags", {"vip"}}});
  ASSERT_EQ(untag.status, 200) << untag.body;
  EXPECT_EQ(untag.json()["tags"], json({"east"}));

  auto notes = call_json("PUT", "/v1/customers/" + id + "/notes", agent_token(), {{"notes", "Prefers email"}});
  ASSERT_EQ(notes.status, 200) << notes.body;
  EXPECT_EQ(notes.json()["notes"], "Prefers email");
  // through the enrichment service: If-Match is honoured, blank clears
  const int v = notes.json()["version"];
  auto stale = call_json("PUT", "/v1/customers/" + id + "/notes", agent_token(), {{"notes", "lost"}},
                         {{"If-Match", "\"" + std::to_string(v - 1) + "\""}});
  EXPECT_EQ(stale.status, 412) << stale.body;
  EXPECT_EQ(stale.header("ETag"), "\"" + std::to_string(v) + "\"");
  auto cleared = call_json("PUT", "/v1/customers/" + id + "/notes", agent_token(), {{"notes", "   "}},
                           {{"If-Match", "\"" + std::to_string(v) + "\""}});
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_TRUE(cleared.json()["notes"].is_null()) << cleared.body;
  EXPECT_EQ(cleared.json()["version"], v + 1);

  auto timeline = call("GET", "/v1/customers/" + id + "/timeline", viewer_token());
  ASSERT_EQ(timeline.status, 200) << timeline.body;
  EXPECT_FALSE(timeline.json()["items"].empty());
  EXPECT_TRUE(timeline.json().contains("next_cursor"));
}

// Every timestamp in a response is RFC 3339 in UTC with microseconds
// ("2026-12-06T16:54:57.651908Z"), never PostgreSQL's "2026-12-06 16:54:57.651908+00".
TEST_F(CustomersHttpTest, TimestampsAreRfc3339Utc) {
  static const std::regex kRfc3339(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)");
  auto rfc3339 = [](const json& v) { return v.is_string() && std::regex_match(v.get<std::string>(), kRfc3339); };

  auto created = create({{"name", "Grace Hopper"}, {"email", "grace@example.com"}});
  const std::string id = created["id"];
  EXPECT_TRUE(rfc3339(created["created_at"])) << created;
  EXPECT_TRUE(rfc3339(created["updated_at"])) << created;
  EXPECT_EQ(created["created_at"], created["updated_at"]);

  // A chat row with an explicit RFC 3339 time in another zone comes back in UTC.
  json row = chat_row("s-ts", "grace@example.com", "Grace Hopper");
  row["created_at"] = "2026-03-01T09:30:00.25+01:00";
  chat(row);
  json legacy_row = chat_row("s-ts", "grace@example.com", "Grace Hopper");
  legacy_row["created_at"] = "2026-03-01 10:00:00+00";  // PostgreSQL's text is still accepted
  chat(legacy_row);

  auto got = call("GET", "/v1/customers/" + id, viewer_token());
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_TRUE(rfc3339(got.json()["created_at"])) << got.body;
  EXPECT_EQ(got.json()["metrics"]["first_contact_at"], "2026-03-01T08:30:00.250000Z") << got.body;
  EXPECT_EQ(got.json()["metrics"]["last_contact_at"], "2026-03-01T10:00:00.000000Z") << got.body;

  auto list = call("GET", "/v1/customers?sort=created_at", viewer_token());
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list.json()["items"].size(), 1u) << list.body;
  EXPECT_EQ(list.json()["items"][0]["created_at"], got.json()["created_at"]);
  EXPECT_EQ(list.json()["items"][0]["metrics"]["last_contact_at"], "2026-03-01T10:00:00.000000Z") << list.body;

  // Filters take RFC 3339, as well as the other ISO-8601 forms they took before.
  for (const char* q : {"last_contact_from=2026-03-01T10:00:00Z", "last_contact_from=2026-03-01T11:00:00%2B01:00",
                               "last_contact_from=2026-03-01", "created_from=2026-01-01%2000:00:00%2B00"}) {
    auto r = call("GET", std::string("/v1/customers?") + q, viewer_token());
    ASSERT_EQ(r.status, 200) << q << ": " << r.body;
    EXPECT_EQ(r.json()["items"].size(), 1u) << q << ": " << r.body;
  }
  EXPECT_TRUE(call("GET", "/v1/customers?last_contact_from=2026-03-01T10:00:00.000001Z", viewer_token())
                  .json()["items"]
                  .empty());

  auto convs = call("GET", "/v1/customers/" + id + "/conversations", viewer_token());
  ASSERT_EQ(convs.status, 200) << convs.body;
  ASSERT_EQ(convs.json()["items"].size(), 1u) << convs.body;
  EXPECT_EQ(convs.json()["items"][0]["first_message_at"], "2026-03-01T08:30:00.250000Z") << convs.body;
  EXPECT_EQ(convs.json()["items"][0]["last_message_at"], "2026-03-01T10:00:00.000000Z") << convs.body;

  // The timeline: every entry's "at" and the conversation's times; paging by one still walks it all.
  std::string cursor;
  int entries = 0;
  bool saw_conversation = false;
  do {
    auto t = call("GET", "/v1/customers/" + id + "/timeline?limit=1" + (cursor.empty() ? "" : "&cursor=" + cursor),
                  viewer_token());
    ASSERT_EQ(t.status, 200) << t.body;
    const json page = t.json();
    for (const auto& e : page["items"]) {
      ++entries;
      EXPECT_TRUE(rfc3339(e["at"])) << e;
      if (e["kind"] == "conversation") {
        saw_conversation = true;
        EXPECT_EQ(e["at"], "2026-03-01T10:00:00.000000Z") << e;
        EXPECT_EQ(e["data"]["first_message_at"], "2026-03-01T08:30:00.250000Z") << e;
        EXPECT_EQ(e["data"]["last_message_at"], "2026-03-01T10:00:00.000000Z") << e;
      }
    }
    cursor = page["next_cursor"].is_string() ? page["next_cursor"].get<std::string>() : "";
  } while (!cursor.empty() && entries < 50);
  EXPECT_TRUE(saw_conversation);
  EXPECT_GE(entries, 2);

  // Merge log.
  const std::string other = create({{"name", "Grace B. Hopper"}})["id"];
  auto merged = call_json("POST", "/v1/merges", admin_token(), {{"target_id", id}, {"source_ids", {other}}});
  ASSERT_EQ(merged.status, 201) << merged.body;
  const std::string merge_id = merged.json()["merge_id"];
  ASSERT_EQ(call("POST", "/v1/merges/" + merge_id + "/undo", admin_token()).status, 200);
  auto m = call("GET", "/v1/merges/" + merge_id, viewer_token());
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_TRUE(rfc3339(m.json()["created_at"])) << m.body;
  EXPECT_TRUE(rfc3339(m.json()["undone_at"])) << m.body;
  bool saw_merge = false;
  const json timeline = call("GET", "/v1/customers/" + id + "/timeline?limit=500", viewer_token()).json();
  for (const auto& e : timeline["items"]) {
    if (e["kind"] != "merge") continue;
    saw_merge = true;
    EXPECT_TRUE(rfc3339(e["at"])) << e;
    EXPECT_TRUE(rfc3339(e["data"]["undone_at"])) << e;
  }
  EXPECT_TRUE(saw_merge);
}

TEST_F(CustomersHttpTest, BulkStageReportsUpdatedAndNotFound) {
  const std::string a = create({{"name", "A One"}})["id"];
  const std::string b = create({{"name", "B Two"}})["id"];
  auto r = call_json("POST", "/v1/customers/bulk/stage", admin_token(),
                     {{"customer_ids", {a, b, kMissingId}}, {"lifecycle_stage", "customer"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["updated"], 2);
  EXPECT_EQ(r.json()["not_found"], json({kMissingId}));
  EXPECT_EQ(call("GET", "/v1/customers/" + a, viewer_token()).json()["lifecycle_stage"], "customer");
  json too_many = json::array();
  for (int i = 0; i < 10001; ++i) too_many.push_back(kMissingId);
  EXPECT_EQ(call_json("POST", "/v1/customers/bulk/stage", admin_token(),
                      {{"customer_ids", too_many}, {"lifecycle_stage", "lead"}})
                .status,
            422);
}

TEST_F(CustomersHttpTest, ChatIngestLinksConversationsAndOrphans) {
  auto one = chat(chat_row("s-1", "jane@example.com"));
  ASSERT_EQ(one["customer_ids"].size(), 1u) << one;
  const std::string jane = one["customer_ids"][0];
  auto batch = chat(json::array({chat_row("s-1", "jane@example.com"), chat_row("s-2", "bob@example.com", "Bob")}));
  EXPECT_EQ(batch["items"].size(), 2u);
  EXPECT_EQ(batch["items"][0]["customer_id"], jane);

  auto convs = call("GET", "/v1/customers/" + jane + "/conversations", viewer_token());
  ASSERT_EQ(convs.status, 200) << convs.body;
  ASSERT_EQ(convs.json()["items"].size(), 1u);
  EXPECT_EQ(convs.json()["items"][0]["message_count"], 2);

  json orphan = chat_row("s-orphan", "");
  orphan.erase("customer_name");
  auto o = chat(orphan);
  EXPECT_TRUE(o["items"][0]["customer_id"].is_null()) << o;
  auto orphans = call("GET", "/v1/conversations/orphaned", viewer_token());
  ASSERT_EQ(orphans.status, 200) << orphans.body;
  ASSERT_EQ(orphans.json()["items"].size(), 1u);
  EXPECT_EQ(orphans.json()["items"][0]["session_id"], "s-orphan");

  auto link = call_json("POST", "/v1/conversations/s-orphan/link", agent_token(), {{"customer_id", jane}});
  ASSERT_EQ(link.status, 200) << link.body;
  EXPECT_EQ(link.json()["moved_rows"], 1);
  EXPECT_TRUE(call("GET", "/v1/conversations/orphaned", viewer_token()).json()["items"].empty());

  auto enrich = call("POST", "/v1/customers/" + jane + "/enrich", agent_token());
  EXPECT_EQ(enrich.status, 200) << enrich.body;
  EXPECT_EQ(enrich.json()["customer_id"], jane);
  auto summary = call("GET", "/v1/customers/" + jane + "/summary", viewer_token());
  ASSERT_EQ(summary.status, 200) << summary.body;
  EXPECT_EQ(summary.json()["sessions"], 2);
  EXPECT_EQ(summary.json()["messages"], 3);

  auto bad = call_json("POST", "/v1/chat", agent_token(), json::array({chat_row("s-3", "x@example.com"), {{"x", 1}}}));
  EXPECT_EQ(bad.status, 422);
  bool indexed = false;
  const auto bad_body = bad.json();
  for (const auto& e : bad_body["errors"]) indexed |= e["field"].get<std::string>().rfind("1/", 0) == 0;
  EXPECT_TRUE(indexed) << bad.body;
}

TEST_F(CustomersHttpTest, MergePreviewMergeAndUndo) {
  const std::string target = create({{"name", "Jane Smith"}, {"email", "jane@example.com"}})["id"];
  const std::string source = create({{"name", "Jane Smyth"}, {"phone", "+1 415 555 0199"}})["id"];
  auto preview = call_json("POST", "/v1/merges/preview", viewer_token(),
                           {{"target_id", target}, {"source_ids", {source}}});
  ASSERT_EQ(preview.status, 200) << preview.body;
  EXPECT_FALSE(preview.json()["fields"].empty());

  auto merged = call_json("POST", "/v1/merges", admin_token(),
                          {{"target_id", target}, {"source_ids", {source}}, {"field_choices", {{"name", "Jane Smith"}}}});
  ASSERT_EQ(merged.status, 201) << merged.body;
  const std::string merge_id = merged.json()["merge_id"];
  EXPECT_EQ(merged.header("Location"), "/v1/merges/" + merge_id);
  EXPECT_EQ(call("GET", "/v1/customers/" + source, viewer_token()).status, 404);
  EXPECT_EQ(call("GET", "/v1/customers/" + target, viewer_token()).json()["phone"], "+1 415 555 0199");

  auto self = call_json("POST", "/v1/merges", admin_token(), {{"target_id", target}, {"source_ids", {target}}});
  EXPECT_TRUE(self.status == 422 || self.status == 409) << self.body;

  auto got = call("GET", "/v1/merges/" + merge_id, viewer_token());
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json()["target_id"], target);
  EXPECT_EQ(got.json()["source_ids"], json({source}));
  EXPECT_EQ(got.json()["status"], "applied");

  auto undo = call("POST", "/v1/merges/" + merge_id + "/undo", admin_token());
  ASSERT_EQ(undo.status, 200) << undo.body;
  EXPECT_EQ(call("GET", "/v1/merges/" + merge_id, viewer_token()).json()["status"], "undone");
  EXPECT_EQ(call("GET", "/v1/customers/" + source, viewer_token()).status, 200);
  EXPECT_EQ(call("POST", "/v1/merges/" + merge_id + "/undo", admin_token()).status, 409) << "second undo";
}

TEST_F(CustomersHttpTest, DuplicatesAreFoundAndCanBeDismissed) {
  const std::string a = create({{"name", "Jonathan Smith"}, {"phone", "+1 415 555 0100"}, {"email", "jon@example.com"}})["id"];
  const std::string b = create({{"name", "Jonathon Smith"}, {"phone", "+1 415 555 0100"}})["id"];
  auto candidates = call("GET", "/v1/customers/" + a + "/duplicates", viewer_token());
  ASSERT_EQ(candidates.status, 200) << candidates.body;
  const auto found = candidates.json();
  ASSERT_FALSE(found["items"].empty()) << found;
  EXPECT_EQ(found["items"][0]["id"], b);
  EXPECT_GT(found["items"][0]["score"].get<double>(), 0.5);

  auto groups = call("GET", "/v1/duplicates", viewer_token());
  ASSERT_EQ(groups.status, 200) << groups.body;
  ASSERT_EQ(groups.json()["items"].size(), 1u) << groups.body;
  EXPECT_EQ(groups.json()["items"][0]["customers"].size(), 2u);
  EXPECT_EQ(call("GET", "/v1/duplicates?min_score=2", viewer_token()).status, 400);
  EXPECT_EQ(groups.json()["total_groups"], 1);
  EXPECT_FALSE(groups.json()["items"][0]["pairs"][0]["explanation"].get<std::string>().empty()) << groups.body;
  EXPECT_EQ(call("GET", "/v1/duplicates?limit=0", viewer_token()).status, 400);
  EXPECT_EQ(call("GET", "/v1/duplicates?limit=1&min_score=0.7", viewer_token()).status, 200);
  EXPECT_EQ(found["items"][0]["evidence"].size() > 0, true) << found;

  auto dismiss = call_json("POST", "/v1/duplicates/dismiss", agent_token(), {{"customer_ids", {a, b}}});
  ASSERT_EQ(dismiss.status, 200) << dismiss.body;
  EXPECT_EQ(dismiss.json()["already_dismissed"], false);
  EXPECT_TRUE(call("GET", "/v1/customers/" + a + "/duplicates", viewer_token()).json()["items"].empty());
  EXPECT_TRUE(call("GET", "/v1/duplicates", viewer_token()).json()["items"].empty());
}

TEST_F(CustomersHttpTest, MassAssignmentIsRefusedByName) {
  auto r = call_json("POST", "/v1/customers", admin_token(),
                     {{"name", "X"}, {"company_id", company_b_}, {"id", kMissingId}, {"version", 7},
                      {"deleted_at", "2020-01-01T00:00:00Z"}});
  ASSERT_EQ(r.status, 422) << r.body;
  std::set<std::string> fields;
  const auto body = r.json();
  for (const auto& e : body["errors"]) fields.insert(e["field"].get<std::string>());
  for (const char* f : {"company_id", "id", "version", "deleted_at"}) EXPECT_TRUE(fields.count(f)) << f << r.body;

  const std::string id = create({{"name", "Y"}})["id"];
  auto p = call_json("PATCH", "/v1/customers/" + id, admin_token(), {{"company_id", company_b_}, {"status", "merged"}});
  ASSERT_EQ(p.status, 422) << p.body;
  auto after = call("GET", "/v1/customers/" + id, viewer_token()).json();
  EXPECT_EQ(after["company_id"], company_a_);
  EXPECT_EQ(after["version"], 1);
  EXPECT_TRUE(owner_query("SELECT 1 FROM customers WHERE company_id = '" + company_b_ + "'").empty());
}

TEST_F(CustomersHttpTest, RoleMatrixForWriteRoutes) {
  const std::string id = create({{"name", "Role Target"}})["id"];
  struct Write {
    std::string method, path;
    std::string min_role;
  };
  std::vector<Write> writes = {
      {"POST", "/v1/customers", "agent"},
      {"PATCH", "/v1/customers/" + id, "agent"},
      {"PUT", "/v1/customers/" + id + "/stage", "agent"},
      {"POST", "/v1/customers/" + id + "/tags", "agent"},
      {"DELETE", "/v1/customers/" + id + "/tags", "agent"},
      {"PUT", "/v1/customers/" + id + "/notes", "agent"},
      {"POST", "/v1/chat", "agent"},
      {"POST", "/v1/conversations/s-1/link", "agent"},
      {"POST", "/v1/customers/" + id + "/enrich", "agent"},
      {"POST", "/v1/customers/import", "agent"},
      {"POST", "/v1/duplicates/dismiss", "agent"},
      {"DELETE", "/v1/customers/" + id, "admin"},
      {"POST", "/v1/customers/" + id + "/restore", "admin"},
      {"POST", "/v1/customers/bulk/stage", "admin"},
      {"POST", "/v1/merges", "admin"},
      {"POST", "/v1/merges/" + std::string(kMissingId) + "/undo", "admin"},
  };
  const std::map<std::string, std::string> tokens = {
      {"viewer", viewer_token()}, {"agent", agent_token()}, {"admin", admin_token()}};
  const std::map<std::string, int> rank = {{"viewer", 0}, {"agent", 1}, {"admin", 2}};
  // Refused calls first: they must change nothing.
  for (const auto& w : writes) {
    for (const auto& [role, token] : tokens) {
      if (rank.at(role) >= rank.at(w.min_role)) continue;
      auto r = call(w.method, w.path, token, "{}");
      EXPECT_EQ(r.status, 403) << role << " " << w.method << " " << w.path << ": " << r.body;
    }
  }
  EXPECT_EQ(call("GET", "/v1/customers/" + id, viewer_token()).json()["version"], 1) << "no refused write applied";
  EXPECT_EQ(owner_query("SELECT count(*) AS n FROM customers")[0]["n"], 1);
  // Allowed roles get past authorization (an empty object then fails validation at most).
  for (const auto& w : writes) {
    for (const auto& [role, token] : tokens) {
      if (rank.at(role) < rank.at(w.min_role)) continue;
      auto r = call(w.method, w.path, token, "{}");
      EXPECT_NE(r.status, 403) << role << " " << w.method << " " << w.path << ": " << r.body;
      EXPECT_NE(r.status, 401) << role << " " << w.method << " " << w.path;
      EXPECT_LT(r.status, 500) << role << " " << w.method << " " << w.path << ": " << r.body;
    }
  }
}

TEST_F(CustomersHttpTest, OtherCompanysIdsAnswerExactlyLikeMissingIds) {
  auto theirs = call_json("POST", "/v1/customers", other_admin_token(), {{"name", "Globex Customer"}});
  ASSERT_EQ(theirs.status, 201);
  const std::string other = theirs.json()["id"];
  std::vector<std::tuple<std::string, std::string, std::optional<std::string>>> routes = {
      {"GET", "/v1/customers/{id}", std::nullopt},
      {"PATCH", "/v1/customers/{id}", R"({"name":"hijack"})"},
      {"DELETE", "/v1/customers/{id}", std::nullopt},
      {"POST", "/v1/customers/{id}/restore", std::nullopt},
      {"GET", "/v1/customers/{id}/conversations", std::nullopt},
      {"GET", "/v1/customers/{id}/conversations/s-1/messages", std::nullopt},
      {"GET", "/v1/customers/{id}/timeline", std::nullopt},
      {"PUT", "/v1/customers/{id}/stage", R"({"lifecycle_stage":"lead"})"},
      {"POST", "/v1/customers/{id}/tags", R"({"tags":["x"]})"},
      {"DELETE", "/v1/customers/{id}/tags", R"({"tags":["x"]})"},
      {"PUT", "/v1/customers/{id}/notes", R"({"notes":"x"})"},
      {"POST", "/v1/customers/{id}/enrich", std::nullopt},
      {"GET", "/v1/customers/{id}/summary", std::nullopt},
      {"POST", "/v1/merges/{id}/undo", std::nullopt},
      {"GET", "/v1/merges/{id}", std::nullopt},
      {"GET", "/v1/customers/{id}/duplicates", std::nullopt},
  };
  auto strip = [](const HttpResponse& r) {
    auto j = r.json();
    if (j.is_object()) j.erase("instance");
    return j;
  };
  for (const auto& [method, pattern, body] : routes) {
    auto path_for = [&, p = pattern](const std::string& id) {
      auto s = p;
      s.replace(s.find("{id}"), 4, id);
      return s;
    };
    auto theirs_r = call(method, path_for(other), admin_token(), body);
    auto missing_r = call(method, path_for(kMissingId), admin_token(), body);
    auto garbage_r = call(method, path_for("not-a-uuid"), admin_token(), body);
    EXPECT_EQ(theirs_r.status, 404) << method << " " << pattern << ": " << theirs_r.body;
    EXPECT_EQ(missing_r.status, 404) << method << " " << pattern;
    EXPECT_EQ(garbage_r.status, 404) << method << " " << pattern;
    EXPECT_EQ(strip(theirs_r), strip(missing_r)) << method << " " << pattern;
    EXPECT_EQ(strip(garbage_r), strip(missing_r)) << method << " " << pattern;
  }
  // Bodies naming another company's customer.
  auto link = call_json("POST", "/v1/conversations/s-x/link", admin_token(), {{"customer_id", other}});
  EXPECT_EQ(link.status, 404) << link.body;
  auto merge = call_json("POST", "/v1/merges", admin_token(),
                         {{"target_id", create({{"name", "Mine"}})["id"]}, {"source_ids", {other}}});
  EXPECT_EQ(merge.status, 404) << merge.body;
  auto theirs_now = call("GET", "/v1/customers/" + other, other_admin_token()).json();
  EXPECT_EQ(theirs_now["name"], "Globex Customer");
  EXPECT_EQ(theirs_now["status"], "active");
  EXPECT_EQ(theirs_now["version"], 1);
}

TEST_F(CustomersHttpTest, IdempotencyKeyReplaysTheFirstResponse) {
  const std::map<std::string, std::string> key = {{"Idempotency-Key", "create-ann-1"}};
  auto first = call_json("POST", "/v1/customers", agent_token(), {{"name", "Ann Once"}}, key);
  ASSERT_EQ(first.status, 201) << first.body;
  auto second = call_json("POST", "/v1/customers", agent_token(), {{"name", "Ann Once"}}, key);
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_EQ(second.json()["id"], first.json()["id"]);
  EXPECT_EQ(second.header("Location"), first.header("Location"));
  EXPECT_EQ(owner_query("SELECT count(*) AS n FROM customers")[0]["n"], 1);

  auto different = call_json("POST", "/v1/customers", agent_token(), {{"name", "Someone Else"}}, key);
  EXPECT_EQ(different.status, 422) << different.body;
  // Keys are per company: the other company's same key is a new request.
  auto other = call_json("POST", "/v1/customers", other_admin_token(), {{"name", "Ann Once"}}, key);
  EXPECT_EQ(other.status, 201);
  EXPECT_NE(other.json()["id"], first.json()["id"]);
  // A failed first attempt does not burn the key.
  const std::map<std::string, std::string> key2 = {{"Idempotency-Key", "create-2"}};
  EXPECT_EQ(call_json("POST", "/v1/customers", agent_token(), {{"email", "bad"}}, key2).status, 422);
  auto retried = call_json("POST", "/v1/customers", agent_token(), {{"email", "ok@example.com"}}, key2);
  EXPECT_EQ(retried.status, 201) << "the corrected retry runs: " << retried.body;
  EXPECT_EQ(call_json("POST", "/v1/customers", agent_token(), {{"email", "ok@example.com"}}, key2).json()["id"],
            retried.json()["id"]);
  const std::map<std::string, std::string> key3 = {{"Idempotency-Key", "create-3"}};
  EXPECT_EQ(call_json("POST", "/v1/customers", agent_token(), {{"email", "bad"}}, key3).status, 422);
  EXPECT_EQ(call_json("POST", "/v1/customers", agent_token(), {{"email", "bad"}}, key3).status, 422);
}

TEST_F(CustomersHttpTest, CorrelationIdReachesTheAuditLog) {
  auto r = call_json("POST", "/v1/customers", agent_token(), {{"name", "Audited"}}, {{"X-Request-Id", "audit-me-42"}});
  ASSERT_EQ(r.status, 201) << r.body;
  auto rows = owner_query("SELECT correlation_id, actor FROM customer_audit_log WHERE record_id = '" +
                          r.json()["id"].get<std::string>() + "'");
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0]["correlation_id"], "audit-me-42");
  EXPECT_EQ(rows[0]["actor"], "test-user");
}

// 50 clients at once (released together), each creating customers and updating
// both its own customer and one shared customer with If-Match. No answer may be a
// 5xx (or no answer): the HTTP worker pool queues connections and the database pool
// has one connection per worker, so nothing waits for a connection long enough to
// give up (tradesphere_db_pool_timeouts_total stays put). No update may be lost:
// the successful PATCHes of the shared customer got the versions 2..N+1 exactly
// once each, the audit log holds exactly their notes, and no refused (412) note.
TEST_F(CustomersHttpTest, FiftyConcurrentClientsLoseNoUpdateAndSeeNo5xx) {
  const std::string shared = create({{"name", "Shared"}})["id"];
  constexpr int kClients = 50;
  constexpr int kRounds = 3;
  auto& pool_timeouts = tradesphere::common::metrics().counter("tradesphere_db_pool_timeouts_total",
                                                               "Acquires that gave up (pool exhausted)");
  const double pool_timeouts_before = pool_timeouts.value();
  struct Outcome {
    std::vector<std::pair<int, std::string>> applied;  // (version after, notes) of each 200 on `shared`
    std::vector<std::string> refused;                  // notes of each 412 on `shared`
    std::vector<std::string> failures;                 // anything unexpected, with the answer
    std::string own_id;
    int own_version = 0;
    std::string own_notes;
  };
  std::vector<Outcome> outcomes(kClients);
  std::latch start(kClients);
  std::vector<std::thread> clients;
  const auto started = std::chrono::steady_clock::now();
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      Outcome& out = outcomes[c];
      auto fail = [&](const std::string& what, const HttpResponse& r) {
        out.failures.push_back(what + " -> " + std::to_string(r.status) + " " + r.body);
      };
      const std::string token = agent_token();
      start.arrive_and_wait();
      for (int i = 0; i < kRounds; ++i) {
        const std::string tag = "client " + std::to_string(c) + " round " + std::to_string(i);
        auto made = call_json("POST", "/v1/customers", token, {{"name", "Client " + tag}});
        if (made.status != 201) {
          fail("POST " + tag, made);
          continue;
        }
        if (out.own_id.empty()) {
          out.own_id = made.json()["id"];
          out.own_version = 1;
        }
        // Its own customer: nobody else writes it, so every If-Match PATCH succeeds.
        auto own = call_json("PATCH", "/v1/customers/" + out.own_id, token, {{"notes", "own " + tag}},
                             {{"If-Match", "\"" + std::to_string(out.own_version) + "\""}});
        if (own.status == 200 && own.json()["version"] == out.own_version + 1) {
          ++out.own_version;
          out.own_notes = "own " + tag;
        } else {
          fail("PATCH own " + tag, own);
        }
        // The shared customer: read the version, then PATCH with If-Match.
        auto got = call("GET", "/v1/customers/" + shared, token);
        if (got.status != 200) {
          fail("GET shared " + tag, got);
          continue;
        }
        const int version = got.json()["version"].get<int>();
        const std::string notes = "shared " + tag;
        auto p = call_json("PATCH", "/v1/customers/" + shared, token, {{"notes", notes}},
                           {{"If-Match", "\"" + std::to_string(version) + "\""}});
        if (p.status == 200) {
          const auto body = p.json();
          if (body["version"] != version + 1 || body["notes"] != notes) fail("PATCH shared answer " + tag, p);
          out.applied.emplace_back(body["version"].get<int>(), notes);
        } else if (p.status == 412) {
          if (p.header("ETag").empty()) fail("412 without ETag " + tag, p);
          out.refused.push_back(notes);
        } else {
          fail("PATCH shared " + tag, p);
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "[          ] " << kClients << " clients x " << kRounds << " rounds (4 requests each) in " << elapsed
            << " s\n";

  std::map<int, std::string> applied;  // version -> notes
  std::set<std::string> refused;
  for (const auto& out : outcomes) {
    for (const auto& f : out.failures) ADD_FAILURE() << f;
    for (const auto& [v, n] : out.applied) {
      EXPECT_TRUE(applied.emplace(v, n).second) << "two successful PATCHes produced version " << v;
    }
    refused.insert(out.refused.begin(), out.refused.end());
  }
  ASSERT_FALSE(applied.empty());
  EXPECT_EQ(applied.size() + refused.size(), static_cast<std::size_t>(kClients * kRounds));
  // Versions strictly increase by one per successful PATCH: exactly 2..N+1.
  EXPECT_EQ(applied.begin()->first, 2);
  EXPECT_EQ(applied.rbegin()->first, static_cast<int>(applied.size()) + 1);

  auto final = call("GET", "/v1/customers/" + shared, viewer_token()).json();
  EXPECT_EQ(final["version"], 1 + static_cast<int>(applied.size()));
  EXPECT_EQ(final["notes"], applied.rbegin()->second) << "the last successful PATCH is what is stored";
  // Every successful PATCH is visible in the history, in version order; no 412 changed anything.
  auto updates = owner_query("SELECT after->>'notes' AS notes, (after->>'version')::int AS version "
                             "FROM customer_audit_log WHERE record_id = '" + shared +
                             "' AND operation = 'UPDATE' ORDER BY id");
  ASSERT_EQ(updates.size(), applied.size());
  for (const auto& row : updates) {
    const std::string notes = row["notes"];
    auto it = applied.find(row["version"].get<int>());
    ASSERT_NE(it, applied.end()) << row;
    EXPECT_EQ(it->second, notes);
    EXPECT_EQ(refused.count(notes), 0u) << "a refused PATCH was applied: " << notes;
  }
  for (std::size_t i = 1; i < updates.size(); ++i) {
    EXPECT_LT(updates[i - 1]["version"].get<int>(), updates[i]["version"].get<int>());
  }
  // Each client's own customer has all its updates.
  for (const auto& out : outcomes) {
    if (out.own_id.empty()) continue;
    auto own = call("GET", "/v1/customers/" + out.own_id, viewer_token()).json();
    EXPECT_EQ(own["version"], 1 + kRounds);
    EXPECT_EQ(own["notes"], out.own_notes);
  }
  EXPECT_EQ(owner_query("SELECT count(*) AS n FROM customers")[0]["n"], 1 + kClients * kRounds);
  EXPECT_EQ(pool_timeouts.value(), pool_timeouts_before) << "a request gave up waiting for a database connection";
}

class ShutdownHttpTest : public HttpTest {
 protected:
  void configure(tradesphere::http::ServerOptions& o) override {
    o.before_handler = [this](const std::string&, const std::string& route) {
      if (route != "/v1/me") return;
      {
        std::lock_guard lock(mutex_);
        entered_ = true;
      }
      cv_.notify_all();
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    };
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  bool entered_ = false;
};

TEST_F(ShutdownHttpTest, StopFinishesInFlightRequests) {
  HttpResponse in_flight;
  std::thread client([&] { in_flight = call("GET", "/v1/me", viewer_token()); });
  {
    std::unique_lock lock(mutex_);
    ASSERT_TRUE(cv_.wait_for(lock, std::chrono::seconds(30), [&] { return entered_; }));
  }
  stop_server();
  client.join();
  EXPECT_EQ(in_flight.status, 200) << in_flight.body;
  EXPECT_EQ(in_flight.json()["role"], "viewer");
  EXPECT_EQ(call("GET", "/healthz").status, 0) << "the server no longer accepts connections";
}

}  // namespace

namespace {

class EmailOwnershipHttpTest : public HttpTest {};

// One normalized email, one active customer: a create or an edit that would give
// a second customer the email answers 409 naming the holder (as HubSpot does).
TEST_F(EmailOwnershipHttpTest, ASecondCustomerWithTheSameEmailIs409NamingTheFirst) {
  auto first = call_json("POST", "/v1/customers", admin_token(), {{"name", "Ann"}, {"email", "ann@x.io"}});
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string ann = first.json()["id"];

  auto again = call_json("POST", "/v1/customers", admin_token(), {{"name", "Ann B"}, {"email", "  ANN@X.IO "}});
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(again.json()["type"], "urn:tradesphere:problem:email-in-use");
  EXPECT_EQ(again.json()["existing_customer_id"], ann);
  EXPECT_EQ(again.header("Location"), "/v1/customers/" + ann);
  EXPECT_EQ(owner_query("SELECT count(*) AS n FROM customers")[0]["n"], 1) << "nothing stored";

  // another company may have the same email
  EXPECT_EQ(call_json("POST", "/v1/customers", other_admin_token(), {{"email", "ann@x.io"}}).status, 201);

  // an edit that would take the email
  auto bob = call_json("POST", "/v1/customers", admin_token(), {{"name", "Bob"}, {"email", "bob@x.io"}});
  ASSERT_EQ(bob.status, 201);
  const std::string bob_id = bob.json()["id"];
  auto take = call_json("PATCH", "/v1/customers/" + bob_id, admin_token(), {{"email", "Ann@x.io"}});
  EXPECT_EQ(take.status, 409) << take.body;
  EXPECT_EQ(take.json()["existing_customer_id"], ann);
  // editing one's own email (case, padding) is fine
  EXPECT_EQ(call_json("PATCH", "/v1/customers/" + ann, admin_token(), {{"email", "ANN@x.io"}}).status, 200);

  // once Ann is deleted, the email is free; restoring Ann then conflicts with its new owner
  ASSERT_EQ(call("DELETE", "/v1/customers/" + ann, admin_token()).status, 200);
  auto freed = call_json("PATCH", "/v1/customers/" + bob_id, admin_token(), {{"email", "ann@x.io"}});
  EXPECT_EQ(freed.status, 200) << freed.body;
  auto restore = call("POST", "/v1/customers/" + ann + "/restore", admin_token());
  EXPECT_EQ(restore.status, 409) << restore.body;
  EXPECT_EQ(restore.json()["existing_customer_id"], bob_id);
}

}  // namespace
