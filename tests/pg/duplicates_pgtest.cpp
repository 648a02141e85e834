// Duplicate detection against a real database (issue 6): candidates for one
// customer via indexed blocking, company-wide groups, and dismissals.
#include <algorithm>
#include <map>
#include <tuple>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "db/database.hpp"
#include "db/duplicate_repository.hpp"
#include "domain/errors.hpp"
#include "devdata/planted_duplicates.hpp"
#include "services/customer_merge_service.hpp"
#include "services/duplicate_queue_worker.hpp"
#include "one_company_fixture.hpp"
#include "support/pg_fixture.hpp"

namespace {

using tradesphere::db::Database;
using tradesphere::db::Tx;
using tradesphere::domain::RequestContext;
using tradesphere::domain::Role;
using tradesphere::services::CustomerMergeService;
namespace domain = tradesphere::domain;

class DuplicatesTest : public tradesphere::testing::OneCompanyTest {
 protected:
  std::string add(const domain::MatchInput& m) {
    return db_->transact(ctx_, "seed", [&](Tx& tx) {
      return tx
          .exec1("INSERT INTO customers (company_id, external_id, name, email, phone, address, source) "
                 "VALUES ($1, $2, $3, $4, $5, $6, 'import') RETURNING id::text",
                 company_, m.external_id, m.name, m.email, m.phone, m.address)[0]
          .as<std::string>();
    });
  }

  void maintained_queue_story(bool indexed);

};

TEST_F(DuplicatesTest, FindDuplicatesReturnsScoredCandidatesBestFirst) {
  auto jane = add({"", "j1", "Jane Smith", "jane.smith@example.com", "+1 415 555 0100", "12 Oak Street"});
  auto same = add({"", "j2", "Smith, Jane", "JaneSmith@example.com", std::nullopt, "12 Oak St."});
  auto typo = add({"", "j3", "Jane Smiht", std::nullopt, "(415) 555-0100", std::nullopt});
  auto other = add({"", "o1", "Jane Smith", "other@example.org", "+1 212 555 0199", "9 Elm Road"});
  CustomerMergeService svc(*db_);
  auto found = svc.find_duplicates(ctx_, jane);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].customer.id, same);
  EXPECT_EQ(found[1].customer.id, typo);
  EXPECT_GE(found[1].score, 0.8);
  EXPECT_LE(found[0].score, 1.0);
  EXPECT_NE(std::find(found[0].reasons.begin(), found[0].reasons.end(), "email"), found[0].reasons.end());
  EXPECT_NE(std::find(found[1].reasons.begin(), found[1].reasons.end(), "phone"), found[1].reasons.end());
  for (const auto& f : found) EXPECT_NE(f.customer.id, other);

  EXPECT_TRUE(svc.dismiss_duplicate(ctx_, typo, jane, "different person"));
  EXPECT_FALSE(svc.dismiss_duplicate(ctx_, jane, typo));
  auto after = svc.find_duplicates(ctx_, jane);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].customer.id, same);
  EXPECT_THROW(svc.find_duplicates(ctx_, "00000000-0000-0000-0000-000000000000"), domain::NotFoundError);
  RequestContext viewer{company_, "v", Role::kViewer, ""};
  EXPECT_THROW(svc.dismiss_duplicate(viewer, jane, same), domain::PermissionError);
}

TEST_F(DuplicatesTest, BulkGroupsPlantedDuplicatesAndHonoursDismissals) {
  auto data = tradesphere::devdata::generate_planted_duplicates({150, 0.3, 2, 0.1, 11});
  std::map<std::string, std::string> id_of;  // external id -> customer id
  for (const auto& m : data.records) id_of[m.id] = add(m);
  CustomerMergeService svc(*db_);
  std::vector<std::string> stages;
  tradesphere::services::BulkDuplicateOptions options;
  options.progress = [&](const std::string& stage, std::size_t, std::size_t) { stages.push_back(stage); };
  auto groups = svc.bulk_find_duplicates(ctx_, options);
  EXPECT_NE(std::find(stages.begin(), stages.end(), "group"), stages.end());
  std::vector<std::vector<std::string>> reported;
  for (const auto& g : groups) {
    reported.emplace_back();
    for (const auto& c : g.customers) reported.back().push_back(*c.external_id);
  }
  auto q = domain::evaluate_groups(reported, data.truth);
  EXPECT_GE(q.precision, 0.95);
  EXPECT_GE(q.recall, 0.90);

  auto pair = std::find_if(groups.begin(), groups.end(), [](auto& x) { return x.customers.size() == 2; });
  ASSERT_NE(pair, groups.end());
  const auto& g = *pair;
  svc.dismiss_duplicate(ctx_, g.customers[0].id, g.customers[1].id);
  auto again = svc.bulk_find_duplicates(ctx_);
  for (const auto& h : again) {
    bool both = std::any_of(h.customers.begin(), h.customers.end(), [&](auto& c) { return c.id == g.customers[0].id; }) &&
                std::any_of(h.customers.begin(), h.customers.end(), [&](auto& c) { return c.id == g.customers[1].id; });
    EXPECT_FALSE(both) << "a dismissed pair was proposed again";
  }
}

