// The stored duplicate pairs of one company as GET /v1/duplicates groups them:
// customer ids as 16 bytes, pairs over dense indexes, and the connected groups.
// Built once from every stored pair, then kept current by applying only the
// pairs that changed since (migration 0033 logs their keys), so a dismissal or a
// newly scored customer does not cost a regrouping read of the whole company.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tradesphere::domain {

using UuidBytes = std::array<std::uint8_t, 16>;
// canonical 8-4-4-4-12 hex (either case); nullopt otherwise
std::optional<UuidBytes> uuid_bytes(std::string_view text);
// lower-case canonical text (as PostgreSQL writes uuids, so byte order = text order)
std::string uuid_text(const UuidBytes& id);

struct IndexedPair {
  std::uint32_t a = 0, b = 0;  // indexes into PairTable ids, a < b
  double score = 0;
};

// The connected groups in three flat arrays (a company at 1M customers has ~44k
// groups; a vector per group made regrouping after one dismissal allocation-bound).
struct PairGroups {
  struct Group {
    double score = 0;  // the weakest link of the spanning tree
    std::uint32_t member_begin = 0, member_end = 0, link_begin = 0, link_end = 0;
  };
  std::vector<Group> groups;           // strongest first
  std::vector<std::uint32_t> members;  // each group's, ordered by id
  std::vector<IndexedPair> links;      // each group's spanning tree, strongest first

  std::size_t size() const { return groups.size(); }
  std::span<const std::uint32_t> members_of(std::size_t g) const {
    return {members.data() + groups[g].member_begin, members.data() + groups[g].member_end};
  }
  std::span<const IndexedPair> links_of(std::size_t g) const {
    return {links.data() + groups[g].link_begin, links.data() + groups[g].link_end};
  }
};

// One pair's current state: a score when it is stored (at or above the reader's
// floor and not dismissed), none when it is gone.
struct PairChange {
  UuidBytes a{}, b{};
  std::optional<double> score;
};

class PairTable {
 public:
  // Upserts the pairs with a score and removes the others (a change that names
  // an unknown pair without a score is nothing to do). A full read is every
  // stored pair applied to an empty table.
  // Returns the customers whose pairs it changed (indexes, ascending).
  std::vector<std::uint32_t> apply(const std::vector<PairChange>& changes);
  // Connected groups of two or more customers: pairs taken strongest first
  // (ties by the ids), a pair joining two groups becomes a link. Groups ordered
  // by score descending, then by their first member's id.
  PairGroups groups() const;
  // groups() after an apply() that changed the pairs of `touched`, from the groups
  // before it: only the groups holding a touched customer are formed again, every
  // other group is copied (the same groups as groups(); after one dismissal at 1M
  // a regrouping of 51k pairs became a copy and a pass over them).
  PairGroups groups_after(const PairGroups& before, const std::vector<std::uint32_t>& touched) const;

  const UuidBytes& id(std::uint32_t index) const { return ids_[index]; }
  std::size_t id_count() const { return ids_.size(); }
  const std::vector<IndexedPair>& pairs() const { return pairs_; }  // sorted by (a, b)

 private:
  std::optional<std::uint32_t> find(const UuidBytes& id) const;
  // strength order: score descending, then the lower id, then the higher (bytes)
  bool stronger(const IndexedPair& x, const IndexedPair& y) const;
  std::vector<UuidBytes> ids_;                               // ids ever seen (indexes stay stable)
  std::vector<std::pair<UuidBytes, std::uint32_t>> by_id_;   // ids_ sorted, for lookups
  std::vector<IndexedPair> pairs_;
  // pairs_ in strength order, kept current by apply(): a small change moves a few
  // entries instead of re-sorting every pair at the next groups() (at 1M, 51k
  // pairs: the sort was most of the regrouping after one dismissal)
  std::vector<IndexedPair> strongest_;
};

}  // namespace tradesphere::domain
