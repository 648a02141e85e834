#include "domain/customer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "domain/errors.hpp"

namespace tradesphere::domain {
namespace {

using nlohmann::json;

struct Failure {
  std::string field;
  std::string reason;
};

template <typename Fn>
std::vector<Failure> failures(Fn&& fn) {
  try {
    fn();
  } catch (const ValidationError& e) {
    std::vector<Failure> out;
    for (const auto& f : e.fields()) out.push_back({f.field, f.reason});
    return out;
  }
  ADD_FAILURE() << "expected ValidationError";
  return {};
}

template <typename Fn>
std::vector<std::string> fields(Fn&& fn) {
  std::vector<std::string> out;
  for (const auto& f : failures(fn)) out.push_back(f.field);
  std::sort(out.begin(), out.end());
  return out;
}

std::string reason_for(const std::vector<Failure>& fs, const std::string& field) {
  for (const auto& f : fs) {
    if (f.field == field) return f.reason;
  }
  return "<none>";
}

// ---- enums ----

TEST(CustomerEnums, RoundTripThroughText) {
  for (auto s : {LifecycleStage::kProspect, LifecycleStage::kLead, LifecycleStage::kCustomer, LifecycleStage::kChurned}) {
    EXPECT_EQ(parse_lifecycle_stage(to_string(s)), s);
  }
  for (auto s : {CustomerSource::kChat, CustomerSource::kManual, CustomerSource::kImport, CustomerSource::kApi}) {
    EXPECT_EQ(parse_customer_source(to_string(s)), s);
  }
  for (auto s : {CustomerStatus::kActive, CustomerStatus::kDeleted, CustomerStatus::kMerged}) {
    EXPECT_EQ(parse_customer_status(to_string(s)), s);
  }
  EXPECT_STREQ(to_string(LifecycleStage::kChurned), "churned");
  EXPECT_STREQ(to_string(CustomerSource::kImport), "import");
  EXPECT_STREQ(to_string(CustomerStatus::kMerged), "merged");
}

TEST(CustomerEnums, ParseRejectsUnknownTextNamingTheField) {
  auto fs = failures([] { parse_lifecycle_stage("Lead"); });
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].field, "lifecycle_stage");
  EXPECT_EQ(fs[0].reason, "must be one of prospect, lead, customer, churned");
  EXPECT_EQ(fields([] { parse_customer_source("web", "filter.source"); }), std::vector<std::string>{"filter.source"});
  EXPECT_EQ(fields([] { parse_customer_status(""); }), std::vector<std::string>{"status"});
}

// ---- create ----

TEST(NewCustomerFromJson, ParsesAndNormalizesEveryField) {
  const NewCustomer c = new_customer_from_json(json{
      {"external_id", " crm-42 "},
      {"name", "  Jane Doe "},
      {"email", " Jane.Doe@Example.COM "},
      {"phone", " (415) 555-2671 "},
      {"address", "1 Main St\nSpringfield"},
      {"notes", "likes\tcalls"},
      {"attributes", {{"plan", "gold"}, {"seats", 3}}},
      {"lifecycle_stage", "lead"},
      {"tags", {"VIP", " vip ", "Wholesale"}},
      {"source", "import"},
  });
  EXPECT_EQ(c.external_id, "crm-42");
  EXPECT_EQ(c.name, "Jane Doe");
  EXPECT_EQ(c.email, "jane.doe@example.com");
  EXPECT_EQ(c.phone, "(415) 555-2671");
  EXPECT_EQ(c.address, "1 Main St\nSpringfield");
  EXPECT_EQ(c.notes, "likes\tcalls");
  EXPECT_EQ(c.attributes, (json{{"plan", "gold"}, {"seats", 3}}));
  EXPECT_EQ(c.stage, LifecycleStage::kLead);
  EXPECT_EQ(c.tags, (std::vector<std::string>{"vip", "wholesale"}));
  EXPECT_EQ(c.source, CustomerSource::kImport);
}

