// Search (migration 0017: term dictionaries, bounds) returns exactly what ranking
// every customer returns: search_customer_hits and CustomerCrudService::search_customers
// are compared with the 0011/0014 ranking evaluated over all active customers of a
// generated company with planted typos (tradesphere-dev seed), plus hand-written rows for
// the edges (NULL names and emails, mixed case, emails starting with a digit or
// without digits, short phones). The dictionaries must stay equal to a recount after
// updates, soft deletes, restores and merges.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "services/customer_crud_service.hpp"
#include "db/database.hpp"
#include "devdata/seed_generator.hpp"
#include "domain/request_context.hpp"
#include "support/pg_fixture.hpp"

namespace {

// The ranking of 0011/0014 over every active customer of the current tenant:
// $1 query, $2 digits (or NULL), $3 limit. Same text as the function's scoring, no
// candidate sets, no dictionaries, no bounds.
constexpr const char* kOracle = R"SQL(
  SELECT coalesce(string_agg(customer_id::text || ':' || round(score::numeric, 6), ',' ORDER BY rn), '')
    FROM (SELECT s.customer_id, x.score,
                 row_number() OVER (ORDER BY x.score DESC, lower(s.name) ASC NULLS LAST, s.customer_id) AS rn
            FROM (SELECT c.id AS customer_id, c.name, lower(c.email) AS email_lc, phone_digits(c.phone) AS phone_digits
                    FROM customers c WHERE c.status = 'active') s,
                 LATERAL (SELECT greatest(
                   CASE WHEN lower(s.name) = lower($1) OR s.email_lc = lower($1)
                             OR ($2::text IS NOT NULL AND s.phone_digits = $2) THEN 1.0 ELSE 0 END,
                   CASE WHEN starts_with(lower(s.name), lower($1)) OR starts_with(s.email_lc, lower($1)) THEN 0.9 ELSE 0 END,
                   CASE WHEN strpos(lower(s.name), lower($1)) > 0 OR strpos(s.email_lc, lower($1)) > 0
                             OR ($2::text IS NOT NULL AND strpos(s.phone_digits, $2) > 0) THEN 0.7 ELSE 0 END,
                   0.8 * coalesce(similarity(s.name, $1), 0),
                   0.8 * coalesce(word_similarity($1, s.name), 0),
                   0.6 * coalesce(similarity(s.email_lc, lower($1)), 0))::float8 AS score) x
           WHERE s.name % $1 OR $1 <% s.name OR strpos(lower(s.name), lower($1)) > 0
              OR strpos(s.email_lc, lower($1)) > 0 OR s.email_lc % lower($1)
              OR ($2::text IS NOT NULL AND strpos(s.phone_digits, $2) > 0)) r
   WHERE rn <= $3)SQL";

