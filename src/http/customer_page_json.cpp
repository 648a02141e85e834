#include "http/customer_page_json.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "domain/timestamp.hpp"

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

// ---- straight from the database rows -----------------------------------------

namespace {

// rapidjson's escaping (writer.h): \" \\ \b \t \n \f \r, other control characters
// as \u00XX with upper-case hex, every other byte (UTF-8 included) as is.
constexpr std::array<char, 256> kEscape = [] {
  std::array<char, 256> e{};
  for (int c = 0; c < 0x20; ++c) e[static_cast<std::size_t>(c)] = 'u';
  e['\b'] = 'b';
  e['\t'] = 't';
  e['\n'] = 'n';
  e['\f'] = 'f';
  e['\r'] = 'r';
  e['"'] = '"';
  e['\\'] = '\\';
  return e;
}();

// The body, written through a pointer into a std::string sized ahead (grown by
// doubling): no capacity check per character, one per value.
class Out {
 public:
  explicit Out(std::size_t expected) {
    buf_.resize(std::max<std::size_t>(expected, 256));
    at_ = buf_.data();
  }

  std::string take() && {
    buf_.resize(static_cast<std::size_t>(at_ - buf_.data()));
    return std::move(buf_);
  }

  void raw(std::string_view v) {
    need(v.size());
    std::memcpy(at_, v.data(), v.size());
    at_ += v.size();
  }
  void ch(char c) {
    need(1);
    *at_++ = c;
  }

  void str(std::string_view v) {
    need(v.size() * 6 + 2);  // every byte \u00XX at worst
    char* o = at_;
    *o++ = '"';
    const char* p = v.data();
    const char* const end = p + v.size();
    // 8 bytes at a time while none of them needs an escape (the usual case)
    while (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      if (needs_escape(w)) break;
      std::memcpy(o, p, 8);
      o += 8;
      p += 8;
    }
    for (; p != end; ++p) {
      const auto c = static_cast<unsigned char>(*p);
      const char e = kEscape[c];
      if (e == 0) {
        *o++ = static_cast<char>(c);
      } else if (e == 'u') {
        static constexpr char kHex[] = "0123456789ABCDEF";
        o[0] = '\\';
        o[1] = 'u';
        o[2] = '0';
        o[3] = '0';
        o[4] = kHex[c >> 4];
        o[5] = kHex[c & 15];
        o += 6;
      } else {
        o[0] = '\\';
        o[1] = e;
        o += 2;
      }
    }
    *o++ = '"';
    at_ = o;
  }

  void opt_str(const domain::OptView& v) {
    if (v) {
      str(*v);
    } else {
      raw("null");
    }
  }

  // PostgreSQL's timestamp text as RFC 3339 UTC (domain::rfc3339_or_same), quoted.
  void ts(std::string_view pg) {
    need(domain::kRfc3339UtcLength + 2);
    if (domain::write_rfc3339_utc(pg, at_ + 1)) {
      at_[0] = '"';
      at_[domain::kRfc3339UtcLength + 1] = '"';
      at_ += domain::kRfc3339UtcLength + 2;
    } else {
      str(pg);  // not a finite timestamp: the text as is, like rfc3339_or_same
    }
  }

  void opt_ts(const domain::OptView& v) {
    if (v) {
      ts(*v);
    } else {
      raw("null");
    }
  }

  void integer(std::int64_t v) {
    need(24);
    at_ = std::to_chars(at_, at_ + 24, v).ptr;
  }

