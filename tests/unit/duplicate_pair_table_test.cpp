// The in-memory table of stored pairs behind GET /v1/duplicates: built from every
// pair, or kept current from the changed ones, it must group exactly as the scan's
// grouping does and exactly as a table built afresh from the same pairs.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "domain/duplicate_pair_table.hpp"
#include "domain/duplicate_scoring.hpp"

using namespace tradesphere::domain;

namespace {

UuidBytes id_number(std::uint32_t n) {
  UuidBytes id{};
  std::mt19937 rng(n * 2654435761u + 7);
  for (auto& b : id) b = static_cast<std::uint8_t>(rng());
  return id;
}

// The groups as id sets with their scores and link ids, in the table's order.
struct GroupText {
  std::vector<std::string> members;
  double score;
  std::vector<std::pair<std::string, std::string>> links;
  bool operator==(const GroupText&) const = default;
};
std::vector<GroupText> as_text(const PairTable& t, const PairGroups& groups) {
  std::vector<GroupText> out;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    GroupText x{{}, groups.groups[g].score, {}};
    for (auto m : groups.members_of(g)) x.members.push_back(uuid_text(t.id(m)));
    for (const auto& l : groups.links_of(g)) x.links.push_back(std::minmax(uuid_text(t.id(l.a)), uuid_text(t.id(l.b))));
    out.push_back(std::move(x));
  }
  return out;
}
std::vector<GroupText> as_text(const PairTable& t) { return as_text(t, t.groups()); }

PairTable table_of(const std::map<std::pair<std::uint32_t, std::uint32_t>, double>& pairs) {
  std::vector<PairChange> all;
  for (const auto& [k, score] : pairs) all.push_back({id_number(k.first), id_number(k.second), score});
  PairTable t;
  t.apply(all);
  return t;
}

}  // namespace

TEST(PairTable, UuidBytesRoundTripTheCanonicalTextAndRejectTheRest) {
  const std::string text = "5d276ae7-8ea7-45ed-8286-f379f1238411";
  auto bytes = uuid_bytes(text);
  ASSERT_TRUE(bytes);
  EXPECT_EQ((*bytes)[0], 0x5d);
  EXPECT_EQ((*bytes)[15], 0x11);
  EXPECT_EQ(uuid_text(*bytes), text);
  EXPECT_EQ(uuid_text(*uuid_bytes("5D276AE7-8EA7-45ED-8286-F379F1238411")), text);
  EXPECT_FALSE(uuid_bytes(""));
  EXPECT_FALSE(uuid_bytes("5d276ae7-8ea7-45ed-8286-f379f123841"));
  EXPECT_FALSE(uuid_bytes("5d276ae7x8ea7-45ed-8286-f379f1238411"));
  EXPECT_FALSE(uuid_bytes("5d276ae7-8ea7-45ed-8286-f379f123841g"));
  // byte order is text order (the groups' member order relies on it)
  EXPECT_LT(*uuid_bytes("0fffffff-ffff-ffff-ffff-ffffffffffff"), *uuid_bytes("a0000000-0000-0000-0000-000000000000"));
}

TEST(PairTable, GroupsAsTheScanGroupsTheSamePairs) {
  std::mt19937 rng(42);
  const std::uint32_t n = 400;
  std::map<std::pair<std::uint32_t, std::uint32_t>, double> pairs;
  std::uniform_int_distribution<std::uint32_t> pick(0, n - 1);
  std::uniform_real_distribution<double> score(0.9, 1.0);
  while (pairs.size() < 300) {
    auto a = pick(rng), b = pick(rng);
    if (a != b) pairs[std::minmax(a, b)] = score(rng);  // distinct scores: no tie to break
  }
  const auto table = table_of(pairs);
  std::vector<std::string> ids;
  for (std::uint32_t i = 0; i < n; ++i) ids.push_back(uuid_text(id_number(i)));
  std::vector<ScoredPair> scored;
  for (const auto& [k, s] : pairs) scored.push_back({k.first, k.second, PairScore{s, 0, {}, {}}});
  const auto expected = group_duplicates(ids, scored);
  const auto got = as_text(table);
  ASSERT_EQ(got.size(), expected.size());
  ASSERT_GT(got.size(), 20u);
  for (std::size_t g = 0; g < got.size(); ++g) {
    std::vector<std::string> members;
    for (auto m : expected[g].members) members.push_back(ids[m]);
    EXPECT_EQ(got[g].members, members) << "group " << g;
    EXPECT_EQ(got[g].score, expected[g].score) << "group " << g;
    std::vector<std::pair<std::string, std::string>> links;
    for (const auto& l : expected[g].links) links.push_back(std::minmax(ids[l.a], ids[l.b]));
    // the same spanning tree (the scan lists it in the order its parts joined, the
    // table strongest first: the view sorts the links by score either way)
    auto got_links = got[g].links;
    std::sort(got_links.begin(), got_links.end());
    std::sort(links.begin(), links.end());
    EXPECT_EQ(got_links, links) << "group " << g;
  }
}

