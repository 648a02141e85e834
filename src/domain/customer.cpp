#include "domain/customer.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "domain/errors.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::domain {

using nlohmann::json;

namespace {

template <typename Enum, std::size_t N>
Enum parse_enum(std::string_view text, std::string_view field, const std::array<Enum, N>& values) {
  for (Enum v : values) {
    if (text == to_string(v)) return v;
  }
  std::string reason = "must be one of ";
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) reason += ", ";
    reason += to_string(values[i]);
  }
  throw ValidationError(std::string(field), std::move(reason));
}

constexpr std::array<LifecycleStage, 4> kStages{LifecycleStage::kProspect, LifecycleStage::kLead,
                                                 LifecycleStage::kCustomer, LifecycleStage::kChurned};
constexpr std::array<CustomerSource, 4> kSources{CustomerSource::kChat, CustomerSource::kManual,
                                                  CustomerSource::kImport, CustomerSource::kApi};
constexpr std::array<CustomerStatus, 3> kStatuses{CustomerStatus::kActive, CustomerStatus::kDeleted,
                                                   CustomerStatus::kMerged};

// Fields a client can see but never write.
constexpr std::array<std::string_view, 16> kReadOnlyFields{
    "id",         "company_id",         "version",          "status",          "created_at",
    "updated_at", "created_by",         "updated_by",       "deleted_at",      "merged_into_customer_id",
    "metrics",    "conversation_count", "message_count",    "first_contact_at", "last_contact_at",
    "last_message_preview"};

bool contains(const auto& list, std::string_view key) {
  return std::find(list.begin(), list.end(), key) != list.end();
}

enum class Lines { kSingle, kMulti };

// Accumulates field errors so that one ValidationError lists all of them.
class Reader {
 public:
  explicit Reader(const json& body) : body_(body) {}

  void error(std::string field, std::string reason) { errors_.push_back({std::move(field), std::move(reason)}); }
  void absorb(const ValidationError& e) {
    errors_.insert(errors_.end(), e.fields().begin(), e.fields().end());
  }
  void throw_if_errors() {
    if (!errors_.empty()) throw ValidationError(std::move(errors_));
  }

  const json* find(const char* key) const {
    auto it = body_.find(key);
    return it == body_.end() ? nullptr : &*it;
  }

  // Absent -> outer nullopt; null -> {nullopt}; string -> trimmed, blank -> {nullopt}.
  Settable<std::string> nullable_text(const char* key, std::size_t max_length, Lines lines) {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (v->is_null()) return std::optional<std::string>{};
    if (!v->is_string()) {
      error(key, "must be a string or null");
      return std::nullopt;
    }
    std::string text = trim(v->get_ref<const std::string&>());
    if (text.empty()) return std::optional<std::string>{};
    if (text.size() > max_length) {
      error(key, "must be at most " + std::to_string(max_length) + " bytes");
      return std::nullopt;
    }
    if (has_forbidden_control(text, lines)) {
      error(key, "must not contain control characters");
      return std::nullopt;
    }
    return std::optional<std::string>{std::move(text)};
  }

  Settable<std::string> email(const char* key) {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (v->is_null()) return std::optional<std::string>{};
    if (!v->is_string()) {
      error(key, "must be a string or null");
      return std::nullopt;
    }
    const std::string text = trim(v->get_ref<const std::string&>());
    if (text.empty()) return std::optional<std::string>{};
    auto normalized = normalize_email(text);
    if (!normalized) {
      error(key, "is not a valid email address");
      return std::nullopt;
    }
    return std::optional<std::string>{std::move(*normalized)};
  }

  Settable<std::string> phone(const char* key) {
    auto value = nullable_text(key, kMaxPhoneLength, Lines::kSingle);
    if (value && *value && !is_plausible_phone(**value)) {
      error(key, "is not a valid phone number");
      return std::nullopt;
    }
    return value;
  }

