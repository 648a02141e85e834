#include "domain/match_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "domain/parallel.hpp"
#include "domain/similarity.hpp"

namespace tradesphere::domain {
namespace {

constexpr double kSmoothing = 0.5;  // pseudo-count per level in EM and random sampling

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f", v);
  return buf;
}

double jw(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return 0;
  return jaro_winkler(a, b);
}

// At most `max` edits apart (OSA); the length difference is checked first, so
// clearly different strings never pay for the quadratic distance.
bool within_edits(const std::string& x, const std::string& y, std::size_t max) {
  const std::size_t diff = std::max(x.size(), y.size()) - std::min(x.size(), y.size());
  return diff <= max && osa_within(x, y, max);
}

// ---- name levels --------------------------------------------------------------
// Jaro-Winkler is harsh on short names ("cox" / "csx" = 0.78): one edit counts as 0.92.
double name_token_similarity(const std::string& a, const std::string& b) {
  double s = jw(a, b);
  if (s < 0.92 && std::min(a.size(), b.size()) >= 3 && within_edits(a, b, 1)) s = 0.92;
  return s;
}
// Two neighbouring letters swapped ("aym" / "amy"), the commonest typo. Jaro-Winkler's
// match window is empty for three-letter names, so it scores this 0.6 ("differs").
bool one_adjacent_swap(const std::string& a, const std::string& b) {
  if (a.size() != b.size() || a.size() < 2) return false;
  std::size_t i = 0;
  while (i < a.size() && a[i] == b[i]) ++i;
  return i + 1 < a.size() && a[i] == b[i + 1] && a[i + 1] == b[i] &&
         std::equal(a.begin() + static_cast<std::ptrdiff_t>(i) + 2, a.end(), b.begin() + static_cast<std::ptrdiff_t>(i) + 2);
}
// A letter left out of a short name ("ay" / "amy"): Jaro-Winkler's window is empty
// below four letters, so it scores this "differs" too. Only a dropped letter: one
// letter replaced is another short name ("tim" / "tom").
bool one_letter_dropped(const std::string& a, const std::string& b) {
  const std::string& shorter = a.size() < b.size() ? a : b;
  const std::string& longer = a.size() < b.size() ? b : a;
  if (shorter.size() < 2 || longer.size() > 3 || longer.size() != shorter.size() + 1) return false;
  std::size_t i = 0;
  while (i < shorter.size() && shorter[i] == longer[i]) ++i;
  return std::equal(shorter.begin() + static_cast<std::ptrdiff_t>(i), shorter.end(), longer.begin() + static_cast<std::ptrdiff_t>(i) + 1);
}
// given: 1 exact, 2 nickname, 3 JW >= 0.92 (or two neighbours swapped), 4 initial, 5 JW >= 0.80, 6 differs
// raw_jw: jw(raw_a, raw_b) when the caller has it already (negative: compute it)
std::uint8_t given_level(const std::string& raw_a, const std::string& canon_a, const std::string& raw_b,
                         const std::string& canon_b, double raw_jw = -1) {
  if (raw_a.empty() || raw_b.empty()) return 0;
  if (raw_a.size() == 1 || raw_b.size() == 1) return raw_a[0] == raw_b[0] ? 4 : 6;  // an initial: no more than that
  if (raw_a == raw_b) return 1;
  if (canon_a == canon_b) return 2;
  double s = raw_jw >= 0 ? raw_jw : jw(raw_a, raw_b);
  if (s >= 0.92 || one_adjacent_swap(raw_a, raw_b) || one_letter_dropped(raw_a, raw_b)) return 3;
  if ((raw_a.size() == 1 || raw_b.size() == 1) && raw_a[0] == raw_b[0]) return 4;
  if (s >= 0.80) return 5;
  return 6;
}
double surname_similarity(const MatchFields& a, const MatchFields& b) {
  if (a.surname.empty() || b.surname.empty()) return 0;
  if (a.surname == b.surname || a.surname_joined == b.surname_joined) return 1;
  // the best of surname and joined surname on either side; a one-word surname is
  // its own joined form, so the same comparison is not made twice (jw <= the token similarity)
  double s = name_token_similarity(a.surname, b.surname);
  const bool joined_a = a.surname_joined != a.surname, joined_b = b.surname_joined != b.surname;
  if (joined_b) s = std::max(s, jw(a.surname, b.surname_joined));
  if (joined_a) s = std::max(s, jw(a.surname_joined, b.surname));
  if (joined_a || joined_b) s = std::max(s, jw(a.surname_joined, b.surname_joined));
  return s;
}
// surname: 1 exact, 2 JW >= 0.92 (or one edit), 3 JW >= 0.80, 4 differs
std::uint8_t surname_level(double s) { return s >= 0.9999 ? 1 : s >= 0.92 ? 2 : s >= 0.80 ? 3 : 4; }
double given_similarity(const std::string& a, const std::string& canon_a, const std::string& b, const std::string& canon_b) {
  if (a.empty() || b.empty()) return 0;
  if (canon_a == canon_b) return 1;
  return jw(a, b);
}

void compare_names(const MatchFields& a, const MatchFields& b, ComparisonVector& v) {
  if (a.surname.empty() || b.surname.empty()) return;
  if (a.single_name || b.single_name) {
    const MatchFields& one = a.single_name ? a : b;
    const MatchFields& other = a.single_name ? b : a;
    if (other.single_name) {
      v.level[kSurname] = surname_level(name_token_similarity(a.surname, b.surname));
      return;
    }
    // the lone token is the other's given name or its surname: whichever it matches
    double as_surname = surname_similarity(one, other);
    double as_given = given_similarity(one.surname, canonical_first_name(one.surname), other.given_raw, other.given);
    if (as_given > as_surname)
      v.level[kGiven] = given_level(one.surname, canonical_first_name(one.surname), other.given_raw, other.given);
    else
      v.level[kSurname] = surname_level(as_surname);
    return;
  }
  if (a.name_key == b.name_key && (a.given_raw != b.given_raw)) {  // same tokens, another order
    v.swapped_names = true;
    v.level[kGiven] = 1;
    v.level[kSurname] = 1;
    return;
  }
  const double given = given_similarity(a.given_raw, a.given, b.given_raw, b.given);
  const double surname = surname_similarity(a, b);
  const double straight = given + surname;
  // crosswise (each similarity is at most 1): only worth computing when it can win
  // and the second half only when the first leaves it a chance (cross_a >= 0.8 and
  // cross_a + 1 above the straight sum): the outcome below is the same either way
  double cross_a = 0, cross_b = 0;
  if (straight + 0.1 <= 2.0 + 1e-9) {
    cross_a = jw(a.given_raw, b.surname);
    if (cross_a >= 0.8 && cross_a + 1.0 > straight + 0.1) cross_b = jw(a.surname, b.given_raw);
  }
  if (cross_a + cross_b > straight + 0.1 && cross_a >= 0.8 && cross_b >= 0.8) {
    v.swapped_names = true;
    v.level[kGiven] = given_level(a.given_raw, a.given, b.surname, canonical_first_name(b.surname));
    double s = name_token_similarity(a.surname, b.given_raw);
    v.level[kSurname] = surname_level(a.surname == b.given_raw ? 1.0 : s);
    return;
  }
  // given_similarity is jw of the raw names unless the canonical names are equal
  v.level[kGiven] = given_level(a.given_raw, a.given, b.given_raw, b.given,
                                !a.given_raw.empty() && !b.given_raw.empty() && a.given != b.given ? given : -1);
  if (v.level[kGiven] == 4) {  // an initial: the mailbox may spell the name it stands for
    const MatchFields& initial = a.given_raw.size() == 1 ? a : b;
    const MatchFields& full = a.given_raw.size() == 1 ? b : a;
    if (!initial.mailbox_given.empty() && full.given_raw.size() > 1 &&
        given_level(initial.mailbox_given, canonical_first_name(initial.mailbox_given), full.given_raw, full.given) == 6)
      v.level[kGiven] = 6;  // "A. Lopez" <anthony.lopez@...> is not Amy Lopez
  }
  v.level[kSurname] = surname_level(surname);
}

// email: 1 exact key, 2 one edit, 3 two edits or the same mailbox name on another domain, 4 differs
std::uint8_t email_level(const MatchFields& a, const MatchFields& b) {
  if (a.email_text.empty() || b.email_text.empty()) return 0;
  if (!a.email_key.empty() && a.email_key == b.email_key) return 1;
  if (a.email_text == b.email_text) return 1;
  const std::string &la = a.email_local, &lb = b.email_local, &da = a.email_domain, &db = b.email_domain;
  // digits tell accounts apart: "john.smith2@" is another person whose "john.smith@" was taken
  if (a.email_local_digits != b.email_local_digits) return 4;
  // a mailbox that spells its owner's name repeats the name comparison: on another
  // domain, or beside another such mailbox, it is not independent evidence
  const bool name_a = a.mailbox_is_name, name_b = b.mailbox_is_name;
  const bool typo = da == db && within_edits(la, lb, 1);  // one slip of the keyboard on the same domain
  if ((da != db && (name_a || name_b)) || (name_a && name_b && !typo)) return 4;
  if (within_edits(a.email_text, b.email_text, 1)) return 2;
  if (la.size() >= 3 && la == lb) return 3;
  // typos on both sides of the @ ("hensondrbbie@gaeia.com" / "hensondebbie@garcia.com")
  if (within_edits(a.email_text, b.email_text, 2) || (la.size() >= 5 && within_edits(la, lb, 1) && within_edits(da, db, 2))) return 3;
  return 4;
}

// One number written nationally, with its trunk 0, and internationally, with its
// country code: the last ten digits differ only in the first ("0123456789" from
// "01 23 45 67 89", "3123456789" from "+33 1 23 45 67 89"). North American numbers
// never start with 0, so "415..." and "315..." stay one edit apart.
bool one_number_two_forms(const std::string& a, const std::string& b) {
  return a.size() == 10 && b.size() == 10 && ((a[0] == '0') != (b[0] == '0')) &&
         std::string_view(a).substr(1) == std::string_view(b).substr(1);
}
// phone: 1 exact, 2 same last 7 digits, 3 one edit, 4 differs
std::uint8_t phone_level(const MatchFields& a, const MatchFields& b) {
  if (a.phone_key.empty() || b.phone_key.empty()) return 0;
  if (a.phone_key == b.phone_key || one_number_two_forms(a.phone_key, b.phone_key)) return 1;
  auto last7 = [](const std::string& s) { return std::string_view(s).substr(s.size() - 7); };
  if (last7(a.phone_key) == last7(b.phone_key)) return 2;
  if (within_edits(a.phone_key, b.phone_key, 1)) return 3;
  return 4;
}

// Streets compare by their names: "elm avenue" and "view avenue" share only the
// type; the same name with another type ("park avenue", "park lane") is another street.
double street_similarity(const MatchFields& a, const MatchFields& b) {
  if (a.street.empty() || b.street.empty()) return -1;
  if (a.street == b.street) return 1.0;
  if (a.street_kind.empty() || b.street_kind.empty()) return jw(a.street, b.street);
  double s = a.street_name == b.street_name ? 1.0 : jw(a.street_name, b.street_name);
  return a.street_kind == b.street_kind ? s : std::min(s, 0.85);
}

// One comparison for the whole address: its parts are not independent (the same
// street and number nearly always come with the same postcode and town), so
// separate comparisons would count one agreement two or three times.
// 1 full address, 2 number and street, 3 street and postcode/locality, 4 postcode,
// 5 locality, 6 street only, 7 differs
std::uint8_t address_level(const MatchFields& a, const MatchFields& b) {
  const bool street_a = !a.house_number.empty() || !a.street.empty(), street_b = !b.house_number.empty() || !b.street.empty();
  const bool pc = !a.postcode.empty() && !b.postcode.empty();
  const bool loc = !a.locality.empty() && !b.locality.empty();
  if (!(street_a && street_b) && !pc && !loc) return 0;
  const bool num_eq = !a.house_number.empty() && a.house_number == b.house_number;
  const double s = street_similarity(a, b);
  const bool pc_eq = pc && a.postcode == b.postcode;
  // town names carry typos ("blotn" / "bolton"): two edits on a name of five letters or more still agree
  const bool loc_eq = loc && (a.locality == b.locality || jw(a.locality, b.locality) >= 0.92 ||
                              (std::min(a.locality.size(), b.locality.size()) >= 5 && within_edits(a.locality, b.locality, 2)));
  const bool place = pc_eq || loc_eq;
  if (num_eq && s >= 0.92) return place ? 1 : 2;
  if (place && (s >= 0.92 || (num_eq && s >= 0.80))) return 3;
  if (pc_eq) return 4;
  if (loc_eq) return 5;
  if (s >= 0.92) return 6;
  return 7;
}

int level_count(int c) { return static_cast<int>(comparison_specs()[static_cast<std::size_t>(c)].level_labels.size()) - 1; }

}  // namespace

