#include "domain/customer_row_view.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "domain/timestamp.hpp"

namespace tradesphere::domain {
namespace {

std::optional<std::string> str(OptView v) {
  return v ? std::optional<std::string>(std::in_place, *v) : std::nullopt;
}
std::optional<std::string> ts(OptView v) {
  return v ? std::optional<std::string>(rfc3339_or_same(*v)) : std::nullopt;
}

}  // namespace

bool tags_json_is_plain(std::string_view t) noexcept {
  if (t.size() < 2 || t.front() != '[' || t.back() != ']') return false;
  if (t.size() == 2) return true;
  std::size_t i = 1;
  while (true) {
    if (t[i] != '"') return false;
    const auto close = t.find_first_of("\"\\", i + 1);
    if (close == std::string_view::npos || t[close] != '"') return false;
    i = close + 1;
    if (i == t.size() - 1) return true;  // the closing ]
    if (t[i] != ',') return false;
    ++i;
  }
}

std::vector<std::string> tags_from_json(std::string_view t) {
  std::vector<std::string> out;
  if (tags_json_is_plain(t)) {
    // ["a","b"]: the strings between the quotes, no escapes to undo
    for (std::size_t i = 1; i + 1 < t.size();) {
      const auto close = t.find('"', i + 1);
      out.emplace_back(t.substr(i + 1, close - i - 1));
      i = close + 2;  // past the quote and the comma
    }
    return out;
  }
  return nlohmann::json::parse(t).get<std::vector<std::string>>();
}

Customer to_customer(const CustomerView& v) {
  Customer c;
  c.id = std::string(v.id);
  c.company_id = std::string(v.company_id);
  c.external_id = str(v.external_id);
  c.name = str(v.name);
  c.email = str(v.email);
  c.phone = str(v.phone);
  c.address = str(v.address);
  c.notes = str(v.notes);
  c.attributes = v.attributes == "{}" ? nlohmann::json::object() : nlohmann::json::parse(v.attributes);
  c.stage = v.stage;
  c.tags = tags_from_json(v.tags);
  c.source = v.source;
  c.status = v.status;
  c.merged_into_customer_id = str(v.merged_into_customer_id);
  c.deleted_at = ts(v.deleted_at);
  c.created_at = rfc3339_or_same(v.created_at);
  c.updated_at = rfc3339_or_same(v.updated_at);
  c.created_by = str(v.created_by);
  c.updated_by = str(v.updated_by);
  c.version = v.version;
  return c;
}

CustomerMetrics to_metrics(const MetricsView& v) {
  CustomerMetrics m;
  m.conversation_count = v.conversation_count;
  m.message_count = v.message_count;
  m.first_contact_at = ts(v.first_contact_at);
  m.last_contact_at = ts(v.last_contact_at);
  m.last_message_preview = str(v.last_message_preview);
  return m;
}

}  // namespace tradesphere::domain
