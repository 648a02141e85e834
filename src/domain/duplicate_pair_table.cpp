#include "domain/duplicate_pair_table.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <numeric>
#include <tuple>
#include <unordered_map>

#include "domain/normalize.hpp"

namespace tradesphere::domain {
namespace {

std::uint64_t pair_key(std::uint32_t a, std::uint32_t b) { return (static_cast<std::uint64_t>(a) << 32) | b; }
std::uint64_t pair_key(const IndexedPair& p) { return pair_key(p.a, p.b); }

// uuids are random (v4) or time-ordered in their first bytes (v7): both halves mixed
struct UuidHash {
  std::size_t operator()(const UuidBytes& u) const {
    std::uint64_t hi = 0, lo = 0;
    std::memcpy(&hi, u.data(), 8);
    std::memcpy(&lo, u.data() + 8, 8);
    return static_cast<std::size_t>(hi ^ (lo * 0x9E3779B97F4A7C15ULL));
  }
};

std::uint32_t find_root(std::vector<std::uint32_t>& parent, std::uint32_t x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

}  // namespace

std::optional<UuidBytes> uuid_bytes(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  UuidBytes out{};
  std::size_t byte = 0;
  for (std::size_t i = 0; i < 36;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int hi = hex_digit_value(text[i]), lo = hex_digit_value(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[byte++] = static_cast<std::uint8_t>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string uuid_text(const UuidBytes& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[id[i] >> 4];
    out += kHex[id[i] & 15];
  }
  return out;
}

std::optional<std::uint32_t> PairTable::find(const UuidBytes& id) const {
  auto it = std::lower_bound(by_id_.begin(), by_id_.end(), id, [](const auto& e, const UuidBytes& v) { return e.first < v; });
  if (it == by_id_.end() || it->first != id) return std::nullopt;
  return it->second;
}

std::vector<std::uint32_t> PairTable::apply(const std::vector<PairChange>& changes) {
  std::unordered_map<UuidBytes, std::uint32_t, UuidHash> fresh;  // ids first seen in this batch
  auto lookup = [&](const UuidBytes& id) -> std::optional<std::uint32_t> {
    if (auto known = find(id)) return known;
    if (auto it = fresh.find(id); it != fresh.end()) return it->second;
    return std::nullopt;
  };
  auto index_of = [&](const UuidBytes& id) {
    if (auto known = lookup(id)) return *known;
    const auto index = static_cast<std::uint32_t>(ids_.size());
    ids_.push_back(id);
    fresh.emplace(id, index);
    return index;
  };
  std::vector<std::pair<std::uint64_t, std::optional<double>>> latest;
  latest.reserve(changes.size());
  for (const auto& c : changes) {
    if (c.score) {
      const auto a = index_of(c.a), b = index_of(c.b);
      if (a != b) latest.emplace_back(pair_key(std::min(a, b), std::max(a, b)), c.score);
    } else if (const auto a = lookup(c.a), b = lookup(c.b); a && b && *a != *b) {
      latest.emplace_back(pair_key(std::min(*a, *b), std::max(*a, *b)), std::nullopt);
    }
  }
  // a key changed twice in one batch: the last change wins
  std::stable_sort(latest.begin(), latest.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::size_t kept = 0;
  for (std::size_t i = 0; i < latest.size(); ++i) {
    if (i + 1 < latest.size() && latest[i + 1].first == latest[i].first) continue;
    latest[kept++] = latest[i];
  }
  latest.resize(kept);
  if (!fresh.empty()) {
    std::vector<std::pair<UuidBytes, std::uint32_t>> added(fresh.begin(), fresh.end());
    std::sort(added.begin(), added.end());
    std::vector<std::pair<UuidBytes, std::uint32_t>> merged;
    merged.reserve(by_id_.size() + added.size());
    std::merge(by_id_.begin(), by_id_.end(), added.begin(), added.end(), std::back_inserter(merged));
    by_id_ = std::move(merged);
  }
  std::vector<IndexedPair> out, gone, added;
  out.reserve(pairs_.size() + latest.size());
  std::size_t i = 0, j = 0;
  while (i < pairs_.size() || j < latest.size()) {
    if (j == latest.size() || (i < pairs_.size() && pair_key(pairs_[i]) < latest[j].first)) {
      out.push_back(pairs_[i++]);
      continue;
    }
    if (i < pairs_.size() && pair_key(pairs_[i]) == latest[j].first) gone.push_back(pairs_[i++]);  // replaced or removed
    if (latest[j].second) {
      out.push_back({static_cast<std::uint32_t>(latest[j].first >> 32), static_cast<std::uint32_t>(latest[j].first),
                     *latest[j].second});
      added.push_back(out.back());
    }
    ++j;
  }
  pairs_ = std::move(out);
  // A few changes move a few entries of the strength order (each a binary search
  // and a shift); many are cheaper as one sort of everything.
  auto by_strength = [this](const IndexedPair& x, const IndexedPair& y) { return stronger(x, y); };
  if (gone.size() + added.size() <= pairs_.size() / 64 + 16) {
    for (const auto& p : gone) {
      auto it = std::lower_bound(strongest_.begin(), strongest_.end(), p, by_strength);
      if (it != strongest_.end() && it->a == p.a && it->b == p.b) strongest_.erase(it);
    }
    for (const auto& p : added) strongest_.insert(std::upper_bound(strongest_.begin(), strongest_.end(), p, by_strength), p);
  } else {
    strongest_ = pairs_;
    std::sort(strongest_.begin(), strongest_.end(), by_strength);
  }
  std::vector<std::uint32_t> touched;
  touched.reserve(2 * (gone.size() + added.size()));
  for (const auto* changed : {&gone, &added})
    for (const auto& p : *changed) {
      touched.push_back(p.a);
      touched.push_back(p.b);
    }
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  return touched;
}

bool PairTable::stronger(const IndexedPair& x, const IndexedPair& y) const {
  if (x.score != y.score) return x.score > y.score;
  const auto& xa = ids_[x.a];
  const auto& xb = ids_[x.b];
  const auto& ya = ids_[y.a];
  const auto& yb = ids_[y.b];
  const auto& xlow = std::min(xa, xb);
  const auto& ylow = std::min(ya, yb);
  if (xlow != ylow) return xlow < ylow;
  return std::max(xa, xb) < std::max(ya, yb);
}

PairGroups PairTable::groups() const {
  const auto n = static_cast<std::uint32_t>(ids_.size());
  // each id's place in id order: the ties of the group order compare two integers
  std::vector<std::uint32_t> rank(n);
  for (std::uint32_t r = 0; r < n; ++r) rank[by_id_[r].second] = r;
  std::vector<std::uint32_t> parent(n);
  std::iota(parent.begin(), parent.end(), 0u);
  std::vector<IndexedPair> links;  // in the order they joined: strongest first
  for (const auto& p : strongest_) {
    const auto ra = find_root(parent, p.a), rb = find_root(parent, p.b);
    if (ra == rb) continue;
    parent[rb] = ra;
    links.push_back(p);
  }
  // number the groups by their first link, then count, place and order them
  std::vector<std::uint32_t> group_of(n, n);
  std::vector<PairGroups::Group> found;
  std::vector<std::uint32_t> link_count;
  for (const auto& l : links) {
    const auto r = find_root(parent, l.a);
    if (group_of[r] == n) {
      group_of[r] = static_cast<std::uint32_t>(found.size());
      found.push_back({1.0, 0, 0, 0, 0});
      link_count.push_back(0);
    }
    auto& g = found[group_of[r]];
    g.score = std::min(g.score, l.score);
    ++link_count[group_of[r]];
  }
  // a group of k members has k - 1 links
  std::vector<std::uint32_t> member_at(found.size()), link_at(found.size());
  std::uint32_t members_total = 0, links_total = 0;
  for (std::size_t g = 0; g < found.size(); ++g) {
    found[g].member_begin = member_at[g] = members_total;
    members_total += link_count[g] + 1;
    found[g].member_end = members_total;
    found[g].link_begin = link_at[g] = links_total;
    links_total += link_count[g];
    found[g].link_end = links_total;
  }
  PairGroups out;
  out.members.resize(members_total);
  out.links.resize(links_total);
  for (const auto& l : links) out.links[link_at[group_of[find_root(parent, l.a)]]++] = l;
  for (std::uint32_t r = 0; r < n; ++r) {  // the ids in id order: members come out ordered
    const auto i = by_id_[r].second;
    const auto g = group_of[find_root(parent, i)];
    if (g != n) out.members[member_at[g]++] = i;
  }
  // ordered by score, then first member; the flat arrays stay as they are. The
  // keys are packed first (the sort then reads one contiguous array, not each
  // group's first member through two indirections: at 1M, ~44k groups, this
  // sort was as costly as all of the grouping above).
  struct OrderKey {
    double score;
    std::uint32_t first_rank, group;
  };
  std::vector<OrderKey> keys(found.size());
  for (std::uint32_t g = 0; g < found.size(); ++g) keys[g] = {found[g].score, rank[out.members[found[g].member_begin]], g};
  std::sort(keys.begin(), keys.end(), [](const OrderKey& x, const OrderKey& y) {
    return x.score != y.score ? x.score > y.score : x.first_rank < y.first_rank;
  });
  std::vector<PairGroups::Group> ordered(found.size());
  for (std::size_t i = 0; i < keys.size(); ++i) ordered[i] = found[keys[i].group];
  found = std::move(ordered);
  out.groups = std::move(found);
  return out;
}

PairGroups PairTable::groups_after(const PairGroups& before, const std::vector<std::uint32_t>& touched) const {
  const auto n = static_cast<std::uint32_t>(ids_.size());
  if (touched.size() * 16 > n) return groups();  // a large change: one pass over everything is as cheap
  constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
  // the groups before that hold a touched customer are formed again, with the
  // touched customers that were in none
  std::vector<std::uint32_t> old_group(n, kNone);
  for (std::uint32_t g = 0; g < before.size(); ++g)
    for (auto m : before.members_of(g)) old_group[m] = g;
  std::vector<char> redo(before.size(), 0), in_set(n, 0);
  std::vector<std::uint32_t> set;
  for (auto t : touched) {
    if (old_group[t] != kNone) redo[old_group[t]] = 1;
    else if (!in_set[t]) in_set[t] = 1, set.push_back(t);
  }
  for (std::uint32_t g = 0; g < before.size(); ++g)
    if (redo[g])
      for (auto m : before.members_of(g)) in_set[m] = 1, set.push_back(m);
  // Every pair with one end in the set has the other there too: an old pair joins
  // two members of one old group, a new or changed pair two touched customers.
  std::vector<std::uint32_t> parent(n);
  for (auto x : set) parent[x] = x;
  struct Formed {
    double score = 1.0;
    std::vector<std::uint32_t> members;
    std::vector<IndexedPair> links;
  };
  std::vector<Formed> formed;
  std::vector<IndexedPair> links;  // strongest first, as groups() takes them
  for (const auto& p : strongest_) {
    if (!in_set[p.a]) continue;
    const auto ra = find_root(parent, p.a), rb = find_root(parent, p.b);
    if (ra == rb) continue;
    parent[rb] = ra;
    links.push_back(p);
  }
  std::vector<std::uint32_t> formed_of(n, kNone);
  for (const auto& l : links) {
    const auto r = find_root(parent, l.a);
    if (formed_of[r] == kNone) formed_of[r] = static_cast<std::uint32_t>(formed.size()), formed.emplace_back();
    auto& f = formed[formed_of[r]];
    f.score = std::min(f.score, l.score);
    f.links.push_back(l);
  }
  for (auto x : set)
    if (const auto f = formed_of[find_root(parent, x)]; f != kNone) formed[f].members.push_back(x);
  auto by_id = [this](std::uint32_t x, std::uint32_t y) { return ids_[x] < ids_[y]; };
  for (auto& f : formed) std::sort(f.members.begin(), f.members.end(), by_id);
  std::sort(formed.begin(), formed.end(), [&](const Formed& x, const Formed& y) {
    return x.score != y.score ? x.score > y.score : ids_[x.members.front()] < ids_[y.members.front()];
  });
  // the kept groups (already in order) and the formed ones, merged by (score, first member)
  PairGroups out;
  out.groups.reserve(before.size() + formed.size());
  out.members.reserve(before.members.size() + set.size());
  out.links.reserve(before.links.size() + links.size());
  auto place = [&out](double score, std::span<const std::uint32_t> members, std::span<const IndexedPair> group_links) {
    PairGroups::Group g{score, static_cast<std::uint32_t>(out.members.size()), 0, static_cast<std::uint32_t>(out.links.size()), 0};
    out.members.insert(out.members.end(), members.begin(), members.end());
    out.links.insert(out.links.end(), group_links.begin(), group_links.end());
    g.member_end = static_cast<std::uint32_t>(out.members.size());
    g.link_end = static_cast<std::uint32_t>(out.links.size());
    out.groups.push_back(g);
  };
  std::size_t k = 0, f = 0;
  while (k < before.size() || f < formed.size()) {
    while (k < before.size() && redo[k]) ++k;
    if (k == before.size() && f == formed.size()) break;
    const bool take_formed =
        k == before.size() ||
        (f < formed.size() && (formed[f].score != before.groups[k].score
                                   ? formed[f].score > before.groups[k].score
                                   : ids_[formed[f].members.front()] < ids_[before.members_of(k).front()]));
    if (take_formed) {
      place(formed[f].score, formed[f].members, formed[f].links);
      ++f;
    } else {
      place(before.groups[k].score, before.members_of(k), before.links_of(k));
      ++k;
    }
  }
  return out;
}

}  // namespace tradesphere::domain
