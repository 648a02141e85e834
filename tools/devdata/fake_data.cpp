#include "devdata/fake_data.hpp"
#include "domain/normalize.hpp"

#include <array>
#include <cctype>
#include <cstdio>
#include <string_view>

namespace tradesphere::devdata {
namespace {

// The one vocabulary of every generator here (fake_person, fake_duplicate_of and
// the planted duplicates): common US given names and surnames, nicknames,
// addresses and mail domains. Changing it changes every seeded data set.
constexpr std::array<std::string_view, 72> kFirstNames = {
    "James",   "Mary",     "Robert",  "Patricia", "John",     "Jennifer", "Michael", "Linda",
    "William", "Elizabeth", "David",  "Barbara",  "Richard",  "Susan",    "Joseph",  "Jessica",
    "Thomas",  "Sarah",    "Charles", "Karen",    "Daniel",   "Nancy",    "Matthew", "Lisa",
    "Anthony", "Margaret", "Mark",    "Sandra",   "Steven",   "Ashley",   "Andrew",  "Kimberly",
    "Joshua",  "Emily",    "Kenneth", "Donna",    "Kevin",    "Michelle", "Brian",   "Carol",
    "George",  "Amanda",   "Edward",  "Melissa",  "Ronald",   "Deborah",  "Timothy", "Stephanie",
    "Jason",   "Rebecca",  "Jeffrey", "Laura",    "Ryan",     "Sharon",   "Jacob",   "Cynthia",
    "Gary",    "Kathleen", "Nicholas", "Amy",     "Eric",     "Shirley",  "Jonathan", "Angela",
    "Samuel",  "Katherine", "Gregory", "Victoria", "Benjamin", "Olivia",  "Walter",  "Rachel"};

constexpr std::array<std::string_view, 96> kLastNames = {
    "Smith",    "Johnson",  "Williams", "Brown",     "Jones",     "Garcia",   "Miller",   "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez",   "Gonzalez",  "Wilson",   "Anderson", "Thomas",
    "Taylor",   "Moore",    "Jackson",  "Martin",    "Lee",       "Perez",    "Thompson", "White",
    "Harris",   "Sanchez",  "Clark",    "Ramirez",   "Lewis",     "Robinson", "Walker",   "Young",
    "Allen",    "King",     "Wright",   "Scott",     "Torres",    "Nguyen",   "Hill",     "Flores",
    "Green",    "Adams",    "Nelson",   "Baker",     "Hall",      "Rivera",   "Campbell", "Mitchell",
    "Carter",   "Roberts",  "Gomez",    "Phillips",  "Evans",     "Turner",   "Diaz",     "Parker",
    "Cruz",     "Edwards",  "Collins",  "Reyes",     "Stewart",   "Morris",   "Morales",  "Murphy",
    "Cook",     "Rogers",   "Gutierrez", "Ortiz",    "Morgan",    "Cooper",   "Peterson", "Bailey",
    "Reed",     "Kelly",    "Howard",   "Ramos",     "Kim",       "Cox",      "Ward",     "Richardson",
    "Watson",   "Brooks",   "Chavez",   "Wood",      "James",     "Bennett",  "Gray",     "Mendoza",
    "Ruiz",     "Hughes",   "Price",    "Alvarez",   "Castillo",  "Sanders",  "Patel",    "Myers"};

constexpr std::array<std::string_view, 8> kDomains = {"gmail.com",   "yahoo.com",  "outlook.com", "hotmail.com",
                                                      "icloud.com",  "proton.me",  "example.com", "mail.com"};

constexpr std::array<std::string_view, 26> kStreets = {
    "Oak",  "Maple",  "Cedar",  "Pine",   "Elm",    "Washington", "Lake",   "Hill",    "Main",
    "Park", "View",   "Sunset", "Ridge",  "Highland", "River",    "Church", "Spring",  "North",
    "Mill", "Forest", "Meadow", "Willow", "Valley", "Chestnut",   "Lincoln", "Jackson"};
constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kStreetKinds = {
    {{"Street", "St."}, {"Avenue", "Ave"}, {"Road", "Rd"}, {"Drive", "Dr."}, {"Lane", "Ln"}, {"Court", "Ct"}}};
constexpr std::array<std::string_view, 12> kCities = {"Springfield", "Riverside", "Franklin", "Greenville",
                                                      "Bristol",     "Clinton",   "Fairview", "Salem",
                                                      "Madison",     "Georgetown", "Arlington", "Ashland"};
constexpr std::array<std::string_view, 12> kStates = {"IL", "CA", "TX", "NY", "FL", "OH",
                                                      "PA", "GA", "NC", "MI", "WA", "AZ"};

constexpr std::array<std::pair<std::string_view, std::string_view>, 20> kNicknames = {{
    {"Robert", "Bob"},     {"William", "Bill"},   {"James", "Jim"},    {"Michael", "Mike"},
    {"David", "Dave"},     {"Thomas", "Tom"},     {"Joseph", "Joe"},   {"Daniel", "Dan"},
    {"Elizabeth", "Liz"},  {"Katherine", "Kate"}, {"Jennifer", "Jen"}, {"Susan", "Sue"},
    {"Margaret", "Peggy"}, {"Richard", "Rick"},   {"Anthony", "Tony"}, {"Matthew", "Matt"},
    {"Rebecca", "Becky"},  {"Samuel", "Sam"},     {"Benjamin", "Ben"}, {"Andrew", "Andy"}}};

constexpr std::array<std::string_view, 12> kTags = {"vip",      "wholesale", "newsletter", "returning",
                                                    "b2b",      "priority",  "trial",      "partner",
                                                    "overdue",  "referral",  "event",      "support"};

constexpr std::array<std::string_view, 16> kProducts = {
    "order", "invoice", "delivery", "subscription", "refund", "account", "password", "discount code",
    "shipping label", "warranty", "bulk pricing", "gift card", "appointment", "quote", "return", "catalogue"};
constexpr std::array<std::string_view, 10> kOpeners = {
    "Hi, I have a question about my", "Hello! Can you help me with my", "Where is my",
    "I need to change my", "Is there any update on my", "Can I get a copy of my",
    "Something is wrong with my", "How do I cancel my", "Could you check the status of my",
    "Good morning, I'm asking about the"};
constexpr std::array<std::string_view, 8> kClosers = {
    "?", " please.", ", thanks!", " - it's urgent.", " from last week?", ", order number attached.",
    " for my business.", " before Friday?"};
constexpr std::array<std::string_view, 8> kReplies = {
    "Thanks for reaching out! I've looked into your", "Sure, I can help with your",
    "I'm sorry for the trouble with your", "Happy to help. Here is the latest on your",
    "I've forwarded your request about the", "Good news: I found your",
    "Let me walk you through updating your", "I've checked our records for your"};

template <typename A>
std::string_view pick(const A& a, FakeRng& rng) {
  return a[rng.below(a.size())];
}

std::string digits(FakeRng& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>('0' + rng.below(10));
  return s;
}

// Area codes and exchanges that libphonenumber and our normalizer both accept.
std::string phone_in_format(const std::string& area, const std::string& exchange, const std::string& line,
                            std::uint64_t format) {
  switch (format % 5) {
    case 0:
      return "+1 " + area + " " + exchange + " " + line;
    case 1:
      return "(" + area + ") " + exchange + "-" + line;
    case 2:
      return area + "-" + exchange + "-" + line;
    case 3:
      return "+1" + area + exchange + line;
    default:
      return "1 " + area + "." + exchange + "." + line;
  }
}

}  // namespace

const FakeVocabulary& fake_vocabulary() {
  static const FakeVocabulary v{kFirstNames, kLastNames, kNicknames, kDomains, kStreets, kStreetKinds, kCities};
  return v;
}

std::string_view fake_nickname(std::string_view first_name) {
  for (const auto& [full, nick] : kNicknames) {
    if (first_name == full) return nick;
  }
  return {};
}

FakeRng::FakeRng(std::uint64_t seed, std::uint64_t stream, std::uint64_t index)
    : state_(seed * 0x9E3779B97F4A7C15ULL ^ (stream + 1) * 0xBF58476D1CE4E5B9ULL ^ (index + 1) * 0x94D049BB133111EBULL) {
  next();
}

std::uint64_t FakeRng::next() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t FakeRng::below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }

double FakeRng::unit() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }

FakePerson fake_person(FakeRng& rng, std::uint64_t index) {
  FakePerson p;
  p.first_name = std::string(pick(kFirstNames, rng));
  p.last_name = std::string(pick(kLastNames, rng));
  p.name = p.first_name + " ";
  if (rng.chance(0.15)) {
    p.name += static_cast<char>('A' + rng.below(26));
    p.name += ". ";
  }
  p.name += p.last_name;
  std::string local;
  switch (rng.below(3)) {
    case 0:
      local = domain::to_lower_ascii(p.first_name) + "." + domain::to_lower_ascii(p.last_name);
      break;
    case 1:
      local = domain::to_lower_ascii(p.first_name.substr(0, 1)) + domain::to_lower_ascii(p.last_name);
      break;
    default:
      local = domain::to_lower_ascii(p.first_name) + "_" + domain::to_lower_ascii(p.last_name);
      break;
  }
  p.email = local + std::to_string(index) + "@" + std::string(pick(kDomains, rng));
  const std::string area = std::to_string(201 + rng.below(780));
  const std::string exchange = std::to_string(200 + rng.below(800));
  const std::string line = digits(rng, 4);
  p.phone = phone_in_format(area, exchange, line, rng.next());
  p.address = std::to_string(1 + rng.below(9999)) + " " + std::string(pick(kStreets, rng)) + " " +
              std::string(kStreetKinds[rng.below(kStreetKinds.size())].first) + ", " + std::string(pick(kCities, rng)) + ", " +
              std::string(pick(kStates, rng)) + " " + std::to_string(10000 + rng.below(89999));
  return p;
}

