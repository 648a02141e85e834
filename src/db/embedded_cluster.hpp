// The embedded PostgreSQL cluster used when DATABASE_URL is not set.
//
// Layout: the data folder (TRADESPHERE_DATA_DIR, default ./var) holds
// cluster.json (where the cluster lives, its port) and secrets/ (0600 password
// files). PostgreSQL refuses to run as root and its OS user cannot enter
// root's home (0700), so when run as root the cluster itself lives under
// /var/lib/tradesphere/clusters/<hash of the data folder>, owned by `postgres`;
// otherwise inside the data folder.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

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

inline constexpr const char* kDatabaseName = "tradesphere";
inline constexpr const char* kOwnerRole = "tradesphere_owner";
inline constexpr const char* kAppRole = "tradesphere_app";

class EmbeddedCluster {
 public:
  explicit EmbeddedCluster(ClusterOptions options);

  // Initialises on first use, starts if not running, creates roles and the database.
  // Harmless when already running.
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
  void bootstrap_roles();
  int choose_port();
  std::string password(const std::string& name) const;
  void save_state() const;

  ClusterOptions options_;
  std::filesystem::path data_dir_;
  std::filesystem::path pgroot_;
  int port_ = 0;
};

}  // namespace tradesphere::db