const std::array<ComparisonSpec, kComparisonCount>& comparison_specs() {
  static const std::array<ComparisonSpec, kComparisonCount> k = {{
      {"given_name", {"null", "exact", "nickname", "jaro-winkler >= 0.92", "initial", "jaro-winkler >= 0.80", "differs"}},
      {"surname", {"null", "exact", "jaro-winkler >= 0.92", "jaro-winkler >= 0.80", "differs"}},
      {"email", {"null", "exact", "one edit", "two edits or same mailbox name", "differs"}},
      {"phone", {"null", "exact", "same last 7 digits", "one edit", "differs"}},
      {"address", {"null", "full address", "number and street", "street and place", "postcode", "locality", "street only", "differs"}},
  }};
  return k;
}

std::uint32_t ComparisonVector::pattern() const {
  std::uint32_t p = 0;
  for (int c = 0; c < kComparisonCount; ++c) p |= static_cast<std::uint32_t>(level[static_cast<std::size_t>(c)]) << (3 * c);
  return p;
}
ComparisonVector ComparisonVector::from_pattern(std::uint32_t p) {
  ComparisonVector v;
  for (int c = 0; c < kComparisonCount; ++c) v.level[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>((p >> (3 * c)) & 7u);
  return v;
}

ComparisonVector compare(const MatchFields& a, const MatchFields& b) {
  ComparisonVector v;
  compare_names(a, b, v);
  v.level[kEmail] = email_level(a, b);
  v.level[kPhone] = phone_level(a, b);
  v.level[kAddress] = address_level(a, b);
  return v;
}

// ---- term frequencies ----------------------------------------------------------

// The term slot an agreement at `level` of comparison c is adjusted by (-1: none).
int tf_slot(int c, int level, const MatchFields& a) {
  switch (c) {
    case kGiven: return level == 1 || level == 2 ? c : -1;
    case kSurname:
    case kEmail:
    case kPhone: return level == 1 ? c : -1;
    case kAddress:
      if (level == 1 || level == 2) return c;
      if (level == 4 || (level == 3 && !a.postcode.empty())) return kPostcodeSlot;
      if (level == 5 || level == 3) return kLocalitySlot;
      return -1;
    default: return -1;
  }
}
// The record's value in a slot.
const std::string& slot_value(int slot, const MatchFields& a) {
  switch (slot) {
    case kGiven: return a.given;
    case kSurname: return a.surname;
    case kEmail: return a.email_text;
    case kPhone: return a.phone_key;
    case kAddress: return a.address_term;
    case kPostcodeSlot: return a.postcode;
    default: return a.locality;
  }
}

double TermFrequencies::frequency(int slot, const std::string& value) const {
  const auto s = static_cast<std::size_t>(slot);
  if (present[s] == 0) return 1;
  auto it = counts[s].find(value);
  return static_cast<double>(it == counts[s].end() ? 1 : it->second) / static_cast<double>(present[s]);
}

TermFrequencies count_terms(const std::vector<const MatchFields*>& records, std::size_t max_terms) {
  TermFrequencies tf;
  tf.records = records.size();
  std::array<std::unordered_map<std::string, std::uint32_t>, kTermSlots> all;
  // one slot's counts from every record, in record order (so each map, its
  // iteration order and the sums below are the same whichever thread builds it)
  auto fill = [&](std::size_t slot) {
    auto& counts = all[slot];
    for (const auto* r : records) {
      if (slot == kAddress && r->street.empty() && r->house_number.empty()) continue;
      const auto& v = slot_value(static_cast<int>(slot), *r);
      if (!v.empty()) ++counts[v];
    }
  };
  if (records.size() >= 10000) {
    parallel_tasks(kTermSlots, fill);  // a 1M-customer rebuild: seconds of string hashing
  } else {
    for (std::size_t slot = 0; slot < kTermSlots; ++slot) fill(slot);
  }
  for (std::size_t s = 0; s < kTermSlots; ++s) {
    auto& src = all[s];
    // integer sums: the same whatever order the map iterates in (it depends on
    // the order the records came in; double sums differed in the last bits)
    std::uint64_t total = 0, sum_sq = 0;
    for (const auto& kv : src) {
      total += kv.second;
      sum_sq += std::uint64_t{kv.second} * kv.second;
    }
    tf.present[s] = static_cast<std::size_t>(total);
    tf.random_agreement[s] =
        total > 0 ? static_cast<double>(sum_sq) / (static_cast<double>(total) * static_cast<double>(total)) : 0;
    std::vector<std::pair<std::uint32_t, std::string>> frequent;
    for (auto& [v, k] : src)
      if (k >= 2) frequent.emplace_back(k, v);
    // the most frequent first, ties by value: which terms make the cut must not depend on the order either
    std::sort(frequent.begin(), frequent.end(),
              [](const auto& x, const auto& y) { return x.first != y.first ? x.first > y.first : x.second < y.second; });
    if (frequent.size() > max_terms) frequent.resize(max_terms);
    for (auto& [k, v] : frequent) tf.counts[s].emplace(std::move(v), k);
  }
  return tf;
}

// ---- parameters ----------------------------------------------------------------

double MatchModel::level_weight(int c, int level) const {
  if (level <= 0) return 0;
  double mm = m[static_cast<std::size_t>(c)][static_cast<std::size_t>(level)];
  double uu = u[static_cast<std::size_t>(c)][static_cast<std::size_t>(level)];
  if (mm <= 0 || uu <= 0) return 0;
  return std::log2(mm / uu);
}

MatchModel default_model() {
  MatchModel model;
  // Priors: m from how often the same person's two records land at each level in
  // published linkage studies and our generator; u from random pairs of a
  // typical customer list. Used only until a company has enough records.
  const std::array<std::vector<double>, kComparisonCount> m = {{
      {0.70, 0.05, 0.10, 0.03, 0.06, 0.06},
      {0.80, 0.10, 0.05, 0.05},
      {0.85, 0.03, 0.07, 0.05},
      {0.85, 0.03, 0.07, 0.05},
      {0.70, 0.08, 0.08, 0.04, 0.04, 0.02, 0.04},
  }};
  const std::array<std::vector<double>, kComparisonCount> u = {{
      {0.01, 0.002, 0.01, 0.03, 0.05, 0.898},
      {0.005, 0.005, 0.03, 0.96},
      {0.0001, 0.0005, 0.0005, 0.9989},
      {0.0001, 0.0002, 0.001, 0.9987},
      {0.00005, 0.0001, 0.001, 0.005, 0.05, 0.002, 0.94185},
  }};
  for (std::size_t c = 0; c < kComparisonCount; ++c)
    for (std::size_t l = 0; l < m[c].size(); ++l) {
      model.m[c][l + 1] = m[c][l];
      model.u[c][l + 1] = u[c][l];
    }
  model.prior_log2_odds = -14;  // about one duplicate among 16,000 pairs: a name alone is not enough
  return model;
}

EmResult expectation_maximisation(const std::unordered_map<std::uint32_t, std::size_t>& pattern_counts,
                                  const MatchModel& start, double start_lambda, const TrainOptions& options) {
  EmResult r;
  r.m = start.m;
  r.u = start.u;
  r.lambda = start_lambda;
  std::vector<std::pair<ComparisonVector, double>> patterns;
  for (const auto& [p, n] : pattern_counts) patterns.emplace_back(ComparisonVector::from_pattern(p), static_cast<double>(n));
  for (r.iterations = 1; r.iterations <= options.max_iterations; ++r.iterations) {
    std::array<std::array<double, kMaxLevels>, kComparisonCount> M{}, U{};
    double matched = 0, total = 0;
    for (const auto& [v, n] : patterns) {
      double lm = std::log(r.lambda), lu = std::log(1 - r.lambda);
      for (std::size_t c = 0; c < kComparisonCount; ++c) {
        auto l = v.level[c];
        if (!l) continue;
        lm += std::log(r.m[c][l]);
        lu += std::log(r.u[c][l]);
      }
      double w = 1.0 / (1.0 + std::exp(lu - lm));
      matched += n * w;
      total += n;
      for (std::size_t c = 0; c < kComparisonCount; ++c) {
        auto l = v.level[c];
        if (!l) continue;
        M[c][l] += n * w;
        U[c][l] += n * (1 - w);
      }
    }
    double change = 0;
    for (std::size_t c = 0; c < kComparisonCount; ++c) {
      const int levels = level_count(static_cast<int>(c));
      const int fixed = c == kGiven ? 6 : 0;  // "differs" of given names: see TrainOptions
      const double free_mass = fixed ? 1 - options.given_differs_m : 1.0;
      double sm = 0, su = 0;
      for (int l = 1; l <= levels; ++l) {
        if (l != fixed) sm += M[c][static_cast<std::size_t>(l)];
        su += U[c][static_cast<std::size_t>(l)];
      }
      const int free_levels = fixed ? levels - 1 : levels;
      for (int l = 1; l <= levels; ++l) {
        auto li = static_cast<std::size_t>(l);
        // smoothing keeps every level possible; a comparison never observed keeps its start values
        double nm = l == fixed  ? options.given_differs_m
                    : sm > 0    ? free_mass * (M[c][li] + kSmoothing) / (sm + kSmoothing * free_levels)
                                : r.m[c][li];
        double nu = su > 0 ? (U[c][li] + kSmoothing) / (su + kSmoothing * levels) : r.u[c][li];
        change = std::max({change, std::abs(nm - r.m[c][li]), std::abs(nu - r.u[c][li])});
        r.m[c][li] = nm;
        r.u[c][li] = nu;
      }
    }
    double nl = std::clamp(total > 0 ? matched / total : r.lambda, 1e-6, 1 - 1e-6);
    change = std::max(change, std::abs(nl - r.lambda));
    r.lambda = nl;
    if (change < options.tolerance) {
      r.converged = true;
      break;
    }
  }
  r.iterations = std::min(r.iterations, options.max_iterations);
  return r;
}

// One surname (exact or one slip) at one street address (the full address, number
// and street, or street and postcode/town): where a household lives.
bool same_home(const ComparisonVector& v) {
  const int s = v.level[kSurname], a = v.level[kAddress];
  return (s == 1 || s == 2) && a >= 1 && a <= 3;
}

// How high the given-name guard lets a same-home pair rise, estimated from the
// company's own candidate pairs. Among same-home pairs without a shared email,
// some given names agree (one person, give or take a typo or a nickname) and
// some differ. A person's own copies garble the given name beyond recognition in
// at most a share m of their pairs (TrainOptions::household_copy_share), so up to
// m/(1-m) x the agreeing pairs of the "differs" pairs are copies of one person and
// the rest are other people at that address: households. copies/households are
// the odds that such a pair is one person, and their log2 is the ceiling.
// - A customer list with families (a CRM's contacts, our generator: 0.6-1.8
//   "differs" pairs per agreeing pair) has more "differs" pairs than copies
//   explain: the ceiling stays at the default, -2 bits (probability 0.2), and
//   family members stay apart.
// - A list whose "differs" pairs are no more than its copies' garbled names
//   (FEBRL, where every person has an address of their own: 0.09-0.14 per
//   agreeing pair) gets a ceiling far above the threshold, and a copy whose given
//   name was replaced is found by its surname and its address.
// - Between the two the ceiling falls smoothly; too few same-home pairs to tell
//   (TrainOptions::min_household_pairs): the default.
// Pairs that are not same-home keep the default ceiling (guard_ceiling): nothing
// was learned about them, and "Bianca Wyllie" and "Brooke Wyllie" in one town are
// two people.
double household_ceiling(const std::unordered_map<std::uint32_t, std::size_t>& counts, const TrainOptions& options) {
  constexpr double kDefault = kDefaultGivenDiffersGuard;
  double agree = 0, differ = 0;
  for (const auto& [p, k] : counts) {
    const auto v = ComparisonVector::from_pattern(p);
    if (!same_home(v) || v.level[kEmail] == 1) continue;
    const int g = v.level[kGiven];
    if (g == 1 || g == 2 || g == 3 || g == 5) agree += static_cast<double>(k);
    else if (g == 6) differ += static_cast<double>(k);
  }
  if (agree + differ < options.min_household_pairs) return kDefault;
  const double m = options.household_copy_share;
  const double copies = agree * m / (1 - m);  // "differs" pairs expected of one person's copies
  const double households = std::max(differ - copies, 0.0);
  return std::max(kDefault, std::log2((copies + 1) / (households + 1)));
}

MatchModel train_model(const std::vector<const MatchFields*>& records, const std::vector<std::uint32_t>& patterns,
                       const TrainOptions& options) {
  MatchModel model = default_model();
  model.tf = count_terms(records);
  model.trained_records = records.size();
  model.trained_pairs = patterns.size();
  const double n = static_cast<double>(records.size());
  const double all_pairs = n * (n - 1) / 2;
  if (records.size() < options.min_records || patterns.size() < options.min_pairs) {
    return model;  // a few records: priors (with this company's term frequencies)
  }

  // u from random pairs: nearly all of them are different people
  std::array<std::array<double, kMaxLevels>, kComparisonCount> ucount{};
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state] {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return state;
  };
  // The sample must not depend on the order the records arrive in: a company's
  // customers come from the database in no fixed order, and the same list
  // imported twice estimated u from two samples (splink1000 F1 0.939 one time,
  // 0.948 the other). Records are drawn by their place in the order of their
  // contents instead; records with equal contents compare the same, so their
  // order among themselves does not matter.
  std::vector<std::pair<std::uint64_t, std::uint32_t>> by_content(records.size());
  parallel_for(records.size(), [&](std::size_t i) { by_content[i] = {records[i]->content, static_cast<std::uint32_t>(i)}; });
  parallel_sort(by_content.begin(), by_content.end());
  const std::size_t samples = static_cast<std::size_t>(std::min(200000.0, all_pairs));
  for (std::size_t s = 0; s < samples; ++s) {
    std::size_t i = next() % records.size(), j = next() % records.size();
    if (i == j) continue;
    const auto& x = *records[by_content[i].second];
    const auto& y = *records[by_content[j].second];
    auto v = compared_first(x, y) ? compare(x, y) : compare(y, x);
    for (std::size_t c = 0; c < kComparisonCount; ++c)
      if (v.level[c]) ucount[c][v.level[c]] += 1;
  }
  std::array<std::array<double, kMaxLevels>, kComparisonCount> u_random = model.u;
  for (std::size_t c = 0; c < kComparisonCount; ++c) {
    const int levels = level_count(static_cast<int>(c));
    double total = 0;
    for (int l = 1; l <= levels; ++l) total += ucount[c][static_cast<std::size_t>(l)];
    if (total < 100) continue;  // a field almost nobody has: keep the prior
    for (int l = 1; l <= levels; ++l)
      u_random[c][static_cast<std::size_t>(l)] = (ucount[c][static_cast<std::size_t>(l)] + 0.01) / (total + 0.01 * levels);
  }

  // a pattern packs 3 bits per comparison: counted in a flat array (40M candidate
  // pairs at 1M customers), then kept as the map EM iterates
  std::vector<std::size_t> by_pattern(std::size_t{1} << (3 * kComparisonCount), 0);
  for (auto p : patterns) ++by_pattern[p];
  std::unordered_map<std::uint32_t, std::size_t> counts;
  for (std::uint32_t p = 0; p < by_pattern.size(); ++p)
    if (by_pattern[p]) counts.emplace(p, by_pattern[p]);
  model.given_differs_guard = household_ceiling(counts, options);
  MatchModel start = model;
  start.u = u_random;
  auto em = expectation_maximisation(counts, start, 0.1, options);

  // The match class must agree more often than random pairs on every compared
  // field: otherwise EM found another split of the pairs (households, a street).
  std::array<std::size_t, kComparisonCount> exact_seen{};
  for (const auto& [p, k] : counts) {
    auto v = ComparisonVector::from_pattern(p);
    for (std::size_t c = 0; c < kComparisonCount; ++c) exact_seen[c] += v.level[c] == 1 ? k : 0;
  }
  bool separated = true;
  for (std::size_t c = 0; c < kComparisonCount; ++c)
    if (exact_seen[c] >= 20 && em.m[c][1] <= u_random[c][1]) separated = false;
  if (!separated) {
    model.source = "priors (EM did not separate matches)";
    return model;
  }
  model.m = em.m;
  // u among all pairs (random sampling), prior = matches expected among all pairs
  model.u = u_random;
  const double expected_matches = std::max(em.lambda * static_cast<double>(patterns.size()), 1.0);
  model.prior_log2_odds = std::log2(expected_matches / std::max(all_pairs - expected_matches, 1.0));
  model.source = "em";
  model.em_iterations = em.iterations;
  model.em_converged = em.converged;
  return model;
}

