#include "domain/duplicate_scoring.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "domain/parallel.hpp"
#include "domain/similarity.hpp"

namespace tradesphere::domain {
namespace {

std::size_t find_root(std::vector<std::size_t>& parent, std::size_t x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

PairScore to_pair_score(MatchScore m) {
  return {m.probability, m.weight, std::move(m.reasons), std::move(m.evidence)};
}

}  // namespace

PreparedRecord prepare(const MatchInput& input) {
  return {input, parse_match_fields(input.name, input.email, input.phone, input.address)};
}

namespace {
const MatchModel& model_of(const ScoringConfig& config) {
  static const MatchModel kDefault = default_model();
  return config.model ? *config.model : kDefault;
}
}  // namespace

PairScore score_pair(const PreparedRecord& a, const PreparedRecord& b, const ScoringConfig& config) {
  if (!compared_first(a.fields, b.fields)) return score_pair(b, a, config);
  return to_pair_score(score(model_of(config), a.fields, b.fields));
}

std::optional<PairScore> score_pair_at_least(const PreparedRecord& a, const PreparedRecord& b, const ScoringConfig& config,
                                             double min_score) {
  if (!compared_first(a.fields, b.fields)) return score_pair_at_least(b, a, config, min_score);
  const MatchModel& model = model_of(config);
  const auto v = compare(a.fields, b.fields);
  if (match_probability(match_weight(model, a.fields, b.fields, v)) < min_score) return std::nullopt;
  return to_pair_score(score(model, a.fields, b.fields, v));
}

nlohmann::json evidence_json(const PairScore& s) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : s.evidence) out.push_back(to_json(e));
  return out;
}

namespace {
// The records' comparison fields copied in an order that puts the records a
// candidate pair joins next to each other in memory: by surname sound, then
// given initial and given sound, the keys of the rules that produce nine in ten
// candidate pairs. At 1M customers the 40M pairs of the compare and score loops
// read two records of ~0.6 KB each at random over 0.6 GB, and a pair cost twice
// what it costs at 100k. Only the memory layout changes: near[i] holds a copy of
// *fields[i], so every index, the order of the pairs and the output are those of
// the original (order of the copies: a stable sort by key, so it is deterministic).
struct LaidOutFields {
  std::vector<MatchFields> copies;
  std::vector<const MatchFields*> near;
};
std::uint64_t layout_key(const MatchFields& f) {
  auto code = [](const std::string& token) { return token.empty() ? std::string() : soundex(token); };
  const std::string s = code(f.surname), g = code(f.given_raw);
  std::uint64_t key = 0;
  auto put = [&key](unsigned char c) { key = (key << 8) | c; };
  for (std::size_t i = 0; i < 4; ++i) put(i < s.size() ? static_cast<unsigned char>(s[i]) : 0);
  put(f.given_raw.empty() ? 0 : static_cast<unsigned char>(f.given_raw[0]));
  for (std::size_t i = 1; i < 4; ++i) put(i < g.size() ? static_cast<unsigned char>(g[i]) : 0);
  return key;
}
LaidOutFields lay_out_for_locality(const std::vector<const MatchFields*>& fields) {
  std::vector<std::pair<std::uint64_t, std::uint32_t>> order(fields.size());
  parallel_ranges(fields.size(), [&](std::size_t, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) order[i] = {layout_key(*fields[i]), static_cast<std::uint32_t>(i)};
  });
  std::sort(order.begin(), order.end());
  LaidOutFields out;
  out.copies.reserve(fields.size());
  out.near.resize(fields.size());
  for (const auto& [key, i] : order) out.copies.push_back(*fields[i]);
  for (std::size_t p = 0; p < order.size(); ++p) out.near[order[p].second] = &out.copies[p];
  return out;
}
}  // namespace

DuplicateScan scan_duplicates(const std::vector<PreparedRecord>& records, const ScoringConfig& config,
                              const std::function<void(const std::string&, std::size_t, std::size_t)>& progress) {
  DuplicateScan scan;
  std::vector<const MatchFields*> fields;
  fields.reserve(records.size());
  for (const auto& r : records) fields.push_back(&r.fields);
  auto candidates = candidate_pairs(fields, config.max_block_size);
  scan.blocking = std::move(candidates.rules);
  scan.candidate_pairs = candidates.pairs.size();
  if (progress) progress("block", candidates.pairs.size(), candidates.pairs.size());
  // small companies fit the cache as they are
  const auto laid_out = records.size() >= config.lay_out_from ? lay_out_for_locality(fields) : LaidOutFields{};
  const auto& near = laid_out.near.empty() ? fields : laid_out.near;
  std::vector<ComparisonVector> vectors(candidates.pairs.size());
  parallel_ranges(vectors.size(), [&](std::size_t, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      const auto& x = *near[candidates.pairs[i].first];
      const auto& y = *near[candidates.pairs[i].second];
      vectors[i] = compared_first(x, y) ? compare(x, y) : compare(y, x);
    }
  });
  if (progress) progress("compare", vectors.size(), vectors.size());
  if (config.model) {
    scan.model = config.model;
  } else {
    std::vector<std::uint32_t> patterns;
    patterns.reserve(vectors.size());
    for (const auto& v : vectors) patterns.push_back(v.pattern());
    scan.model = std::make_shared<MatchModel>(train_model(fields, patterns, config.train));
    if (progress) progress("train", scan.model->em_iterations, config.train.max_iterations);
  }
  // each record's term-frequency adjustments once, not a hash lookup per pair
  std::vector<TermAdjustments> adjustments(records.size());
  parallel_ranges(records.size(), [&](std::size_t, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) adjustments[i] = term_adjustments(*scan.model, *near[i]);
  });
  std::vector<std::vector<ScoredPair>> found(parallel_workers(vectors.size()));
  const auto weights = level_weights(*scan.model);
  const ProbabilityAtLeast kept(config.threshold);
  parallel_ranges(vectors.size(), [&](std::size_t k, std::size_t from, std::size_t to) {
    auto& out = found[k];
    for (std::size_t i = from; i < to; ++i) {
      const auto [a, b] = candidates.pairs[i];
      // as compared: from the side compared_first() chose
      const auto [x, y] = compared_first(*near[a], *near[b]) ? std::pair{a, b} : std::pair{b, a};
      // the weight alone first: the evidence is built only for pairs that are kept
      if (!kept(match_weight(*scan.model, weights, *near[x], *near[y], vectors[i], adjustments[x]))) continue;
      auto s = score(*scan.model, *near[x], *near[y], vectors[i]);
      out.push_back({a, b, to_pair_score(std::move(s))});
    }
  });
  for (auto& part : found) scan.pairs.insert(scan.pairs.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  if (progress) progress("score", scan.pairs.size(), vectors.size());
  return scan;
}

