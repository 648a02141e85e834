#include "db/customer_row_view.hpp"

#include <charconv>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "db/customer_rows.hpp"
#include "domain/timestamp.hpp"

namespace tradesphere::db {
namespace {

std::string_view text(const pqxx::field& f) { return {f.c_str(), f.size()}; }
OptView opt(const pqxx::field& f) { return f.is_null() ? OptView{} : OptView{text(f)}; }
std::string_view required(const pqxx::field& f) {
  if (f.is_null()) throw std::runtime_error(std::string("unexpected NULL in column ") + f.name());
  return text(f);
}

template <typename Int>
Int integer(const pqxx::field& f) {
  const auto t = required(f);
  Int value{};
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || end != t.data() + t.size()) {
    throw std::runtime_error("not an integer in column " + std::string(f.name()) + ": " + std::string(t));
  }
  return value;
}

std::optional<std::string> str(OptView v) { return v ? std::optional<std::string>(std::in_place, *v) : std::nullopt; }
std::optional<std::string> ts(OptView v) {
  return v ? std::optional<std::string>(domain::rfc3339_or_same(*v)) : std::nullopt;
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

domain::Customer to_customer(const CustomerView& v) {
  domain::Customer c;
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
  c.created_at = domain::rfc3339_or_same(v.created_at);
  c.updated_at = domain::rfc3339_or_same(v.updated_at);
  c.created_by = str(v.created_by);
  c.updated_by = str(v.updated_by);
  c.version = v.version;
  return c;
}

domain::CustomerMetrics to_metrics(const MetricsView& v) {
  domain::CustomerMetrics m;
  m.conversation_count = v.conversation_count;
  m.message_count = v.message_count;
  m.first_contact_at = ts(v.first_contact_at);
  m.last_contact_at = ts(v.last_contact_at);
  m.last_message_preview = str(v.last_message_preview);
  return m;
}

CustomerView customer_view(const pqxx::row& row, int offset) {
  auto at = [&](int i) { return row[offset + i]; };
  CustomerView c;
  c.id = required(at(0));
  c.company_id = required(at(1));
  c.external_id = opt(at(2));
  c.name = opt(at(3));
  c.email = opt(at(4));
  c.phone = opt(at(5));
  c.address = opt(at(6));
  c.notes = opt(at(7));
  c.attributes = required(at(8));
  c.stage = domain::parse_lifecycle_stage(required(at(9)));
  c.tags = required(at(10));
  c.source = domain::parse_customer_source(required(at(11)));
  c.status = domain::parse_customer_status(required(at(12)));
  c.merged_into_customer_id = opt(at(13));
  c.deleted_at = opt(at(14));
  c.created_at = required(at(15));
  c.updated_at = required(at(16));
  c.created_by = opt(at(17));
  c.updated_by = opt(at(18));
  c.version = integer<int>(at(19));
  return c;
}

MetricsView metrics_view(const pqxx::row& row, int offset) {
  MetricsView m;
  m.conversation_count = integer<std::int64_t>(row[offset]);
  m.message_count = integer<std::int64_t>(row[offset + 1]);
  m.first_contact_at = opt(row[offset + 2]);
  m.last_contact_at = opt(row[offset + 3]);
  m.last_message_preview = opt(row[offset + 4]);
  return m;
}

}  // namespace tradesphere::db
