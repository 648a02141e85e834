#include "devdata/planted_duplicates.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>
#include <span>

#include "devdata/fake_data.hpp"
#include "domain/similarity.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::devdata {
namespace {

// Same vocabulary and random stream as fake_data (fake_vocabulary, FakeRng).
using Rng = FakeRng;

template <typename T>
std::string pick(Rng& r, std::span<const T> items) {
  return std::string(fake_pick(r, items));
}

struct Person {
  std::string first, last, email, phone_digits, street_no, street, suffix_long, suffix_short, city, zip;
};

std::string format_phone(const std::string& d, int style) {
  // d = 10 digits
  auto a = d.substr(0, 3), b = d.substr(3, 3), c = d.substr(6);
  switch (style) {
    case 0: return "+1 (" + a + ") " + b + "-" + c;
    case 1: return a + "-" + b + "-" + c;
    case 2: return "+1" + d;
    case 3: return "(" + a + ") " + b + " " + c;
    default: return "1 " + a + " " + b + " " + c;
  }
}

std::string typo(Rng& r, std::string s) {
  if (s.size() < 3) return s;
  std::size_t i = 1 + r.below(s.size() - 2);
  switch (r.below(4)) {
    case 0: s[i] = static_cast<char>('a' + r.below(26)); break;           // substitution
    case 1: s.erase(i, 1); break;                                          // deletion
    case 2: s.insert(i, 1, s[i]); break;                                   // doubled letter
    default: std::swap(s[i], s[i + 1 < s.size() ? i + 1 : i - 1]); break;  // transposition
  }
  return s;
}

std::string nickname_of(const std::string& first) { return std::string(fake_nickname(first)); }

}  // namespace

