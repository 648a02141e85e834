#include "domain/customer_filters.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "domain/cursor.hpp"
#include "domain/errors.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::domain {

namespace {

constexpr std::array<std::string_view, 16> kKnownParams{
    "lifecycle_stage", "tags_any", "tags_all",  "source", "created_from", "created_to",
    "last_contact_from", "last_contact_to", "has_email", "has_phone", "q", "sort",
    "order", "limit", "cursor", "include_total"};

std::optional<bool> parse_bool(std::string_view text) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return std::nullopt;
}

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    parts.emplace_back(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return parts;
}

void check_range(const std::optional<std::string>& from, const std::optional<std::string>& to,
                 const char* from_name, const char* to_name, std::vector<FieldError>& errors) {
  std::optional<std::int64_t> f;
  std::optional<std::int64_t> t;
  if (from) {
    f = parse_iso8601_micros(*from, true);
    if (!f) errors.push_back({from_name, "must be an ISO-8601 date or timestamp with a time zone"});
  }
  if (to) {
    t = parse_iso8601_micros(*to, true);
    if (!t) errors.push_back({to_name, "must be an ISO-8601 date or timestamp with a time zone"});
  }
  if (f && t && *t < *f) errors.push_back({to_name, std::string("must not be before ") + from_name});
}

void check_normalized_tags(const std::vector<std::string>& tags, const char* field, std::vector<FieldError>& errors) {
  try {
    if (normalize_tags(tags, field) != tags) {
      errors.push_back({field, "tags must be normalized (trimmed, lower-case, distinct)"});
    }
  } catch (const ValidationError& e) {
    errors.insert(errors.end(), e.fields().begin(), e.fields().end());
  }
}

std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

const char* to_string(SortKey key) noexcept {
  switch (key) {
    case SortKey::kName: return "name";
    case SortKey::kCreatedAt: return "created_at";
    case SortKey::kLastContact: return "last_contact";
    case SortKey::kConversationCount: return "conversation_count";
  }
  return "created_at";
}

SortKey parse_sort_key(std::string_view text, std::string_view field) {
  for (SortKey k : {SortKey::kName, SortKey::kCreatedAt, SortKey::kLastContact, SortKey::kConversationCount}) {
    if (text == to_string(k)) return k;
  }
  throw ValidationError(std::string(field), "must be one of name, created_at, last_contact, conversation_count");
}

bool default_descending(SortKey key) noexcept { return key != SortKey::kName; }