// Issue 13: the model is estimated from the company's records, stored, and used
// for one customer's candidates; every pair carries its evidence.
TEST_F(DuplicatesTest, TrainedModelIsStoredAndExplainsEveryPair) {
  auto data = tradesphere::devdata::generate_planted_duplicates({400, 0.3, 2, 0.1, 5});  // enough pairs for EM (150 people: priors)
  for (const auto& m : data.records) add(m);
  CustomerMergeService svc(*db_);
  EXPECT_EQ(svc.duplicate_model(ctx_)->source, "priors");  // nothing stored yet
  RequestContext viewer{company_, "v", Role::kViewer, ""};
  EXPECT_THROW(svc.train_duplicate_model(viewer), domain::PermissionError);

  auto report = svc.train_duplicate_model(ctx_);
  EXPECT_TRUE(report.model_stored);
  EXPECT_EQ(report.records, data.records.size());
  EXPECT_GT(report.candidate_pairs, 0u);
  EXPECT_FALSE(report.blocking.empty());
  ASSERT_TRUE(report.model);
  EXPECT_EQ(report.model->source, "em");
  auto stored = svc.duplicate_model(ctx_);
  EXPECT_EQ(stored->source, "em");
  EXPECT_DOUBLE_EQ(stored->prior_log2_odds, report.model->prior_log2_odds);
  auto row = db_->transact(ctx_, "read", [&](Tx& tx) {
    auto r = tx.exec1("SELECT source, trained_records, trained_by FROM duplicate_models");
    return std::make_tuple(r[0].as<std::string>(), r[1].as<std::size_t>(), r[2].as<std::string>());
  });
  EXPECT_EQ(std::get<0>(row), "em");
  EXPECT_EQ(std::get<1>(row), data.records.size());
  EXPECT_EQ(std::get<2>(row), "agent-1");

  // another tenant sees no model
  std::string other;
  {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    other = w.exec1("INSERT INTO companies (slug, name) VALUES ('other', 'Other') RETURNING id::text")[0].as<std::string>();
    w.commit();
  }
  RequestContext stranger{other, "x", Role::kAdmin, ""};
  EXPECT_EQ(svc.duplicate_model(stranger)->source, "priors");

  auto groups = svc.bulk_find_duplicates(ctx_);
  ASSERT_FALSE(groups.empty());
  for (const auto& g : groups) {
    EXPECT_EQ(g.pairs.size(), g.customers.size() - 1) << "a group is joined by a spanning tree of pairs";
    for (const auto& p : g.pairs) {
      EXPECT_FALSE(p.evidence.empty());
      EXPECT_GE(p.score, g.score);
    }
    auto j = tradesphere::services::to_json(g);
    EXPECT_FALSE(j["pairs"][0]["explanation"].get<std::string>().empty());
  }
  const auto& first = groups.front();
  auto found = svc.find_duplicates(ctx_, first.customers[0].id);
  ASSERT_FALSE(found.empty());
  EXPECT_FALSE(found[0].evidence.empty());
  EXPECT_NE(tradesphere::services::to_json(found[0])["explanation"].get<std::string>().find(" +"), std::string::npos);
}