// ---- scoring ---------------------------------------------------------------------

namespace {

// The term-frequency adjustment of comparison c agreeing at level l (0 when the
// level has no frequency term): rare values are strong evidence, common ones weak.
double slot_adjustment(const MatchModel& model, int slot, const std::string& value) {
  if (slot < 0 || value.empty()) return 0;
  const double base = model.tf.random_agreement[static_cast<std::size_t>(slot)];
  if (base <= 0) return 0;
  return std::clamp(std::log2(base / model.tf.frequency(slot, value)), -model.tf_weight_cap, model.tf_weight_cap);
}

double tf_adjustment(const MatchModel& model, int c, int l, const MatchFields& a) {
  const int slot = tf_slot(c, l, a);
  return slot < 0 ? 0 : slot_adjustment(model, slot, slot_value(slot, a));
}

// Precision guard: two different given names (not a typo, nickname or initial)
// on records that do not share an email are two people, however much else they
// share: family members share a surname, an address and often a landline, and
// those agreements are not independent evidence (one household explains them all).
// One mailbox, however typed: the same email, or one within two edits (or the same
// mailbox on another domain) when neither mailbox merely spells its owner's name.
// Family members share a surname, so "jsmith" and "msmith" are one edit apart;
// "cervantesjasmine" and "cervantesjasmie" are one person's mailbox mistyped.
bool near_same_mailbox(const MatchFields& a, const MatchFields& b, const ComparisonVector& v) {
  const int e = v.level[kEmail];
  return e == 1 || ((e == 2 || e == 3) && !a.mailbox_is_name && !b.mailbox_is_name);
}

// The guard's ceiling for this pair: what the company's pairs taught for one
// surname at one street address (household_ceiling), the default elsewhere.
double guard_ceiling(const MatchModel& model, const ComparisonVector& v) {
  return same_home(v) ? model.given_differs_guard : std::min(model.given_differs_guard, kDefaultGivenDiffersGuard);
}

bool given_differs_guard_applies(const MatchModel& model, const MatchFields& a, const MatchFields& b,
                                 const ComparisonVector& v, double w) {
  return v.level[kGiven] == 6 && !near_same_mailbox(a, b, v) && !a.single_name && !b.single_name &&
         w > guard_ceiling(model, v);
}

}  // namespace