  std::optional<json> attributes(const char* key) {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_object()) {
      error(key, "must be an object");
      return std::nullopt;
    }
    if (v->dump().size() > kMaxAttributesBytes) {
      error(key, "must be at most " + std::to_string(kMaxAttributesBytes) + " bytes of JSON");
      return std::nullopt;
    }
    return *v;
  }

  std::optional<LifecycleStage> stage(const char* key) {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) {
      error(key, "must be a string");
      return std::nullopt;
    }
    try {
      return parse_lifecycle_stage(v->get_ref<const std::string&>(), key);
    } catch (const ValidationError& e) {
      absorb(e);
      return std::nullopt;
    }
  }

  std::optional<std::vector<std::string>> tags(const char* key) {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_array()) {
      error(key, "must be an array of strings");
      return std::nullopt;
    }
    std::vector<std::string> raw;
    bool ok = true;
    for (std::size_t i = 0; i < v->size(); ++i) {
      const json& item = (*v)[i];
      if (!item.is_string()) {
        error(std::string(key) + "/" + std::to_string(i), "must be a string");
        ok = false;
        raw.emplace_back("x");  // keep indices aligned for the remaining checks
        continue;
      }
      raw.push_back(item.get<std::string>());
    }
    try {
      auto tags = normalize_tags(raw, key);
      if (ok) return tags;
    } catch (const ValidationError& e) {
      absorb(e);
    }
    return std::nullopt;
  }

  // Required non-blank single-line string.
  std::string required_text(const char* key, std::size_t max_length, bool allow_empty, Lines lines) {
    const json* v = find(key);
    if (!v || v->is_null()) {
      error(key, "is required");
      return {};
    }
    if (!v->is_string()) {
      error(key, "must be a string");
      return {};
    }
    std::string text = v->get<std::string>();
    if (lines == Lines::kSingle) text = trim(text);
    if (!allow_empty && trim(text).empty()) {
      error(key, "must not be blank");
      return {};
    }
    if (text.size() > max_length) {
      error(key, "must be at most " + std::to_string(max_length) + " bytes");
      return {};
    }
    if (has_forbidden_control(text, lines)) {
      error(key, "must not contain control characters");
      return {};
    }
    return text;
  }

 private:
  static bool has_forbidden_control(const std::string& text, Lines lines) {
    return std::any_of(text.begin(), text.end(), [lines](char ch) {
      const auto c = static_cast<unsigned char>(ch);
      if (lines == Lines::kMulti && (c == '\n' || c == '\r' || c == '\t')) return false;
      return c < 0x20 || c == 0x7F;
    });
  }

  const json& body_;
  std::vector<FieldError> errors_;
};

void check_keys(const json& body, Reader& reader, std::initializer_list<std::string_view> writable,
                bool source_read_only) {
  for (const auto& [key, value] : body.items()) {
    if (contains(writable, key)) continue;
    if (contains(kReadOnlyFields, key) || (source_read_only && key == "source")) {
      reader.error(key, "read-only field");
    } else {
      reader.error(key, "unknown field");
    }
  }
}

template <typename T>
json opt(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

}  // namespace

// ---- enums ----------------------------------------------------------------

const char* to_string(LifecycleStage stage) noexcept {
  switch (stage) {
    case LifecycleStage::kProspect: return "prospect";
    case LifecycleStage::kLead: return "lead";
    case LifecycleStage::kCustomer: return "customer";
    case LifecycleStage::kChurned: return "churned";
  }
  return "prospect";
}

const char* to_string(CustomerSource source) noexcept {
  switch (source) {
    case CustomerSource::kChat: return "chat";
    case CustomerSource::kManual: return "manual";
    case CustomerSource::kImport: return "import";
    case CustomerSource::kApi: return "api";
  }
  return "manual";
}

const char* to_string(CustomerStatus status) noexcept {
  switch (status) {
    case CustomerStatus::kActive: return "active";
    case CustomerStatus::kDeleted: return "deleted";
    case CustomerStatus::kMerged: return "merged";
  }
  return "active";
}

LifecycleStage parse_lifecycle_stage(std::string_view text, std::string_view field) {
  return parse_enum(text, field, kStages);
}
CustomerSource parse_customer_source(std::string_view text, std::string_view field) {
  return parse_enum(text, field, kSources);
}
CustomerStatus parse_customer_status(std::string_view text, std::string_view field) {
  return parse_enum(text, field, kStatuses);
}

// ---- create / patch -------------------------------------------------------

NewCustomer new_customer_from_json(const json& body) {
  if (!body.is_object()) throw ValidationError("body", "must be a JSON object");
  Reader r(body);
  check_keys(body,
             r,
             {"external_id", "name", "email", "phone", "address", "notes", "attributes", "lifecycle_stage", "tags",
              "source"},
             false);

  NewCustomer c;
  c.external_id = r.nullable_text("external_id", kMaxExternalIdLength, Lines::kSingle).value_or(std::nullopt);
  c.name = r.nullable_text("name", kMaxNameLength, Lines::kSingle).value_or(std::nullopt);
  c.email = r.email("email").value_or(std::nullopt);
  c.phone = r.phone("phone").value_or(std::nullopt);
  c.address = r.nullable_text("address", kMaxAddressLength, Lines::kMulti).value_or(std::nullopt);
  c.notes = r.nullable_text("notes", kMaxNotesLength, Lines::kMulti).value_or(std::nullopt);
  if (auto a = r.attributes("attributes")) c.attributes = std::move(*a);
  if (auto s = r.stage("lifecycle_stage")) c.stage = *s;
  if (auto t = r.tags("tags")) c.tags = std::move(*t);
  if (const json* s = r.find("source")) {
    if (!s->is_string()) {
      r.error("source", "must be a string");
    } else {
      const auto& text = s->get_ref<const std::string&>();
      if (text == "manual") c.source = CustomerSource::kManual;
      else if (text == "import") c.source = CustomerSource::kImport;
      else if (text == "api") c.source = CustomerSource::kApi;
      else r.error("source", "must be one of manual, import, api");
    }
  }
  r.throw_if_errors();
  if (!c.name && !c.email && !c.phone && !c.external_id) {
    throw ValidationError("body", "at least one of name, email, phone or external_id is required");
  }
  return c;
}

