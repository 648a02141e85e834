#include "domain/cursor.hpp"

#include <array>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "domain/errors.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::domain {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr int kCursorVersion = 1;

constexpr std::array<std::int8_t, 256> make_decode_table() {
  std::array<std::int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return table;
}
constexpr auto kDecode = make_decode_table();

[[noreturn]] void bad(std::string reason) { throw ValidationError("cursor", std::move(reason)); }

bool is_decimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Why the cursor's value cannot belong to its sort key, or nullptr if it can.
const char* value_problem(SortKey sort, const std::string& value, bool is_null) {
  switch (sort) {
    case SortKey::kName:
      if (is_null && !value.empty()) return "a null value must be empty";
      return nullptr;
    case SortKey::kLastContact:
      if (is_null) return value.empty() ? nullptr : "a null value must be empty";
      return is_iso8601_timestamp(value) ? nullptr : "value is not a timestamp";
    case SortKey::kCreatedAt:
      if (is_null) return "value must not be null";
      return is_iso8601_timestamp(value) ? nullptr : "value is not a timestamp";
    case SortKey::kConversationCount:
      if (is_null) return "value must not be null";
      return is_decimal(value) ? nullptr : "value is not a count";
  }
  return "unknown sort key";
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
                            (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
  } else if (rest == 2) {
    const std::uint32_t n = (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
                            (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const std::int8_t v = kDecode[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // Leftover bits (2 or 4) must be zero, or the text is not canonical.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string encode_page_token(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  nlohmann::json doc{{"v", kCursorVersion}};
  for (const auto& [key, value] : fields) doc[std::string(key)] = std::string(value);
  return base64url_encode(doc.dump());
}

std::optional<std::vector<std::string>> decode_page_token(std::string_view text,
                                                          std::initializer_list<std::string_view> keys) {
  if (text.empty() || text.size() > kMaxCursorLength) return std::nullopt;
  const auto raw = base64url_decode(text);
  if (!raw) return std::nullopt;
  const nlohmann::json doc = nlohmann::json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || doc.size() != keys.size() + 1) return std::nullopt;
  const auto v = doc.find("v");
  if (v == doc.end() || !v->is_number_integer() || v->get<int>() != kCursorVersion) return std::nullopt;
  std::vector<std::string> values;
  for (const auto key : keys) {
    const auto it = doc.find(std::string(key));
    if (it == doc.end() || !it->is_string()) return std::nullopt;
    values.push_back(it->get<std::string>());
  }
  if (values.empty() || !is_iso8601_timestamp(values.front())) return std::nullopt;
  return values;
}

std::string encode_cursor(const Cursor& cursor) {
  if (!is_uuid(cursor.last_id)) bad("last id is not a uuid");
  if (const char* problem = value_problem(cursor.sort, cursor.last_value, cursor.last_value_null)) bad(problem);
  const nlohmann::json doc{
      {"v", kCursorVersion},
      {"s", to_string(cursor.sort)},
      {"d", cursor.descending},
      {"k", cursor.last_value_null ? nlohmann::json(nullptr) : nlohmann::json(cursor.last_value)},
      {"i", cursor.last_id},
  };
  return base64url_encode(doc.dump());
}

Cursor decode_cursor(std::string_view text, SortKey expected_sort, bool expected_descending) {
  if (text.empty() || text.size() > kMaxCursorLength) bad("is not a valid cursor");
  const auto raw = base64url_decode(text);
  if (!raw) bad("is not a valid cursor");
  const nlohmann::json doc = nlohmann::json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || doc.size() != 5) bad("is not a valid cursor");
  const auto v = doc.find("v");
  const auto s = doc.find("s");
  const auto d = doc.find("d");
  const auto k = doc.find("k");
  const auto i = doc.find("i");
  if (v == doc.end() || s == doc.end() || d == doc.end() || k == doc.end() || i == doc.end() ||
      !v->is_number_integer() || !s->is_string() || !d->is_boolean() || !(k->is_string() || k->is_null()) ||
      !i->is_string()) {
    bad("is not a valid cursor");
  }
  if (v->get<int>() != kCursorVersion) bad("was issued by an incompatible version");

  Cursor c;
  try {
    c.sort = parse_sort_key(s->get<std::string>(), "cursor");
  } catch (const ValidationError&) {
    bad("is not a valid cursor");
  }
  c.descending = d->get<bool>();
  if (c.sort != expected_sort || c.descending != expected_descending) {
    bad("was issued for another sort or order; restart from the first page");
  }
  c.last_value_null = k->is_null();
  if (!c.last_value_null) c.last_value = k->get<std::string>();
  c.last_id = i->get<std::string>();
  if (!is_uuid(c.last_id)) bad("is not a valid cursor");
  if (value_problem(c.sort, c.last_value, c.last_value_null) != nullptr) bad("is not a valid cursor");
  return c;
}

}  // namespace tradesphere::domain
