// Parsing of names, emails, phones and postal addresses into the values the
// duplicate model compares (match_model.hpp). Hand-written: Debian has no
// packaged postal-address parser (libpostal is not in Debian 12), and the model
// needs only a few parts (house number, street, locality, postcode) that the
// comma structure of real address lines gives reliably.
#include <algorithm>
#include <cctype>
#include <unordered_map>
#include <unordered_set>

#include "domain/match_model.hpp"
#include "domain/normalize.hpp"
#include "domain/similarity.hpp"

namespace tradesphere::domain {
namespace {

bool has_digit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
bool all_alpha(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z'); });
}

// Splits on anything that is not an ASCII letter/digit or a UTF-8 byte;
// apostrophes vanish inside a word ("o'brien" -> "obrien").
std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::string w;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\'') continue;
    if (std::isalnum(c) || c >= 0x80) {
      w += static_cast<char>(std::tolower(c));
    } else if (!w.empty()) {
      out.push_back(std::move(w));
      w.clear();
    }
  }
  if (!w.empty()) out.push_back(std::move(w));
  return out;
}

std::string join(const std::vector<std::string>& v, std::size_t from, std::size_t to, const char* sep = " ") {
  std::string out;
  for (std::size_t i = from; i < to && i < v.size(); ++i) {
    if (!out.empty()) out += sep;
    out += v[i];
  }
  return out;
}

const std::unordered_set<std::string>& name_noise() {
  static const std::unordered_set<std::string> k = {"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "jr", "sr",
                                                    "ii", "iii", "iv", "phd", "md", "esq"};
  return k;
}

void parse_name(const std::string& raw, MatchFields& f) {
  std::string text = raw;
  // "Last, First Middle" -> "First Middle Last"
  if (auto comma = text.find(','); comma != std::string::npos) {
    std::string last = text.substr(0, comma), rest = text.substr(comma + 1);
    if (!words(last).empty() && !words(rest).empty()) text = rest + " " + last;
  }
  std::vector<std::string> tokens;
  for (auto& w : words(normalize_name(text)))
    if (!name_noise().count(w)) tokens.push_back(std::move(w));
  if (tokens.empty()) return;
  auto sorted = tokens;
  std::sort(sorted.begin(), sorted.end());
  f.name_key = join(sorted, 0, sorted.size());
  if (tokens.size() == 1) {
    f.surname = f.surname_joined = tokens[0];
    f.single_name = true;
    return;
  }
  f.given_raw = tokens.front();
  f.given = canonical_first_name(tokens.front());
  f.surname = tokens.back();
  f.surname_joined = join(tokens, 1, tokens.size(), "");
}

const std::unordered_map<std::string, std::string>& street_abbreviations() {
  static const std::unordered_map<std::string, std::string> k = {
      {"st", "street"},   {"str", "street"},    {"ave", "avenue"},   {"av", "avenue"},     {"rd", "road"},
      {"dr", "drive"},    {"ln", "lane"},       {"blvd", "boulevard"}, {"ct", "court"},    {"pl", "place"},
      {"sq", "square"},   {"hwy", "highway"},   {"pkwy", "parkway"}, {"cres", "crescent"}, {"cr", "crescent"},
      {"cct", "circuit"}, {"cir", "circle"},    {"tce", "terrace"},  {"ter", "terrace"},   {"pde", "parade"},
      {"cl", "close"},    {"gr", "grove"},      {"hts", "heights"},  {"mt", "mount"},      {"n", "north"},
      {"s", "south"},     {"e", "east"},        {"w", "west"},       {"apt", "apartment"}, {"ste", "suite"},
      {"fl", "floor"},    {"flt", "flat"},      {"unit", "apartment"}, {"u", "apartment"},
  };
  return k;
}
const std::unordered_set<std::string>& street_types() {
  static const std::unordered_set<std::string> k = {
      "street", "avenue", "road",   "drive",   "lane",    "boulevard", "court", "place",  "square", "highway",
      "parkway", "crescent", "circuit", "circle", "terrace", "parade",  "close", "grove",  "way",    "walk",
      "row",    "heights", "gardens", "mews",   "hill"};
  return k;
}

bool unit_word(const std::string& t) {  // after expansion ("apt" -> "apartment")
  return t == "apartment" || t == "suite" || t == "flat" || t == "floor" || t == "room" || t == "level";
}

std::vector<std::string> expand(std::vector<std::string> tokens) {
  for (auto& t : tokens)
    if (auto it = street_abbreviations().find(t); it != street_abbreviations().end()) t = it->second;
  return tokens;
}

bool uk_outward(std::string_view t) {  // "sw1a", "m1", "b33"
  return t.size() >= 2 && t.size() <= 4 && std::isalpha(static_cast<unsigned char>(t[0])) && has_digit(t);
}
bool uk_inward(std::string_view t) {  // "1aa"
  return t.size() == 3 && std::isdigit(static_cast<unsigned char>(t[0])) && std::isalpha(static_cast<unsigned char>(t[1])) &&
         std::isalpha(static_cast<unsigned char>(t[2]));
}