TEST(PairTable, AppliedChangesGroupExactlyAsATableBuiltAfresh) {
  std::mt19937 rng(7);
  const std::uint32_t n = 300;  // later batches bring ids never seen before
  std::uniform_int_distribution<std::uint32_t> pick(0, n - 1);
  std::uniform_real_distribution<double> score(0.9, 1.0);
  std::map<std::pair<std::uint32_t, std::uint32_t>, double> truth;
  PairTable kept;
  for (int batch = 0; batch < 60; ++batch) {
    std::vector<PairChange> changes;
    const int size = batch == 0 ? 200 : 1 + static_cast<int>(rng() % 25);
    for (int i = 0; i < size; ++i) {
      const auto limit = std::min<std::uint32_t>(n - 1, 100 + static_cast<std::uint32_t>(batch) * 4);
      auto a = pick(rng) % (limit + 1), b = pick(rng) % (limit + 1);
      if (a == b) continue;
      const auto key = std::minmax(a, b);
      // keys reach the log in either order of their ids
      auto ua = id_number(key.first), ub = id_number(key.second);
      if (rng() % 2) std::swap(ua, ub);
      if (!truth.empty() && rng() % 3 == 0) {  // an existing pair goes (dismissed, merged, below the floor)
        auto it = std::next(truth.begin(), static_cast<long>(rng() % truth.size()));
        changes.push_back({id_number(it->first.first), id_number(it->first.second), std::nullopt});
        truth.erase(it);
      } else if (rng() % 7 == 0) {  // an unknown pair without a score: nothing to do
        changes.push_back({ua, ub, std::nullopt});
        truth.erase(key);
      } else {
        const double s = score(rng);
        changes.push_back({ua, ub, s});
        truth[key] = s;
      }
    }
    kept.apply(changes);
    const auto fresh = table_of(truth);
    ASSERT_EQ(kept.pairs().size(), truth.size()) << "batch " << batch;
    ASSERT_EQ(as_text(kept), as_text(fresh)) << "batch " << batch;
  }
}

TEST(PairTable, TheLastChangeOfAKeyInABatchWinsAndASelfPairIsIgnored) {
  const auto a = id_number(1), b = id_number(2), c = id_number(3);
  PairTable t;
  t.apply({{a, b, 0.95}, {a, b, std::nullopt}, {b, c, 0.91}, {c, b, 0.97}, {a, a, 0.99}});
  ASSERT_EQ(t.pairs().size(), 1u);
  EXPECT_EQ(t.pairs()[0].score, 0.97);
  const auto groups = t.groups();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups.members_of(0).size(), 2u);
  t.apply({{b, a, std::nullopt}, {c, b, std::nullopt}});  // one unknown, one known: both end absent
  EXPECT_TRUE(t.pairs().empty());
  EXPECT_EQ(t.groups().size(), 0u);
}

TEST(PairTable, TiesAreBrokenByTheIdsNotByTheOrderTheyArrived) {
  const auto a = id_number(1), b = id_number(2), c = id_number(3);
  PairTable one, two;
  one.apply({{a, b, 0.95}, {b, c, 0.95}, {a, c, 0.95}});
  two.apply({{a, c, 0.95}});
  two.apply({{b, c, 0.95}});
  two.apply({{a, b, 0.95}});
  EXPECT_EQ(as_text(one), as_text(two));
  ASSERT_EQ(one.groups().size(), 1u);
  EXPECT_EQ(one.groups().links_of(0).size(), 2u);  // a spanning tree
}

// GET /v1/duplicates regroups after a change from the groups it holds: only the
// groups of the customers whose pairs changed are formed again. Thousands of
// customers, so a batch touches few of them (the incremental path), scores with
// ties, pairs that merge, split, rescore and vanish.
TEST(PairTable, GroupsAfterAChangeEqualAFullRegrouping) {
  std::mt19937 rng(13);
  const std::uint32_t n = 6000;
  std::uniform_int_distribution<std::uint32_t> pick(0, n - 1);
  const double scores[] = {0.9, 0.95, 1.0, 0.97};
  std::vector<UuidBytes> ids(2 * n);
  for (std::uint32_t k = 0; k < 2 * n; ++k) ids[k] = id_number(k);
  std::map<std::pair<std::uint32_t, std::uint32_t>, double> truth;
  PairTable kept;
  std::vector<PairChange> first;
  for (int i = 0; i < 2500; ++i) {
    const auto a = pick(rng), b = (rng() % 4 == 0) ? pick(rng) : (a ^ 1u);  // mostly pairs, some chains
    if (a == b || a >= n || b >= n) continue;
    const double sc = rng() % 3 ? scores[rng() % 4] : 0.9 + 0.1 * (rng() % 1000) / 1000.0;
    first.push_back({ids[a], ids[b], sc});
    truth[std::minmax(a, b)] = sc;
  }
  kept.apply(first);
  auto groups = kept.groups();
  int incremental = 0;
  for (int batch = 0; batch < 120; ++batch) {
    std::vector<PairChange> changes;
    const int size = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < size; ++i) {
      if (!truth.empty() && rng() % 2) {  // an existing pair goes or gets another score
        auto it = std::next(truth.begin(), static_cast<long>(rng() % truth.size()));
        const auto key = it->first;
        if (rng() % 2) {
          changes.push_back({ids[key.first], ids[key.second], std::nullopt});
          truth.erase(it);
        } else {
          const double sc = scores[rng() % 4];
          changes.push_back({ids[key.second], ids[key.first], sc});
          it->second = sc;
        }
      } else {  // a new pair: joins groups, or customers never seen (ids above n)
        const auto a = rng() % 10 == 0 ? n + pick(rng) : pick(rng), b = pick(rng);
        if (a == b) continue;
        const double sc = scores[rng() % 4];
        changes.push_back({ids[a], ids[b], sc});
        truth[std::minmax(a, b)] = sc;
      }
    }
    const auto touched = kept.apply(changes);
    if (touched.size() * 16 <= kept.id_count()) ++incremental;
    groups = kept.groups_after(groups, touched);
    ASSERT_EQ(as_text(kept, groups), as_text(kept)) << "batch " << batch;
    if (batch % 40 == 39) {
      ASSERT_EQ(as_text(kept, groups), as_text(table_of(truth))) << "batch " << batch;
    }
  }
  EXPECT_GT(incremental, 90) << "the batches took the incremental path";
}

