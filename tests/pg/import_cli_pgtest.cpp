// The CLI round trip on a real list (issue 6): company add -> import a generated
// CSV (with invalid rows) -> duplicates --format jsonl -> merge -> undo-merge,
// running the real `tradesphere` binary against a fresh database.
#include <algorithm>
#include <cstdio>
#include <sys/wait.h>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "support/pg_fixture.hpp"

namespace {

struct CliRun {
  int status = -1;
  std::string out;
  std::string err;
};

class ImportCliTest : public tradesphere::testing::PgTest {
 protected:
  CliRun run(const std::string& args, const std::string& binary = tradesphere::testing::tradesphere_binary()) {
    auto dir = std::filesystem::temp_directory_path() / ("ts-cli-" + db_name());
    std::filesystem::create_directories(dir);
    auto err_path = dir / "stderr.txt";
    std::string cmd = "DATABASE_URL='" + app_url() + "' DATABASE_ADMIN_URL='" + owner_url() +
                      "' TRADESPHERE_LOG_LEVEL=warn '" + binary + "' " + args +
                      " 2>'" + err_path.string() + "'";
    CliRun r;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    std::ifstream e(err_path);
    std::stringstream ss;
    ss << e.rdbuf();
    r.err = ss.str();
    return r;
  }

  std::string write_file(const std::string& name, const std::string& content) {
    auto dir = std::filesystem::temp_directory_path() / ("ts-cli-" + db_name());
    std::filesystem::create_directories(dir);
    auto path = (dir / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  void TearDown() override {
    std::filesystem::remove_all(std::filesystem::temp_directory_path() / ("ts-cli-" + db_name()));
    PgTest::TearDown();
  }

  long count(const std::string& sql) {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    return w.exec(sql)[0][0].as<long>();
  }
};

TEST_F(ImportCliTest, ImportReportsBadRowsWithLineNumbersAndExitsNonZero) {
  ASSERT_EQ(run("company add acme --name Acme").status, 0);
  auto path = write_file("list.csv",
                         "name,email,phone,tags,lifecycle_stage,segment\r\n"
                         "Ann Lee,ann@example.com,415-555-0100,vip;new,lead,gold\r\n"
                         "Bad Mail,not-an-email,,,,\r\n"
                         "\"Lee, Bob\",,\"+1 (212) 555-0199\",,customer,\r\n"
                         ",,,,,only attributes\r\n"
                         "Short,row\r\n"
                         "Stage,s@example.com,,,finished,\r\n");
  auto r = run("import --company acme '" + path + "'");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("line 3: warning: invalid email \"not-an-email\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 5: needs at least one of"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 6: expected 6 fields, got 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 7: lifecycle_stage"), std::string::npos) << r.err;
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE source = 'import'"), 3);
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE attributes->>'segment' = 'gold' AND tags = '{vip,new}' "
                  "AND lifecycle_stage = 'lead'"),
            1);

  auto ok = write_file("ok.csv", "external_id,name\nx1,Zed\n");
  EXPECT_EQ(run("import --company acme '" + ok + "'").status, 0);
  auto again = run("import --company acme '" + ok + "'");
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.err.find("line 2: external_id 'x1' already exists"), std::string::npos) << again.err;
  EXPECT_NE(run("import --company nope '" + ok + "'").status, 0);
}

TEST_F(ImportCliTest, MalformedEmailAndPhoneKeepTheRowUnlessStrict) {  // issue 13
  ASSERT_EQ(run("company add acme --name Acme").status, 0);
  auto path = write_file("bad.csv",
                         "external_id,name,email,phone\n"
                         "b1,Ann Lee,ann@example.com,415-555-0100\n"
                         "b2,Bob Bad, foo@bar ,12\n"
                         "b3,,foo@bar,\n");
  auto r = run("import --company acme '" + path + "'");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("line 3: warning: invalid email \"foo@bar\" kept in attributes.invalid_email, "
                       "not a matching key (duplicate finding still compares it)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("line 3: warning: invalid phone \"12\" kept in attributes.invalid_phone, "
                       "not a matching key (duplicate finding still compares it)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("line 4: warning: invalid email"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("import: 3 rows read, 3 imported, 0 rejected, 3 warnings"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("imported 3, rejected 0, warnings 3"), std::string::npos) << r.out;
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE external_id = 'b2' AND name = 'Bob Bad' AND email IS NULL "
                  "AND phone IS NULL AND attributes->>'invalid_email' = 'foo@bar' "
                  "AND attributes->>'invalid_phone' = '12'"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE email IS NOT NULL AND email <> 'ann@example.com'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE external_id = 'b1' AND attributes = '{}'"), 1);

  auto strict_path = write_file("strict.csv",
                                "external_id,name,email,phone\n"
                                "s1,Cy Good,cy@example.com,\n"
                                "s2,Dee Bad,foo@bar,\n"
                                "s3,Eve Bad,,12\n");
  auto s = run("import --strict --company acme '" + strict_path + "'");
  EXPECT_EQ(s.status, 1) << s.err;
  EXPECT_NE(s.err.find("line 3: email: 'foo@bar' is not a valid address"), std::string::npos) << s.err;
  EXPECT_NE(s.err.find("line 4: phone: '12' is not a phone number"), std::string::npos) << s.err;
  EXPECT_EQ(s.err.find(": warning:"), std::string::npos) << s.err;
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE external_id IN ('s1', 's2', 's3')"), 1);

  // nothing identifying left once the malformed value is set aside: rejected as before
  auto empty = write_file("empty.csv", "name,email,phone\n,foo@bar,12\n");
  auto e = run("import --company acme '" + empty + "'");
  EXPECT_EQ(e.status, 1) << e.err;
  EXPECT_NE(e.err.find("line 2: needs at least one of"), std::string::npos) << e.err;
  EXPECT_EQ(e.err.find(": warning:"), std::string::npos) << e.err;
  EXPECT_EQ(count("SELECT count(*) FROM customers"), 4);
}

// One email, one customer (issue 15): --on-existing-email keep (default) | skip | update.
TEST_F(ImportCliTest, OnExistingEmailKeepsSkipsOrUpdatesTheHolder) {
  ASSERT_EQ(run("company add acme --name Acme").status, 0);
  auto first = write_file("first.csv", "name,email,phone\nAnn Lee,ann@example.com,\n");
  ASSERT_EQ(run("import --company acme '" + first + "'").status, 0);
  const auto holder = [&] {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    return w.exec1("SELECT id::text FROM customers WHERE email = 'ann@example.com'")[0].as<std::string>();
  }();
  // the same email re-cased and padded, twice in one file, and a new email twice
  auto again = write_file("again.csv",
                          "name,email,phone,address,tags\n"
                          "Ann B. Lee, ANN@Example.com ,415-555-0100,,vip\n"
                          "Cy New,cy@example.com,,,\n"
                          "Cy Newer,CY@example.com,,1 Main St,\n"
                          "No Mail,,212-555-0199,,\n");

  auto skip = run("import --on-existing-email skip --company acme '" + again + "'");
  EXPECT_EQ(skip.status, 0) << skip.err;
  EXPECT_NE(skip.err.find("line 2: skipped: email 'ann@example.com' belongs to customer " + holder), std::string::npos)
      << skip.err;
  EXPECT_NE(skip.err.find("line 4: skipped: email 'cy@example.com' belongs to customer"), std::string::npos) << skip.err;
  EXPECT_NE(skip.out.find("imported 2, rejected 0, warnings 0, skipped 2 (email already held)"), std::string::npos)
      << skip.out;
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE lower(email) = 'ann@example.com'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE lower(email) = 'cy@example.com' AND name = 'Cy New'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE lower(email) = 'cy@example.com'"), 1);

  auto update = write_file("update.csv",
                           "name,email,phone,address,tags\n"
                           "Ann B. Lee, ANN@Example.com ,415-555-0100,,vip\n"
                           "Cy Newer,CY@example.com,,1 Main St,\n");
  auto upd = run("import --on-existing-email update --company acme '" + update + "'");
  EXPECT_EQ(upd.status, 0) << upd.err;
  EXPECT_NE(upd.err.find("line 2: updated the customer: email 'ann@example.com' belongs to customer " + holder),
            std::string::npos)
      << upd.err;
  EXPECT_NE(upd.out.find("imported 0, rejected 0, warnings 0, updated 2"), std::string::npos) << upd.out;
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE id = '" + holder +
                  "' AND name = 'Ann B. Lee' AND phone IS NOT NULL AND tags = '{vip}' AND version = 2"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE name = 'Cy Newer' AND address = '1 Main St'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM customers"), 3) << "updates create nobody";

  // the default keeps both (duplicates proposes the pair), as before
  auto keep = run("import --company acme '" + first + "'");
  EXPECT_EQ(keep.status, 0) << keep.err;
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE email = 'ann@example.com'"), 2);
  EXPECT_NE(run("import --on-existing-email merge --company acme '" + first + "'").status, 0);
}

TEST_F(ImportCliTest, RoundTripImportDuplicatesMergeUndo) {
  ASSERT_EQ(run("company add acme").status, 0);
  auto csv = (std::filesystem::temp_directory_path() / ("ts-cli-" + db_name()) / "planted.csv").string();
  std::filesystem::create_directories(std::filesystem::path(csv).parent_path());
  auto gen = run("evaluate-duplicates --people 200 --seed 5 --min-score 0.8 --write-csv '" + csv + "'",
                 tradesphere::testing::tradesphere_dev_binary());
  ASSERT_EQ(gen.status, 0) << gen.err;
  EXPECT_NE(gen.out.find("precision"), std::string::npos);
  auto imp = run("import --company acme '" + csv + "'");
  ASSERT_EQ(imp.status, 0) << imp.err;
  long customers = count("SELECT count(*) FROM customers");
  EXPECT_GT(customers, 200);

  auto dup = run("duplicates --company acme --format jsonl");
  ASSERT_EQ(dup.status, 0) << dup.err;
  std::istringstream lines(dup.out);
  std::string line;
  std::vector<nlohmann::json> groups;
  while (std::getline(lines, line)) groups.push_back(nlohmann::json::parse(line));
  ASSERT_FALSE(groups.empty());
  for (const auto& g : groups) {
    EXPECT_GE(g["score"].get<double>(), 0.8);
    EXPECT_FALSE(g["reasons"].empty());
    EXPECT_GE(g["customers"].size(), 2u);
    EXPECT_TRUE(g["customers"][0].contains("external_id"));
  }

  const auto& g = groups[0];
  std::string target = g["customers"][0]["id"];
  std::string sources;
  for (std::size_t i = 1; i < g["customers"].size(); ++i) sources += " " + g["customers"][i]["id"].get<std::string>();
  auto merged = run("merge --company acme --into " + target + sources);
  ASSERT_EQ(merged.status, 0) << merged.err;
  auto merge_id = nlohmann::json::parse(merged.out)["merge_id"].get<std::string>();
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE status = 'merged'"),
            static_cast<long>(g["customers"].size()) - 1);
  auto dup2 = run("duplicates --company acme --format jsonl");
  EXPECT_LT(std::count(dup2.out.begin(), dup2.out.end(), '\n'), static_cast<long>(groups.size()));

  auto undone = run("undo-merge --company acme " + merge_id);
  ASSERT_EQ(undone.status, 0) << undone.err;
  EXPECT_EQ(count("SELECT count(*) FROM customers WHERE status = 'merged'"), 0);
  auto twice = run("undo-merge --company acme " + merge_id);
  EXPECT_NE(twice.status, 0);
  EXPECT_NE(twice.err.find("already undone"), std::string::npos) << twice.err;
  auto dup3 = run("duplicates --company acme --format jsonl");
  EXPECT_EQ(dup3.out, dup.out) << "undo restores the same groups";

  // "not a duplicate": a two-member group disappears for good
  const nlohmann::json* pair = nullptr;
  for (const auto& grp : groups)
    if (grp["customers"].size() == 2) pair = &grp;
  ASSERT_NE(pair, nullptr) << "fixture: the planted list has pairs";
  const std::string a = (*pair)["customers"][0]["id"], b = (*pair)["customers"][1]["id"];
  auto dis = run("dismiss-duplicate --company acme --reason 'siblings' " + a + " " + b);
  ASSERT_EQ(dis.status, 0) << dis.err;
  EXPECT_EQ(nlohmann::json::parse(dis.out)["already_dismissed"], false);
  EXPECT_EQ(nlohmann::json::parse(run("dismiss-duplicate --company acme " + b + " " + a).out)["already_dismissed"], true);
  auto dup4 = run("duplicates --company acme --format jsonl");
  EXPECT_EQ(std::count(dup4.out.begin(), dup4.out.end(), '\n'), static_cast<long>(groups.size()) - 1);
  EXPECT_EQ(dup4.out.find(a), std::string::npos);
  EXPECT_NE(run("dismiss-duplicate --company acme " + a).status, 0) << "needs two ids";
}

}  // namespace
