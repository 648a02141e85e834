// The embedded PostgreSQL cluster used when DATABASE_URL is not set.
//
// Layout: the data folder (TRADESPHERE_DATA_DIR, default ./var) holds
// cluster.json (where the cluster lives, its port) and secrets/ (0600 password
// files). PostgreSQL refuses to run as root and its OS user cannot enter
// root's home (0700), so when run as root the cluster itself lives under
// /var/lib/tradesphere/clusters/<hash of the data folder>, owned by `postgres`;
// otherwise inside the data folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tradesphere::db {

class ClusterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ClusterRole { kApp, kOwner, kSuperuser };

struct ClusterStatus {
  bool initialized = false;
  bool running = false;
  long pid = 0;
  int port = 0;
  std::filesystem::path pgdata;
  std::filesystem::path log_file;
};

struct ClusterOptions {
  std::filesystem::path data_dir = "var";
  std::optional<int> port;       // fixed port; busy → error. Unset → free port chosen once.
  bool fast_unsafe = false;      // fsync=off etc.: for throw-away test clusters only
};

// The server settings sized to the machine that `db start` writes into the
// cluster's tradesphere_tuning.conf (rewritten at every start, so a bigger
// machine gets bigger buffers): PostgreSQL's defaults (128 MB of shared buffers)
// date from small machines, and a 1M-customer company is ~5 GB of tables and
// indexes. `memory_bytes` is the memory PostgreSQL may use (the machine's, or the
// cgroup's limit when lower). A setting made with ALTER SYSTEM still wins
// (postgresql.auto.conf is read last).
std::string server_tuning(std::uint64_t memory_bytes);
// MemTotal of /proc/meminfo, lowered to the cgroup (v2 or v1) memory limit when
// one is set; 0 when unknown.
std::uint64_t usable_memory_bytes();

inline constexpr const char* kDatabaseName = "tradesphere";
inline constexpr const char* kOwnerRole = "tradesphere_owner";
inline constexpr const char* kAppRole = "tradesphere_app";

// Where clusters live when run as root: one folder per data folder, named by the
// hash of its path. Each records its data folder in <cluster>/tradesphere.json.
inline constexpr const char* kClustersRoot = "/var/lib/tradesphere/clusters";

struct RegisteredCluster {
  std::filesystem::path pgroot;    // /var/lib/tradesphere/clusters/<hash>
  std::filesystem::path data_dir;  // as recorded; empty when made before the record existed
  bool orphaned = false;           // its recorded data folder is gone or no longer holds its secrets
  long pid = 0;                    // the running postmaster, 0 when stopped
  std::uintmax_t bytes = 0;        // disk used
};

// Every cluster under `root`, in name order.
std::vector<RegisteredCluster> registered_clusters(const std::filesystem::path& root = kClustersRoot);

// Stops a registered cluster when it runs — SIGINT (fast shutdown) to the PID in
// its postmaster.pid, after checking that PID is a postgres serving that data
// directory; never by process name — waits for it to exit, then removes its folder.
void remove_registered_cluster(const RegisteredCluster& cluster);

class EmbeddedCluster {
 public:
  explicit EmbeddedCluster(ClusterOptions options);

  // Initialises on first use, starts if not running, creates roles and the database.
  // Harmless when already running. A cluster whose data folder lost its secrets
  // (the folder was deleted and made again) is refused with a ClusterError that
  // says which command removes it.
  void start();
  // Stops the cluster (by the PID in postmaster.pid, via pg_ctl). Harmless when stopped.
  void stop();
  // Stops and removes the cluster and the data folder's cluster files.
  void destroy();
  ClusterStatus status() const;

  std::string url(ClusterRole role, const std::string& database = kDatabaseName) const;

  static std::filesystem::path postgres_bindir();

 private:
  void initdb();
  void write_tuning(const std::filesystem::path& pgdata) const;
  void bootstrap_roles();
  int choose_port();
  std::string password(const std::string& name) const;
  void save_state() const;
  void record_data_dir() const;

  ClusterOptions options_;
  std::filesystem::path data_dir_;
  std::filesystem::path pgroot_;
  int port_ = 0;
};

}  // namespace tradesphere::db
