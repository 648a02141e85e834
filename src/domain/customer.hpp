// Customer domain types shared by the repository, services and HTTP layer,
// with strict JSON input parsing (unknown / read-only fields rejected) and
// snake_case JSON output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tradesphere::domain {

enum class LifecycleStage { kProspect, kLead, kCustomer, kChurned };
enum class CustomerSource { kChat, kManual, kImport, kApi };
enum class CustomerStatus { kActive, kDeleted, kMerged };

// Lower-case wire/database names: "prospect", "chat", "active", ...
const char* to_string(LifecycleStage stage) noexcept;
const char* to_string(CustomerSource source) noexcept;
const char* to_string(CustomerStatus status) noexcept;

// Exact (case-sensitive) names only; throw ValidationError(field, "must be one of ...").
LifecycleStage parse_lifecycle_stage(std::string_view text, std::string_view field = "lifecycle_stage");
CustomerSource parse_customer_source(std::string_view text, std::string_view field = "source");
CustomerStatus parse_customer_status(std::string_view text, std::string_view field = "status");

// Length bounds (bytes of UTF-8) enforced by the JSON parsers below.
inline constexpr std::size_t kMaxExternalIdLength = 200;
inline constexpr std::size_t kMaxNameLength = 200;
inline constexpr std::size_t kMaxPhoneLength = 40;
inline constexpr std::size_t kMaxAddressLength = 500;
inline constexpr std::size_t kMaxNotesLength = 10000;
inline constexpr std::size_t kMaxAttributesBytes = 16384;  // serialized JSON

struct Customer {
  std::string id;          // uuid
  std::string company_id;  // uuid
  std::optional<std::string> external_id;
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> address;
  std::optional<std::string> notes;
  nlohmann::json attributes = nlohmann::json::object();
  LifecycleStage stage = LifecycleStage::kProspect;
  std::vector<std::string> tags;
  CustomerSource source = CustomerSource::kManual;
  CustomerStatus status = CustomerStatus::kActive;
  std::optional<std::string> merged_into_customer_id;
  std::optional<std::string> deleted_at;  // ISO-8601 text
  std::string created_at;                 // ISO-8601 text
  std::string updated_at;                 // ISO-8601 text
  std::optional<std::string> created_by;
  std::optional<std::string> updated_by;
  int version = 1;

  bool operator==(const Customer&) const = default;
};

struct CustomerMetrics {
  std::int64_t conversation_count = 0;  // distinct chat sessions
  std::int64_t message_count = 0;       // chat rows
  std::optional<std::string> first_contact_at;
  std::optional<std::string> last_contact_at;
  std::optional<std::string> last_message_preview;

  bool operator==(const CustomerMetrics&) const = default;
};

struct CustomerWithMetrics {
  Customer customer;
  CustomerMetrics metrics;

  bool operator==(const CustomerWithMetrics&) const = default;
};

// What a caller may set on create. Values are already validated and
// normalized: text trimmed (blank -> nullopt), email trimmed + lower-cased,
// phone trimmed (stored as typed; matching keys normalize it), tags normalized.
struct NewCustomer {
  std::optional<std::string> external_id;
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> address;
  std::optional<std::string> notes;
  nlohmann::json attributes = nlohmann::json::object();
  LifecycleStage stage = LifecycleStage::kProspect;
  std::vector<std::string> tags;
  CustomerSource source = CustomerSource::kApi;

  bool operator==(const NewCustomer&) const = default;
};

// An absent outer optional means "leave unchanged"; for nullable columns an
// engaged outer optional holding std::nullopt means "set to NULL".
template <typename T>
using Settable = std::optional<std::optional<T>>;

struct CustomerPatch {
  Settable<std::string> external_id;
  Settable<std::string> name;
  Settable<std::string> email;
  Settable<std::string> phone;
  Settable<std::string> address;
  Settable<std::string> notes;
  std::optional<nlohmann::json> attributes;       // replaces the whole object (not merged)
  std::optional<LifecycleStage> stage;            // not nullable
  std::optional<std::vector<std::string>> tags;   // replaces the whole set; [] clears

  bool empty() const noexcept;
  // Names of the fields this patch sets, in declaration order (e.g. for audit/logs).
  std::vector<std::string> field_names() const;

  bool operator==(const CustomerPatch&) const = default;
};

// Accepted fields: external_id, name, email, phone, address, notes (string or
// null), attributes (object), lifecycle_stage (string), tags (array of strings),
// source ("manual"|"import"|"api"; default "api"; "chat" customers are created
// by chat sync, not through this path).
// Read-only fields (id, company_id, version, status, created_at, updated_at,
// created_by, updated_by, deleted_at, merged_into_customer_id, metrics) and
// unknown fields are rejected. At least one of name, email, phone, external_id
// must be non-blank. Throws one ValidationError listing every offending field.
NewCustomer new_customer_from_json(const nlohmann::json& body);

// Same field rules as create, except that source is read-only too, and a key
// present with null clears a nullable field (lifecycle_stage, tags and
// attributes cannot be null). An empty object parses to an empty patch
// (CustomerPatch::empty()); the caller decides what that means.
CustomerPatch customer_patch_from_json(const nlohmann::json& body);

// snake_case; absent optionals are emitted as null. Customer: id, company_id,
// external_id, name, email, phone, address, notes, attributes, lifecycle_stage,
// tags, source, status, merged_into_customer_id, deleted_at, created_at,
// updated_at, created_by, updated_by, version.
nlohmann::json to_json(const Customer& customer);
// conversation_count, message_count, first_contact_at, last_contact_at, last_message_preview.
nlohmann::json to_json(const CustomerMetrics& metrics);
// The customer's fields plus "metrics": {…}.
nlohmann::json to_json(const CustomerWithMetrics& customer);

// One row of chat traffic as the chat widget reports it (legacy "VC Usage").
struct ChatRecord {
  std::string session_id;
  std::string tech_id;
  std::optional<std::string> customer_name;
  std::optional<std::string> customer_email;  // normalized (trim + lower-case)
  std::optional<std::string> customer_phone;  // trimmed, as typed
  std::string user_message;
  std::string ai_response;
  std::optional<std::string> created_at;  // ISO-8601 with zone; server time when absent

  bool operator==(const ChatRecord&) const = default;
};

inline constexpr std::size_t kMaxSessionIdLength = 200;
inline constexpr std::size_t kMaxTechIdLength = 200;
inline constexpr std::size_t kMaxUserMessageLength = 32768;
inline constexpr std::size_t kMaxAiResponseLength = 65536;

// Required: session_id, tech_id (non-blank strings), user_message, ai_response
// (strings; user_message non-blank, ai_response may be empty). Optional
// (string or null): customer_name, customer_email (valid syntax),
// customer_phone (plausible), created_at (ISO-8601 with zone). Unknown fields
// rejected. Throws one ValidationError listing every offending field.
ChatRecord chat_record_from_json(const nlohmann::json& body);
nlohmann::json to_json(const ChatRecord& record);

}  // namespace tradesphere::domain