TEST(NewCustomerFromJson, AppliesDefaults) {
  const NewCustomer c = new_customer_from_json(json{{"name", "Jane"}});
  EXPECT_EQ(c.stage, LifecycleStage::kProspect);
  EXPECT_EQ(c.source, CustomerSource::kApi);
  EXPECT_EQ(c.attributes, json::object());
  EXPECT_TRUE(c.tags.empty());
  EXPECT_FALSE(c.email.has_value());
}

TEST(NewCustomerFromJson, BlankTextBecomesNull) {
  const NewCustomer c = new_customer_from_json(json{{"name", "Jane"}, {"notes", "   "}, {"address", nullptr}});
  EXPECT_FALSE(c.notes.has_value());
  EXPECT_FALSE(c.address.has_value());
}

TEST(NewCustomerFromJson, RejectsUnknownAndReadOnlyFieldsListingEveryOne) {
  auto fs = failures([] {
    new_customer_from_json(json{{"name", "Jane"},
                                {"id", "123e4567-e89b-12d3-a456-426614174000"},
                                {"company_id", "x"},
                                {"version", 3},
                                {"status", "active"},
                                {"created_at", "2026-01-01T00:00:00Z"},
                                {"deleted_at", nullptr},
                                {"merged_into_customer_id", nullptr},
                                {"favourite_colour", "blue"},
                                {"stage", "lead"}});
  });
  ASSERT_EQ(fs.size(), 9u);
  EXPECT_EQ(reason_for(fs, "id"), "read-only field");
  EXPECT_EQ(reason_for(fs, "company_id"), "read-only field");
  EXPECT_EQ(reason_for(fs, "version"), "read-only field");
  EXPECT_EQ(reason_for(fs, "status"), "read-only field");
  EXPECT_EQ(reason_for(fs, "created_at"), "read-only field");
  EXPECT_EQ(reason_for(fs, "deleted_at"), "read-only field");
  EXPECT_EQ(reason_for(fs, "merged_into_customer_id"), "read-only field");
  EXPECT_EQ(reason_for(fs, "favourite_colour"), "unknown field");
  EXPECT_EQ(reason_for(fs, "stage"), "unknown field");
}

TEST(NewCustomerFromJson, RejectsWrongTypes) {
  EXPECT_EQ(fields([] {
              new_customer_from_json(json{{"name", 42},
                                          {"email", true},
                                          {"attributes", json::array()},
                                          {"lifecycle_stage", 1},
                                          {"tags", "vip"},
                                          {"source", nullptr}});
            }),
            (std::vector<std::string>{"attributes", "email", "lifecycle_stage", "name", "source", "tags"}));
  EXPECT_EQ(fields([] { new_customer_from_json(json{{"name", "x"}, {"tags", {"ok", 3}}}); }),
            std::vector<std::string>{"tags/1"});
}

TEST(NewCustomerFromJson, RejectsNonObjectBody) {
  EXPECT_EQ(fields([] { new_customer_from_json(json::array()); }), std::vector<std::string>{"body"});
  EXPECT_EQ(fields([] { new_customer_from_json(json("x")); }), std::vector<std::string>{"body"});
}

TEST(NewCustomerFromJson, RejectsInvalidEmailPhoneStageAndTags) {
  auto fs = failures([] {
    new_customer_from_json(json{{"name", "Jane"},
                                {"email", "jane@"},
                                {"phone", "call me maybe"},
                                {"lifecycle_stage", "vip"},
                                {"tags", {"ok", "no/slash"}}});
  });
  EXPECT_EQ(reason_for(fs, "email"), "is not a valid email address");
  EXPECT_EQ(reason_for(fs, "phone"), "is not a valid phone number");
  EXPECT_EQ(reason_for(fs, "lifecycle_stage"), "must be one of prospect, lead, customer, churned");
  EXPECT_NE(reason_for(fs, "tags/1"), "<none>");
  EXPECT_EQ(fs.size(), 4u);
}