// What the repository sends: LIKE-escaped query, digits of a phone-like query.
constexpr const char* kActual = R"SQL(
  SELECT coalesce(string_agg(customer_id::text || ':' || round(score::numeric, 6), ','), '')
    FROM search_customer_hits($1, replace(replace(replace($1, '\', '\\'), '%', '\%'), '_', '\_'), $2, $3))SQL";

// Dictionary rows that differ from a recount of customer_search.
constexpr const char* kDictionaryDrift = R"SQL(
  SELECT (SELECT count(*) FROM (
            (SELECT company_id, name, count(*)::integer FROM customer_search WHERE name IS NOT NULL GROUP BY 1, 2
             EXCEPT SELECT company_id, name, customers FROM search_name_terms)
            UNION ALL
            (SELECT company_id, name, customers FROM search_name_terms
             EXCEPT SELECT company_id, name, count(*)::integer FROM customer_search WHERE name IS NOT NULL GROUP BY 1, 2)) d)
       + (SELECT count(*) FROM (
            (SELECT company_id, search_email_stem(email_lc), count(*)::integer FROM customer_search
              WHERE email_lc IS NOT NULL GROUP BY 1, 2
             EXCEPT SELECT company_id, stem, customers FROM search_email_stems)
            UNION ALL
            (SELECT company_id, stem, customers FROM search_email_stems
             EXCEPT SELECT company_id, search_email_stem(email_lc), count(*)::integer FROM customer_search
              WHERE email_lc IS NOT NULL GROUP BY 1, 2)) d))SQL";

struct Query {
  std::string q;
  int limit;
};

class SearchOracleTest : public tradesphere::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    tradesphere::devdata::SeedOptions o;
    o.customers = 3000;
    o.chats_per_customer = 0;
    o.duplicate_rate = 0.2;  // corrupted copies: typos in names, emails and phones
    o.seed = 14;
    company_ = tradesphere::devdata::seed_database(owner_url(), o).companies.at(0).id;
    // the edges the generator does not write
    app("INSERT INTO customers (company_id, name, email, phone) VALUES "
        "($1::uuid, NULL, 'mich.only@example.com', NULL), "
        "($1::uuid, NULL, NULL, '+1 (555) 010-7788'), "
        "($1::uuid, 'MICHAEL SMITH', '42michael@example.com', '555'), "
        "($1::uuid, 'michael smith', 'Michael.Smith@Example.com', '+1 212 555 0123'), "
        "($1::uuid, 'Mich', 'mich@example.com', NULL), "
        "($1::uuid, 'Jenifer Smiht', 'jenifer.smiht@example.com', '+1 415 555 0199'), "
        "($1::uuid, 'Anna-Maria O''Neil', 'anna_maria@example.com', '0044 20 7946 0018'), "
        "($1::uuid, '100% Pure_Ltd', 'sales@pure.example', NULL)");
    // the ends of the byte-order prefix ranges (migration 0045): a prefix's last character
    // is replaced by the next code point, skipping the surrogates (U+D7FF -> U+E000);
    // U+10FFFF has none (the one before it is incremented); multi-byte characters
    app("INSERT INTO customers (company_id, name, email, phone) VALUES "
        "($1::uuid, 'Zoë Åberg', 'zoë.åberg@example.com', NULL), "
        "($1::uuid, 'Zoëy Ångström', 'zoëy@example.com', NULL), "
        "($1::uuid, 'Zof Zz', 'zof@example.com', NULL), "
        "($1::uuid, 'Edge\uD7FF one', 'edge\uD7FFone@example.com', NULL), "
        "($1::uuid, 'Edge\uE000 two', 'edge\uE000two@example.com', NULL), "
        "($1::uuid, 'Edgf three', 'edgf@example.com', NULL), "
        "($1::uuid, 'Edg\U0010FFFF four', 'edg\U0010FFFFfour@example.com', NULL), "
        "($1::uuid, 'Edg\U0010FFFF\U0010FFFF five', NULL, NULL), "
        "($1::uuid, 'Edh six', 'edh@example.com', NULL)");
  }

  std::string app(const std::string& sql, const std::string& a = {}, const std::optional<std::string>& b = {},
                  int limit = 0) {
    pqxx::connection c(app_url());
    pqxx::work w(c);
    w.exec_params("SELECT set_config('app.company_id', $1, true), set_config('app.user_id', 'u-1', true)", company_);
    pqxx::result r = limit > 0 ? w.exec_params(sql, a, b, limit) : w.exec_params(sql, company_);
    w.commit();
    return r.empty() || r[0][0].is_null() ? "" : r[0][0].as<std::string>();
  }

  static std::optional<std::string> digits_of(const std::string& q) {
    std::string d;
    for (char ch : q) {
      if (ch >= '0' && ch <= '9') {
        d += ch;
      } else if (std::string(" +-().").find(ch) == std::string::npos) {
        return std::nullopt;
      }
    }
    if (d.size() < 3) return std::nullopt;
    return d;
  }

  void expect_same_as_oracle(const std::vector<Query>& queries) {
    std::size_t answered = 0;
    for (const auto& [q, limit] : queries) {
      SCOPED_TRACE("q='" + q + "' limit " + std::to_string(limit));
      const auto d = digits_of(q);
      const auto expected = app(kOracle, q, d, limit);
      EXPECT_EQ(app(kActual, q, d, limit), expected);
      if (!expected.empty()) ++answered;
    }
    // the comparisons are not vacuous: (nearly) every query finds customers
    EXPECT_GE(answered + 2, queries.size());
  }

  long long drift() {
    pqxx::connection c(owner_url());
    pqxx::nontransaction tx(c);
    return tx.exec1(kDictionaryDrift)[0].as<long long>();
  }

  std::string company_;
};

const std::vector<Query> kQueries = {
    // prefixes, common and rare, any case
    {"Mich", 20}, {"mich", 5}, {"Mich", 100}, {"Will", 20}, {"J", 10}, {"Jo", 7}, {"Sa", 50}, {"Timo", 20},
    {"MICHAEL SMITH", 20}, {"michael s", 10}, {"Anna-Maria", 5}, {"Zzyzx", 20},
    // typos (no or few prefix matches: the general path)
    {"Jenifer Smiht", 20}, {"Jenifer Smiht", 1}, {"Mihcael Jonson", 20}, {"Wiliam Brwon", 10}, {"Smiht", 20},
    {"Elizabth Garcai", 100}, {"Sarah Wilsno", 3}, {"Jonh", 20},
    // email fragments: local parts, with digits, domains, whole addresses
    {"michael.smith", 20}, {"jsmith", 20}, {"smith12", 20}, {"gmail", 20}, {"@example.com", 20}, {"42mich", 5},
    {"mich.only@example.com", 20}, {"jenifer.smiht@example.com", 20}, {"anna_maria", 20}, {"pure.example", 3},
    // phone fragments (digits) and numbers
    {"5550123", 20}, {"555-0199", 20}, {"010 7788", 20}, {"555", 20}, {"2125550123", 20}, {"+1 212 555 0123", 20},
    {"20 7946", 20}, {"0018", 4},
    // LIKE wildcards are text
    {"100%", 20}, {"_", 20}, {"Pure_", 20},
    // prefix ranges: multi-byte last characters, surrogate gap, U+10FFFF, the empty query
    {"Zoë", 20}, {"zo", 20}, {"Zoëy Å", 5}, {"Edge\uD7FF", 20}, {"edge\uD7FF", 3}, {"Edg\U0010FFFF", 20},
    {"edg\U0010FFFF\U0010FFFF", 20}, {"Edg", 20}, {"\U0010FFFF", 20}, {"", 5}};

TEST_F(SearchOracleTest, RanksExactlyLikeScoringEveryCustomer) {
  ASSERT_EQ(drift(), 0);
  expect_same_as_oracle(kQueries);
}

// Migration 0045 finds the names of `name % q` through `name %> q` (one trigram scan), whose
// recheck is word_similarity(q, name) >= the threshold: exact only while word_similarity(q, n)
// >= similarity(n, q) for every name, which this checks on every seeded name and query.
TEST_F(SearchOracleTest, WordSimilarityIsNeverBelowSimilarity) {
  pqxx::connection c(owner_url());
  pqxx::nontransaction tx(c);
  long long pairs = 0;
  for (const auto& [q, limit] : kQueries) {
    SCOPED_TRACE("q='" + q + "'");
    const auto r = tx.exec_params1(
        "SELECT count(*) FILTER (WHERE word_similarity($1, name) < similarity(name, $1)), "
        "       count(*) FILTER (WHERE similarity(name, $1) > 0) "
        "  FROM search_name_terms WHERE company_id = $2::uuid",
        q, company_);
    EXPECT_EQ(r[0].as<long long>(), 0);
    pairs += r[1].as<long long>();
  }
  EXPECT_GT(pairs, 10000);  // not vacuous: many names share trigrams with the queries
}

// The function's statements are planned once per session and then run from their cached
// generic plans (migration 0045): every query twice on one connection, the second round
// from plans made for other values, gives the oracle's answer each time.
TEST_F(SearchOracleTest, CachedPlansOnOneConnectionRankExactly) {
  std::vector<std::string> expected;
  for (const auto& [q, limit] : kQueries) expected.push_back(app(kOracle, q, digits_of(q), limit));
  pqxx::connection c(app_url());
  std::size_t answered = 0;
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < kQueries.size(); ++i) {
      const auto& [q, limit] = kQueries[i];
      SCOPED_TRACE("round " + std::to_string(round) + " q='" + q + "' limit " + std::to_string(limit));
      pqxx::work w(c);
      w.exec_params("SELECT set_config('app.company_id', $1, true), set_config('app.user_id', 'u-1', true)", company_);
      const auto r = w.exec_params(kActual, q, digits_of(q), limit);
      w.commit();
      const std::string actual = r.empty() || r[0][0].is_null() ? "" : r[0][0].as<std::string>();
      EXPECT_EQ(actual, expected[i]);
      if (!actual.empty()) ++answered;
    }
  }
  EXPECT_GE(answered + 4, 2 * kQueries.size());
  // the thresholds the function moves while it runs are back at their defaults afterwards,
  // in the same transaction, and its plan_cache_mode does not leak out
  pqxx::work w(c);
  w.exec_params("SELECT set_config('app.company_id', $1, true)", company_);
  EXPECT_FALSE(w.exec_params(kActual, "Jenifer Smiht", std::optional<std::string>{}, 20)[0][0].is_null());
  EXPECT_EQ(w.exec1("SELECT current_setting('pg_trgm.similarity_threshold') || ' ' || "
                    "current_setting('pg_trgm.word_similarity_threshold') || ' ' || current_setting('plan_cache_mode')")[0]
                .as<std::string>(),
            "0.3 0.6 auto");
}