// The maintained queue (migration 0016): a write queues the customer, a read scores
// what is queued and answers from the stored pairs; dismissals and merges remove
// pairs, an undo brings them back.
// The same story twice: before the company's first rebuild (candidates from the
// trigram lookup of 0011) and after it (the stored blocking index of 0022, kept
// current by the queue).
void DuplicatesTest::maintained_queue_story(bool indexed) {
  CustomerMergeService svc(*db_);
  if (indexed) {
    svc.train_duplicate_model(ctx_);  // an empty company: the index is complete with nothing in it
    pqxx::connection cn(owner_url());
    pqxx::work w(cn);
    ASSERT_EQ(w.exec1("SELECT count(*) FROM duplicate_blocking_companies WHERE company_id = " + w.quote(company_))[0]
                  .as<long>(),
              1);
  }
  auto queued = [&] {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    return w.exec1("SELECT count(*) FROM duplicate_queue WHERE company_id = " + w.quote(company_))[0].as<long>();
  };
  auto stored = [&] {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    return w.exec1("SELECT count(*) FROM duplicate_candidates WHERE company_id = " + w.quote(company_))[0].as<long>();
  };
  auto a = add({"", "q1", "Maria Gonzalez", "maria.g@example.com", "+1 415 555 0142", "12 Oak Street, Salem 97301"});
  auto b = add({"", "q2", "Gonzalez, Maria", "MARIA.G@example.com", std::nullopt, "12 Oak St, Salem 97301"});
  auto c = add({"", "q3", "Peter Brown", "peter@example.org", "+1 212 555 0199", "9 Elm Road, Albany 12207"});
  EXPECT_EQ(queued(), 3) << "created customers are queued";
  EXPECT_EQ(stored(), 0);

  auto groups = svc.duplicate_groups(ctx_, 0.6);
  EXPECT_EQ(queued(), 0) << "a read scores the queue first";
  ASSERT_EQ(groups.size(), 1u);
  ASSERT_EQ(groups[0].customers.size(), 2u);
  ASSERT_EQ(groups[0].pairs.size(), 1u);
  EXPECT_FALSE(groups[0].pairs[0].evidence.empty());
  auto found = svc.find_duplicates(ctx_, a);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].customer.id, b);
  EXPECT_TRUE(svc.find_duplicates(ctx_, c).empty());

  // an edit queues the customer again; the pair is re-scored from the new values
  db_->transact(ctx_, "edit", [&](Tx& tx) {
    tx.exec("UPDATE customers SET name = 'Peter Brown', email = 'peter@example.org', phone = '+1 212 555 0199', "
            "address = '9 Elm Road, Albany 12207' WHERE id = $1",
            b);
  });
  EXPECT_EQ(queued(), 1);
  EXPECT_TRUE(svc.find_duplicates(ctx_, a).empty()) << "b no longer looks like a";
  auto now_c = svc.find_duplicates(ctx_, c);
  ASSERT_EQ(now_c.size(), 1u);
  EXPECT_EQ(now_c[0].customer.id, b);

  // dismissal removes the pair
  EXPECT_TRUE(svc.dismiss_duplicate(ctx_, b, c));
  EXPECT_TRUE(svc.find_duplicates(ctx_, c).empty());
  EXPECT_TRUE(svc.duplicate_groups(ctx_, 0.6).empty());

  // merge removes the source's pairs; undo queues it and the pair comes back
  auto d = add({"", "q4", "Maria Gonzalez", "maria.g@example.com", "+1 415 555 0142", std::nullopt});
  ASSERT_EQ(svc.find_duplicates(ctx_, a).size(), 1u);
  RequestContext admin{company_, "admin-1", Role::kAdmin, ""};
  auto merged = svc.merge_customers(admin, a, {d});
  EXPECT_TRUE(svc.find_duplicates(ctx_, a).empty()) << "the merged source left the pairs";
  EXPECT_EQ(stored(), 0);
  svc.undo_merge(admin, merged.merge_id);
  auto back = svc.find_duplicates(ctx_, a);
  ASSERT_EQ(back.size(), 1u) << "undo queued the restored customer again";
  EXPECT_EQ(back[0].customer.id, d);

  // another company's read sees none of it
  std::string other;
  {
    pqxx::connection cn(owner_url());
    pqxx::work w(cn);
    other = w.exec1("INSERT INTO companies (slug, name) VALUES ('other2', 'Other') RETURNING id::text")[0].as<std::string>();
    w.commit();
  }
  RequestContext stranger{other, "x", Role::kAdmin, ""};
  EXPECT_TRUE(svc.duplicate_groups(stranger, 0.6).empty());
  EXPECT_EQ(svc.process_duplicate_queue(stranger), 0u);

  // every scored customer's blocking keys are stored, whichever lookup served it
  pqxx::connection cn(owner_url());
  pqxx::work w(cn);
  EXPECT_EQ(w.exec1("SELECT count(*) FROM duplicate_blocking WHERE company_id = " + w.quote(company_) +
                    " AND customer_id IN (" + w.quote(a) + ", " + w.quote(b) + ", " + w.quote(c) + ", " + w.quote(d) +
                    ")")[0]
                .as<long>(),
            4);
}

