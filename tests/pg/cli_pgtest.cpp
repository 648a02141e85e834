// Newcomer paper cuts of the `tradesphere` CLI: a command that needs the schema
// on an unmigrated database says so in one line; a data folder deleted under its
// running embedded cluster is reported, refused with the command to run, and the
// orphaned cluster is listed and removed by PID.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "common/crypto.hpp"
#include "common/files.hpp"
#include "common/process.hpp"
#include "db/embedded_cluster.hpp"
#include "support/pg_fixture.hpp"

namespace {

namespace fs = std::filesystem;
using tradesphere::common::run_process;
using tradesphere::testing::EmptyPgTest;

// Alive and not a zombie waiting for a parent that never reaps it.
bool alive(long pid) {
  if (::kill(static_cast<pid_t>(pid), 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  return paren == std::string::npos || paren + 2 >= text.size() || text[paren + 2] != 'Z';
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

class CliSchemaTest : public EmptyPgTest {
 protected:
  tradesphere::common::ProcessResult cli(std::vector<std::string> args) {
    std::vector<std::string> argv = {"env", "DATABASE_URL=" + app_url(), "DATABASE_ADMIN_URL=" + owner_url(),
                                     tradesphere::testing::tradesphere_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv);
  }
};

TEST_F(CliSchemaTest, ACommandOnAnUnmigratedDatabaseSaysInOneLineWhatCreatesTheSchema) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"company", "add", "demo"},
        std::vector<std::string>{"token", "--company", "demo", "--user", "u", "--role", "admin"}}) {
    auto r = cli(args);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_EQ(lines_of(r.output),
              std::vector<std::string>{"error: the database has no schema yet; create it with: tradesphere migrate up"})
        << args[0];
  }
  auto migrated = cli({"migrate", "up"});
  ASSERT_EQ(migrated.exit_code, 0) << migrated.output;
  auto added = cli({"company", "add", "demo"});
  EXPECT_EQ(added.exit_code, 0) << added.output;
}

// As root the cluster lives under /var/lib/tradesphere/clusters/<hash of the data folder>.
TEST(CliEmbeddedCluster, ADeletedDataFolderIsReportedRefusedWithTheCommandAndCollected) {
  if (!tradesphere::common::running_as_root()) GTEST_SKIP() << "clusters live inside the data folder unless root";
  const fs::path dir = fs::temp_directory_path() / ("ts-orphan-" + tradesphere::common::random_hex(6));
  const std::string bin = tradesphere::testing::tradesphere_binary();
  auto tradesphere = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"env", "-u", "DATABASE_URL", "-u", "DATABASE_ADMIN_URL", bin, "--data-dir",
                                     dir.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv);
  };
  auto started = tradesphere({"db", "start", "--unsafe-fast"});
  ASSERT_EQ(started.exit_code, 0) << started.output;
  auto status = nlohmann::json::parse(tradesphere({"db", "status", "--json"}).output, nullptr, false);
  ASSERT_TRUE(status.is_object());
  const fs::path pgroot = fs::path(status["pgdata"].get<std::string>()).parent_path();
  const long pid = status["pid"].get<long>();
  ASSERT_GT(pid, 0);
  // the settings sized to this machine, included by the cluster's configuration
  const fs::path pgdata = status["pgdata"].get<std::string>();
  const auto tuning = tradesphere::common::read_file(pgdata / "tradesphere_tuning.conf");
  ASSERT_TRUE(tuning.has_value());
  EXPECT_EQ(*tuning, tradesphere::db::server_tuning(tradesphere::db::usable_memory_bytes()));
  EXPECT_NE(tradesphere::common::read_file(pgdata / "postgresql.conf").value_or("").find(
                "include_if_exists = 'tradesphere_tuning.conf'"),
            std::string::npos);
  {
    // every start re-applies the roles' passwords: never into pg_stat_statements
    auto url = tradesphere({"db", "url", "--superuser"}).output;
    url.erase(url.find_last_not_of(" \n") + 1);
    pqxx::connection su(url);
    pqxx::nontransaction q(su);
    q.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    ASSERT_EQ(tradesphere({"db", "start"}).exit_code, 0);
    EXPECT_EQ(q.exec1("SELECT count(*) FROM pg_stat_statements WHERE query ILIKE '%password%'")[0].as<long>(), 0);
  }

  auto registered = [&]() -> std::optional<tradesphere::db::RegisteredCluster> {
    for (const auto& c : tradesphere::db::registered_clusters()) {
      if (c.pgroot == pgroot) return c;
    }
    return std::nullopt;
  };
  ASSERT_TRUE(registered().has_value());
  EXPECT_FALSE(registered()->orphaned);
  EXPECT_EQ(registered()->data_dir, fs::canonical(dir));

  fs::remove_all(dir);  // the usual way to start over
  ASSERT_TRUE(registered().has_value());
  EXPECT_TRUE(registered()->orphaned);
  EXPECT_EQ(registered()->pid, pid);

  // Another data folder's status lists it, and gc would remove it.
  const fs::path other = fs::temp_directory_path() / ("ts-other-" + tradesphere::common::random_hex(6));
  auto listed = run_process({"env", "-u", "DATABASE_URL", bin, "--data-dir", other.string(), "db", "status"});
  fs::remove_all(other);
  EXPECT_NE(listed.output.find("orphaned: " + pgroot.string()), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("tradesphere db gc"), std::string::npos) << listed.output;
  auto dry = run_process({"env", "-u", "DATABASE_URL", bin, "--data-dir", other.string(), "db", "gc", "--dry-run"});
  fs::remove_all(other);
  EXPECT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("would remove " + pgroot.string()), std::string::npos) << dry.output;
  EXPECT_TRUE(fs::exists(pgroot)) << "a dry run removes nothing";

  // The same folder again: refused with the exact command, no new secrets tried.
  auto again = tradesphere({"company", "add", "demo"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.output.find("its passwords"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("run: tradesphere --data-dir " + dir.string() + " db destroy"), std::string::npos)
      << again.output;
  EXPECT_EQ(again.output.find("password authentication failed"), std::string::npos) << again.output;

  // Collected: stopped by its PID, folder removed (this cluster only).
  tradesphere::db::remove_registered_cluster(*registered());
  EXPECT_FALSE(fs::exists(pgroot));
  EXPECT_FALSE(alive(pid)) << "postgres stopped";
  EXPECT_FALSE(registered().has_value());
  fs::remove_all(dir);
}

}  // namespace