CustomerFilters parse_customer_filters(const std::map<std::string, std::string>& params) {
  std::vector<FieldError> errors;
  CustomerFilters f;
  for (const auto& [key, value] : params) {
    if (std::find(kKnownParams.begin(), kKnownParams.end(), key) == kKnownParams.end()) {
      errors.push_back({key, "unknown query parameter"});
    }
  }
  auto get = [&](const char* key) -> const std::string* {
    auto it = params.find(key);
    return it == params.end() ? nullptr : &it->second;
  };
  auto absorb = [&](const ValidationError& e) { errors.insert(errors.end(), e.fields().begin(), e.fields().end()); };

  if (auto* v = get("lifecycle_stage")) {
    try {
      f.stage = parse_lifecycle_stage(*v, "lifecycle_stage");
    } catch (const ValidationError& e) {
      absorb(e);
    }
  }
  if (auto* v = get("source")) {
    try {
      f.source = parse_customer_source(*v, "source");
    } catch (const ValidationError& e) {
      absorb(e);
    }
  }
  for (const char* key : {"tags_any", "tags_all"}) {
    const std::string* v = get(key);
    if (!v || trim(*v).empty()) continue;
    try {
      auto tags = normalize_tags(split_commas(*v), key);
      (std::string_view(key) == "tags_any" ? f.tags_any : f.tags_all) = std::move(tags);
    } catch (const ValidationError& e) {
      absorb(e);
    }
  }
  for (auto [key, target] : {std::pair{"created_from", &f.created_from}, std::pair{"created_to", &f.created_to},
                             std::pair{"last_contact_from", &f.last_contact_from},
                             std::pair{"last_contact_to", &f.last_contact_to}}) {
    if (auto* v = get(key)) *target = *v;  // checked below with the ranges
  }
  for (auto [key, target] : {std::pair{"has_email", &f.has_email}, std::pair{"has_phone", &f.has_phone}}) {
    if (auto* v = get(key)) {
      if (auto b = parse_bool(*v)) *target = *b;
      else errors.push_back({key, "must be true, false, 1 or 0"});
    }
  }
  if (auto* v = get("include_total")) {
    if (auto b = parse_bool(*v)) f.include_total = *b;
    else errors.push_back({"include_total", "must be true, false, 1 or 0"});
  }
  if (auto* v = get("q")) {
    std::string q = trim(*v);
    if (!q.empty()) f.query = std::move(q);  // length checked below
  }
  bool sort_ok = true;
  if (auto* v = get("sort")) {
    try {
      f.sort = parse_sort_key(*v, "sort");
    } catch (const ValidationError& e) {
      absorb(e);
      sort_ok = false;
    }
  }
  f.descending = default_descending(f.sort);
  bool order_ok = true;
  if (auto* v = get("order")) {
    if (*v == "asc") f.descending = false;
    else if (*v == "desc") f.descending = true;
    else {
      errors.push_back({"order", "must be asc or desc"});
      order_ok = false;
    }
  }
  if (auto* v = get("limit")) {
    int limit = 0;
    const auto* first = v->data();
    const auto* last = v->data() + v->size();
    const auto [ptr, ec] = std::from_chars(first, last, limit);
    if (v->empty() || ec != std::errc{} || ptr != last || (*v)[0] == '-' || (*v)[0] == '+') {
      errors.push_back({"limit", "must be an integer between 1 and 1000"});
      f.limit = kDefaultLimit;
    } else {
      f.limit = limit;  // range checked below, never clamped
    }
  }
  if (auto* v = get("cursor")) f.cursor = *v;

  // Shared checks (also used for filters built in code). A cursor cannot be
  // judged against a sort/order that failed to parse, so skip it then.
  CustomerFilters to_check = f;
  if (!sort_ok || !order_ok) to_check.cursor.reset();
  try {
    validate_customer_filters(to_check);
  } catch (const ValidationError& e) {
    absorb(e);
  }
  if (!errors.empty()) throw ValidationError(std::move(errors));
  return f;
}

CustomerFilters parse_customer_export_filters(const std::map<std::string, std::string>& params) {
  std::vector<FieldError> errors;
  std::map<std::string, std::string> filters;
  for (const auto& [key, value] : params) {
    if (key == "limit" || key == "cursor" || key == "include_total") {
      errors.push_back({key, "not accepted by the export (it is always the whole filtered list)"});
    } else {
      filters.emplace(key, value);
    }
  }
  CustomerFilters f;
  try {
    f = parse_customer_filters(filters);
  } catch (const ValidationError& e) {
    errors.insert(errors.end(), e.fields().begin(), e.fields().end());
  }
  if (!errors.empty()) throw ValidationError(std::move(errors));
  return f;
}

void validate_customer_filters(const CustomerFilters& f) {
  std::vector<FieldError> errors;
  if (f.limit < 1 || f.limit > kMaxLimit) errors.push_back({"limit", "must be an integer between 1 and 1000"});
  check_normalized_tags(f.tags_any, "tags_any", errors);
  check_normalized_tags(f.tags_all, "tags_all", errors);
  check_range(f.created_from, f.created_to, "created_from", "created_to", errors);
  check_range(f.last_contact_from, f.last_contact_to, "last_contact_from", "last_contact_to", errors);
  if (f.query) {
    if (trim(*f.query).empty()) errors.push_back({"q", "must not be blank"});
    else if (utf8_length(*f.query) > kMaxQueryLength) errors.push_back({"q", "must be at most 200 characters"});
  }
  if (f.cursor) {
    try {
      (void)decode_cursor(*f.cursor, f.sort, f.descending);
    } catch (const ValidationError& e) {
      errors.insert(errors.end(), e.fields().begin(), e.fields().end());
    }
  }
  if (!errors.empty()) throw ValidationError(std::move(errors));
}

}  // namespace tradesphere::domain
