#include "domain/match_blocking.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>

#include "domain/parallel.hpp"
#include "domain/similarity.hpp"

namespace tradesphere::domain {
namespace {

enum Rule : int {
  kEmailRule = 0,
  kEmailLocalRule,
  kPhoneRule,
  kNamesRule,
  kInitialRule,
  kSurnamePostcodeRule,
  kGivenPostcodeRule,
  kNumberStreetRule,
  kPostcodeNumberRule,
  kSurnameLocalityRule,
  kGivenLocalityRule,
  kSurnameStreetRule,
  kPostcodeStreetRule,
  kMailboxPrefixRule,
  kGivenNumberRule,
  kGivenStreetRule,
};

std::string first_word(const std::string& s) { return s.substr(0, s.find(' ')); }

// Soundex of a name token; a token without Latin letters (Cyrillic, CJK, ...) has
// no Soundex and is blocked by its first bytes instead (never by "", which would
// put every such record into one block).
std::string code(const std::string& token) {
  auto c = soundex(token);
  if (!c.empty()) return c;
  std::string prefix = token.substr(0, 6);
  while (!prefix.empty() && (static_cast<unsigned char>(prefix.back()) & 0xC0) == 0x80) prefix.pop_back();
  if (!prefix.empty() && static_cast<unsigned char>(prefix.back()) >= 0xC0) prefix.pop_back();
  return prefix.empty() ? "" : "~" + prefix;
}

}  // namespace

const std::vector<BlockingRule>& blocking_rules() {
  static const std::vector<BlockingRule> k = {
      {"email"},           {"email mailbox name"}, {"phone"},           {"given+surname sound"}, {"initial+surname sound"},
      {"surname+postcode"}, {"given+postcode"},    {"number+street"},   {"postcode+number"},
      {"surname+locality"}, {"given+locality"},    {"surname+street"},  {"postcode+street"},
      {"mailbox prefix"},   {"given+number"},     {"given+street"},
  };
  return k;
}

std::vector<BlockingKey> blocking_keys(const MatchFields& r) {
  std::vector<BlockingKey> keys;
  auto add = [&keys](int rule, std::string key, bool probe = true) { keys.push_back({rule, std::move(key), probe}); };
  if (!r.email_text.empty()) {
    add(kEmailRule, r.email_text);
    auto at = r.email_text.find('@');
    if (at != std::string::npos && at >= 4) add(kEmailLocalRule, r.email_text.substr(0, at));
  }
  if (!r.email_local.empty() && !r.mailbox_is_name) {
    // the mailbox's first six letters: a mistyped mailbox ("longdebrm@ixon.coa" for
    // "longdebra@dixon.com") shares no email key and often no name key either (a
    // mailbox that spells the name, "thomas.roberts", is reached by the name rules,
    // and its prefix, "thomas", would pair every Thomas)
    std::string letters;
    for (char c : r.email_local)
      if (c >= 'a' && c <= 'z' && letters.size() < 6) letters += c;
    if (letters.size() == 6) add(kMailboxPrefixRule, letters);
  }
  // the last nine digits: a number's national and international forms meet (see phone_level)
  if (!r.phone_key.empty()) add(kPhoneRule, r.phone_key.size() > 9 ? r.phone_key.substr(r.phone_key.size() - 9) : r.phone_key);
  // a lone name token may be either part: try it as both
  std::vector<std::string> givens, surnames;
  auto push = [](std::vector<std::string>& v, std::string c) {
    if (!c.empty()) v.push_back(std::move(c));
  };
  if (!r.given.empty()) push(givens, code(r.given));
  if (!r.surname.empty()) push(surnames, code(r.surname));
  if (r.single_name && !r.surname.empty()) push(givens, code(canonical_first_name(r.surname)));
  if (!r.single_name && r.surname_joined != r.surname) push(surnames, code(r.surname_joined));
  const std::string street = r.street.empty() ? "" : code(first_word(r.street));
  const std::string locality = r.locality.empty() ? "" : code(first_word(r.locality));
  // given + surname sound, either order ("Smith John" = "John Smith")
  if (!r.single_name && !r.given_raw.empty()) {
    const bool initial = r.given_raw.size() == 1;
    const std::string g = code(r.given_raw);
    for (const auto& s : surnames) {
      if (!initial) add(kNamesRule, std::min(g, s) + std::max(g, s));
      // given initial + surname sound, in both orders: "J. Smith" meets "John Smith" and "Smith John"
      add(kInitialRule, r.given_raw.substr(0, 1) + s);
      if (!initial) add(kInitialRule, s.substr(0, 1) + g);
    }
  }
  for (const auto& s : surnames) {
    if (!r.postcode.empty()) add(kSurnamePostcodeRule, s + r.postcode);
    // weaker rules, for the records the stronger ones cannot reach: town-only lists,
    // addresses without number or postcode, and lone names (which have no name rule)
    if (!locality.empty() && (r.postcode.empty() || r.street.empty() || r.single_name))
      add(kSurnameLocalityRule, s + locality);
    if (!street.empty() && (r.house_number.empty() || r.postcode.empty() || r.single_name))
      add(kSurnameStreetRule, s + street);
  }
  for (const auto& g : givens) {
    if (!r.postcode.empty()) add(kGivenPostcodeRule, g + r.postcode);
    // the surname replaced or married and the postcode mistyped ("ethan callahan, 298 meyrick
    // place, 3961" = "ethan bartel, 298 meyrickplace, 3691"): the given name and the house
    // number, or the street for an address without one
    if (!r.house_number.empty()) add(kGivenNumberRule, g + "#" + r.house_number);
    if (!street.empty() && (r.house_number.empty() || r.postcode.empty() || r.single_name))
      add(kGivenStreetRule, g + street);
    if (!locality.empty() && (r.postcode.empty() || r.street.empty() || r.single_name))
      add(kGivenLocalityRule, g + locality);
  }
  if (!r.house_number.empty() && !street.empty()) add(kNumberStreetRule, r.house_number + street);
  if (!street.empty() && !r.postcode.empty()) add(kPostcodeStreetRule, r.postcode + street);
  if (!r.house_number.empty() && !r.postcode.empty()) add(kPostcodeNumberRule, r.postcode + "#" + r.house_number);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

namespace {
std::int64_t key_hash(std::string_view company_id, int rule, bool probe, std::string_view key) {
  std::uint64_t h = 14695981039346656037ULL;  // FNV-1a, 64 bit
  auto mix = [&h](std::string_view part) {
    for (unsigned char ch : part) {
      h ^= ch;
      h *= 1099511628211ULL;
    }
    h ^= 0x1f;  // a separator no part can forge: parts are mixed with their boundary
    h *= 1099511628211ULL;
  };
  mix(company_id);
  mix(std::to_string(rule));
  mix(probe ? "p" : "o");
  mix(key);
  return static_cast<std::int64_t>(h);  // two's complement (C++20)
}
}  // namespace

BlockingHashes blocking_hashes(std::string_view company_id, const MatchFields& record) {
  BlockingHashes out;
  for (const auto& k : blocking_keys(record)) {
    const std::int64_t as_probe = key_hash(company_id, k.rule, true, k.key);
    if (k.probe) {
      out.stored.push_back(as_probe);
      out.lookup.push_back(as_probe);
      out.lookup.push_back(key_hash(company_id, k.rule, false, k.key));
    } else {
      out.stored.push_back(key_hash(company_id, k.rule, false, k.key));
      out.lookup.push_back(as_probe);
    }
  }
  for (auto* v : {&out.stored, &out.lookup}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  return out;
}

std::vector<BlockSize> blocks_larger_than(std::vector<std::int64_t> stored_hashes, std::size_t more_than) {
  parallel_sort(stored_hashes.begin(), stored_hashes.end());
  std::vector<BlockSize> out;
  for (std::size_t s = 0; s < stored_hashes.size();) {
    std::size_t e = s;
    while (e < stored_hashes.size() && stored_hashes[e] == stored_hashes[s]) ++e;
    if (e - s > more_than) out.push_back({stored_hashes[s], e - s});
    s = e;
  }
  return out;
}

CandidatePairs candidate_pairs(const std::vector<const MatchFields*>& records, std::size_t max_block_size,
                               std::size_t max_pairs_per_record) {
  const auto& rules = blocking_rules();
  constexpr std::uint32_t kNotProbe = 0x80000000u;  // the flag bit beside a record index
  if (records.size() >= kNotProbe) throw std::length_error("duplicate blocking: more than 2^31 records in one scan");
  // each worker's records' keys, then per rule one vector (sorted below, so the
  // order in which the workers' parts are joined does not matter)
  using Entry = std::pair<std::uint64_t, std::uint32_t>;
  std::vector<std::vector<std::vector<Entry>>> parts(parallel_workers(records.size()),
                                                     std::vector<std::vector<Entry>>(rules.size()));
  parallel_ranges(records.size(), [&](std::size_t w, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i)
      for (auto& k : blocking_keys(*records[i]))
        parts[w][static_cast<std::size_t>(k.rule)].emplace_back(std::hash<std::string>{}(k.key),
                                                                static_cast<std::uint32_t>(i) | (k.probe ? 0u : kNotProbe));
  });
  std::vector<std::vector<Entry>> by_rule(rules.size());
  for (std::size_t rule = 0; rule < rules.size(); ++rule) {
    std::size_t total = 0;
    for (const auto& part : parts) total += part[rule].size();
    by_rule[rule].reserve(total);
    for (auto& part : parts) {
      by_rule[rule].insert(by_rule[rule].end(), part[rule].begin(), part[rule].end());
      std::vector<Entry>().swap(part[rule]);
    }
  }
  CandidatePairs out;
  std::vector<std::uint64_t> all;
  for (std::size_t rule = 0; rule < rules.size(); ++rule) {
    BlockingRuleStats st;
    st.rule = rules[rule].name;
    auto& entries = by_rule[rule];
    parallel_sort(entries.begin(), entries.end());
    entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
    const std::size_t before = all.size();
    struct Block {
      std::size_t start, end, pairs;
    };
    std::vector<Block> blocks;
    for (std::size_t s = 0; s < entries.size();) {
      std::size_t e = s;
      while (e < entries.size() && entries[e].first == entries[s].first) ++e;
      const std::size_t size = e - s;
      std::size_t probes = 0;
      for (std::size_t x = s; x < e; ++x) probes += (entries[x].second & kNotProbe) ? 0 : 1;
      // the pairs this block would produce
      const std::size_t block_pairs = probes * (size - probes) + probes * (probes - std::min<std::size_t>(probes, 1)) / 2;
      if (size >= 2 && block_pairs > 0) blocks.push_back({s, e, block_pairs});
      s = e;
    }
    // Too common to discriminate: a block larger than max_block_size records, and the
    // largest blocks beyond the rule's budget of pairs per record (a rule never costs
    // more than linear work however the company's names and streets are distributed).
    std::sort(blocks.begin(), blocks.end(), [](const Block& x, const Block& y) { return x.pairs < y.pairs; });
    const std::size_t budget = std::max<std::size_t>(max_pairs_per_record * records.size(), 100000);
    std::size_t spent = 0;
    for (const auto& blk : blocks) {
      const std::size_t size = blk.end - blk.start;
      if (blk.pairs > max_block_size * (max_block_size - 1) / 2 || spent + blk.pairs > budget) {
        ++st.skipped_blocks;
        st.skipped_records += size;
        st.largest_skipped = std::max(st.largest_skipped, size);
        continue;
      }
      spent += blk.pairs;
      ++st.blocks;
      for (std::size_t x = blk.start; x < blk.end; ++x)
        for (std::size_t y = x + 1; y < blk.end; ++y) {
          const std::uint32_t vx = entries[x].second, vy = entries[y].second;
          if ((vx & kNotProbe) && (vy & kNotProbe)) continue;  // two one-sided keys never pair
          const std::uint64_t ix = vx & ~kNotProbe, iy = vy & ~kNotProbe;
          if (ix == iy) continue;
          all.push_back((std::min(ix, iy) << 32) | std::max(ix, iy));
        }
    }
    st.pairs = all.size() - before;
    // new pairs: not produced by an earlier rule (the vector before `before` is sorted and unique)
    parallel_sort(all.begin() + static_cast<std::ptrdiff_t>(before), all.end());
    all.erase(std::unique(all.begin() + static_cast<std::ptrdiff_t>(before), all.end()), all.end());
    st.pairs = all.size() - before;
    // both halves are sorted and unique, so the merged unique vector holds exactly the
    // earlier pairs plus this rule's new ones (no binary search per pair: at 1M
    // customers that was ~40M random probes into a vector of up to 40M pairs)
    auto mid = all.begin() + static_cast<std::ptrdiff_t>(before);
    std::inplace_merge(all.begin(), mid, all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    st.new_pairs = all.size() - before;
    out.rules.push_back(std::move(st));
    entries.clear();
    entries.shrink_to_fit();
  }
  out.pairs.reserve(all.size());
  for (auto p : all) out.pairs.emplace_back(static_cast<std::uint32_t>(p >> 32), static_cast<std::uint32_t>(p & 0xffffffffu));
  return out;
}

}  // namespace tradesphere::domain