std::string fake_typo(const std::string& word, FakeRng& rng) {
  if (word.size() < 4) return word;
  std::string w = word;
  const std::size_t i = 1 + rng.below(w.size() - 2);  // never the first letter
  switch (rng.below(3)) {
    case 0:
      w[i] = static_cast<char>('a' + rng.below(26));
      if (w == word) w[i] = w[i] == 'z' ? 'y' : static_cast<char>(w[i] + 1);
      break;
    case 1:
      w.erase(i, 1);
      break;
    default:
      if (w[i] == w[i + 1]) {
        w.erase(i, 1);
      } else {
        std::swap(w[i], w[i + 1]);
      }
      break;
  }
  return w;
}

FakePerson fake_duplicate_of(const FakePerson& p, FakeRng& rng) {
  FakePerson d = p;
  std::string first = p.first_name;
  std::string last = p.last_name;
  switch (rng.below(3)) {
    case 0:
      last = fake_typo(last, rng);
      break;
    case 1: {
      const auto nick = fake_nickname(first);
      first = nick.empty() ? fake_typo(first, rng) : std::string(nick);
      break;
    }
    default:
      break;  // same name, other contact formatting
  }
  d.first_name = first;
  d.last_name = last;
  d.name = first + " " + last;
  // The contact details a second record typically has: reformatted, or one of them missing.
  switch (rng.below(4)) {
    case 0: {
      std::string upper = p.email;
      upper[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[0])));
      d.email = "  " + upper;
      break;
    }
    case 1:
      d.email.clear();
      break;
    case 2:
      d.phone.clear();
      break;
    default: {
      std::string digits_only;
      for (char c : p.phone) {
        if (std::isdigit(static_cast<unsigned char>(c))) digits_only += c;
      }
      if (digits_only.size() == 11) digits_only.erase(0, 1);
      // built in a fresh string and moved: `"(" + std::string&&` (and assigning a literal
      // to d.phone) trip GCC 12's -Wrestrict false positive (bug 105651) at -O2/-O3
      std::string phone;
      phone.reserve(digits_only.size() + 4);
      phone.push_back('(');
      phone.append(digits_only, 0, 3);
      phone.push_back(')');
      phone.push_back(' ');
      phone.append(digits_only, 3, 3);
      phone.push_back('-');
      phone.append(digits_only, 6, std::string::npos);
      d.phone = std::move(phone);
      break;
    }
  }
  return d;
}

std::vector<std::string> fake_tags(FakeRng& rng) {
  std::vector<std::string> tags;
  const auto n = rng.below(4);
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string t(pick(kTags, rng));
    bool seen = false;
    for (const auto& x : tags) seen = seen || x == t;
    if (!seen) tags.push_back(t);
  }
  return tags;
}

const char* fake_lifecycle_stage(FakeRng& rng) {
  const auto r = rng.below(100);
  if (r < 15) return "prospect";
  if (r < 55) return "lead";
  if (r < 90) return "customer";
  return "churned";
}

std::string fake_user_message(FakeRng& rng) {
  std::string m(pick(kOpeners, rng));
  m += " ";
  m += pick(kProducts, rng);
  m += pick(kClosers, rng);
  if (rng.chance(0.3)) m += " Reference #" + digits(rng, 6) + ".";
  return m;
}

std::string fake_ai_response(FakeRng& rng) {
  std::string m(pick(kReplies, rng));
  m += " ";
  m += pick(kProducts, rng);
  m += ". It should be resolved within " + std::to_string(1 + rng.below(5)) + " business days.";
  return m;
}

std::string fake_uuid(FakeRng& rng) {
  const std::uint64_t a = rng.next();
  const std::uint64_t b = rng.next();
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0x0fff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

}  // namespace tradesphere::devdata