// Migration 0047 scans the names of a typo at word thresholds 0.6, 0.5, 0.4 and then 0.3, and
// stops at the first pass whose limit-th customer scores at least 0.8 * the pass's threshold.
// Common names held by many customers (as at 1M customers) make every pass the deciding one
// for some query and limit; the answers must stay the oracle's.
const std::vector<std::string> kCommonNames = {
    "William Brown", "William Brooks", "William Baker", "Elizabeth Garcia", "Elizabeth Gomez", "Michael Johnson",
    "Michael Jones", "Jonathan Evans", "Steven Reed", "Gregory Mendoza", "Richard James", "Melissa Brown",
    "Joseph Thompson", "John Morgan", "Daniel Peterson", "Robert Gonzalez", "Timothy Kelly", "George Carter"};

const std::vector<Query> kLowScoringTypos = {
    {"Wiliam Brwon", 20}, {"Wiliam Brwon", 60}, {"Wiliam Brwon", 200}, {"Elizabth Garcai", 20},
    {"Elizabth Garcai", 45}, {"Mihcael Jonson", 20}, {"Mihcael Jonson", 40}, {"Mihcael Jonson", 120},
    {"Jonathn Evnas", 20}, {"Jonathn Evnas", 30}, {"Stevn Reid", 20}, {"Stevn Reid", 80}, {"Gregroy Mendosa", 20},
    {"Richard Jmaes", 20}, {"Richard Jmaes", 26}, {"Mellisa Bronw", 20}, {"Josph Tompson", 20}, {"John Morgn", 20},
    {"Danial Petersen", 20}, {"Robret Gonzales", 25}, {"Timoty Kelley", 20}, {"Gorge Cartr", 20}, {"Wlliam", 20},
    {"Brwon Wiliam", 20}, {"Johnsn", 20}, {"Micheal Jonsn", 20}, {"William Browne", 20}, {"William Browne", 70}};