void parse_address(const std::string& raw, MatchFields& f) {
  std::vector<std::vector<std::string>> segments;
  std::string seg;
  auto flush = [&] {
    auto w = expand(words(seg));
    if (!w.empty()) segments.push_back(std::move(w));
    seg.clear();
  };
  for (char c : raw) {
    if (c == ',' || c == ';' || c == '\n') flush();
    else seg += c;
  }
  flush();
  if (segments.empty()) return;

  // postcode: the last 4-6 digit token (not a leading house number), or a UK-style pair
  int pc_seg = -1;
  std::size_t pc_pos = 0, pc_len = 0;
  for (int s = static_cast<int>(segments.size()) - 1; s >= 0 && pc_seg < 0; --s) {
    const auto& w = segments[static_cast<std::size_t>(s)];
    for (int i = static_cast<int>(w.size()) - 1; i >= 0; --i) {
      const auto& t = w[static_cast<std::size_t>(i)];
      if (s == 0 && i == 0 && segments.size() > 1) break;  // the house number
      if (all_digits(t) && t.size() >= 4 && t.size() <= 6) {
        // ZIP+4 ("62704-1234"): keep the five digits
        if (t.size() == 4 && i > 0 && w[static_cast<std::size_t>(i - 1)].size() == 5 &&
            all_digits(w[static_cast<std::size_t>(i - 1)]))
          --i;
        pc_seg = s, pc_pos = static_cast<std::size_t>(i), pc_len = 1;
        break;
      }
      if (i > 0 && uk_inward(t) && uk_outward(w[static_cast<std::size_t>(i - 1)])) {
        pc_seg = s, pc_pos = static_cast<std::size_t>(i - 1), pc_len = 2;
        break;
      }
    }
  }
  if (pc_seg >= 0) {
    auto& w = segments[static_cast<std::size_t>(pc_seg)];
    f.postcode = join(w, pc_pos, pc_pos + pc_len, "");
    // what precedes the postcode in its segment: a locality ("london sw1a 1aa"), or a state code ("il 62704")
    std::vector<std::string> before(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(pc_pos));
    while (!before.empty() && before.back().size() <= 3 && all_alpha(before.back())) before.pop_back();
    w = before;  // tokens after the postcode (state, country) are dropped
    if (w.empty()) segments.erase(segments.begin() + pc_seg);
  }
  if (segments.empty()) return;

  // a leading unit segment ("Apt 4, 12 Main St", "Flat 3, ...") is not the street
  while (segments.size() > 1 && unit_word(segments.front().front())) segments.erase(segments.begin());
  // street part: the first segment (joined with the next when it is only a number: "3, meilene retirement")
  auto first = segments.front();
  std::size_t used = 1;
  bool streetish = has_digit(first.front()) || segments.size() > 1 ||
                   std::any_of(first.begin(), first.end(), [](const std::string& t) { return street_types().count(t) > 0; });
  if (!streetish) {  // "Sheffield": a town only
    f.locality = join(first, 0, first.size());
    return;
  }
  if (has_digit(first.front())) {
    f.house_number = first.front();
    first.erase(first.begin());
    if (first.empty() && segments.size() == 2) {  // "38, kingaroy": a number and a town
      f.locality = join(segments[1], 0, segments[1].size());
      return;
    }
    if (first.empty() && segments.size() > 2) {  // "3, meilene retirement, whitfield": the street part follows
      first = segments[1];
      used = 2;
    }
  }
  std::vector<std::string> rest;  // no commas: "12 main street springfield" -> split after the street type
  for (std::size_t i = 0; i < first.size(); ++i) {
    if (street_types().count(first[i]) && i + 1 < first.size() && segments.size() == used) {
      rest.assign(first.begin() + static_cast<std::ptrdiff_t>(i + 1), first.end());
      first.resize(i + 1);
      break;
    }
  }
  f.street = join(first, 0, first.size());
  // "... street apt 4b springfield": the unit after the street is not the town
  while (rest.size() >= 2 && unit_word(rest.front())) rest.erase(rest.begin(), rest.begin() + 2);
  if (!rest.empty()) {
    while (!rest.empty() && rest.back().size() <= 3 && all_alpha(rest.back())) rest.pop_back();
    f.locality = join(rest, 0, rest.size());
  }
  if (segments.size() > used) {
    const auto& loc = segments.back();
    f.locality = join(loc, 0, loc.size());
  }
}

// Comparison values are capped: Jaro-Winkler and edit distances are quadratic in
// the length, and no real name, street or email needs more (the stored value is
// untouched; only what is compared is shortened).
constexpr std::size_t kMaxToken = 64;
constexpr std::size_t kMaxValue = 128;
void cap(std::string& s, std::size_t n) {
  if (s.size() <= n) return;
  s.resize(n);
  while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();  // whole UTF-8 characters
  if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
}

