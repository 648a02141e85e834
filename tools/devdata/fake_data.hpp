// Deterministic, realistic-looking fake data for `tradesphere-dev seed`, the
// planted duplicates and the benchmarks: names, emails, phones, addresses, tags and
// chat text. Everything derives from a splitmix64 stream (no std distributions), so
// the same seed gives the same data on every platform and standard library.
// Development data (tools/devdata): never linked into `tradesphere`.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tradesphere::devdata {

// splitmix64: tiny, fast, good enough for fake data; copyable so that a stream
// can be re-created for one record from (seed, stream, index).
class FakeRng {
 public:
  explicit FakeRng(std::uint64_t seed) : state_(seed) {}
  // An independent stream per (seed, stream, index): the same record can be
  // regenerated without replaying everything before it.
  FakeRng(std::uint64_t seed, std::uint64_t stream, std::uint64_t index);

  std::uint64_t next();
  std::uint64_t below(std::uint64_t n);  // 0..n-1 (n > 0)
  double unit();                         // [0, 1)
  bool chance(double p) { return unit() < p; }

 private:
  std::uint64_t state_;
};

// The one vocabulary of the generators (fake_person, fake_duplicate_of and
// generate_planted_duplicates): there is no second name list.
struct FakeVocabulary {
  std::span<const std::string_view> first_names;
  std::span<const std::string_view> last_names;
  std::span<const std::pair<std::string_view, std::string_view>> nicknames;  // (given name, nickname)
  std::span<const std::string_view> email_domains;
  std::span<const std::string_view> streets;
  std::span<const std::pair<std::string_view, std::string_view>> street_kinds;  // ("Street", "St.")
  std::span<const std::string_view> cities;
};
const FakeVocabulary& fake_vocabulary();
// The nickname of a given name ("Robert" -> "Bob"); empty when it has none.
std::string_view fake_nickname(std::string_view first_name);

// A uniformly chosen element of a non-empty span.
template <typename T>
const T& fake_pick(FakeRng& rng, std::span<const T> items) {
  return items[rng.below(items.size())];
}

struct FakePerson {
  std::string first_name;
  std::string last_name;
  std::string name;     // "First Last" (sometimes with a middle initial)
  std::string email;    // unique per index: first.last<n>@domain
  std::string phone;    // a US number in one of several common formats
  std::string address;  // "123 Oak Street, Springfield, IL 62704"
};

// The person of record `index` (email carries the index, so it is unique).
FakePerson fake_person(FakeRng& rng, std::uint64_t index);
// A corrupted copy of `p` as a second record of the same person would look:
// a typo or a nickname in the name, the email in another case or the phone in
// another format; one contact field may be dropped (never both).
FakePerson fake_duplicate_of(const FakePerson& p, FakeRng& rng);

// 0-3 tags from a fixed vocabulary of lower-case words (valid normalized tags).
std::vector<std::string> fake_tags(FakeRng& rng);
// prospect | lead | customer | churned, weighted toward lead/customer.
const char* fake_lifecycle_stage(FakeRng& rng);
std::string fake_user_message(FakeRng& rng);
std::string fake_ai_response(FakeRng& rng);
// A version-4-shaped uuid text from the stream.
std::string fake_uuid(FakeRng& rng);
// A one-letter typo of `word` (replace, drop, or swap neighbours); `word` when shorter than 4.
std::string fake_typo(const std::string& word, FakeRng& rng);

}  // namespace tradesphere::devdata