TEST_F(SearchOracleTest, LowScoringTyposRankExactlyWhicheverPassAnswers) {
  // 25 customers for each common name, with emails like the generator's (email similarity)
  std::string names = "ARRAY[";
  for (std::size_t i = 0; i < kCommonNames.size(); ++i) names += (i ? ",'" : "'") + kCommonNames[i] + "'";
  names += "]";
  app("INSERT INTO customers (company_id, name, email, phone) "
      "SELECT $1::uuid, n, lower(replace(n, ' ', '.')) || i || '@example.com', NULL "
      "  FROM unnest(" + names + ") n, generate_series(1, 25) i");
  ASSERT_EQ(drift(), 0);
  expect_same_as_oracle(kLowScoringTypos);
  // not vacuous: the limit-th score / 0.8 falls in every pass's band, [0.6, 1), [0.5, 0.6),
  // [0.4, 0.5) and below 0.4 (the default pass)
  std::vector<int> bands(4, 0);
  for (const auto& [q, limit] : kLowScoringTypos) {
    const auto expected = app(kOracle, q, digits_of(q), limit);
    const auto colon = expected.rfind(':');
    EXPECT_NE(colon, std::string::npos) << q;
    if (colon == std::string::npos) continue;
    if (std::count(expected.begin(), expected.end(), ',') + 1 < limit) continue;
    const double k = std::stod(expected.substr(colon + 1)) / 0.8;
    ++bands[k >= 0.6 ? 0 : k >= 0.5 ? 1 : k >= 0.4 ? 2 : 3];
  }
  for (int b = 0; b < 4; ++b) EXPECT_GE(bands[b], 1) << "band " << b;
  // word_similarity is never below similarity for these queries either (0045, 0047 rely on it)
  pqxx::connection c(owner_url());
  pqxx::nontransaction tx(c);
  for (const auto& [q, limit] : kLowScoringTypos) {
    EXPECT_EQ(tx.exec_params1("SELECT count(*) FROM search_name_terms WHERE company_id = $2::uuid "
                              "AND word_similarity($1, name) < similarity(name, $1)",
                              q, company_)[0]
                  .as<long long>(),
              0)
        << q;
  }
}

