#include "db/embedded_cluster.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "common/crypto.hpp"
#include "common/files.hpp"
#include "common/process.hpp"

namespace fs = std::filesystem;

namespace tradesphere::db {
namespace {

constexpr const char* kPgUser = "postgres";
constexpr const char* kSupportedMajor = "15";

bool port_is_free(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

int any_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw ClusterError("cannot open a socket to find a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw ClusterError("cannot find a free port on 127.0.0.1");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

void chown_to_postgres(const fs::path& path) {
  if (!common::running_as_root()) return;
  const passwd* pw = ::getpwnam(kPgUser);
  if (pw == nullptr) {
    throw ClusterError("the OS user 'postgres' does not exist; install postgresql-15 (./scripts/deps)");
  }
  if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    throw ClusterError("cannot give " + path.string() + " to the postgres user");
  }
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

constexpr const char* kRecordFile = "tradesphere.json";

// Alive and not a zombie (a postmaster that exited but was not reaped, e.g. under
// a PID 1 that never reaps, still answers kill(pid, 0)).
bool process_alive(long pid) {
  if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) != 0) return false;
  auto stat = common::read_file(fs::path("/proc") / std::to_string(pid) / "stat");
  if (!stat) return true;
  const auto paren = stat->rfind(')');
  return paren == std::string::npos || paren + 2 >= stat->size() || (*stat)[paren + 2] != 'Z';
}

// The postmaster PID of a cluster's data directory, when that process is alive.
long running_postmaster(const fs::path& pgdata) {
  auto pidfile = common::read_file(pgdata / "postmaster.pid");
  if (!pidfile) return 0;
  const long pid = std::atol(pidfile->c_str());
  return process_alive(pid) ? pid : 0;
}

// True when `pid` is a postgres process started with -D `pgdata` (not a reused PID).
bool is_postmaster_of(long pid, const fs::path& pgdata) {
  auto cmdline = common::read_file(fs::path("/proc") / std::to_string(pid) / "cmdline");
  if (!cmdline) return false;
  std::vector<std::string> args;
  std::string arg;
  for (char c : *cmdline) {
    if (c == '\0') {
      args.push_back(arg);
      arg.clear();
    } else {
      arg.push_back(c);
    }
  }
  if (args.empty() || fs::path(args[0]).filename() != "postgres") return false;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "-D" && fs::weakly_canonical(args[i + 1]) == fs::weakly_canonical(pgdata)) return true;
  }
  return false;
}

std::uintmax_t disk_usage(const fs::path& root) {
  std::uintmax_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) total += it->file_size(size_ec);
  }
  return total;
}

}  // namespace

std::vector<RegisteredCluster> registered_clusters(const fs::path& root) {
  std::vector<RegisteredCluster> out;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return out;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (!entry.is_directory()) continue;
    RegisteredCluster c;
    c.pgroot = entry.path();
    if (auto record = common::read_file(c.pgroot / kRecordFile)) {
      auto j = nlohmann::json::parse(*record, nullptr, false);
      if (j.is_object() && j.contains("data_dir") && j["data_dir"].is_string()) c.data_dir = j["data_dir"].get<std::string>();
    }
    // Orphaned: the data folder is gone, or was made again without the secrets
    // that open this cluster (they are written before initdb, so a recorded
    // cluster always had them).
    c.orphaned = !c.data_dir.empty() && !fs::exists(c.data_dir / "secrets" / "superuser.password", ec);
    c.pid = running_postmaster(c.pgroot / "data");
    c.bytes = disk_usage(c.pgroot);
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.pgroot < b.pgroot; });
  return out;
}

