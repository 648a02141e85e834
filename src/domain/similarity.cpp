#include "domain/similarity.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <set>
#include <unordered_map>

#include "domain/normalize.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tradesphere::domain {

namespace {

// Jaro-Winkler over match flags held in `am`/`bm` (bool arrays or vectors).
template <class Flags>
double jaro_winkler_with(std::string_view a, std::string_view b, Flags& am, Flags& bm) {
  const std::size_t window = std::max<std::size_t>(std::max(a.size(), b.size()) / 2, 1) - 1;
  std::size_t matches = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::size_t lo = i > window ? i - window : 0;
    const std::size_t hi = std::min(i + window + 1, b.size());
    const char c = a[i];
    for (std::size_t j = lo; j < hi; ++j) {
      if (bm[j] || c != b[j]) continue;
      am[i] = bm[j] = true;
      ++matches;
      break;
    }
  }
  if (matches == 0) return 0.0;
  std::size_t t = 0, k = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!am[i]) continue;
    while (!bm[k]) ++k;
    if (a[i] != b[k]) ++t;
    ++k;
  }
  double m = static_cast<double>(matches);
  double jaro = (m / a.size() + m / b.size() + (m - t / 2.0) / m) / 3.0;
  std::size_t prefix = 0;
  while (prefix < 4 && prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
  return jaro + prefix * 0.1 * (1.0 - jaro);
}

// The same over inputs of up to 64 bytes, with each side's match flags as the bits
// of one word: no flag arrays to clear, and the transpositions walk the set bits.
// (JW was the largest single cost of a 1M-customer scan: ~40M pairs, 2-4 calls each.)
double jaro_winkler_small(std::string_view a, std::string_view b) {
  const std::size_t window = std::max<std::size_t>(std::max(a.size(), b.size()) / 2, 1) - 1;
  std::uint64_t am = 0, bm = 0;
  std::size_t matches = 0;
#if defined(__SSE2__)
  // b of up to 16 bytes (nearly every name part) in one register: the positions
  // of a[i] in b come from one byte compare, and the first free one inside the
  // window is the lowest bit of a mask, instead of a branchy scan of the window
  // (the scan mispredicts on every name; written by hand because no Debian
  // package offers a Jaro-Winkler, let alone a vectorised one)
  if (b.size() <= 16) {
    alignas(16) char padded[16] = {};
    std::memcpy(padded, b.data(), b.size());
    const __m128i vb = _mm_load_si128(reinterpret_cast<const __m128i*>(padded));
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::size_t lo = i > window ? i - window : 0;
      const std::size_t hi = std::min(i + window + 1, b.size());
      if (lo >= hi) break;  // the windows only move right: no later i has one
      const auto equal = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(vb, _mm_set1_epi8(a[i]))));
      const std::uint32_t inside = ((std::uint32_t{1} << hi) - 1) & ~((std::uint32_t{1} << lo) - 1);
      const std::uint32_t free = equal & inside & ~static_cast<std::uint32_t>(bm);
      if (free == 0) continue;
      bm |= std::uint64_t{1} << std::countr_zero(free);
      am |= std::uint64_t{1} << i;
      ++matches;
    }
  } else
#endif
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::size_t lo = i > window ? i - window : 0;
    const std::size_t hi = std::min(i + window + 1, b.size());
    const char c = a[i];
    for (std::size_t j = lo; j < hi; ++j) {
      if (c != b[j] || ((bm >> j) & 1U)) continue;
      am |= std::uint64_t{1} << i;
      bm |= std::uint64_t{1} << j;
      ++matches;
      break;
    }
  }
  if (matches == 0) return 0.0;
  std::size_t t = 0;
  for (std::uint64_t x = am, y = bm; x != 0; x &= x - 1, y &= y - 1)
    if (a[static_cast<std::size_t>(std::countr_zero(x))] != b[static_cast<std::size_t>(std::countr_zero(y))]) ++t;
  double m = static_cast<double>(matches);
  double jaro = (m / a.size() + m / b.size() + (m - t / 2.0) / m) / 3.0;
  std::size_t prefix = 0;
  while (prefix < 4 && prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
  return jaro + prefix * 0.1 * (1.0 - jaro);
}

}  // namespace

// Runs for every candidate pair of a duplicate scan (millions at 1M customers):
// inputs of up to 64 bytes keep their match flags on the stack, never the heap.
double jaro_winkler(std::string_view a, std::string_view b) {
  if (a.empty() && b.empty()) return 1.0;
  if (a.empty() || b.empty()) return 0.0;
  if (a == b) return 1.0;
  if (a.size() <= 64 && b.size() <= 64) return jaro_winkler_small(a, b);
  std::vector<bool> am(a.size(), false), bm(b.size(), false);
  return jaro_winkler_with(a, b, am, bm);
}