std::string letters_of(const std::string& text) {
  std::string out;
  for (char c : text)
    if (c >= 'a' && c <= 'z') out += c;
  return out;
}
// The mailbox name only spells the person's name ("john.smith", "jsmith", "smithj"),
// allowing one typo on either side: on another domain it says nothing the name
// comparison has not said already.
bool mailbox_is_name(const std::string& local, const MatchFields& f) {
  if (f.surname.empty()) return false;
  const std::string letters = letters_of(local);
  if (letters.empty()) return false;
  const std::string& g = f.given_raw;
  const std::string& s = f.surname;
  std::vector<std::string> forms = {s, s + g, g + s};
  if (!g.empty()) forms.insert(forms.end(), {g, g.substr(0, 1) + s, s + g.substr(0, 1), g + s.substr(0, 1)});
  for (const auto& form : forms) {
    if (form.empty()) continue;
    if (form == letters) return true;
    if (form.size() >= 6 && osa_within(form, letters, 1)) return true;
  }
  return false;
}

// "anthony.lopez", "lopez_anthony", "anthonylopez2" for "A. Lopez": the letters
// are the surname and a longer name that starts with the initial, either order.
// Only exact surnames, and at least three letters of given name ("al.lopez" says
// nothing an initial does not), so a mailbox that only resembles the name gives nothing.
std::string mailbox_given_name(const std::string& local, const MatchFields& f) {
  if (f.single_name || f.given_raw.size() != 1 || f.surname.size() < 2) return "";
  const std::string letters = letters_of(local);
  const std::string& s = f.surname;
  if (letters.size() < s.size() + 3) return "";
  std::string given;
  if (letters.compare(0, s.size(), s) == 0) given = letters.substr(s.size());
  else if (letters.compare(letters.size() - s.size(), s.size(), s) == 0) given = letters.substr(0, letters.size() - s.size());
  return !given.empty() && given[0] == f.given_raw[0] ? given : "";
}

// The per-record values the comparisons derive (see MatchFields), from the final
// (capped) fields.
void derive_comparison_values(MatchFields& f) {
  const auto at = f.email_text.find('@');
  f.email_local = at == std::string::npos ? f.email_text : f.email_text.substr(0, at);
  f.email_domain = at == std::string::npos ? std::string() : f.email_text.substr(at);
  for (char c : f.email_local)
    if (c >= '0' && c <= '9') f.email_local_digits += c;
  f.mailbox_is_name = mailbox_is_name(f.email_local, f);
  f.mailbox_given = mailbox_given_name(f.email_local, f);
  if (!f.street.empty() || !f.house_number.empty()) f.address_term = f.house_number + " " + f.street;
  const auto sp = f.street.rfind(' ');
  if (sp != std::string::npos && street_types().count(f.street.substr(sp + 1))) {
    f.street_name = f.street.substr(0, sp);
    f.street_kind = f.street.substr(sp + 1);
  }
}

}  // namespace

bool street_type(const std::string& word) { return street_types().count(word) > 0; }

namespace {
// The hash of MatchFields::content: every value the comparisons read (the
// derived fields follow from them).
std::uint64_t content_hash(const MatchFields& f) {
  std::uint64_t h = f.single_name ? 0x51ED27u : 0x2545F491u;
  for (const std::string* v : {&f.given, &f.given_raw, &f.surname, &f.surname_joined, &f.name_key, &f.email_key,
                               &f.email_text, &f.phone_key, &f.house_number, &f.street, &f.locality, &f.postcode})
    h = (h ^ std::hash<std::string>{}(*v)) * 0x100000001B3ull + 0x9E3779B97F4A7C15ull;
  return h;
}
}  // namespace

MatchFields parse_match_fields(const std::optional<std::string>& name, const std::optional<std::string>& email,
                               const std::optional<std::string>& phone, const std::optional<std::string>& address) {
  MatchFields f;
  if (name) parse_name(*name, f);
  if (email) {
    f.email_key = email_match_key(*email);
    f.email_text = to_lower_ascii(trim(*email));
    f.email_text.erase(std::remove(f.email_text.begin(), f.email_text.end(), ' '), f.email_text.end());
    if (!f.email_key.empty()) f.email_text = f.email_key;
  }
  if (phone) f.phone_key = phone_match_key(*phone);
  if (address) parse_address(*address, f);
  for (auto* token : {&f.given, &f.given_raw, &f.surname}) cap(*token, kMaxToken);
  for (auto* value : {&f.surname_joined, &f.name_key, &f.house_number, &f.street, &f.locality, &f.postcode})
    cap(*value, kMaxValue);
  cap(f.email_text, 254);
  cap(f.email_key, 254);
  derive_comparison_values(f);
  f.content = content_hash(f);
  return f;
}

}  // namespace tradesphere::domain