// The same sum as score() below, in the same order (so the same double), without
// building the evidence: the scan calls it for every candidate pair and builds the
// evidence only for the few that reach the threshold.
double match_weight(const MatchModel& model, const MatchFields& a, const MatchFields& b, const ComparisonVector& v) {
  double w = model.prior_log2_odds;
  for (int c = 0; c < kComparisonCount; ++c) {
    const int l = v.level[static_cast<std::size_t>(c)];
    if (!l) continue;
    w += model.level_weight(c, l) + tf_adjustment(model, c, l, a);
  }
  return given_differs_guard_applies(model, a, b, v, w) ? guard_ceiling(model, v) : w;
}

TermAdjustments term_adjustments(const MatchModel& model, const MatchFields& a) {
  TermAdjustments adj{};
  for (int slot = 0; slot < kTermSlots; ++slot) adj[static_cast<std::size_t>(slot)] = slot_adjustment(model, slot, slot_value(slot, a));
  return adj;
}

double match_weight(const MatchModel& model, const MatchFields& a, const MatchFields& b, const ComparisonVector& v,
                    const TermAdjustments& adj_a) {
  return match_weight(model, level_weights(model), a, b, v, adj_a);
}

LevelWeights level_weights(const MatchModel& model) {
  LevelWeights out{};
  for (int c = 0; c < kComparisonCount; ++c)
    for (int l = 0; l < kMaxLevels; ++l) out[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)] = model.level_weight(c, l);
  return out;
}

