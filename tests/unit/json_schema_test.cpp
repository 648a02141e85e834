// The contract tests' JSON Schema validator (tests/support/json_schema.hpp) and
// the embedded API description it checks responses against.
#include <gtest/gtest.h>

#include "http/routes.hpp"
#include "support/json_schema.hpp"

namespace {

using nlohmann::json;
using tradesphere::testing::is_rfc3339_date_time;
using tradesphere::testing::response_schema;
using tradesphere::testing::SchemaValidator;
using tradesphere::testing::unsupported_keywords;

const json kDoc = {
    {"components",
     {{"schemas",
       {{"Stage", {{"enum", {"prospect", "lead"}}}},
        {"Item",
         {{"type", "object"},
          {"required", {"id", "at"}},
          {"additionalProperties", false},
          {"properties",
           {{"id", {{"type", "string"}, {"format", "uuid"}}},
            {"at", {{"type", "string"}, {"format", "date-time"}}},
            {"stage", {{"$ref", "#/components/schemas/Stage"}}},
            {"note", {{"type", {"string", "null"}}, {"maxLength", 3}}},
            {"n", {{"type", "integer"}, {"minimum", 1}, {"maximum", 10}}}}}}}}}}},
    {"paths",
     {{"/x",
       {{"get",
         {{"responses",
           {{"200", {{"description", "OK"}, {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Item"}}}}}}}}},
            {"4XX", {{"$ref", "#/components/responses/Problem"}}}}}}}}}}},
};

json with_problem_response() {
  json doc = kDoc;
  doc["components"]["responses"]["Problem"] = {
      {"description", "error"}, {"content", {{"application/problem+json", {{"schema", {{"type", "object"}}}}}}}};
  return doc;
}

const json kItem = {{"id", "6f1c2b9e-0d4a-4c7b-9e3f-2a1b0c9d8e7f"}, {"at", "2026-12-06T16:54:57.651908Z"}};

std::vector<std::string> errors(const json& value, const json& schema = {{"$ref", "#/components/schemas/Item"}}) {
  return SchemaValidator(kDoc).validate(value, schema);
}

TEST(JsonSchema, AcceptsAValidValue) {
  EXPECT_TRUE(errors(kItem).empty());
  json full = kItem;
  full["stage"] = "lead";
  full["note"] = nullptr;
  full["n"] = 10;
  EXPECT_TRUE(errors(full).empty()) << ::testing::PrintToString(errors(full));
}

TEST(JsonSchema, ReportsEachViolationWithItsPointer) {
  json bad = {{"id", "not-a-uuid"}, {"stage", "boss"}, {"note", "long"}, {"n", 0}, {"extra", 1}};
  auto e = errors(bad);
  auto has = [&](const std::string& s) {
    return std::any_of(e.begin(), e.end(), [&](const std::string& x) { return x.find(s) != std::string::npos; });
  };
  EXPECT_TRUE(has("/: required property \"at\" is missing"));
  EXPECT_TRUE(has("/id: \"not-a-uuid\" is not a uuid"));
  EXPECT_TRUE(has("/stage: \"boss\" is not one of"));
  EXPECT_TRUE(has("/note: is longer than 3"));
  EXPECT_TRUE(has("/n: is below 1"));
  EXPECT_TRUE(has("property \"extra\" is not allowed"));
  EXPECT_EQ(e.size(), 6u) << ::testing::PrintToString(e);
}

TEST(JsonSchema, ChecksTypesNullableAndNumbers) {
  EXPECT_FALSE(errors(json::array()).empty());
  json item = kItem;
  item["note"] = 5;
  EXPECT_FALSE(errors(item).empty());
  item["note"] = nullptr;
  item["n"] = 2.5;
  EXPECT_FALSE(errors(item).empty()) << "2.5 is not an integer";
  item["n"] = 2.0;
  EXPECT_TRUE(errors(item).empty()) << "2.0 is";
  EXPECT_TRUE(errors(3, {{"type", "number"}}).empty()) << "an integer is a number";
  EXPECT_FALSE(errors("3", {{"type", "number"}}).empty());
  EXPECT_TRUE(errors(nullptr, {{"type", {"object", "null"}}}).empty());
}

TEST(JsonSchema, ArraysAndCombinators) {
  const json list = {{"type", "array"}, {"items", {{"type", "string"}}}, {"minItems", 1}, {"maxItems", 2}};
  EXPECT_TRUE(errors(json{"a"}, list).empty());
  EXPECT_FALSE(errors(json::array(), list).empty());
  EXPECT_FALSE(errors(json{"a", "b", "c"}, list).empty());
  EXPECT_EQ(errors(json{"a", 1}, list), std::vector<std::string>{"/1: is integer, expected string"});

  const json all = {{"allOf", {{{"type", "object"}, {"required", {"a"}}}, {{"required", {"b"}}}}}};
  EXPECT_TRUE(errors({{"a", 1}, {"b", 2}}, all).empty());
  EXPECT_FALSE(errors({{"a", 1}}, all).empty());
  const json one = {{"oneOf", {{{"type", "string"}}, {{"type", "integer"}}, {{"type", "number"}}}}};
  EXPECT_TRUE(errors("x", one).empty());
  EXPECT_FALSE(errors(1, one).empty()) << "an integer is also a number: two match";
  EXPECT_FALSE(errors(true, one).empty()) << "none match";
  const json any = {{"anyOf", {{{"type", "string"}}, {{"type", "integer"}}}}};
  EXPECT_TRUE(errors(1, any).empty());
  EXPECT_FALSE(errors(true, any).empty());
  EXPECT_FALSE(errors(1, {{"const", 2}}).empty());
}

TEST(JsonSchema, RefusesWhatItDoesNotUnderstand) {
  EXPECT_FALSE(errors("x", {{"pattern", "^x$"}}).empty()) << "unsupported keyword";
  EXPECT_FALSE(errors("x", {{"$ref", "#/components/schemas/Nope"}}).empty()) << "unresolved";
  EXPECT_TRUE(errors("x", {{"type", "string"}, {"description", "d"}, {"examples", {"x"}}}).empty());
  EXPECT_EQ(unsupported_keywords({{"type", "object"}, {"properties", {{"a", {{"pattern", "x"}}}}}}),
            std::vector<std::string>{"/properties/a: pattern"});
}

TEST(JsonSchema, DateTimeIsRfc3339) {
  EXPECT_TRUE(is_rfc3339_date_time("2026-12-06T16:54:57.651908Z"));
  EXPECT_TRUE(is_rfc3339_date_time("2026-12-06T16:54:57Z"));
  EXPECT_TRUE(is_rfc3339_date_time("2026-12-06T16:54:57+05:30"));
  EXPECT_TRUE(is_rfc3339_date_time("2024-02-29T00:00:00Z"));
  EXPECT_FALSE(is_rfc3339_date_time("2026-12-06 16:54:57.651908+00")) << "PostgreSQL's text";
  EXPECT_FALSE(is_rfc3339_date_time("2026-12-06T16:54:57.651908+00")) << "offset without minutes";
  EXPECT_FALSE(is_rfc3339_date_time("2026-12-06T16:54Z"));
  EXPECT_FALSE(is_rfc3339_date_time("2026-12-06"));
  EXPECT_FALSE(is_rfc3339_date_time("2025-02-29T00:00:00Z"));
  EXPECT_FALSE(is_rfc3339_date_time("2026-12-06T24:00:00Z"));
}

TEST(JsonSchema, FindsTheResponseSchemaOfAnOperation) {
  const json doc = with_problem_response();
  std::string why;
  auto ok = response_schema(doc, "GET", "/x", 200, "application/json; charset=utf-8", why);
  ASSERT_TRUE(ok.has_value()) << why;
  EXPECT_EQ((*ok)["$ref"], "#/components/schemas/Item");
  auto problem = response_schema(doc, "get", "/x", 404, "application/problem+json", why);
  ASSERT_TRUE(problem.has_value()) << why;
  EXPECT_EQ((*problem)["type"], "object");
  EXPECT_FALSE(response_schema(doc, "GET", "/x", 500, "application/json", why).has_value());
  EXPECT_NE(why.find("does not document status 500"), std::string::npos) << why;
  EXPECT_FALSE(response_schema(doc, "GET", "/x", 200, "text/plain", why).has_value());
  EXPECT_FALSE(response_schema(doc, "POST", "/x", 200, "application/json", why).has_value());
}

// The served document (api/openapi.json, embedded): every example matches its
// schema, and the validator understands every schema in it.
TEST(OpenApiDocument, ExamplesMatchTheirSchemasAndEverySchemaIsUnderstood) {
  const json doc = json::parse(tradesphere::http::openapi_text());
  SchemaValidator validator(doc);
  int examples = 0;
  for (const auto& [name, schema] : doc["components"]["schemas"].items()) {
    EXPECT_EQ(unsupported_keywords(schema), std::vector<std::string>{}) << name;
    if (!schema.contains("examples")) continue;
    for (const auto& example : schema["examples"]) {
      ++examples;
      EXPECT_EQ(validator.validate(example, schema), std::vector<std::string>{}) << name;
    }
  }
  EXPECT_GE(examples, 3);
  EXPECT_EQ(doc["openapi"], "3.1.0");
  EXPECT_TRUE(doc["info"]["license"].is_object());
}

}  // namespace