CustomerPatch customer_patch_from_json(const json& body) {
  if (!body.is_object()) throw ValidationError("body", "must be a JSON object");
  Reader r(body);
  check_keys(body,
             r,
             {"external_id", "name", "email", "phone", "address", "notes", "attributes", "lifecycle_stage", "tags"},
             true);
  CustomerPatch p;
  p.external_id = r.nullable_text("external_id", kMaxExternalIdLength, Lines::kSingle);
  p.name = r.nullable_text("name", kMaxNameLength, Lines::kSingle);
  p.email = r.email("email");
  p.phone = r.phone("phone");
  p.address = r.nullable_text("address", kMaxAddressLength, Lines::kMulti);
  p.notes = r.nullable_text("notes", kMaxNotesLength, Lines::kMulti);
  p.attributes = r.attributes("attributes");
  p.stage = r.stage("lifecycle_stage");
  p.tags = r.tags("tags");
  r.throw_if_errors();
  return p;
}

bool CustomerPatch::empty() const noexcept {
  return !external_id && !name && !email && !phone && !address && !notes && !attributes && !stage && !tags;
}

std::vector<std::string> CustomerPatch::field_names() const {
  std::vector<std::string> out;
  if (external_id) out.emplace_back("external_id");
  if (name) out.emplace_back("name");
  if (email) out.emplace_back("email");
  if (phone) out.emplace_back("phone");
  if (address) out.emplace_back("address");
  if (notes) out.emplace_back("notes");
  if (attributes) out.emplace_back("attributes");
  if (stage) out.emplace_back("lifecycle_stage");
  if (tags) out.emplace_back("tags");
  return out;
}

// ---- output ---------------------------------------------------------------

json to_json(const Customer& c) {
  return json{
      {"id", c.id},
      {"company_id", c.company_id},
      {"external_id", opt(c.external_id)},
      {"name", opt(c.name)},
      {"email", opt(c.email)},
      {"phone", opt(c.phone)},
      {"address", opt(c.address)},
      {"notes", opt(c.notes)},
      {"attributes", c.attributes.is_null() ? json::object() : c.attributes},
      {"lifecycle_stage", to_string(c.stage)},
      {"tags", c.tags},
      {"source", to_string(c.source)},
      {"status", to_string(c.status)},
      {"merged_into_customer_id", opt(c.merged_into_customer_id)},
      {"deleted_at", opt(c.deleted_at)},
      {"created_at", c.created_at},
      {"updated_at", c.updated_at},
      {"created_by", opt(c.created_by)},
      {"updated_by", opt(c.updated_by)},
      {"version", c.version},
  };
}

json to_json(const CustomerMetrics& m) {
  return json{
      {"conversation_count", m.conversation_count},
      {"message_count", m.message_count},
      {"first_contact_at", opt(m.first_contact_at)},
      {"last_contact_at", opt(m.last_contact_at)},
      {"last_message_preview", opt(m.last_message_preview)},
  };
}

json to_json(const CustomerWithMetrics& c) {
  json out = to_json(c.customer);
  out["metrics"] = to_json(c.metrics);
  return out;
}

// ---- chat records ---------------------------------------------------------

ChatRecord chat_record_from_json(const json& body) {
  if (!body.is_object()) throw ValidationError("body", "must be a JSON object");
  Reader r(body);
  static constexpr std::array<std::string_view, 8> kFields{"session_id",     "tech_id",      "customer_name",
                                                           "customer_email", "customer_phone", "user_message",
                                                           "ai_response",    "created_at"};
  for (const auto& [key, value] : body.items()) {
    if (!contains(kFields, key)) r.error(key, "unknown field");
  }
  ChatRecord rec;
  rec.session_id = r.required_text("session_id", kMaxSessionIdLength, false, Lines::kSingle);
  rec.tech_id = r.required_text("tech_id", kMaxTechIdLength, false, Lines::kSingle);
  rec.customer_name = r.nullable_text("customer_name", kMaxNameLength, Lines::kSingle).value_or(std::nullopt);
  rec.customer_email = r.email("customer_email").value_or(std::nullopt);
  rec.customer_phone = r.phone("customer_phone").value_or(std::nullopt);
  rec.user_message = r.required_text("user_message", kMaxUserMessageLength, false, Lines::kMulti);
  rec.ai_response = r.required_text("ai_response", kMaxAiResponseLength, true, Lines::kMulti);
  if (const json* v = r.find("created_at"); v && !v->is_null()) {
    if (!v->is_string() || !is_iso8601_timestamp(v->get_ref<const std::string&>())) {
      r.error("created_at", "must be an ISO-8601 timestamp with a time zone");
    } else {
      rec.created_at = v->get<std::string>();
    }
  }
  r.throw_if_errors();
  return rec;
}

json to_json(const ChatRecord& r) {
  return json{
      {"session_id", r.session_id},
      {"tech_id", r.tech_id},
      {"customer_name", opt(r.customer_name)},
      {"customer_email", opt(r.customer_email)},
      {"customer_phone", opt(r.customer_phone)},
      {"user_message", r.user_message},
      {"ai_response", r.ai_response},
      {"created_at", opt(r.created_at)},
  };
}

}  // namespace tradesphere::domain