TEST(NewCustomerFromJson, EnforcesLengthBounds) {
  EXPECT_NO_THROW(new_customer_from_json(json{{"name", std::string(kMaxNameLength, 'a')}}));
  EXPECT_EQ(fields([] {
              new_customer_from_json(json{{"name", std::string(kMaxNameLength + 1, 'a')},
                                          {"external_id", std::string(kMaxExternalIdLength + 1, 'e')},
                                          {"address", std::string(kMaxAddressLength + 1, 'a')},
                                          {"notes", std::string(kMaxNotesLength + 1, 'n')}});
            }),
            (std::vector<std::string>{"address", "external_id", "name", "notes"}));
  json big = json::object();
  big["blob"] = std::string(kMaxAttributesBytes, 'x');
  EXPECT_EQ(fields([&] { new_customer_from_json(json{{"name", "a"}, {"attributes", big}}); }),
            std::vector<std::string>{"attributes"});
}

TEST(NewCustomerFromJson, RejectsControlCharactersInSingleLineFields) {
  EXPECT_EQ(fields([] { new_customer_from_json(json{{"name", "Jane\nDoe"}}); }), std::vector<std::string>{"name"});
  EXPECT_EQ(fields([] { new_customer_from_json(json{{"name", "Jane"}, {"notes", std::string("a\x01b")}}); }),
            std::vector<std::string>{"notes"});
}

TEST(NewCustomerFromJson, OnlyManualImportOrApiSource) {
  EXPECT_EQ(new_customer_from_json(json{{"name", "a"}, {"source", "manual"}}).source, CustomerSource::kManual);
  EXPECT_EQ(new_customer_from_json(json{{"name", "a"}, {"source", "api"}}).source, CustomerSource::kApi);
  EXPECT_EQ(fields([] { new_customer_from_json(json{{"name", "a"}, {"source", "chat"}}); }),
            std::vector<std::string>{"source"});
}

TEST(NewCustomerFromJson, RequiresAnIdentifyingField) {
  EXPECT_EQ(fields([] { new_customer_from_json(json::object()); }), std::vector<std::string>{"body"});
  EXPECT_EQ(fields([] { new_customer_from_json(json{{"name", "  "}, {"notes", "hi"}}); }),
            std::vector<std::string>{"body"});
  EXPECT_NO_THROW(new_customer_from_json(json{{"email", "a@b.co"}}));
  EXPECT_NO_THROW(new_customer_from_json(json{{"phone", "+14155552671"}}));
  EXPECT_NO_THROW(new_customer_from_json(json{{"external_id", "x1"}}));
}

// ---- patch ----

TEST(CustomerPatchFromJson, DistinguishesAbsentFromNull) {
  const CustomerPatch p = customer_patch_from_json(json{{"name", "New Name"}, {"email", nullptr}});
  ASSERT_TRUE(p.name.has_value());
  EXPECT_EQ(*p.name, "New Name");
  ASSERT_TRUE(p.email.has_value());      // present ...
  EXPECT_FALSE(p.email->has_value());    // ... and set to null
  EXPECT_FALSE(p.phone.has_value());     // absent
  EXPECT_FALSE(p.notes.has_value());
  EXPECT_FALSE(p.stage.has_value());
  EXPECT_FALSE(p.tags.has_value());
  EXPECT_FALSE(p.attributes.has_value());
  EXPECT_FALSE(p.empty());
  EXPECT_EQ(p.field_names(), (std::vector<std::string>{"name", "email"}));
}

TEST(CustomerPatchFromJson, BlankStringClearsTheField) {
  const CustomerPatch p = customer_patch_from_json(json{{"notes", "  "}});
  ASSERT_TRUE(p.notes.has_value());
  EXPECT_FALSE(p.notes->has_value());
}

TEST(CustomerPatchFromJson, EmptyObjectIsAnEmptyPatch) {
  const CustomerPatch p = customer_patch_from_json(json::object());
  EXPECT_TRUE(p.empty());
  EXPECT_TRUE(p.field_names().empty());
}