double match_weight(const MatchModel& model, const LevelWeights& weights, const MatchFields& a, const MatchFields& b,
                    const ComparisonVector& v, const TermAdjustments& adj_a) {
  double w = model.prior_log2_odds;
  for (int c = 0; c < kComparisonCount; ++c) {
    const int l = v.level[static_cast<std::size_t>(c)];
    if (!l) continue;
    const int slot = tf_slot(c, l, a);
    w += weights[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)] +
         (slot < 0 ? 0.0 : adj_a[static_cast<std::size_t>(slot)]);
  }
  return given_differs_guard_applies(model, a, b, v, w) ? guard_ceiling(model, v) : w;
}

ProbabilityAtLeast::ProbabilityAtLeast(double threshold) : threshold_(threshold) {
  // the weight whose probability is the threshold, with a margin far wider than
  // any rounding of exp2: inside it the probability itself decides
  const double at = threshold <= 0 ? -HUGE_VAL : threshold >= 1 ? HUGE_VAL : std::log2(threshold / (1 - threshold));
  below_ = at - 1e-6;
  above_ = at + 1e-6;
}

MatchScore score(const MatchModel& model, const MatchFields& a, const MatchFields& b, const ComparisonVector& v) {
  MatchScore s;
  double w = model.prior_log2_odds;
  const auto& specs = comparison_specs();
  for (int c = 0; c < kComparisonCount; ++c) {
    const int l = v.level[static_cast<std::size_t>(c)];
    if (!l) continue;
    const double adj = tf_adjustment(model, c, l, a);
    Evidence e{specs[static_cast<std::size_t>(c)].name, specs[static_cast<std::size_t>(c)].level_labels[static_cast<std::size_t>(l)],
               model.level_weight(c, l) + adj, ""};
    if (c == kGiven && v.swapped_names) e.detail = "given name and surname swapped";
    if (adj >= 1) e.detail = "rare value";
    else if (adj <= -1) e.detail = "common value";
    w += e.weight;
    if (e.weight > 0) {
      std::string label = c == kGiven ? "given_name" : specs[static_cast<std::size_t>(c)].name;
      s.reasons.push_back(l == 1 ? label : label + "~");
    }
    s.evidence.push_back(std::move(e));
  }
  if (given_differs_guard_applies(model, a, b, v, w)) {
    s.evidence.push_back({"guard", "given names differ, no shared email", guard_ceiling(model, v) - w,
                          "household members share address and phone"});
    w = guard_ceiling(model, v);
  }
  std::sort(s.evidence.begin(), s.evidence.end(),
            [](const Evidence& x, const Evidence& y) { return std::abs(x.weight) > std::abs(y.weight); });
  s.weight = w;
  s.probability = match_probability(w);
  return s;
}