std::size_t levenshtein(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

namespace {

// Three rolling rows (i-2, i-1, i) of an edit matrix m + 1 wide instead of the whole
// matrix; on the stack for inputs up to 127 bytes, never the heap.
class RollingRows {
 public:
  explicit RollingRows(std::size_t width) {
    std::size_t* base = small_[0];
    if (width > kSmall) {
      big_.assign(3 * width, 0);
      base = big_.data();
    }
    two = base, prev = base + (width > kSmall ? width : kSmall), cur = prev + (width > kSmall ? width : kSmall);
  }
  RollingRows(const RollingRows&) = delete;  // the row pointers point into this object
  RollingRows& operator=(const RollingRows&) = delete;
  void advance() {  // row i becomes i-1, i-1 becomes i-2, the old i-2 is reused for i+1
    std::size_t* t = two;
    two = prev;
    prev = cur;
    cur = t;
  }
  std::size_t* two;   // row i-2
  std::size_t* prev;  // row i-1
  std::size_t* cur;   // row i

 private:
  static constexpr std::size_t kSmall = 128;
  std::size_t small_[3][kSmall];
  std::vector<std::size_t> big_;
};

}  // namespace

std::size_t osa_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  if (n == 0) return m;
  if (m == 0) return n;
  RollingRows r(m + 1);
  for (std::size_t j = 0; j <= m; ++j) r.prev[j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    r.cur[0] = i;
    for (std::size_t j = 1; j <= m; ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      r.cur[j] = std::min({r.prev[j] + 1, r.cur[j - 1] + 1, r.prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) r.cur[j] = std::min(r.cur[j], r.two[j - 2] + 1);
    }
    r.advance();
  }
  return r.prev[m];
}

bool osa_within(std::string_view a, std::string_view b, std::size_t max) {
  if (a.size() < b.size()) std::swap(a, b);  // a is the longer
  const std::size_t n = a.size(), m = b.size();
  if (n - m > max) return false;
  if (m == 0) return n <= max;
  if (max >= m) return osa_distance(a, b) <= max;  // the band would be the whole matrix
  // Cells outside the band cost more than `max` (at least |i - j| edits), so they are
  // treated as "too far" (kFar); inside it the recurrence is osa_distance's own.
  const std::size_t kFar = max + 1;
  RollingRows r(m + 1);
  for (std::size_t j = 0; j <= m; ++j) r.prev[j] = std::min(j, kFar), r.two[j] = kFar;
  for (std::size_t i = 1; i <= n; ++i) {
    const std::size_t lo = i > max ? i - max : 1;
    const std::size_t hi = std::min(m, i + max);
    r.cur[0] = std::min(i, kFar);
    if (lo > 1) r.cur[lo - 1] = kFar;
    std::size_t row_min = lo > 1 ? kFar : r.cur[0];
    for (std::size_t j = lo; j <= hi; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      std::size_t v = std::min({r.prev[j] + 1, r.cur[j - 1] + 1, r.prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) v = std::min(v, r.two[j - 2] + 1);
      r.cur[j] = std::min(v, kFar);
      row_min = std::min(row_min, r.cur[j]);
    }
    if (hi < m) r.cur[hi + 1] = kFar;
    if (row_min > max) return false;
    r.advance();
  }
  return r.prev[m] <= max;
}

namespace {

std::set<std::string> trigrams(std::string_view text) {
  std::set<std::string> out;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    std::string padded = "  " + word + " ";
    for (std::size_t i = 0; i + 3 <= padded.size(); ++i) out.insert(padded.substr(i, 3));
    word.clear();
  };
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c >= 0x80) word += static_cast<char>(std::tolower(c));
    else flush();
  }
  flush();
  return out;
}

}  // namespace

double trigram_similarity(std::string_view a, std::string_view b) {
  auto ta = trigrams(a), tb = trigrams(b);
  if (ta.empty() || tb.empty()) return 0.0;
  std::size_t common = 0;
  for (const auto& t : ta) common += tb.count(t);
  return static_cast<double>(common) / static_cast<double>(ta.size() + tb.size() - common);
}

