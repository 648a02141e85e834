// A JSON Schema validator for the subset api/openapi.json uses (Debian 12 has no
// C++ JSON Schema validator package), and the OpenAPI look-ups the contract
// tests need. Supported keywords: $ref (local "#/…"), type (one or a list,
// "null" included), enum, const, properties, required, additionalProperties
// (boolean or schema), items, minItems, maxItems, minLength, maxLength, minimum,
// maximum, allOf, anyOf, oneOf, format "date-time" (RFC 3339, checked strictly:
// "2026-12-06T16:54:57.651908Z"; a zone offset is allowed by RFC 3339 and
// accepted) and "uuid". Annotations (description, default, examples, title, …)
// are ignored; any other keyword is reported as unsupported, so the document
// cannot use something this validator would silently skip.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tradesphere::testing {

class SchemaValidator {
 public:
  // `root` resolves "$ref": "#/…" pointers (the OpenAPI document).
  explicit SchemaValidator(nlohmann::json root);

  // Every violation as "<instance pointer>: <reason>"; empty when `instance` is valid.
  std::vector<std::string> validate(const nlohmann::json& instance, const nlohmann::json& schema) const;

  const nlohmann::json& root() const { return root_; }

 private:
  void check(const nlohmann::json& instance, const nlohmann::json& schema, const std::string& at,
             std::vector<std::string>& errors, int depth) const;
  const nlohmann::json& deref(const std::string& ref) const;

  nlohmann::json root_;
};

// Every keyword in `schema` and its sub-schemas (properties, items,
// additionalProperties, allOf/anyOf/oneOf) that the validator does not support,
// as "<schema pointer>: <keyword>"; $refs are not followed.
std::vector<std::string> unsupported_keywords(const nlohmann::json& schema, const std::string& at = "");

// RFC 3339 date-time ("full-date T full-time", zone Z or ±HH:MM, calendar checked).
bool is_rfc3339_date_time(const std::string& text);

// The schema of one documented response of an OpenAPI document: operation
// `method` (any case) on `path_template`, `status` (exact, else "4XX"/"5XX",
// else "default"), media type `content_type` (parameters after ';' ignored).
// std::nullopt with `why` set when any of it is not documented.
std::optional<nlohmann::json> response_schema(const nlohmann::json& doc, const std::string& method,
                                              const std::string& path_template, int status,
                                              const std::string& content_type, std::string& why);

}  // namespace tradesphere::testing