TEST_F(SearchOracleTest, DictionariesFollowEveryWriteAndResultsStayExact) {
  // renames, new emails and phones, soft delete and restore
  app("UPDATE customers SET name = 'Michaela Smithers', email = 'mich99@example.org' "
      "WHERE id IN (SELECT id FROM customers WHERE company_id = $1::uuid AND name LIKE 'Michael %' ORDER BY id LIMIT 20)");
  app("UPDATE customers SET email = NULL, phone = '+1 555 012 3400' "
      "WHERE id IN (SELECT id FROM customers WHERE company_id = $1::uuid AND name LIKE 'Jennifer %' ORDER BY id LIMIT 30)");
  app("UPDATE customers SET status = 'deleted', deleted_at = now() "
      "WHERE id IN (SELECT id FROM customers WHERE company_id = $1::uuid AND name LIKE 'William %' ORDER BY id LIMIT 50)");
  app("UPDATE customers SET status = 'active', deleted_at = NULL "
      "WHERE id IN (SELECT id FROM customers WHERE company_id = $1::uuid AND status = 'deleted' ORDER BY id LIMIT 10)");
  // merged into another customer: the search row goes, the target's stays
  app("UPDATE customers SET status = 'merged', merged_into_customer_id = "
      "(SELECT id FROM customers WHERE company_id = $1::uuid AND name LIKE 'Daniel %' ORDER BY id LIMIT 1) "
      "WHERE id IN (SELECT id FROM customers WHERE company_id = $1::uuid AND name LIKE 'Sarah %' ORDER BY id LIMIT 25)");
  EXPECT_EQ(drift(), 0);
  tradesphere::db::PoolOptions options;
  options.url = app_url();
  options.size = 1;
  tradesphere::db::Database db(options);
  tradesphere::services::CustomerCrudService repo(db);
  const tradesphere::domain::RequestContext ctx{company_, "u-1", tradesphere::domain::Role::kAdmin, "corr-search"};
  // the repository answers through the same function: same order as the oracle
  const auto hits = repo.search_customers(ctx, "Michaela Smithers", 20);
  std::string listed;
  for (const auto& h : hits) {
    if (!listed.empty()) listed += ',';
    listed += h.customer.customer.id;
  }
  std::string oracle_ids = app(kOracle, "Michaela Smithers", std::nullopt, 20);
  std::string expected;
  for (size_t i = 0; i < oracle_ids.size();) {
    const auto comma = oracle_ids.find(',', i);
    const auto item = oracle_ids.substr(i, comma == std::string::npos ? std::string::npos : comma - i);
    if (!expected.empty()) expected += ',';
    expected += item.substr(0, item.find(':'));
    if (comma == std::string::npos) break;
    i = comma + 1;
  }
  EXPECT_EQ(listed, expected);
  EXPECT_EQ(hits.size(), 20u);
  expect_same_as_oracle(kQueries);
}

}  // namespace
