#include "domain/duplicate_scoring.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "domain/similarity.hpp"

namespace tradesphere::domain {
namespace {

std::string fixed2(double v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// One substitution or one adjacent transposition apart (same length).
bool one_edit_same_length(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  return osa_distance(a, b) == 1;
}

std::size_t find_root(std::vector<std::size_t>& parent, std::size_t x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

}  // namespace

PreparedRecord prepare(const MatchInput& input) {
  PreparedRecord r;
  r.input = input;
  if (input.name) r.name_tokens = match_name_tokens(*input.name);
  if (input.email) r.email_key = email_match_key(*input.email);
  if (input.phone) r.phone_key = phone_match_key(*input.phone);
  if (input.address) {
    r.address_tokens = address_tokens(*input.address);
    for (const auto& t : r.address_tokens)
      if (all_digits(t)) {
        r.house_number = t;
        break;
      }
  }
  return r;
}

std::vector<std::string> blocking_keys(const PreparedRecord& r) {
  std::vector<std::string> keys;
  if (!r.email_key.empty()) {
    keys.push_back("e:" + r.email_key);
    auto at = r.email_key.find('@');
    keys.push_back("el:" + r.email_key.substr(0, at));  // same mailbox name, other domain
  }
  if (!r.phone_key.empty()) keys.push_back("p:" + r.phone_key);
  std::vector<std::string> codes;
  for (const auto& t : r.name_tokens) {
    if (t.size() < 2) continue;
    auto code = soundex(t);
    if (code.empty()) continue;
    codes.push_back(code);
    if (!r.house_number.empty()) keys.push_back("nh:" + code + ":" + r.house_number);
  }
  std::sort(codes.begin(), codes.end());
  if (!codes.empty()) {
    std::string all;
    for (const auto& c : codes) all += c;
    keys.push_back("n:" + all);
  }
  // each pair of name codes: one token may carry a typo that changes its code
  if (codes.size() >= 2)
    for (std::size_t i = 0; i < codes.size(); ++i)
      for (std::size_t j = i + 1; j < codes.size(); ++j) keys.push_back("n2:" + codes[i] + codes[j]);
  if (!r.house_number.empty()) {
    for (const auto& t : r.address_tokens)
      if (!all_digits(t) && t.size() > 2) keys.push_back("a:" + r.house_number + ":" + t);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

PairScore score_pair(const PreparedRecord& a, const PreparedRecord& b, const ScoringConfig& c) {
  PairScore s;
  double w = c.prior;
  bool strong_id = false;
  if (!a.email_key.empty() && !b.email_key.empty()) {
    if (a.email_key == b.email_key) {
      w += c.email_exact;
      s.reasons.push_back("email");
      strong_id = true;
    } else {
      auto ua = a.email_key.find('@'), ub = b.email_key.find('@');
      std::string la = a.email_key.substr(0, ua), lb = b.email_key.substr(0, ub);
      bool same_domain = a.email_key.substr(ua) == b.email_key.substr(ub);
      if ((same_domain && osa_distance(la, lb) == 1 && la.size() >= 4) || (la == lb && la.size() >= 6)) {
        w += c.email_close;
        s.reasons.push_back("email~");
      } else {
        w += c.email_differs;
      }
    }
  }
  if (!a.phone_key.empty() && !b.phone_key.empty()) {
    if (a.phone_key == b.phone_key) {
      w += c.phone_exact;
      s.reasons.push_back("phone");
      strong_id = true;
    } else if (one_edit_same_length(a.phone_key, b.phone_key)) {
      w += c.phone_close;
      s.reasons.push_back("phone~");
    } else {
      w += c.phone_differs;
    }
  }
  if (!a.name_tokens.empty() && !b.name_tokens.empty()) {
    auto n = compare_names(a.name_tokens, b.name_tokens);
    if (n.first_names_differ) {
      w += c.first_name_differs;
    } else if (n.similarity >= 0.97) {
      w += c.name_exact;
      s.reasons.push_back(n.similarity >= 0.999 ? "name" : "name~" + fixed2(n.similarity));
    } else if (n.similarity >= 0.90) {
      w += c.name_high;
      s.reasons.push_back("name~" + fixed2(n.similarity));
    } else if (n.similarity >= 0.80) {
      w += c.name_medium;
      s.reasons.push_back("name~" + fixed2(n.similarity));
    } else {
      w += c.name_differs;
    }
  }
  if (!a.address_tokens.empty() && !b.address_tokens.empty()) {
    double o = address_overlap(a.address_tokens, b.address_tokens);
    if (o >= 0.8) {
      w += c.address_high;
      s.reasons.push_back("address~" + fixed2(o));
    } else if (o >= 0.5) {
      w += c.address_medium;
      s.reasons.push_back("address~" + fixed2(o));
    } else if (o < 0.3) {
      w += c.address_differs;
    }
  }
  (void)strong_id;
  s.weight = w;
  s.score = 1.0 / (1.0 + std::exp2(-w));
  return s;
}

std::vector<ScoredPair> find_scored_pairs(const std::vector<PreparedRecord>& records, const ScoringConfig& config,
                                          const std::function<void(std::size_t, std::size_t)>& progress) {
  std::unordered_map<std::string, std::vector<std::uint32_t>> blocks;
  for (std::size_t i = 0; i < records.size(); ++i)
    for (auto& k : blocking_keys(records[i])) blocks[k].push_back(static_cast<std::uint32_t>(i));
  std::unordered_set<std::uint64_t> seen;
  std::vector<ScoredPair> out;
  std::size_t done = 0;
  for (const auto& [key, members] : blocks) {
    ++done;
    if (progress && done % 10000 == 0) progress(done, blocks.size());
    if (members.size() < 2 || members.size() > config.max_block_size) continue;
    for (std::size_t x = 0; x < members.size(); ++x)
      for (std::size_t y = x + 1; y < members.size(); ++y) {
        std::uint64_t a = std::min(members[x], members[y]), b = std::max(members[x], members[y]);
        if (!seen.insert((a << 32) | b).second) continue;
        auto s = score_pair(records[a], records[b], config);
        if (s.score >= config.threshold) out.push_back({a, b, std::move(s)});
      }
  }
  if (progress) progress(blocks.size(), blocks.size());
  return out;
}

std::vector<DuplicateGroup> group_duplicates(const std::vector<PreparedRecord>& records,
                                             std::vector<ScoredPair> pairs,
                                             const std::set<std::pair<std::string, std::string>>& dismissed) {
  std::sort(pairs.begin(), pairs.end(), [&](const ScoredPair& x, const ScoredPair& y) {
    if (x.score.score != y.score.score) return x.score.score > y.score.score;
    return std::tie(x.a, x.b) < std::tie(y.a, y.b);
  });
  std::vector<std::size_t> parent(records.size());
  std::iota(parent.begin(), parent.end(), 0);
  std::vector<double> weakest(records.size(), 1.0);
  std::map<std::size_t, std::set<std::string>> reasons;
  for (const auto& p : pairs) {
    const auto& ia = records[p.a].input.id;
    const auto& ib = records[p.b].input.id;
    if (dismissed.count({ia, ib}) || dismissed.count({ib, ia})) continue;
    auto ra = find_root(parent, p.a), rb = find_root(parent, p.b);
    if (ra == rb) continue;
    parent[rb] = ra;
    weakest[ra] = std::min({weakest[ra], weakest[rb], p.score.score});
    auto& r = reasons[ra];
    r.insert(reasons[rb].begin(), reasons[rb].end());
    reasons.erase(rb);
    r.insert(p.score.reasons.begin(), p.score.reasons.end());
  }
  std::map<std::size_t, DuplicateGroup> groups;
  for (std::size_t i = 0; i < records.size(); ++i) {
    auto r = find_root(parent, i);
    if (r == i && !reasons.count(r)) continue;  // singleton
    groups[r].members.push_back(i);
  }
  std::vector<DuplicateGroup> out;
  for (auto& [root, g] : groups) {
    if (g.members.size() < 2) continue;
    g.score = weakest[root];
    g.reasons.assign(reasons[root].begin(), reasons[root].end());
    std::sort(g.members.begin(), g.members.end(),
              [&](std::size_t x, std::size_t y) { return records[x].input.id < records[y].input.id; });
    out.push_back(std::move(g));
  }
  std::sort(out.begin(), out.end(), [&](const DuplicateGroup& x, const DuplicateGroup& y) {
    if (x.score != y.score) return x.score > y.score;
    return records[x.members[0]].input.id < records[y.members[0]].input.id;
  });
  return out;
}

PairwiseQuality evaluate_groups(const std::vector<std::vector<std::string>>& reported,
                                const std::vector<std::vector<std::string>>& truth) {
  auto pairs_of = [](const std::vector<std::vector<std::string>>& groups) {
    std::set<std::pair<std::string, std::string>> out;
    for (const auto& g : groups)
      for (std::size_t i = 0; i < g.size(); ++i)
        for (std::size_t j = i + 1; j < g.size(); ++j) out.insert(std::minmax(g[i], g[j]));
    return out;
  };
  auto r = pairs_of(reported), t = pairs_of(truth);
  PairwiseQuality q;
  for (const auto& p : r) (t.count(p) ? q.true_positives : q.false_positives)++;
  q.false_negatives = t.size() - q.true_positives;
  q.precision = r.empty() ? 1.0 : static_cast<double>(q.true_positives) / static_cast<double>(r.size());
  q.recall = t.empty() ? 1.0 : static_cast<double>(q.true_positives) / static_cast<double>(t.size());
  q.f1 = q.precision + q.recall > 0 ? 2 * q.precision * q.recall / (q.precision + q.recall) : 0.0;
  return q;
}

}  // namespace tradesphere::domain