PlantedDataset generate_planted_duplicates(const PlantedConfig& config) {
  Rng r(config.seed);
  const auto& words = fake_vocabulary();
  PlantedDataset out;
  std::set<std::string> emails, phones;
  std::size_t next_id = 0;
  auto new_id = [&] {
    char buf[32];
    std::snprintf(buf, sizeof buf, "c%07zu", next_id++);
    return std::string(buf);
  };
  auto unique_phone = [&] {
    for (;;) {
      std::string d = std::to_string(200 + r.below(800)) + std::to_string(200 + r.below(800));
      char tail[8];
      std::snprintf(tail, sizeof tail, "%04u", static_cast<unsigned>(r.below(10000)));
      d += tail;
      if (phones.insert(d).second) return d;
    }
  };
  auto unique_email = [&](const std::string& first, const std::string& last) {
    std::string f = domain::to_lower_ascii(first), l = domain::to_lower_ascii(last);
    std::string domain = pick(r, words.email_domains);
    std::string base;
    switch (r.below(4)) {
      case 0: base = f + "." + l; break;
      case 1: base = f + l; break;
      case 2: base = f.substr(0, 1) + l; break;
      default: base = l + "." + f; break;
    }
    std::string e = base + "@" + domain;
    for (int n = 2; !emails.insert(domain::email_match_key(e)).second; ++n) e = base + std::to_string(n) + "@" + domain;
    return e;
  };
  auto clean_record = [&](const Person& p, const std::string& id) {
    domain::MatchInput m;
    m.id = id;
    m.external_id = id;
    m.name = p.first + " " + p.last;
    m.email = p.email;
    m.phone = format_phone(p.phone_digits, static_cast<int>(r.below(5)));
    m.address = p.street_no + " " + p.street + " " + p.suffix_long + ", " + p.city + " " + p.zip;
    return m;
  };

  for (std::size_t i = 0; i < config.people; ++i) {
    Person p;
    p.first = pick(r, words.first_names);
    p.last = pick(r, words.last_names);
    p.email = unique_email(p.first, p.last);
    p.phone_digits = unique_phone();
    p.street_no = std::to_string(1 + r.below(9999));
    p.street = pick(r, words.streets);
    const auto& suffix = fake_pick(r, words.street_kinds);
    p.suffix_long = suffix.first;
    p.suffix_short = suffix.second;
    p.city = pick(r, words.cities);
    p.zip = std::to_string(10000 + r.below(89999));

    std::vector<std::string> cluster{new_id()};
    out.records.push_back(clean_record(p, cluster[0]));

    if (r.chance(config.duplicate_share)) {
      std::size_t copies = 1 + r.below(std::max<std::size_t>(config.max_copies, 1));
      for (std::size_t c = 0; c < copies; ++c) {
        domain::MatchInput m = clean_record(p, new_id());
        // name
        std::string first = p.first, last = p.last;
        const bool replaced = config.replaced_given_share > 0 && r.chance(config.replaced_given_share);
        if (replaced) {
          for (int tries = 0; tries < 50 && domain::jaro_winkler(domain::to_lower_ascii(first), domain::to_lower_ascii(p.first)) >= 0.8; ++tries)
            first = pick(r, words.first_names);
        } else switch (r.below(7)) {
          case 0: break;
          case 1: first = typo(r, first); break;
          case 2: m.name = last + ", " + first; break;
          case 3: {
            auto nick = nickname_of(first);
            if (!nick.empty()) first = nick;
            break;
          }
          case 4: first = first.substr(0, 1) + "."; break;
          case 5: m.name = domain::to_lower_ascii(first + "  " + last); break;
          default: last = typo(r, last); break;
        }
        if (!m.name || *m.name == p.first + " " + p.last) m.name = first + " " + last;
        // email
        bool email_dropped = false;
        switch (r.below(10)) {
          case 0: case 1: case 2: m.email.reset(); email_dropped = true; break;
          case 3: {  // reformat the local part: dots, case, +tag
            std::string e = *m.email;
            auto at = e.find('@');
            std::string local = e.substr(0, at);
            if (local.find('.') != std::string::npos) local.erase(std::remove(local.begin(), local.end(), '.'), local.end());
            else if (local.size() > 2) local.insert(1, ".");
            m.email = local + e.substr(at);
            break;
          }
          case 4: {
            std::string e = *m.email;
            for (auto& ch : e) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            m.email = "  " + e;
            break;
          }
          case 5: {
            std::string e = *m.email;
            auto at = e.find('@');
            m.email = e.substr(0, at) + "+shop" + e.substr(at);
            break;
          }
          case 6: {
            std::string e = *m.email;
            auto at = e.find('@');
            m.email = typo(r, e.substr(0, at)) + e.substr(at);
            break;
          }
          default: break;
        }
        // phone
        switch (r.below(10)) {
          case 0: case 1: case 2:
            if (!email_dropped) m.phone.reset();
            break;
          case 3: {
            std::string d = p.phone_digits;
            std::size_t i = 3 + r.below(7);
            d[i] = static_cast<char>('0' + (d[i] - '0' + 1 + r.below(9)) % 10);
            m.phone = format_phone(d, static_cast<int>(r.below(5)));
            break;
          }
          default: m.phone = format_phone(p.phone_digits, static_cast<int>(r.below(5))); break;
        }
        // address
        switch (r.below(10)) {
          case 0: case 1: case 2:
            if (config.contact_fields) m.address.reset();  // a name+address list keeps every address: typo instead
            else m.address = p.street_no + " " + typo(r, p.street) + " " + p.suffix_long + ", " + p.city + " " + p.zip;
            break;
          case 3: case 4:
            m.address = p.street_no + " " + p.street + " " + p.suffix_short + " " + p.city + ", " + p.zip;
            break;
          case 5: m.address = domain::to_lower_ascii(*m.address); break;
          default: break;
        }
        cluster.push_back(m.id);
        out.records.push_back(std::move(m));
      }
      out.truth.push_back(cluster);
    }

    if (r.chance(config.family_share)) {
      std::size_t members = 1 + r.below(2);
      std::vector<std::string> taken{p.first};  // siblings do not share a given name either
      for (std::size_t f = 0; f < members; ++f) {
        std::string first;
        for (int tries = 0; tries < 50; ++tries) {
          first = pick(r, words.first_names);
          bool distinct = true;
          for (const auto& t : taken)
            distinct = distinct && domain::canonical_first_name(domain::to_lower_ascii(first)) != domain::canonical_first_name(domain::to_lower_ascii(t)) &&
                       domain::jaro_winkler(domain::to_lower_ascii(first), domain::to_lower_ascii(t)) < 0.8;
          if (distinct) break;
        }
        taken.push_back(first);
        domain::MatchInput m;
        m.id = new_id();
        m.external_id = m.id;
        m.name = first + " " + p.last;
        if (r.chance(0.7)) m.email = unique_email(first, p.last);
        m.phone = r.chance(0.5) ? format_phone(p.phone_digits, static_cast<int>(r.below(5)))  // shared landline
                                : format_phone(unique_phone(), static_cast<int>(r.below(5)));
        m.address = p.street_no + " " + p.street + " " + (r.chance(0.5) ? p.suffix_long : p.suffix_short) + ", " +
                    p.city + " " + p.zip;
        out.records.push_back(std::move(m));
      }
    }
  }
  if (!config.contact_fields)
    for (auto& m : out.records) {
      m.email.reset();
      m.phone.reset();
    }
  return out;
}

}  // namespace tradesphere::devdata