TEST(CustomerPatchFromJson, NormalizesValues) {
  const CustomerPatch p = customer_patch_from_json(
      json{{"email", " A@B.CO "}, {"tags", {"X", "x", "y"}}, {"lifecycle_stage", "churned"}, {"attributes", {{"k", 1}}}});
  EXPECT_EQ(p.email, std::optional<std::optional<std::string>>(std::optional<std::string>("a@b.co")));
  EXPECT_EQ(p.tags, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(p.stage, LifecycleStage::kChurned);
  EXPECT_EQ(p.attributes, (json{{"k", 1}}));
  const CustomerPatch cleared = customer_patch_from_json(json{{"tags", json::array()}});
  ASSERT_TRUE(cleared.tags.has_value());
  EXPECT_TRUE(cleared.tags->empty());
}

TEST(CustomerPatchFromJson, SourceAndOtherReadOnlyFieldsAreRejected) {
  auto fs = failures([] {
    customer_patch_from_json(
        json{{"source", "api"}, {"version", 2}, {"updated_at", "x"}, {"created_by", "me"}, {"bogus", 1}});
  });
  ASSERT_EQ(fs.size(), 5u);
  EXPECT_EQ(reason_for(fs, "source"), "read-only field");
  EXPECT_EQ(reason_for(fs, "version"), "read-only field");
  EXPECT_EQ(reason_for(fs, "updated_at"), "read-only field");
  EXPECT_EQ(reason_for(fs, "created_by"), "read-only field");
  EXPECT_EQ(reason_for(fs, "bogus"), "unknown field");
}

TEST(CustomerPatchFromJson, NonNullableFieldsRejectNull) {
  EXPECT_EQ(fields([] {
              customer_patch_from_json(json{{"lifecycle_stage", nullptr}, {"tags", nullptr}, {"attributes", nullptr}});
            }),
            (std::vector<std::string>{"attributes", "lifecycle_stage", "tags"}));
}

TEST(CustomerPatchFromJson, RejectsInvalidValuesTogetherWithUnknownFields) {
  EXPECT_EQ(fields([] {
              customer_patch_from_json(json{{"email", "nope"}, {"phone", "abc"}, {"name", std::string(201, 'n')},
                                            {"id", "x"}});
            }),
            (std::vector<std::string>{"email", "id", "name", "phone"}));
}

// ---- output ----

Customer sample_customer() {
  Customer c;
  c.id = "123e4567-e89b-12d3-a456-426614174000";
  c.company_id = "00000000-0000-0000-0000-000000000001";
  c.name = "Jane Doe";
  c.email = "jane@example.com";
  c.attributes = json{{"plan", "gold"}};
  c.stage = LifecycleStage::kCustomer;
  c.tags = {"vip"};
  c.source = CustomerSource::kChat;
  c.status = CustomerStatus::kActive;
  c.created_at = "2026-01-01T00:00:00Z";
  c.updated_at = "2026-01-02T00:00:00Z";
  c.created_by = "tech-1";
  c.version = 4;
  return c;
}

TEST(CustomerToJson, UsesSnakeCaseAndNullsForAbsentFields) {
  const json j = to_json(sample_customer());
  const json expected = {
      {"id", "123e4567-e89b-12d3-a456-426614174000"},
      {"company_id", "00000000-0000-0000-0000-000000000001"},
      {"external_id", nullptr},
      {"name", "Jane Doe"},
      {"email", "jane@example.com"},
      {"phone", nullptr},
      {"address", nullptr},
      {"notes", nullptr},
      {"attributes", {{"plan", "gold"}}},
      {"lifecycle_stage", "customer"},
      {"tags", {"vip"}},
      {"source", "chat"},
      {"status", "active"},
      {"merged_into_customer_id", nullptr},
      {"deleted_at", nullptr},
      {"created_at", "2026-01-01T00:00:00Z"},
      {"updated_at", "2026-01-02T00:00:00Z"},
      {"created_by", "tech-1"},
      {"updated_by", nullptr},
      {"version", 4},
  };
  EXPECT_EQ(j, expected);
}

TEST(CustomerToJson, WithMetricsNestsTheMetrics) {
  CustomerWithMetrics cm{sample_customer(), CustomerMetrics{3, 17, "2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z",
                                                            std::string("Thanks!")}};
  const json j = to_json(cm);
  EXPECT_EQ(j["name"], "Jane Doe");
  EXPECT_EQ(j["metrics"], (json{{"conversation_count", 3},
                                {"message_count", 17},
                                {"first_contact_at", "2026-01-01T00:00:00Z"},
                                {"last_contact_at", "2026-01-05T00:00:00Z"},
                                {"last_message_preview", "Thanks!"}}));
  const json empty = to_json(CustomerMetrics{});
  EXPECT_EQ(empty["conversation_count"], 0);
  EXPECT_TRUE(empty["last_contact_at"].is_null());
}

TEST(CustomerToJson, OutputOfMutableFieldsParsesBackAsAPatch) {
  Customer c = sample_customer();
  c.phone = "+14155552671";
  json j = to_json(c);
  json patch = json::object();
  for (const char* key : {"external_id", "name", "email", "phone", "address", "notes", "attributes",
                          "lifecycle_stage", "tags"}) {
    patch[key] = j[key];
  }
  const CustomerPatch p = customer_patch_from_json(patch);
  EXPECT_EQ(p.name, std::optional<std::optional<std::string>>(c.name));
  EXPECT_EQ(p.phone, std::optional<std::optional<std::string>>(c.phone));
  EXPECT_EQ(p.stage, c.stage);
  EXPECT_EQ(p.tags, c.tags);
}

// ---- chat records ----

json sample_chat() {
  return json{{"session_id", "sess-1"},
              {"tech_id", "tech-9"},
              {"customer_name", " John "},
              {"customer_email", "John@Example.com"},
              {"customer_phone", "+1 415 555 2671"},
              {"user_message", "Hi, I need help"},
              {"ai_response", "Sure!"},
              {"created_at", "2026-01-02T03:04:05Z"}};
}

TEST(ChatRecordFromJson, ParsesAndNormalizes) {
  const ChatRecord r = chat_record_from_json(sample_chat());
  EXPECT_EQ(r.session_id, "sess-1");
  EXPECT_EQ(r.tech_id, "tech-9");
  EXPECT_EQ(r.customer_name, "John");
  EXPECT_EQ(r.customer_email, "john@example.com");
  EXPECT_EQ(r.customer_phone, "+1 415 555 2671");
  EXPECT_EQ(r.user_message, "Hi, I need help");
  EXPECT_EQ(r.ai_response, "Sure!");
  EXPECT_EQ(r.created_at, "2026-01-02T03:04:05Z");
  EXPECT_EQ(chat_record_from_json(to_json(r)), r);
}

TEST(ChatRecordFromJson, OptionalFieldsMayBeMissingOrNull) {
  const ChatRecord r = chat_record_from_json(json{{"session_id", "s"},
                                                  {"tech_id", "t"},
                                                  {"customer_email", nullptr},
                                                  {"user_message", "hello"},
                                                  {"ai_response", ""}});
  EXPECT_FALSE(r.customer_name.has_value());
  EXPECT_FALSE(r.customer_email.has_value());
  EXPECT_FALSE(r.created_at.has_value());
  EXPECT_EQ(r.ai_response, "");
}

TEST(ChatRecordFromJson, RequiresIdsAndMessage) {
  EXPECT_EQ(fields([] { chat_record_from_json(json::object()); }),
            (std::vector<std::string>{"ai_response", "session_id", "tech_id", "user_message"}));
  json j = sample_chat();
  j["session_id"] = "   ";
  j["user_message"] = " \n ";
  EXPECT_EQ(fields([&] { chat_record_from_json(j); }), (std::vector<std::string>{"session_id", "user_message"}));
}

TEST(ChatRecordFromJson, RejectsBadValuesAndUnknownFields) {
  json j = sample_chat();
  j["customer_email"] = "john at example";
  j["customer_phone"] = "n/a";
  j["created_at"] = "2026-01-02 03:04:05";  // no zone
  j["customer_id"] = "123";
  j["tech_id"] = 5;
  EXPECT_EQ(fields([&] { chat_record_from_json(j); }),
            (std::vector<std::string>{"created_at", "customer_email", "customer_id", "customer_phone", "tech_id"}));
}

TEST(ChatRecordFromJson, EnforcesMessageLength) {
  json j = sample_chat();
  j["user_message"] = std::string(kMaxUserMessageLength + 1, 'm');
  EXPECT_EQ(fields([&] { chat_record_from_json(j); }), std::vector<std::string>{"user_message"});
  j["user_message"] = std::string(kMaxUserMessageLength, 'm');
  EXPECT_NO_THROW(chat_record_from_json(j));
}

}  // namespace
}  // namespace tradesphere::domain