TEST_F(DuplicatesTest, MaintainedQueueFollowsCreateDismissMergeAndUndo) { maintained_queue_story(false); }

TEST_F(DuplicatesTest, MaintainedQueueFollowsCreateDismissMergeAndUndoThroughTheStoredBlockingIndex) {
  maintained_queue_story(true);
}

// After a rebuild every active customer's keys are stored and no other's; a
// customer created later is found through them by name and address alone, and
// only inside its own company.
TEST_F(DuplicatesTest, TheRebuildIndexesEveryActiveCustomerAndANewOneIsFoundThroughIt) {
  CustomerMergeService svc(*db_);
  auto a = add({"", "b1", "Jonathan Whitaker", std::nullopt, std::nullopt, "42 Harbour Road, Port Elliot SA 5212"});
  auto gone = add({"", "b2", "Peter Brown", "peter@example.org", std::nullopt, "9 Elm Road, Albany 12207"});
  add({"", "b3", "Susan Clarke", std::nullopt, "+61 8 8554 2291", "7 Beach Parade, Victor Harbor SA 5211"});
  db_->transact(ctx_, "delete", [&](Tx& tx) { tx.exec("UPDATE customers SET status = 'deleted' WHERE id = $1", gone); });
  svc.train_duplicate_model(ctx_);
  auto keys = [&](const std::string& where) {
    pqxx::connection cn(owner_url());
    pqxx::work w(cn);
    return w.exec1("SELECT count(*) FROM duplicate_blocking b WHERE b.company_id = " + w.quote(company_) + where)[0]
        .as<long>();
  };
  EXPECT_EQ(keys(""), 2) << "the two active customers";
  EXPECT_EQ(keys(" AND customer_id = '" + gone + "'"), 0) << "not the deleted one";

  // name and address only: no email or phone to meet on
  auto b = add({"", "b4", "Whitaker, Jonathon", std::nullopt, std::nullopt, "42 Harbour Rd, Port Elliot SA 5212"});
  EXPECT_EQ(svc.process_duplicate_queue(ctx_), 1u);
  EXPECT_EQ(keys(" AND customer_id = '" + b + "'"), 1);
  auto found = svc.find_duplicates(ctx_, a);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].customer.id, b);

  // the same customer in another company is not a candidate across the boundary
  std::string other;
  {
    pqxx::connection cn(owner_url());
    pqxx::work w(cn);
    other = w.exec1("INSERT INTO companies (slug, name) VALUES ('other3', 'Other') RETURNING id::text")[0].as<std::string>();
    w.commit();
  }
  RequestContext stranger{other, "x", Role::kAgent, ""};
  CustomerMergeService svc2(*db_);
  svc2.train_duplicate_model(stranger);
  db_->transact(stranger, "seed", [&](Tx& tx) {
    tx.exec("INSERT INTO customers (company_id, name, address) VALUES ($1, 'Jonathan Whitaker', "
            "'42 Harbour Road, Port Elliot SA 5212')",
            other);
  });
  EXPECT_EQ(svc2.process_duplicate_queue(stranger), 1u);
  EXPECT_TRUE(svc2.duplicate_groups(stranger, 0.6).empty());
  ASSERT_EQ(svc.find_duplicates(ctx_, a).size(), 1u) << "nothing of the other company";
}