std::string explain(const std::vector<Evidence>& evidence) {
  std::string out;
  for (const auto& e : evidence) {
    if (!out.empty()) out += ", ";
    std::string name = e.comparison;
    std::replace(name.begin(), name.end(), '_', ' ');
    out += name + " " + e.level + " " + fixed1(e.weight);
    if (!e.detail.empty()) out += " (" + e.detail + ")";
  }
  return out;
}

nlohmann::json to_json(const Evidence& e) {
  nlohmann::json j{{"comparison", e.comparison}, {"level", e.level}, {"weight", std::round(e.weight * 100) / 100}};
  if (!e.detail.empty()) j["detail"] = e.detail;
  return j;
}

Evidence evidence_from_json(const nlohmann::json& j) {
  return {j.value("comparison", ""), j.value("level", ""), j.value("weight", 0.0), j.value("detail", "")};
}

nlohmann::json to_json(const MatchModel& model, bool with_terms) {
  nlohmann::json comps = nlohmann::json::array();
  const auto& specs = comparison_specs();
  for (int c = 0; c < kComparisonCount; ++c) {
    nlohmann::json levels = nlohmann::json::array();
    for (int l = 1; l <= level_count(c); ++l)
      levels.push_back({{"level", specs[static_cast<std::size_t>(c)].level_labels[static_cast<std::size_t>(l)]},
                        {"m", model.m[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)]},
                        {"u", model.u[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)]},
                        {"weight", std::round(model.level_weight(c, l) * 100) / 100}});
    comps.push_back({{"comparison", specs[static_cast<std::size_t>(c)].name}, {"levels", levels}});
  }
  nlohmann::json j{{"source", model.source},
                   {"prior_log2_odds", model.prior_log2_odds},
                   {"tf_weight_cap", model.tf_weight_cap},
                   {"given_differs_guard", model.given_differs_guard},
                   {"trained_records", model.trained_records},
                   {"trained_pairs", model.trained_pairs},
                   {"em_iterations", model.em_iterations},
                   {"em_converged", model.em_converged},
                   {"comparisons", comps}};
  nlohmann::json tf{{"records", model.tf.records}, {"present", model.tf.present}, {"random_agreement", model.tf.random_agreement}};
  if (with_terms) {
    nlohmann::json terms = nlohmann::json::array();
    for (const auto& slot : model.tf.counts) terms.push_back(slot);
    tf["terms"] = terms;  // one object per slot: comparisons in order, then locality
  }
  j["term_frequencies"] = tf;
  return j;
}