void remove_registered_cluster(const RegisteredCluster& cluster) {
  const fs::path pgdata = cluster.pgroot / "data";
  if (const long pid = running_postmaster(pgdata)) {
    if (!is_postmaster_of(pid, pgdata)) {
      throw ClusterError("pid " + std::to_string(pid) + " in " + (pgdata / "postmaster.pid").string() +
                         " is not the postgres of that data directory; not stopping it, not removing " +
                         cluster.pgroot.string());
    }
    ::kill(static_cast<pid_t>(pid), SIGINT);  // fast shutdown
    for (int i = 0; i < 600 && process_alive(pid); ++i) ::usleep(100'000);
    if (process_alive(pid)) {
      throw ClusterError("PostgreSQL (pid " + std::to_string(pid) + ") of " + cluster.pgroot.string() +
                         " did not stop within 60 s; not removed");
    }
  }
  std::error_code ec;
  fs::remove_all(cluster.pgroot, ec);
  if (ec) throw ClusterError("cannot remove " + cluster.pgroot.string() + ": " + ec.message());
}

fs::path EmbeddedCluster::postgres_bindir() {
  auto r = common::run_process({"pg_config", "--bindir"});
  if (r.exit_code == 0) {
    fs::path dir = trim(r.output);
    if (fs::exists(dir / "initdb")) return dir;
  }
  fs::path fallback = "/usr/lib/postgresql/15/bin";
  if (fs::exists(fallback / "initdb")) return fallback;
  throw ClusterError("PostgreSQL 15 server binaries not found (pg_config --bindir, /usr/lib/postgresql/15/bin); run ./scripts/deps");
}

EmbeddedCluster::EmbeddedCluster(ClusterOptions options) : options_(std::move(options)) {
  fs::create_directories(options_.data_dir);
  data_dir_ = fs::canonical(options_.data_dir);
  fs::permissions(data_dir_, fs::perms::owner_all, fs::perm_options::replace);
  if (auto state = common::read_file(data_dir_ / "cluster.json")) {
    auto j = nlohmann::json::parse(*state, nullptr, false);
    if (j.is_object()) {
      pgroot_ = j.value("pgroot", std::string{});
      port_ = j.value("port", 0);
    }
  }
  if (pgroot_.empty()) {
    if (common::running_as_root()) {
      pgroot_ = fs::path(kClustersRoot) / common::sha256_hex(data_dir_.string()).substr(0, 16);
    } else {
      pgroot_ = data_dir_ / "pg";
    }
  }
}

std::string EmbeddedCluster::password(const std::string& name) const {
  auto path = data_dir_ / "secrets" / (name + ".password");
  if (auto existing = common::read_file(path)) return trim(*existing);
  fs::create_directories(path.parent_path());
  fs::permissions(path.parent_path(), fs::perms::owner_all, fs::perm_options::replace);
  auto pw = common::random_hex(24);
  common::write_file(path, pw + "\n", fs::perms::owner_read | fs::perms::owner_write);
  return pw;
}

void EmbeddedCluster::save_state() const {
  nlohmann::json j = {{"pgroot", pgroot_.string()}, {"port", port_}, {"major", kSupportedMajor}};
  common::write_file(data_dir_ / "cluster.json", j.dump(2) + "\n",
                     fs::perms::owner_read | fs::perms::owner_write);
}

void EmbeddedCluster::record_data_dir() const {
  if (pgroot_ == data_dir_ / "pg") return;  // inside the data folder: goes with it
  const auto path = pgroot_ / kRecordFile;
  const std::string text = nlohmann::json{{"data_dir", data_dir_.string()}}.dump() + "\n";
  if (common::read_file(path) == text) return;
  common::write_file(path, text, fs::perms::owner_read | fs::perms::owner_write);
}

ClusterStatus EmbeddedCluster::status() const {
  ClusterStatus s;
  s.pgdata = pgroot_ / "data";
  s.log_file = pgroot_ / "postgresql.log";
  s.port = port_;
  s.initialized = fs::exists(s.pgdata / "PG_VERSION");
  if (auto pidfile = common::read_file(s.pgdata / "postmaster.pid")) {
    long pid = std::atol(pidfile->c_str());
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) == 0) {
      s.running = true;
      s.pid = pid;
    }
  }
  return s;
}

std::string server_tuning(std::uint64_t memory_bytes) {
  constexpr std::uint64_t kMiB = 1024 * 1024;
  const std::uint64_t mib = memory_bytes / kMiB;
  auto mb = [](std::uint64_t v) { return std::to_string(v) + "MB"; };
  // a quarter of the memory for shared buffers (PostgreSQL's own advice), at least
  // the default and at most 8 GB; half of it assumed to be the OS cache besides
  const std::uint64_t shared = std::clamp<std::uint64_t>(mib / 4, 128, 8192);
  const std::uint64_t cache = std::max<std::uint64_t>(mib / 2, shared);
  const std::uint64_t maintenance = std::clamp<std::uint64_t>(mib / 32, 64, 1024);
  return "# Written by `tradesphere db start` at every start, sized to " + std::to_string(mib) +
         " MB of memory (src/db/embedded_cluster.cpp,\n"
         "# server_tuning). Do not edit: use ALTER SYSTEM, which wins over this file.\n"
         "shared_buffers = '" + mb(shared) + "'\n"
         "effective_cache_size = '" + mb(cache) + "'\n"
         "maintenance_work_mem = '" + mb(maintenance) + "'\n"
         // imports and backfills write GBs: fewer forced checkpoints
         "max_wal_size = '4GB'\n"
         // JIT compiles a plan above a cost threshold in tens of milliseconds: a loss
         // for the short statements of an API; the large reports are few and batch-like
         "jit = off\n";
}

