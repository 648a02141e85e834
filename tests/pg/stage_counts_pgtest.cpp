// Migration 0049: the per-company stage counts (customer_stage_counts, signed deltas
// appended by the statement triggers of customers) equal a recount of the active
// customers after every write the product makes, in two companies; writers of one
// company never wait for each other on them; a stage change is a heap-only-tuple
// update; the update trigger's changed_fields is still 0032's jsonb difference.
// docs/database.md, "Stage counts".
#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "core_fixture.hpp"
#include "db/customer_repository.hpp"
#include "domain/errors.hpp"
#include "services/company_admin_service.hpp"
#include "services/customer_crud_service.hpp"
#include "services/customer_import_service.hpp"
#include "services/customer_lifecycle_service.hpp"
#include "services/customer_merge_service.hpp"
#include "services/customer_sync_service.hpp"
#include "services/overview_service.hpp"

namespace {

namespace domain = tradesphere::domain;
namespace services = tradesphere::services;
using domain::LifecycleStage;

// (company, stage) -> active customers; zero counts left out.
using Counts = std::map<std::string, long>;

Counts to_counts(const pqxx::result& r) {
  Counts out;
  for (const auto& row : r) {
    if (row[2].as<long>() != 0) out[row[0].as<std::string>() + "/" + row[1].as<std::string>()] = row[2].as<long>();
  }
  return out;
}

const LifecycleStage kStages[] = {LifecycleStage::kProspect, LifecycleStage::kLead, LifecycleStage::kCustomer,
                                  LifecycleStage::kChurned};

class CustomerStageCountsTest : public tradesphere::testing::CoreTest {
 protected:
  void SetUp() override {
    CoreTest::SetUp();
    services::CompanyAdminService(*owner_db).add_user("admin-b", company_b, domain::Role::kAdmin);
    admin_a = {company_a, "admin-a", domain::Role::kAdmin, "stage-a"};
    admin_b = {company_b, "admin-b", domain::Role::kAdmin, "stage-b"};
  }

  // What the triggers maintain, summed.
  Counts stored() {
    return to_counts(owner_exec("SELECT company_id::text, lifecycle_stage, sum(customers)::bigint "
                                "FROM customer_stage_counts GROUP BY 1, 2"));
  }
  // Written independently of the migration's customer_stage_count_drift().
  Counts recounted() {
    return to_counts(owner_exec("SELECT company_id::text, lifecycle_stage, count(*) FROM customers "
                                "WHERE status = 'active' GROUP BY 1, 2"));
  }

  std::vector<std::string> ids(const std::string& company, const std::string& status) {
    std::vector<std::string> out;
    for (const auto& r : owner_exec("SELECT id::text FROM customers WHERE company_id = '" + company +
                                    "' AND status = '" + status + "' ORDER BY id")) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  }