std::string canonical_first_name(const std::string& token) {
  static const std::unordered_map<std::string, std::string> kNicknames = {
      {"bob", "robert"},      {"bobby", "robert"},    {"rob", "robert"},      {"robbie", "robert"},
      {"bill", "william"},    {"billy", "william"},   {"will", "william"},    {"willy", "william"},
      {"liam", "william"},    {"jim", "james"},       {"jimmy", "james"},     {"jamie", "james"},
      {"mike", "michael"},    {"mikey", "michael"},   {"mick", "michael"},    {"dave", "david"},
      {"davy", "david"},      {"tom", "thomas"},      {"tommy", "thomas"},    {"joe", "joseph"},
      {"joey", "joseph"},     {"dan", "daniel"},      {"danny", "daniel"},    {"chris", "christopher"},
      {"matt", "matthew"},    {"nick", "nicholas"},   {"tony", "anthony"},    {"steve", "steven"},
      {"stephen", "steven"},  {"ben", "benjamin"},    {"sam", "samuel"},      {"alex", "alexander"},
      {"andy", "andrew"},     {"drew", "andrew"},     {"ed", "edward"},       {"eddie", "edward"},
      {"ted", "edward"},      {"rick", "richard"},    {"rich", "richard"},    {"dick", "richard"},
      {"greg", "gregory"},    {"jeff", "jeffrey"},    {"jon", "jonathan"},    {"johnny", "john"},
      {"jack", "john"},       {"charlie", "charles"}, {"chuck", "charles"},   {"pete", "peter"},
      {"larry", "lawrence"},  {"ken", "kenneth"},     {"kenny", "kenneth"},   {"ron", "ronald"},
      {"don", "donald"},      {"frank", "francis"},   {"hank", "henry"},      {"harry", "henry"},
      {"tim", "timothy"},     {"liz", "elizabeth"},   {"beth", "elizabeth"},  {"betty", "elizabeth"},
      {"lizzie", "elizabeth"}, {"eliza", "elizabeth"}, {"kate", "katherine"}, {"katie", "katherine"},
      {"kathy", "katherine"}, {"cathy", "katherine"}, {"catherine", "katherine"}, {"kat", "katherine"},
      {"jen", "jennifer"},    {"jenny", "jennifer"},  {"sue", "susan"},       {"susie", "susan"},
      {"peggy", "margaret"},  {"maggie", "margaret"}, {"meg", "margaret"},    {"patty", "patricia"},
      {"pat", "patricia"},    {"trish", "patricia"},  {"becky", "rebecca"},   {"becca", "rebecca"},
      {"vicky", "victoria"},  {"debbie", "deborah"},  {"deb", "deborah"},     {"mandy", "amanda"},
      {"abby", "abigail"},    {"annie", "ann"},       {"anna", "ann"},        {"anne", "ann"},
      {"sally", "sarah"},     {"sara", "sarah"},      {"jess", "jessica"},    {"jessie", "jessica"},
      {"nat", "natalie"},     {"cindy", "cynthia"},   {"sandy", "sandra"},    {"terry", "theresa"},
      {"tess", "theresa"},    {"chris", "christopher"}, {"christine", "christina"}, {"nicky", "nicole"},
      {"val", "valerie"},     {"gabe", "gabriel"},    {"josh", "joshua"},     {"zach", "zachary"},
      {"nate", "nathan"},     {"fred", "frederick"},  {"freddie", "frederick"}, {"walt", "walter"},
  };
  auto it = kNicknames.find(token);
  return it == kNicknames.end() ? token : it->second;
}

std::string soundex(std::string_view token) {
  static const char* kCodes = "01230120022455012623010202";  // a..z
  std::string out;
  char last = 0;
  for (char ch : token) {
    auto c = static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(ch)));
    if (c < 'a' || c > 'z') continue;
    char code = kCodes[c - 'a'];
    if (out.empty()) {
      out += static_cast<char>(c);
      last = code;
      continue;
    }
    if (code != '0' && code != last) out += code;
    if (c != 'h' && c != 'w') last = code;
    if (out.size() == 4) break;
  }
  if (out.empty()) return out;
  while (out.size() < 4) out += '0';
  return out;
}

std::string email_match_key(std::string_view raw) {
  auto e = normalize_email(raw);
  if (!e) return "";
  auto at = e->rfind('@');
  std::string local = e->substr(0, at), domain = e->substr(at + 1);
  if (auto plus = local.find('+'); plus != std::string::npos && plus > 0) local.resize(plus);
  local.erase(std::remove(local.begin(), local.end(), '.'), local.end());
  if (domain == "googlemail.com") domain = "gmail.com";
  return local + "@" + domain;
}

std::string phone_match_key(std::string_view raw) {
  std::string digits;
  for (char c : raw)
    if (c >= '0' && c <= '9') digits += c;
    else if (std::isalpha(static_cast<unsigned char>(c)) && !digits.empty()) break;  // extension
  if (digits.size() < 7) return "";
  if (digits.size() > 10) digits = digits.substr(digits.size() - 10);
  return digits;
}

}  // namespace tradesphere::domain