std::uint64_t usable_memory_bytes() {
  std::uint64_t total = 0;
  if (auto meminfo = common::read_file("/proc/meminfo")) {
    std::istringstream in(*meminfo);
    std::string key;
    std::uint64_t kib = 0;
    while (in >> key >> kib) {
      if (key == "MemTotal:") {
        total = kib * 1024;
        break;
      }
      in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
  }
  for (const char* limit_file : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    auto text = common::read_file(limit_file);
    if (!text) continue;
    const auto value = trim(*text);
    if (value.empty() || value == "max" || !std::all_of(value.begin(), value.end(), ::isdigit)) continue;
    const auto limit = std::stoull(value);
    if (limit > 0 && (total == 0 || limit < total)) total = limit;
  }
  return total;
}

void EmbeddedCluster::write_tuning(const fs::path& pgdata) const {
  const auto memory = usable_memory_bytes();
  if (memory == 0) return;  // unknown: PostgreSQL's defaults
  const auto tuning_path = pgdata / "tradesphere_tuning.conf";
  common::write_file(tuning_path, server_tuning(memory), fs::perms::owner_read | fs::perms::owner_write);
  chown_to_postgres(tuning_path);
  // clusters made before this file existed get the include once
  const auto conf_path = pgdata / "postgresql.conf";
  const auto conf = common::read_file(conf_path).value_or("");
  constexpr const char* kInclude = "include_if_exists = 'tradesphere_tuning.conf'";
  if (!conf.empty() && conf.find(kInclude) == std::string::npos) {
    common::write_file(conf_path, conf + "\n" + kInclude + "\n", fs::status(conf_path).permissions());
    chown_to_postgres(conf_path);
  }
}

void EmbeddedCluster::initdb() {
  auto pgdata = pgroot_ / "data";
  if (fs::exists(pgdata) && !fs::is_empty(pgdata)) {
    throw ClusterError(pgdata.string() + " exists but holds no PostgreSQL cluster (no PG_VERSION); remove it or choose another TRADESPHERE_DATA_DIR");
  }
  fs::create_directories(pgroot_);
  chown_to_postgres(pgroot_);
  fs::permissions(pgroot_, fs::perms::owner_all, fs::perm_options::replace);

  auto pwfile = pgroot_ / ".initdb-pw";
  common::write_file(pwfile, password("superuser") + "\n", fs::perms::owner_read | fs::perms::owner_write);
  chown_to_postgres(pwfile);
  auto bindir = postgres_bindir();
  auto r = common::run_process_as(kPgUser, {(bindir / "initdb").string(), "-D", pgdata.string(), "-U", kPgUser,
                                           "-E", "UTF8", "--locale=C.UTF-8", "--auth-local=scram-sha-256",
                                           "--auth-host=scram-sha-256", "--pwfile=" + pwfile.string()});
  fs::remove(pwfile);
  if (r.exit_code != 0) {
    throw ClusterError("initdb failed:\n" + r.output);
  }
  std::string conf =
      "\n# Added by tradesphere db start\n"
      "listen_addresses = '127.0.0.1'\n"
      "unix_socket_directories = '" + pgroot_.string() + "'\n"
      "shared_preload_libraries = 'pg_stat_statements'\n"
      "max_connections = 200\n"
      "log_min_messages = warning\n";
  if (options_.fast_unsafe) {
    conf += "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";
  }
  auto conf_path = pgdata / "postgresql.conf";
  auto existing = common::read_file(conf_path).value_or("");
  auto mode = fs::status(conf_path).permissions();
  common::write_file(conf_path, existing + conf, mode);
  chown_to_postgres(conf_path);
}

int EmbeddedCluster::choose_port() {
  if (options_.port) {
    if (!port_is_free(*options_.port)) {
      throw ClusterError("port " + std::to_string(*options_.port) +
                         " on 127.0.0.1 is in use; choose another with --db-port / TRADESPHERE_DB_PORT");
    }
    return *options_.port;
  }
  if (port_ > 0 && port_is_free(port_)) return port_;
  return any_free_port();
}

void EmbeddedCluster::start() {
  auto st = status();
  if (st.initialized && !fs::exists(data_dir_ / "secrets" / "superuser.password")) {
    // The data folder was deleted (and made again) while its cluster stayed: new
    // secrets would not open it, so say what to run instead of failing on a password.
    std::string state = st.running ? "running (pid " + std::to_string(st.pid) + ")" : "stopped";
    throw ClusterError("the PostgreSQL cluster of " + data_dir_.string() + " (" + pgroot_.string() + ", " + state +
                       ") exists but its passwords (" + (data_dir_ / "secrets").string() +
                       ") are gone, so it cannot be opened; to delete that cluster and its data, run: tradesphere "
                       "--data-dir " + data_dir_.string() + " db destroy");
  }
  if (!st.initialized) {
    initdb();
    st = status();
  }
  record_data_dir();
  auto version = trim(common::read_file(st.pgdata / "PG_VERSION").value_or(""));
  if (version != kSupportedMajor) {
    throw ClusterError("the data folder " + st.pgdata.string() + " was created by PostgreSQL " + version +
                       "; this build runs PostgreSQL " + kSupportedMajor +
                       ". Use another TRADESPHERE_DATA_DIR or upgrade the cluster with pg_upgrade.");
  }
  if (!st.running) {
    write_tuning(st.pgdata);
    port_ = choose_port();
    auto bindir = postgres_bindir();
    auto r = common::run_process_as(kPgUser, {(bindir / "pg_ctl").string(), "-D", st.pgdata.string(), "-l",
                                             st.log_file.string(), "-w", "-t", "60", "-o",
                                             "-p " + std::to_string(port_), "start"});
    if (r.exit_code != 0) {
      throw ClusterError("PostgreSQL failed to start (port " + std::to_string(port_) + "):\n" + r.output +
                         "\n--- last lines of " + st.log_file.string() + " ---\n" +
                         common::tail_file(st.log_file, 20));
    }
    save_state();
  } else if (auto pidfile = common::read_file(st.pgdata / "postmaster.pid")) {
    // Line 4 of postmaster.pid is the port the running server listens on.
    std::stringstream ss(*pidfile);
    std::string line;
    for (int i = 0; i < 4 && std::getline(ss, line); ++i) {
    }
    if (int p = std::atoi(line.c_str()); p > 0 && p != port_) {
      port_ = p;
      save_state();
    }
  }
  bootstrap_roles();
}

void EmbeddedCluster::bootstrap_roles() {
  pqxx::connection conn(url(ClusterRole::kSuperuser, "postgres"));
  pqxx::nontransaction tx(conn);
  // The statements below carry passwords: keep them out of pg_stat_statements (which
  // stores utility statements verbatim) and out of the server log.
  tx.exec("SET pg_stat_statements.track = 'none'");
  tx.exec("SET log_statement = 'none'");
  tx.exec("SET log_min_duration_statement = -1");
  auto ensure_role = [&](const std::string& role, const std::string& attrs, const std::string& pw) {
    auto exists = tx.exec_params("SELECT 1 FROM pg_roles WHERE rolname = $1", role);
    std::string verb = exists.empty() ? "CREATE" : "ALTER";
    tx.exec(verb + " ROLE " + tx.quote_name(role) + " " + attrs + " PASSWORD " + tx.quote(pw));
  };
  ensure_role(kOwnerRole, "LOGIN CREATEDB NOSUPERUSER", password("owner"));
  ensure_role(kAppRole, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE", password("app"));
  if (tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", std::string(kDatabaseName)).empty()) {
    tx.exec(std::string("CREATE DATABASE ") + kDatabaseName + " OWNER " + kOwnerRole + " ENCODING 'UTF8'");
  }
}

void EmbeddedCluster::stop() {
  auto st = status();
  if (!st.running) return;
  auto bindir = postgres_bindir();
  auto r = common::run_process_as(kPgUser, {(bindir / "pg_ctl").string(), "-D", st.pgdata.string(), "-m", "fast",
                                           "-w", "-t", "60", "stop"});
  if (r.exit_code != 0 && status().running) {
    throw ClusterError("PostgreSQL (pid " + std::to_string(st.pid) + ") did not stop:\n" + r.output);
  }
}

void EmbeddedCluster::destroy() {
  stop();
  std::error_code ec;
  fs::remove_all(pgroot_, ec);
  fs::remove(data_dir_ / "cluster.json", ec);
  fs::remove_all(data_dir_ / "secrets", ec);
}

std::string EmbeddedCluster::url(ClusterRole role, const std::string& database) const {
  std::string user;
  std::string pw;
  switch (role) {
    case ClusterRole::kApp: user = kAppRole; pw = password("app"); break;
    case ClusterRole::kOwner: user = kOwnerRole; pw = password("owner"); break;
    case ClusterRole::kSuperuser: user = kPgUser; pw = password("superuser"); break;
  }
  return "postgresql://" + user + ":" + pw + "@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

}  // namespace tradesphere::db