MatchModel model_from_json(const nlohmann::json& j) {
  MatchModel model = default_model();
  model.source = j.value("source", "priors");
  model.prior_log2_odds = j.at("prior_log2_odds").get<double>();
  model.tf_weight_cap = j.value("tf_weight_cap", model.tf_weight_cap);
  model.given_differs_guard = j.value("given_differs_guard", model.given_differs_guard);
  model.trained_records = j.value("trained_records", std::size_t{0});
  model.trained_pairs = j.value("trained_pairs", std::size_t{0});
  model.em_iterations = j.value("em_iterations", std::size_t{0});
  model.em_converged = j.value("em_converged", false);
  const auto& specs = comparison_specs();
  for (const auto& comp : j.at("comparisons")) {
    const auto name = comp.at("comparison").get<std::string>();
    for (int c = 0; c < kComparisonCount; ++c) {
      if (name != specs[static_cast<std::size_t>(c)].name) continue;
      const auto& levels = comp.at("levels");
      if (static_cast<int>(levels.size()) != level_count(c))
        throw std::invalid_argument("stored duplicate model: " + name + " has " + std::to_string(levels.size()) +
                                    " levels, expected " + std::to_string(level_count(c)));
      for (int l = 1; l <= level_count(c); ++l) {
        model.m[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)] = levels[static_cast<std::size_t>(l - 1)].at("m").get<double>();
        model.u[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)] = levels[static_cast<std::size_t>(l - 1)].at("u").get<double>();
      }
    }
  }
  if (j.contains("term_frequencies")) {
    const auto& tf = j["term_frequencies"];
    model.tf.records = tf.value("records", std::size_t{0});
    auto ra = tf.value("random_agreement", std::vector<double>{});
    auto present = tf.value("present", std::vector<std::size_t>{});
    for (std::size_t s = 0; s < kTermSlots && s < ra.size() && s < present.size(); ++s) {
      model.tf.random_agreement[s] = ra[s];
      model.tf.present[s] = present[s];
    }
    if (tf.contains("terms") && tf["terms"].size() == kTermSlots)
      for (std::size_t s = 0; s < kTermSlots; ++s)
        model.tf.counts[s] = tf["terms"][s].get<std::unordered_map<std::string, std::uint32_t>>();
  }
  return model;
}

}  // namespace tradesphere::domain