// A rebuild writes only what changed (0029): a second rebuild of the same data
// writes no blocking row and no pair (the rows keep their xmin), and after a
// name change and a deletion a rebuild with the stored model rewrites that one customer's keys, drops the
// deleted customer's keys and pairs, and keeps the untouched pair as it was.
TEST_F(DuplicatesTest, ARebuildWritesOnlyWhatChangedAndRemovesWhatIsGone) {
  CustomerMergeService svc(*db_);
  auto a1 = add({"", "r1", "Jonathan Whitaker", "jwhitaker@example.org", std::nullopt, "42 Harbour Road, Port Elliot SA 5212"});
  auto a2 = add({"", "r2", "Jonathon Whitaker", "jwhitaker@example.org", std::nullopt, "42 Harbour Rd, Port Elliot SA 5212"});
  auto b1 = add({"", "r3", "Susan Clarke", "susan.clarke@example.com", "+61 8 8554 2291", "7 Beach Parade, Victor Harbor SA 5211"});
  auto b2 = add({"", "r4", "Susan Clark", "susan.clarke@example.com", "+61 8 8554 2291", "7 Beach Pde, Victor Harbor SA 5211"});
  auto c1 = add({"", "r5", "Peter Brown", "peter@example.net", std::nullopt, "9 Elm Road, Albany 12207"});
  auto owner = [&](const std::string& sql) {
    pqxx::connection cn(owner_url());
    pqxx::work w(cn);
    return w.exec(sql + " AND company_id = " + w.quote(company_));
  };
  auto snapshot = [&](const std::string& sql) {
    std::map<std::string, std::string> out;
    for (const auto& r : owner(sql)) out[r[0].as<std::string>()] = r[1].as<std::string>();
    return out;
  };
  const std::string pairs_sql = "SELECT customer_a || ' ' || customer_b, xmin::text FROM duplicate_candidates WHERE true";
  const std::string keys_sql = "SELECT customer_id::text, xmin::text FROM duplicate_blocking WHERE true";

  auto first = svc.train_duplicate_model(ctx_);
  ASSERT_TRUE(first.index);
  EXPECT_EQ(first.index->customers_written, 5u);
  const auto pairs1 = snapshot(pairs_sql);
  const auto keys1 = snapshot(keys_sql);
  ASSERT_EQ(pairs1.size(), 2u) << "the Whitakers and the Clarkes";
  ASSERT_EQ(keys1.size(), 5u);

  auto again = svc.train_duplicate_model(ctx_);
  ASSERT_TRUE(again.index);
  EXPECT_EQ(again.index->customers_written, 0u);
  EXPECT_EQ(again.index->customers_removed, 0u);
  EXPECT_EQ(snapshot(pairs_sql), pairs1) << "no pair rewritten";
  EXPECT_EQ(snapshot(keys_sql), keys1) << "no blocking row rewritten";

  db_->transact(ctx_, "edit", [&](Tx& tx) {
    tx.exec("UPDATE customers SET name = 'Peter Browning', address = '11 Oak Street, Albany 12208' WHERE id = $1", c1);
    tx.exec("UPDATE customers SET status = 'deleted' WHERE id = $1", b2);
  });
  // a rebuild with the stored model (a retrain would move every score a little)
  tradesphere::services::DuplicateScanReport third;
  tradesphere::services::BulkDuplicateOptions options;
  options.scoring.threshold = CustomerMergeService::kStoredPairFloor;
  options.report = &third;
  svc.bulk_find_duplicates(ctx_, options);
  ASSERT_TRUE(third.index);
  EXPECT_EQ(third.index->customers_written, 1u) << "Peter's new keys";
  EXPECT_EQ(third.index->customers_removed, 1u) << "the deleted Susan";
  const auto pairs3 = snapshot(pairs_sql);
  const auto keys3 = snapshot(keys_sql);
  ASSERT_EQ(pairs3.size(), 1u);
  const auto whitakers = std::min(a1, a2) + " " + std::max(a1, a2);
  ASSERT_TRUE(pairs3.count(whitakers));
  EXPECT_EQ(pairs3.at(whitakers), pairs1.at(whitakers)) << "the untouched pair is not rewritten";
  EXPECT_EQ(keys3.size(), 4u);
  EXPECT_FALSE(keys3.count(b2));
  EXPECT_EQ(keys3.at(a1), keys1.at(a1));
  EXPECT_EQ(keys3.at(b1), keys1.at(b1));
  EXPECT_NE(keys3.at(c1), keys1.at(c1));

  // a dismissed pair stays removed through a rebuild (and a retrain)
  ASSERT_TRUE(svc.dismiss_duplicate(ctx_, a2, a1));
  EXPECT_TRUE(snapshot(pairs_sql).empty()) << "the dismissal removed the pair";
  svc.bulk_find_duplicates(ctx_, options);
  EXPECT_TRUE(snapshot(pairs_sql).empty()) << "the rebuild did not store the dismissed pair again";
  svc.train_duplicate_model(ctx_);
  EXPECT_TRUE(snapshot(pairs_sql).empty());
  EXPECT_TRUE(svc.duplicate_groups(ctx_, 0.6).empty());
}

