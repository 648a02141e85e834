#include "http/customer_page_json.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace tradesphere::http {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void str(Writer& w, const std::string& s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

void opt(Writer& w, const std::optional<std::string>& s) {
  if (s) {
    str(w, *s);
  } else {
    w.Null();
  }
}

void key(Writer& w, const char* k) { w.Key(k); }

void field(Writer& w, const char* k, const std::string& v) {
  key(w, k);
  str(w, v);
}
void field(Writer& w, const char* k, const std::optional<std::string>& v) {
  key(w, k);
  opt(w, v);
}
void field(Writer& w, const char* k, const char* v) {
  key(w, k);
  w.String(v);
}
void field(Writer& w, const char* k, std::int64_t v) {
  key(w, k);
  w.Int64(v);
}

// Keys in the order nlohmann::json (a std::map) writes them: alphabetical.
void write_customer(Writer& w, const domain::CustomerWithMetrics& cm) {
  const domain::Customer& c = cm.customer;
  const domain::CustomerMetrics& m = cm.metrics;
  w.StartObject();
  field(w, "address", c.address);
  key(w, "attributes");
  const std::string attributes =
      c.attributes.is_null() ? std::string("{}")
                             : c.attributes.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  w.RawValue(attributes.data(), attributes.size(), rapidjson::kObjectType);
  field(w, "company_id", c.company_id);
  field(w, "created_at", c.created_at);
  field(w, "created_by", c.created_by);
  field(w, "deleted_at", c.deleted_at);
  field(w, "email", c.email);
  field(w, "external_id", c.external_id);
  field(w, "id", c.id);
  field(w, "lifecycle_stage", domain::to_string(c.stage));
  field(w, "merged_into_customer_id", c.merged_into_customer_id);
  key(w, "metrics");
  w.StartObject();
  field(w, "conversation_count", static_cast<std::int64_t>(m.conversation_count));
  field(w, "first_contact_at", m.first_contact_at);
  field(w, "last_contact_at", m.last_contact_at);
  field(w, "last_message_preview", m.last_message_preview);
  field(w, "message_count", static_cast<std::int64_t>(m.message_count));
  w.EndObject();
  field(w, "name", c.name);
  field(w, "notes", c.notes);
  field(w, "phone", c.phone);
  field(w, "source", domain::to_string(c.source));
  field(w, "status", domain::to_string(c.status));
  key(w, "tags");
  w.StartArray();
  for (const auto& t : c.tags) str(w, t);
  w.EndArray();
  field(w, "updated_at", c.updated_at);
  field(w, "updated_by", c.updated_by);
  field(w, "version", static_cast<std::int64_t>(c.version));
  w.EndObject();
}

}  // namespace

std::string render_customer_page(const std::vector<domain::CustomerWithMetrics>& items,
                                 const std::optional<std::string>& next_cursor,
                                 const std::optional<std::int64_t>& total) {
  rapidjson::StringBuffer buffer;
  buffer.Reserve(items.size() * 700 + 64);
  Writer w(buffer);
  w.StartObject();
  key(w, "items");
  w.StartArray();
  for (const auto& c : items) write_customer(w, c);
  w.EndArray();
  field(w, "next_cursor", next_cursor);
  if (total) field(w, "total", *total);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace tradesphere::http
