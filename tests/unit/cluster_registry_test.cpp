// The registry of root-owned clusters (/var/lib/tradesphere/clusters/<hash>):
// which are orphaned, and removing one stops only a postgres of that cluster.
// A fake layout in a temporary folder; no PostgreSQL.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "common/crypto.hpp"
#include "db/embedded_cluster.hpp"

namespace {

namespace fs = std::filesystem;
namespace db = tradesphere::db;

class ClusterRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("ts-registry-" + tradesphere::common::random_hex(6));
    root_ = base_ / "clusters";
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(base_); }

  static void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  // A cluster folder recording `data_dir` (none when empty) with a data/ directory.
  fs::path cluster(const std::string& name, const std::string& data_dir) {
    auto pgroot = root_ / name;
    write(pgroot / "data" / "PG_VERSION", "15\n");
    if (!data_dir.empty()) write(pgroot / "tradesphere.json", "{\"data_dir\":\"" + data_dir + "\"}\n");
    return pgroot;
  }
  // A data folder that still holds its secrets.
  fs::path live_data_folder(const std::string& name) {
    auto dir = base_ / name;
    write(dir / "secrets" / "superuser.password", "x\n");
    return dir;
  }
  const db::RegisteredCluster& find(const std::vector<db::RegisteredCluster>& all, const fs::path& pgroot) {
    for (const auto& c : all) {
      if (c.pgroot == pgroot) return c;
    }
    throw std::runtime_error("not listed: " + pgroot.string());
  }

  fs::path base_;
  fs::path root_;
};

TEST_F(ClusterRegistryTest, AClusterIsOrphanedWhenItsDataFolderOrItsSecretsAreGone) {
  auto live = cluster("a", live_data_folder("var-live").string());
  auto gone = cluster("b", (base_ / "var-deleted").string());
  const auto remade_dir = base_ / "var-remade";
  fs::create_directories(remade_dir);  // `rm -rf var` and any command made it again, without the secrets
  auto remade = cluster("c", remade_dir.string());
  auto unknown = cluster("d", "");

  auto all = db::registered_clusters(root_);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_FALSE(find(all, live).orphaned);
  EXPECT_TRUE(find(all, gone).orphaned);
  EXPECT_EQ(find(all, gone).data_dir, base_ / "var-deleted");
  EXPECT_TRUE(find(all, remade).orphaned);
  EXPECT_FALSE(find(all, unknown).orphaned) << "no record: never called orphaned";
  EXPECT_TRUE(find(all, unknown).data_dir.empty());
  EXPECT_EQ(find(all, live).pid, 0);
  EXPECT_GT(find(all, live).bytes, 0u);
  EXPECT_TRUE(db::registered_clusters(base_ / "nowhere").empty());
}

TEST_F(ClusterRegistryTest, RemovingAStoppedClusterDeletesItsFolderOnly) {
  auto gone = cluster("b", (base_ / "var-deleted").string());
  auto live = cluster("a", live_data_folder("var-live").string());
  auto all = db::registered_clusters(root_);
  db::remove_registered_cluster(find(all, gone));
  EXPECT_FALSE(fs::exists(gone));
  EXPECT_TRUE(fs::exists(live));
}

TEST_F(ClusterRegistryTest, APidThatIsNotThatClustersPostgresIsNeverSignalled) {
  auto gone = cluster("b", (base_ / "var-deleted").string());
  // postmaster.pid names a live process that is not a postgres (a reused PID).
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::execlp("sleep", "sleep", "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  write(gone / "data" / "postmaster.pid", std::to_string(child) + "\n" + (gone / "data").string() + "\n");
  auto all = db::registered_clusters(root_);
  EXPECT_EQ(find(all, gone).pid, child);
  EXPECT_THROW(db::remove_registered_cluster(find(all, gone)), db::ClusterError);
  EXPECT_TRUE(fs::exists(gone)) << "not removed";
  int status = 0;
  EXPECT_EQ(::waitpid(child, &status, WNOHANG), 0) << "the process was not signalled";
  ::kill(child, SIGKILL);
  ::waitpid(child, &status, 0);
}

}  // namespace