// A rebuild stores the size of every block of more than kAlwaysReadBlock
// customers (0025), exactly those and with their true sizes; the per-customer
// lookup still finds a new customer's duplicate inside such a town.
TEST_F(DuplicatesTest, TheRebuildStoresTheSizesOfTheLargeBlocksAndTheLookupStillFindsDuplicates) {
  CustomerMergeService svc(*db_);
  db_->transact(ctx_, "seed", [&](Tx& tx) {
    tx.exec("INSERT INTO customers (company_id, name, address, source) "
            "SELECT $1, 'Alex ' || (ARRAY['Quill','Brent','Marsh','Tovey','Pryce','Oakes','Lyle','Dunn'])[1 + i % 8] || i, "
            "       i || ' Harbour Road, Port Elliot SA 5212', 'import' FROM generate_series(1, 60) AS i",
            company_);
  });
  auto a = add({"", "x1", "Morwenna Trelawney", std::nullopt, std::nullopt, "7 Cliff Lane, Port Elliot SA 5212"});
  svc.train_duplicate_model(ctx_);
  pqxx::connection cn(owner_url());
  auto sizes = [&](const std::string& sql) {
    pqxx::work w(cn);
    std::map<std::int64_t, long> out;
    for (const auto& r : w.exec(sql)) out[r[0].as<std::int64_t>()] = r[1].as<long>();
    return out;
  };
  const auto stored = sizes("SELECT key, size FROM duplicate_block_sizes WHERE company_id = '" + company_ + "'");
  const auto counted = sizes("SELECT k, count(*) FROM duplicate_blocking b, unnest(b.keys) AS k WHERE b.company_id = '" +
                             company_ + "' GROUP BY k HAVING count(*) > " + std::to_string(tradesphere::domain::kAlwaysReadBlock));
  EXPECT_FALSE(stored.empty()) << "61 customers of one town share its keys";
  EXPECT_EQ(stored, counted);

  auto b = add({"", "x2", "Trelawney, Morwena", std::nullopt, std::nullopt, "7 Cliff Ln, Port Elliot SA 5212"});
  EXPECT_EQ(svc.process_duplicate_queue(ctx_), 1u);
  auto found = svc.find_duplicates(ctx_, a);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].customer.id, b);

  // a second rebuild replaces the sizes: the town shrinks below the threshold
  db_->transact(ctx_, "shrink", [&](Tx& tx) {
    tx.exec("UPDATE customers SET status = 'deleted' WHERE company_id = $1 AND name LIKE 'Alex %'", company_);
  });
  svc.train_duplicate_model(ctx_);
  EXPECT_TRUE(sizes("SELECT key, size FROM duplicate_block_sizes WHERE company_id = '" + company_ + "'").empty());
}

TEST_F(DuplicatesTest, BackgroundWorkerScoresEveryCompanysQueue) {
  add({"", "w1", "Maria Gonzalez", "maria.g@example.com", "+1 415 555 0142", std::nullopt});
  add({"", "w2", "Maria Gonzalez", "maria.g@example.com", std::nullopt, std::nullopt});
  tradesphere::services::DuplicateQueueWorker worker(*db_, std::chrono::hours(1));  // only run_once() below
  EXPECT_EQ(worker.run_once(), 2u);
  EXPECT_EQ(worker.run_once(), 0u) << "nothing left";
  pqxx::connection c(owner_url());
  pqxx::work w(c);
  EXPECT_EQ(w.exec1("SELECT count(*) FROM duplicate_candidates WHERE company_id = " + w.quote(company_))[0].as<long>(), 1);
}

// A read scores one bounded slice of the queue; a larger backlog is the worker's.
TEST_F(DuplicatesTest, AReadScoresOnlyABoundedSliceOfALargeBacklog) {
  std::string first;
  for (std::size_t i = 0; i < CustomerMergeService::kReadQueueSlice + 30; ++i) {
    auto id = add({"", "b" + std::to_string(i), "Person " + std::to_string(i), std::nullopt, std::nullopt, std::nullopt});
    if (i == 0) first = id;
  }
  CustomerMergeService svc(*db_);
  svc.find_duplicates(ctx_, first);
  pqxx::connection c(owner_url());
  pqxx::work w(c);
  EXPECT_EQ(w.exec1("SELECT count(*) FROM duplicate_queue WHERE company_id = " + w.quote(company_))[0].as<long>(), 30);
}

// A rebuild holds the company's duplicate-write lock while it replaces every
// pair and key; the queue's scoring then leaves its slice queued instead of
// writing the same rows in another order (they deadlocked each other: an
// `import` retraining beside a running server failed "the database is busy").
TEST_F(DuplicatesTest, QueueScoringLeavesItsSliceWhileARebuildHoldsTheCompanysPairs) {
  CustomerMergeService svc(*db_);
  add({"", "l1", "Maria Gonzalez", "maria.g@example.com", std::nullopt, "12 Oak Street, Salem 97301"});
  pqxx::connection holder(owner_url());
  pqxx::work held(holder);
  held.exec("SELECT pg_advisory_xact_lock(chat_lock_key(" + held.quote(company_) + "::uuid, 'duplicates', ''))");
  EXPECT_EQ(svc.process_duplicate_queue(ctx_), 0u) << "the slice waits for the rebuild";
  {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    EXPECT_EQ(w.exec1("SELECT count(*) FROM duplicate_queue WHERE company_id = " + w.quote(company_))[0].as<long>(), 1)
        << "nothing was claimed";
  }
  held.abort();
  EXPECT_EQ(svc.process_duplicate_queue(ctx_), 1u) << "the lock released, the slice is scored";
}

}  // namespace