std::vector<ScoredPair> find_scored_pairs(const std::vector<PreparedRecord>& records, const ScoringConfig& config,
                                          const std::function<void(std::size_t, std::size_t)>& progress) {
  return scan_duplicates(records, config,
                         [&](const std::string&, std::size_t done, std::size_t total) {
                           if (progress) progress(done, total);
                         })
      .pairs;
}

namespace {

template <class IdOf>
std::vector<DuplicateGroup> group_by_id(std::size_t n, const IdOf& id_of, std::vector<ScoredPair> pairs,
                                        const std::set<std::pair<std::string, std::string>>& dismissed) {
  std::sort(pairs.begin(), pairs.end(), [&](const ScoredPair& x, const ScoredPair& y) {
    if (x.score.score != y.score.score) return x.score.score > y.score.score;
    return std::tie(x.a, x.b) < std::tie(y.a, y.b);
  });
  // Per-record vectors indexed by the union-find root (not maps keyed by it): a
  // cold GET /v1/duplicates groups every stored pair of the company (51k pairs
  // over 100k customers at 1M) and the maps' node allocations were most of it.
  std::vector<std::size_t> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  std::vector<double> weakest(n, 1.0);
  std::vector<bool> joined(n, false);
  std::vector<std::set<std::string>> reasons(n);
  std::vector<std::vector<ScoredPair>> links(n);
  for (const auto& p : pairs) {
    if (!dismissed.empty()) {
      const auto& ia = id_of(p.a);
      const auto& ib = id_of(p.b);
      if (dismissed.count({ia, ib}) || dismissed.count({ib, ia})) continue;
    }
    auto ra = find_root(parent, p.a), rb = find_root(parent, p.b);
    if (ra == rb) continue;
    parent[rb] = ra;
    joined[ra] = true;
    weakest[ra] = std::min({weakest[ra], weakest[rb], p.score.score});
    auto& r = reasons[ra];
    if (!reasons[rb].empty()) {
      r.insert(reasons[rb].begin(), reasons[rb].end());
      std::set<std::string>().swap(reasons[rb]);
    }
    r.insert(p.score.reasons.begin(), p.score.reasons.end());
    auto& l = links[ra];
    l.insert(l.end(), std::make_move_iterator(links[rb].begin()), std::make_move_iterator(links[rb].end()));
    std::vector<ScoredPair>().swap(links[rb]);
    l.push_back(p);
  }
  std::vector<std::size_t> group_of(n, n);
  std::vector<DuplicateGroup> out;
  for (std::size_t i = 0; i < n; ++i) {
    auto r = find_root(parent, i);
    if (r == i && !joined[r]) continue;  // singleton
    if (group_of[r] == n) {
      group_of[r] = out.size();
      out.emplace_back();
    }
    out[group_of[r]].members.push_back(i);
  }
  for (std::size_t r = 0; r < n; ++r) {
    if (group_of[r] == n) continue;
    auto& g = out[group_of[r]];
    g.score = weakest[r];
    g.reasons.assign(reasons[r].begin(), reasons[r].end());
    g.links = std::move(links[r]);
    std::sort(g.members.begin(), g.members.end(),
              [&](std::size_t x, std::size_t y) { return id_of(x) < id_of(y); });
  }
  std::erase_if(out, [](const DuplicateGroup& g) { return g.members.size() < 2; });
  std::sort(out.begin(), out.end(), [&](const DuplicateGroup& x, const DuplicateGroup& y) {
    if (x.score != y.score) return x.score > y.score;
    return id_of(x.members[0]) < id_of(y.members[0]);
  });
  return out;
}

}  // namespace

std::vector<DuplicateGroup> group_duplicates(const std::vector<PreparedRecord>& records, std::vector<ScoredPair> pairs,
                                             const std::set<std::pair<std::string, std::string>>& dismissed) {
  return group_by_id(
      records.size(), [&](std::size_t i) -> const std::string& { return records[i].input.id; }, std::move(pairs),
      dismissed);
}

std::vector<DuplicateGroup> group_duplicates(const std::vector<std::string>& ids, std::vector<ScoredPair> pairs,
                                             const std::set<std::pair<std::string, std::string>>& dismissed) {
  return group_by_id(
      ids.size(), [&](std::size_t i) -> const std::string& { return ids[i]; }, std::move(pairs), dismissed);
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