  domain::RequestContext admin_a, admin_b;
};

TEST_F(CustomerStageCountsTest, EveryWritePathKeepsTheCountsEqualToARecount) {
  services::CustomerCrudService crud(*db);
  services::CustomerLifecycleService lifecycle(*db);
  services::CustomerSyncService sync(*db);
  services::CustomerImportService import(*db);
  services::CustomerMergeService merges(*db);
  std::mt19937 rng(20261208);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  auto pick_of = [&](const std::vector<std::string>& v) { return v[static_cast<std::size_t>(pick(static_cast<int>(v.size())))]; };
  auto stage = [&] { return kStages[pick(4)]; };
  std::map<std::string, std::vector<std::string>> merge_ids;  // per company
  std::map<std::string, int> done;
  int serial = 0;
  for (int step = 0; step < 300; ++step) {
    const bool in_a = pick(3) != 0;
    const auto& company = in_a ? company_a : company_b;
    const auto& agent = in_a ? agent_a : agent_b;
    const auto& admin = in_a ? admin_a : admin_b;
    const auto tech = in_a ? std::string("tech-a") : std::string("tech-b");
    const auto active = ids(company, "active");
    const int op = active.size() < 4 ? pick(20) : pick(100);
    std::string what;
    try {
      if (op < 12) {  // POST /v1/customers
        what = "api create";
        const auto n = std::to_string(++serial);
        auto c = person("Api Person " + n, "api" + n + "@example.com");
        c.stage = stage();
        crud.create_customer(agent, c);
      } else if (op < 20) {  // import: one multi-row INSERT per batch, stages from the file
        what = "import";
        std::ostringstream csv;
        csv << "name,email,lifecycle_stage\n";
        for (int k = 0, n = 1 + pick(5); k < n; ++k) {
          ++serial;
          csv << "Imported " << serial << ",imp" << serial << "@example.com," << domain::to_string(stage()) << "\n";
        }
        std::istringstream in(csv.str());
        import.import_csv(agent, in, {});
      } else if (op < 30) {  // chat sync: new contacts (the deferred path) and known ones (the metrics copy)
        what = "chat";
        std::vector<domain::ChatRecord> batch;
        for (int k = 0, n = pick(3) == 0 ? 1 + pick(4) : 1; k < n; ++k) {
          const bool known = pick(2) == 0;
          const auto email = known ? "chat" + std::to_string(pick(serial + 1)) + "@example.com"
                                   : "chat" + std::to_string(++serial) + "@example.com";
          batch.push_back(chat("s-" + std::to_string(pick(40)), tech, "Chat Person", email, "hello"));
        }
        if (batch.size() == 1) {
          sync.sync_from_chat(agent, batch[0]);
        } else {
          sync.sync_batch_from_chat(agent, batch);
        }
      } else if (op < 45) {  // one customer's stage (possibly the one it has)
        what = "stage";
        lifecycle.update_lifecycle_stage(agent, pick_of(active), stage());
      } else if (op < 60) {  // bulk stage: active, deleted and unknown ids
        what = "bulk stage";
        std::vector<std::string> some;
        for (int k = 0, n = 1 + pick(8); k < n; ++k) some.push_back(pick_of(active));
        const auto deleted = ids(company, "deleted");
        if (!deleted.empty() && pick(2) == 0) some.push_back(pick_of(deleted));
        if (pick(4) == 0) some.push_back("00000000-0000-4000-8000-000000000000");
        lifecycle.bulk_update_lifecycle_stage(agent, some, stage());
      } else if (op < 68) {  // soft delete
        what = "delete";
        crud.soft_delete_customer(agent, pick_of(active));
      } else if (op < 74) {  // restore
        what = "restore";
        const auto deleted = ids(company, "deleted");
        if (!deleted.empty()) crud.restore_customer(agent, pick_of(deleted));
      } else if (op < 82) {  // merge one or two sources into a target
        what = "merge";
        const auto target = pick_of(active);
        std::vector<std::string> sources;
        for (int k = 0, n = 1 + pick(2); k < n; ++k) {
          const auto s = pick_of(active);
          if (s != target && std::find(sources.begin(), sources.end(), s) == sources.end()) sources.push_back(s);
        }
        if (!sources.empty()) merge_ids[company].push_back(merges.merge_customers(admin, target, sources).merge_id);
      } else if (op < 88) {  // undo a merge (refused when a later change blocks an exact undo)
        what = "undo";
        auto& mine = merge_ids[company];
        if (!mine.empty()) {
          // mostly the latest merge (an older one is often blocked by later edits)
          const auto at = pick(3) == 0 ? pick(static_cast<int>(mine.size())) : static_cast<int>(mine.size()) - 1;
          const auto id = mine[static_cast<std::size_t>(at)];
          mine.erase(mine.begin() + at);
          merges.undo_merge(admin, id);
        }
      } else if (op < 92) {  // hard delete (owner maintenance; the application cannot)
        what = "hard delete";
        const auto victim = pick(3) == 0 && !ids(company, "deleted").empty() ? pick_of(ids(company, "deleted"))
                                                                           : pick_of(active);
        try {
          owner_exec("DELETE FROM customers c WHERE c.id = '" + victim +
                     "' AND NOT EXISTS (SELECT 1 FROM customer_merge_log l WHERE l.source_customer_id = c.id "
                     "OR l.target_customer_id = c.id) AND NOT EXISTS (SELECT 1 FROM customers m "
                     "WHERE m.merged_into_customer_id = c.id)");
        } catch (const pqxx::integrity_constraint_violation&) {
          what += " refused";  // still referenced (a foreign key without cascade)
        }
      } else if (op < 96) {  // one owner statement over both companies (one delta row per company)
        what = "two companies";
        const auto a = ids(company_a, "active");
        const auto b = ids(company_b, "active");
        if (!a.empty() && !b.empty()) {
          owner_exec("UPDATE customers SET lifecycle_stage = CASE WHEN company_id = '" + company_a + "' THEN '" +
                     std::string(domain::to_string(stage())) + "' ELSE '" + std::string(domain::to_string(stage())) +
                     "' END, status = CASE WHEN id = '" + b.front() + "' THEN 'deleted' ELSE status END "
                     "WHERE id IN ('" + pick_of(a) + "', '" + pick_of(a) + "', '" + b.front() + "', '" + b.back() + "')");
        }
      } else {  // a fold, as a trigger does now and then
        what = "compact";
        owner_exec("SELECT customer_stage_counts_compact('" + company + "')");
      }
      ++done[what];
    } catch (const domain::Error& e) {
      ++done[what + " refused"];  // e.g. an email in use, an undo made impossible by a later edit
    }
    // after every step: a drift that a later step repairs is still a bug
    ASSERT_EQ(stored(), recounted()) << "step " << step << ": " << what;
  }
  std::string summary;
  for (const auto& [kind, n] : done) summary += kind + " " + std::to_string(n) + ", ";
  RecordProperty("operations", summary);
  for (const char* kind : {"api create", "import", "chat", "stage", "bulk stage", "delete", "restore", "merge", "undo",
                           "hard delete", "two companies", "compact"}) {
    EXPECT_GT(done[kind], 2) << "the sequence should exercise " << kind << " (" << summary << ")";
  }
  EXPECT_EQ(owner_exec("SELECT count(*) FROM customer_stage_count_drift('" + company_a +
                       "') UNION ALL SELECT count(*) FROM customer_stage_count_drift('" + company_b + "')")[0][0]
                .as<long>(),
            0);

  // The readers: the Overview, the list's total by stage, /metrics' gauges.
  const auto counts = recounted();
  const auto count_of = [&](const std::string& company, LifecycleStage s) {
    auto it = counts.find(company + "/" + std::string(domain::to_string(s)));
    return it == counts.end() ? 0L : it->second;
  };
  const auto overview = services::OverviewService(*db).get_overview(agent_a).counts;
  EXPECT_EQ(overview.prospect, count_of(company_a, LifecycleStage::kProspect));
  EXPECT_EQ(overview.lead, count_of(company_a, LifecycleStage::kLead));
  EXPECT_EQ(overview.customer, count_of(company_a, LifecycleStage::kCustomer));
  EXPECT_EQ(overview.churned, count_of(company_a, LifecycleStage::kChurned));
  long all = 0;
  for (const auto s : kStages) {
    domain::CustomerFilters f;
    f.stage = s;
    f.include_total = true;
    f.limit = 1;
    EXPECT_EQ(crud.get_customers(agent_a, f).total.value_or(-1), count_of(company_a, s)) << domain::to_string(s);
    f.has_email = true;  // another filter: counted from the customers
    EXPECT_EQ(crud.get_customers(agent_a, f).total.value_or(-1),
              owner_exec("SELECT count(*) FROM customers WHERE company_id = '" + company_a +
                         "' AND status = 'active' AND coalesce(email, '') <> '' AND lifecycle_stage = '" +
                         std::string(domain::to_string(s)) + "'")[0][0]
                  .as<long>());
    all += count_of(company_a, s);
  }
  domain::CustomerFilters f;
  f.include_total = true;
  f.limit = 1;
  EXPECT_EQ(crud.get_customers(agent_a, f).total.value_or(-1), all);
  EXPECT_EQ(to_counts(owner_exec("SELECT company_id::text, lifecycle_stage, customers FROM customer_gauges()")), counts);

  // changed_fields of every customer update audited in the run: 0032's jsonb difference.
  const auto audited = owner_exec(
      "SELECT count(*), count(*) FILTER (WHERE changed_fields IS DISTINCT FROM ARRAY("
      "  SELECT k.key FROM jsonb_each(after) k WHERE k.value IS DISTINCT FROM before -> k.key ORDER BY k.key)) "
      "FROM customer_audit_log WHERE table_name = 'customers' AND operation = 'UPDATE'")[0];
  EXPECT_GT(audited[0].as<long>(), 100);
  EXPECT_EQ(audited[1].as<long>(), 0);
}

// Every column of customers is compared by the update trigger's changed_fields (a
// column added later must join its list), and an update of every kind of column
// names exactly the columns whose value changed.
TEST_F(CustomerStageCountsTest, ChangedFieldsNamesEveryChangedColumnLikeTheJsonbDifference) {
  const auto missing = owner_exec(
      "SELECT string_agg(a.attname, ', ') FROM pg_attribute a "
      " WHERE a.attrelid = 'customers'::regclass AND a.attnum > 0 AND NOT a.attisdropped "
      "   AND position(format('THEN %L END', a.attname) IN "
      "                (SELECT p.prosrc FROM pg_proc p WHERE p.proname = 'customers_update_statement')) = 0");
  EXPECT_TRUE(missing[0][0].is_null()) << "not in changed_fields: " << missing[0][0].c_str();

  services::CustomerCrudService crud(*db);
  const auto c = crud.create_customer(agent_a, person("Every Column", "every@example.com", "555-0100"));
  owner_exec("UPDATE customers SET name = 'Every Column Two', email = NULL, phone = '555-0101', address = 'A st', "
             "notes = 'n', attributes = '{\"k\": [1, 2]}', tags = '{vip}', source = 'import', external_id = 'x-1', "
             "lifecycle_stage = 'lead', metric_message_count = 3, metric_last_contact_at = now() "
             "WHERE id = '" + c.id + "'");
  owner_exec("UPDATE customers SET status = 'deleted', attributes = '{\"k\": [1, 2]}', tags = '{vip}' "
             "WHERE id = '" + c.id + "'");
  const auto rows = owner_exec("SELECT array_to_string(changed_fields, ',') FROM customer_audit_log "
                               "WHERE customer_id = '" + c.id + "' AND operation = 'UPDATE' ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0].as<std::string>(),
            "address,attributes,email,external_id,lifecycle_stage,metric_last_contact_at,metric_message_count,name,"
            "notes,phone,source,tags,updated_at,updated_by,version")
      << "updated_by: the owner's statement has no app.user_id";
  EXPECT_EQ(rows[1][0].as<std::string>(), "deleted_at,status,updated_at,version");
}

// Creating customers appends; only a fold deletes, and a second fold of the same
// company does not wait for the first: it skips. So two transactions writing
// customers of one company never wait for each other on the counts.
TEST_F(CustomerStageCountsTest, TwoTransactionsWritingOneCompanyDoNotWaitForEachOther) {
  services::CustomerCrudService crud(*db);
  for (int i = 0; i < 5; ++i) crud.create_customer(agent_a, person("Before " + std::to_string(i)));
  const auto tenant = [&](pqxx::transaction_base& tx) {
    tx.exec_params("SELECT set_config('app.company_id', $1, true), set_config('app.user_id', 'tx', true)", company_a);
    tx.exec("SET LOCAL lock_timeout = '2s'");
  };
  pqxx::connection c1(owner_url());
  pqxx::work t1(c1);
  t1.exec("INSERT INTO customers (company_id, name, lifecycle_stage) VALUES ('" + company_a + "', 'First', 'lead')");
  EXPECT_GT(t1.exec1("SELECT customer_stage_counts_compact('" + company_a + "')")[0].as<int>(), 1)
      << "the first fold removes the committed rows (and its own)";

  pqxx::connection c2(app_url());
  pqxx::work t2(c2);
  tenant(t2);
  // would wait for t1 (and fail after lock_timeout) if writers shared a row or a lock
  t2.exec("INSERT INTO customers (company_id, name, lifecycle_stage) VALUES ('" + company_a + "', 'Second', 'lead'), ('" +
          company_a + "', 'Third', 'churned')");
  t2.exec("UPDATE customers SET lifecycle_stage = 'customer' WHERE name = 'Before 1'");
  pqxx::connection c3(owner_url());
  pqxx::work t3(c3);
  t3.exec("SET LOCAL lock_timeout = '2s'");
  EXPECT_EQ(t3.exec1("SELECT customer_stage_counts_compact('" + company_a + "')")[0].as<int>(), -1)
      << "a second fold of the company skips instead of waiting";
  t3.commit();
  t2.commit();
  t1.commit();
  EXPECT_EQ(stored(), recounted());
  EXPECT_EQ(recounted()[company_a + "/lead"], 2);
  EXPECT_EQ(recounted()[company_a + "/churned"], 1);
  EXPECT_GE(owner_exec("SELECT customer_stage_counts_compact('" + company_a + "')")[0][0].as<int>(), 4);
  EXPECT_EQ(owner_exec("SELECT count(*) FROM customer_stage_counts WHERE company_id = '" + company_a + "'")[0][0].as<int>(),
            4)
      << "folded: one row per stage";
  EXPECT_EQ(stored(), recounted());
}

// A bulk stage change through the repository writes no index entry: every updated
// row is a heap-only tuple (the rows fit in their page; counted in the transaction).
TEST_F(CustomerStageCountsTest, ABulkStageChangeOfActiveCustomersIsHot) {
  services::CustomerCrudService crud(*db);
  std::vector<std::string> some;
  for (int i = 0; i < 6; ++i) some.push_back(crud.create_customer(agent_a, person("Hot " + std::to_string(i))).id);
  pqxx::connection c(app_url());
  pqxx::work w(c);
  w.exec_params("SELECT set_config('app.company_id', $1, true), set_config('app.user_id', 'bulk', true)", company_a);
  std::atomic<std::uint64_t> statements{0};
  tradesphere::db::Tx tx(w, statements);
  const auto r =
      tradesphere::db::CustomerRepository().bulk_update_lifecycle_stage(tx, company_a, some, LifecycleStage::kChurned);
  EXPECT_EQ(r.updated, 6);
  const auto stats = w.exec1("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'customers'");
  EXPECT_EQ(stats[0].as<long>(), 6);
  EXPECT_EQ(stats[1].as<long>(), 6) << "no index holds the stage";
  EXPECT_EQ(w.exec1("SELECT sum(customers) FROM customer_stage_counts WHERE lifecycle_stage = 'churned'")[0].as<long>(), 6);
  w.commit();
}

TEST_F(CustomerStageCountsTest, DriftIsReportedAndRebuildRepairsIt) {
  services::CustomerCrudService crud(*db);
  for (int i = 0; i < 3; ++i) crud.create_customer(agent_a, person("Drift " + std::to_string(i)));
  EXPECT_EQ(owner_exec("SELECT count(*) FROM customer_stage_count_drift('" + company_a + "')")[0][0].as<int>(), 0);
  owner_exec("INSERT INTO customer_stage_counts VALUES ('" + company_a + "', 'lead', 2), ('" + company_a +
             "', 'prospect', -1)");
  const auto drift = owner_exec("SELECT lifecycle_stage, stored, recomputed FROM customer_stage_count_drift('" +
                                company_a + "') ORDER BY 1");
  ASSERT_EQ(drift.size(), 2u);
  EXPECT_EQ(drift[0][0].as<std::string>() + " " + drift[0][1].as<std::string>() + " " + drift[0][2].as<std::string>(),
            "lead 2 0");
  EXPECT_EQ(drift[1][0].as<std::string>() + " " + drift[1][1].as<std::string>() + " " + drift[1][2].as<std::string>(),
            "prospect 2 3");
  owner_exec("SELECT customer_stage_counts_rebuild('" + company_a + "')");
  EXPECT_EQ(owner_exec("SELECT count(*) FROM customer_stage_count_drift('" + company_a + "')")[0][0].as<int>(), 0);
  EXPECT_EQ(stored(), recounted());
}

}  // namespace