namespace {

std::int64_t pairs_version(Database& db, const RequestContext& ctx) {
  return db.transact(ctx, "v", [&](Tx& tx) { return tradesphere::db::duplicate_pairs_version(tx, ctx.company_id); });
}

// GET /v1/duplicates answers from the grouped pairs kept in memory while the
// company's pair version (migration 0019) stands; any change regroups.
TEST_F(DuplicatesTest, GroupsAreKeptUntilThePairsOrDismissalsChange) {
  CustomerMergeService svc(*db_);
  auto a = add({"", "g1", "Maria Gonzalez", "maria.g@example.com", "+1 415 555 0142", "12 Oak Street, Salem 97301"});
  auto b = add({"", "g2", "Maria Gonzalez", "maria.g@example.com", std::nullopt, "12 Oak St, Salem 97301"});
  ASSERT_EQ(svc.duplicate_groups(ctx_, 0.6).size(), 1u);
  const auto v1 = pairs_version(*db_, ctx_);
  EXPECT_GT(v1, 0) << "storing the pairs bumped the version";
  auto held = svc.group_cache()->find(company_, 0.6);
  ASSERT_NE(held, nullptr) << "the groups are kept";
  EXPECT_EQ(held->version, v1);
  std::size_t total = 0;
  auto again = svc.duplicate_groups(ctx_, 0.6, 10, &total);
  EXPECT_EQ(pairs_version(*db_, ctx_), v1) << "a read without changes changes nothing";
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(total, 1u);
  EXPECT_FALSE(again[0].pairs[0].evidence.empty()) << "evidence is read for the page";

  // a new duplicate of a: the next read regroups (a, b, c)
  auto c = add({"", "g3", "Maria Gonzales", "maria.g@example.com", "+1 415 555 0142", std::nullopt});
  auto grown = svc.duplicate_groups(ctx_, 0.6);
  ASSERT_EQ(grown.size(), 1u);
  EXPECT_EQ(grown[0].customers.size(), 3u);
  EXPECT_GT(pairs_version(*db_, ctx_), v1);

  // every pair of b dismissed: b leaves the group at once
  svc.dismiss_duplicate(ctx_, a, b);
  svc.dismiss_duplicate(ctx_, b, c);
  auto without_b = svc.duplicate_groups(ctx_, 0.6);
  ASSERT_EQ(without_b.size(), 1u);
  ASSERT_EQ(without_b[0].customers.size(), 2u);
  for (const auto& m : without_b[0].customers) EXPECT_NE(m.id, b);

  // a merge removes the group
  RequestContext admin{company_, "admin-1", Role::kAdmin, ""};
  svc.merge_customers(admin, a, {c});
  EXPECT_TRUE(svc.duplicate_groups(ctx_, 0.6).empty());

  // a second service sharing the cache (the queue worker) regroups what readers hold
  auto d = add({"", "g4", "Peter Brown", "peter@example.org", "+1 212 555 0199", std::nullopt});
  add({"", "g5", "Peter Brown", "peter@example.org", std::nullopt, std::nullopt});
  tradesphere::services::DuplicateQueueWorker worker(*db_, std::chrono::hours(1), svc.group_cache());
  EXPECT_EQ(worker.run_once(), 2u);
  const auto v2 = pairs_version(*db_, ctx_);
  auto kept = svc.group_cache()->find(company_, 0.6);
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->version, v2) << "the worker regrouped the entry readers hold";
  EXPECT_EQ(kept->groups.size(), 1u);
  (void)d;
}


// What GET /v1/duplicates shows, comparable across services: per group its score,
// members and linked pairs (ids sorted).
std::vector<std::tuple<double, std::vector<std::string>, std::vector<std::pair<std::string, std::string>>>> shown(
    CustomerMergeService& svc, const RequestContext& ctx) {
  std::vector<std::tuple<double, std::vector<std::string>, std::vector<std::pair<std::string, std::string>>>> out;
  for (const auto& g : svc.duplicate_groups(ctx, 0.6, 1000)) {
    std::vector<std::string> members;
    for (const auto& m : g.customers) members.push_back(m.id);
    std::sort(members.begin(), members.end());
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& p : g.pairs) pairs.push_back(std::minmax(p.a, p.b));
    std::sort(pairs.begin(), pairs.end());
    out.emplace_back(g.score, members, pairs);
  }
  return out;
}