  // jsonb text -> what nlohmann's parse + dump writes (keys sorted, compact).
  void attributes(std::string_view jsonb) {
    if (jsonb == "{}") {
      raw("{}");
      return;
    }
    raw(nlohmann::json::parse(jsonb).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }

  // array_to_json text -> the array of the same strings as we escape them.
  void tags(std::string_view text) {
    if (domain::tags_json_is_plain(text)) {
      raw(text);  // no escape in it: already byte for byte what str() writes
      return;
    }
    ch('[');
    bool first = true;
    for (const auto& t : domain::tags_from_json(text)) {
      if (!first) ch(',');
      first = false;
      str(t);
    }
    ch(']');
  }

 private:
  // Any byte < 0x20, '"' or '\\' in the word (exact: the classic "has a zero byte" tests).
  static bool needs_escape(std::uint64_t w) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
    auto has_zero = [](std::uint64_t x) { return ((x - kOnes) & ~x & kHigh) != 0; };
    const bool below_space = ((w - kOnes * 0x20) & ~w & kHigh) != 0;
    return below_space || has_zero(w ^ (kOnes * '"')) || has_zero(w ^ (kOnes * '\\'));
  }

  void need(std::size_t n) {
    const auto used = static_cast<std::size_t>(at_ - buf_.data());
    if (buf_.size() - used >= n) return;
    buf_.resize(std::max(buf_.size() * 2, used + n));
    at_ = buf_.data() + used;
  }

  std::string buf_;
  char* at_ = nullptr;
};

// The keys in the order of write_customer above (alphabetical, as nlohmann writes them).
void write_row(Out& o, const domain::CustomerWithMetricsView& cm) {
  const auto& c = cm.customer;
  const auto& m = cm.metrics;
  o.raw(R"({"address":)");
  o.opt_str(c.address);
  o.raw(R"(,"attributes":)");
  o.attributes(c.attributes);
  o.raw(R"(,"company_id":)");
  o.str(c.company_id);
  o.raw(R"(,"created_at":)");
  o.ts(c.created_at);
  o.raw(R"(,"created_by":)");
  o.opt_str(c.created_by);
  o.raw(R"(,"deleted_at":)");
  o.opt_ts(c.deleted_at);
  o.raw(R"(,"email":)");
  o.opt_str(c.email);
  o.raw(R"(,"external_id":)");
  o.opt_str(c.external_id);
  o.raw(R"(,"id":)");
  o.str(c.id);
  o.raw(R"(,"lifecycle_stage":)");
  o.str(domain::to_string(c.stage));
  o.raw(R"(,"merged_into_customer_id":)");
  o.opt_str(c.merged_into_customer_id);
  o.raw(R"(,"metrics":{"conversation_count":)");
  o.integer(m.conversation_count);
  o.raw(R"(,"first_contact_at":)");
  o.opt_ts(m.first_contact_at);
  o.raw(R"(,"last_contact_at":)");
  o.opt_ts(m.last_contact_at);
  o.raw(R"(,"last_message_preview":)");
  o.opt_str(m.last_message_preview);
  o.raw(R"(,"message_count":)");
  o.integer(m.message_count);
  o.raw(R"(},"name":)");
  o.opt_str(c.name);
  o.raw(R"(,"notes":)");
  o.opt_str(c.notes);
  o.raw(R"(,"phone":)");
  o.opt_str(c.phone);
  o.raw(R"(,"source":)");
  o.str(domain::to_string(c.source));
  o.raw(R"(,"status":)");
  o.str(domain::to_string(c.status));
  o.raw(R"(,"tags":)");
  o.tags(c.tags);
  o.raw(R"(,"updated_at":)");
  o.ts(c.updated_at);
  o.raw(R"(,"updated_by":)");
  o.opt_str(c.updated_by);
  o.raw(R"(,"version":)");
  o.integer(c.version);
  o.raw("}");
}

}  // namespace

std::string render_customer_page(const domain::CustomerRowsPage& page) {
  Out o(page.items.size() * 900 + 64);  // ~700 bytes a customer of the seed
  o.raw(R"({"items":[)");
  bool first = true;
  for (const auto& row : page.items) {
    if (!first) o.ch(',');
    first = false;
    write_row(o, row);
  }
  o.raw(R"(],"next_cursor":)");
  if (page.next_cursor) {
    o.str(*page.next_cursor);
  } else {
    o.raw("null");
  }
  if (page.total) {
    o.raw(R"(,"total":)");
    o.integer(*page.total);
  }
  o.ch('}');
  return std::move(o).take();
}

}  // namespace tradesphere::http
