// Foundation end to end: a cluster of the test's own (so it can be stopped),
// the real CLI, and the HTTP server's health routes.
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "common/crypto.hpp"
#include "common/process.hpp"
#include "db/embedded_cluster.hpp"
#include "db/migrations.hpp"
#include "http/server.hpp"
#include "support/pg_fixture.hpp"

namespace fs = std::filesystem;
using tradesphere::common::run_process;

namespace {

class OwnClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = fs::temp_directory_path() / ("tradesphere-own-" + tradesphere::common::random_hex(6));
    fs::create_directories(data_dir_);
  }
  void TearDown() override {
    run_process({tradesphere::testing::tradesphere_binary(), "--data-dir", data_dir_.string(), "db", "destroy"});
    fs::remove_all(data_dir_);
  }
  tradesphere::common::ProcessResult cli(std::vector<std::string> args) {
    std::vector<std::string> argv = {"env", "-u", "DATABASE_URL", "-u", "DATABASE_ADMIN_URL",
                                     tradesphere::testing::tradesphere_binary(), "--data-dir", data_dir_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv);
  }
  long running_pid() {
    auto r = cli({"db", "status", "--json"});
    auto j = nlohmann::json::parse(r.output.substr(0, r.output.find('\n')));
    return j.value("running", false) ? j.value("pid", 0L) : 0L;
  }
  fs::path data_dir_;
};

TEST_F(OwnClusterTest, DbStartTwiceIsHarmlessAndStopStops) {
  auto first = cli({"db", "start"});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  long pid = running_pid();
  EXPECT_GT(pid, 0);
  auto second = cli({"db", "start"});
  EXPECT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(running_pid(), pid) << "a second start must not restart the cluster";

  auto secret = fs::status(data_dir_ / "secrets" / "app.password").permissions();
  EXPECT_EQ(secret & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);

  auto stop = cli({"db", "stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.output;
  EXPECT_EQ(running_pid(), 0);
  EXPECT_EQ(cli({"db", "status"}).exit_code, 3);
  EXPECT_EQ(cli({"db", "stop"}).exit_code, 0) << "stopping a stopped cluster is harmless";
}

TEST_F(OwnClusterTest, ReadyzFollowsTheDatabaseAndMigrations) {
  tradesphere::db::EmbeddedCluster cluster({data_dir_, std::nullopt, true});
  cluster.start();

  tradesphere::http::ServerOptions options;
  options.port = 0;
  options.threads = 2;
  options.database = {cluster.url(tradesphere::db::ClusterRole::kApp),
                      cluster.url(tradesphere::db::ClusterRole::kOwner), true};
  tradesphere::http::Server server(options);
  int port = server.bind();
  std::thread runner([&] { server.run(); });

  httplib::Client client("127.0.0.1", port);
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  auto pending = client.Get("/readyz");
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->status, 503) << "migrations are not applied yet";

  tradesphere::db::MigrationRunner(options.database.admin_url).up();
  auto ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;

  cluster.stop();
  auto down = client.Get("/readyz");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 503);
  EXPECT_EQ(client.Get("/healthz")->status, 200) << "the process is alive without its database";

  cluster.start();
  auto back = client.Get("/readyz");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, 200);

  server.stop();
  runner.join();
}

TEST_F(OwnClusterTest, HelpDescribesEverySubcommand) {
  for (std::vector<std::string> args : {std::vector<std::string>{"--help"}, {"db", "--help"}, {"migrate", "--help"},
                                        {"serve", "--help"}, {"db", "url", "--help"}, {"migrate", "up", "--help"}}) {
    auto r = cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("Options:"), std::string::npos) << r.output;
  }
  auto r = cli({"serve", "--help"});
  EXPECT_NE(r.output.find("TRADESPHERE_PORT"), std::string::npos) << r.output;
}

}  // namespace