// Migration 0033: a reader holding the groups of version V applies only the pairs
// logged after V. At every step the kept groups must equal a fresh read's.
TEST_F(DuplicatesTest, KeptGroupsFollowTheLoggedChangesExactlyAsAFreshRead) {
  CustomerMergeService svc(*db_);
  auto fresh = [&] {
    CustomerMergeService other(*db_);  // its own cache: reads every pair
    return shown(other, ctx_);
  };
  auto a = add({"", "k1", "Maria Gonzalez", "maria.g@example.com", "+1 415 555 0142", "12 Oak Street, Salem 97301"});
  auto b = add({"", "k2", "Maria Gonzalez", "maria.g@example.com", std::nullopt, "12 Oak St, Salem 97301"});
  auto p1 = add({"", "k3", "Peter Brown", "peter@example.org", "+1 212 555 0199", "9 Elm Road, Albany 12207"});
  auto p2 = add({"", "k4", "Peter Brown", "peter@example.org", std::nullopt, std::nullopt});
  auto first = shown(svc, ctx_);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first, fresh());
  const auto logged = [&] {
    pqxx::connection cn(owner_url());
    pqxx::work w(cn);
    return w.exec1("SELECT count(*) FROM duplicate_pair_changes WHERE company_id = " + w.quote(company_))[0].as<long>();
  };
  EXPECT_GT(logged(), 0) << "storing pairs logged their keys";

  // a third Maria joins the group; a dismissal splits it again
  auto c = add({"", "k5", "Maria Gonzales", "maria.g@example.com", "+1 415 555 0142", std::nullopt});
  auto grown = shown(svc, ctx_);
  EXPECT_EQ(grown, fresh());
  ASSERT_EQ(std::get<1>(grown[0]).size() + std::get<1>(grown[1]).size(), 5u);
  const auto before_dismissal = svc.group_cache()->find(company_, 0.6);
  svc.dismiss_duplicate(ctx_, a, b);
  svc.dismiss_duplicate(ctx_, b, c);
  auto split = shown(svc, ctx_);
  EXPECT_EQ(split, fresh());
  for (const auto& g : split)
    for (const auto& m : std::get<1>(g)) EXPECT_NE(m, b);
  const auto after_dismissal = svc.group_cache()->find(company_, 0.6);
  ASSERT_NE(before_dismissal, nullptr);
  ASSERT_NE(after_dismissal, nullptr);
  EXPECT_GT(after_dismissal->version, before_dismissal->version);
  EXPECT_EQ(after_dismissal->table.id_count(), before_dismissal->table.id_count())
      << "applied to the kept table (a fresh read would not know b any more)";

  // a merge removes the source's pairs; its undo brings them back
  RequestContext admin{company_, "admin-1", Role::kAdmin, ""};
  auto merged = svc.merge_customers(admin, p1, {p2});
  EXPECT_EQ(shown(svc, ctx_), fresh());
  svc.undo_merge(admin, merged.merge_id);
  auto undone = shown(svc, ctx_);
  EXPECT_EQ(undone, fresh());
  EXPECT_EQ(undone.size(), 2u);

  // a log that no longer reaches back to the kept version (pruned, or versions
  // bumped before migration 0033): everything is read
  const auto kept = svc.group_cache()->find(company_, 0.6);
  ASSERT_NE(kept, nullptr);
  {
    pqxx::connection cn(owner_url());
    pqxx::work w(cn);
    w.exec0("DELETE FROM duplicate_pair_changes WHERE company_id = " + w.quote(company_));
    w.exec0("UPDATE duplicate_pair_versions SET version = version + 5 WHERE company_id = " + w.quote(company_));
    w.commit();
  }
  svc.dismiss_duplicate(ctx_, a, c);
  EXPECT_GT(logged(), 0) << "the dismissal logged its key";
  auto last = shown(svc, ctx_);
  EXPECT_EQ(last, fresh());
  const auto reread = svc.group_cache()->find(company_, 0.6);
  ASSERT_NE(reread, nullptr);
  EXPECT_LT(reread->table.id_count(), kept->table.id_count()) << "a fresh table knows only the ids of current pairs";
  EXPECT_EQ(last.size(), 1u);
}

}  // namespace
