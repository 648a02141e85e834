#include <iostream>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "db/embedded_cluster.hpp"

namespace tradesphere::cli {
namespace {

db::EmbeddedCluster embedded_cluster(const GlobalOptions& g, bool fast_unsafe = false) {
  auto o = g.database();
  if (o.database_url) {
    throw std::runtime_error("DATABASE_URL is set: the embedded cluster is not used (unset it to manage ./var)");
  }
  return db::EmbeddedCluster(db::ClusterOptions{o.data_dir, o.db_port, fast_unsafe});
}

std::string megabytes(std::uintmax_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MB"; }

std::string describe(const db::RegisteredCluster& c) {
  std::string line = c.pgroot.string() + " (" + megabytes(c.bytes);
  if (c.pid) line += ", running pid " + std::to_string(c.pid);
  line += c.data_dir.empty() ? ", data folder unknown: made by an older tradesphere"
                             : ", data folder " + c.data_dir.string() + " or its secrets are gone";
  return line + ")";
}

nlohmann::json to_json(const db::RegisteredCluster& c) {
  return {{"cluster", c.pgroot.string()},
          {"data_dir", c.data_dir.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.data_dir.string())},
          {"orphaned", c.orphaned},
          {"running_pid", c.pid},
          {"bytes", c.bytes}};
}

// Registered clusters gc may remove: orphaned ones, and with `unknown` those
// without a record whose postmaster is not running.
std::vector<db::RegisteredCluster> collectable(bool unknown) {
  std::vector<db::RegisteredCluster> out;
  for (auto& c : db::registered_clusters()) {
    if (c.orphaned || (unknown && c.data_dir.empty() && c.pid == 0)) out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

void register_db_commands(CLI::App& app, GlobalOptions& g) {
  auto* db = app.add_subcommand("db", "Manage the embedded PostgreSQL cluster in the data folder");
  db->require_subcommand(1);

  auto* start = db->add_subcommand("start", "Initialise (first time) and start the cluster; harmless when running");
  auto fast = std::make_shared<bool>(false);
  start->add_flag("--unsafe-fast", *fast,
                  "At initialisation only: fsync=off etc. for throw-away test clusters (data can be lost on a crash)")
      ->envname("TRADESPHERE_DB_UNSAFE_FAST");
  start->callback([&g, fast] {
        auto cluster = embedded_cluster(g, *fast);
        cluster.start();
        auto s = cluster.status();
        std::cout << "PostgreSQL running (pid " << s.pid << ", port " << s.port << ", data " << s.pgdata.string()
                  << ")\n";
      });

  db->add_subcommand("stop", "Stop the cluster (by the PID in postmaster.pid); harmless when stopped")
      ->callback([&g] {
        embedded_cluster(g).stop();
        std::cout << "PostgreSQL stopped\n";
      });

  auto* status = db->add_subcommand(
      "status", "Show whether the cluster is running, and clusters whose data folder is gone; exit 3 when stopped");
  auto status_json = std::make_shared<bool>(false);
  status->add_flag("--json", *status_json, "Print JSON");
  status->callback([&g, status_json] {
    auto s = embedded_cluster(g).status();
    std::vector<db::RegisteredCluster> leftovers;  // orphaned, or of unknown origin; never this folder's own
    for (auto& c : db::registered_clusters()) {
      if (c.pgroot == s.pgdata.parent_path()) continue;
      if (c.orphaned || c.data_dir.empty()) leftovers.push_back(std::move(c));
    }
    if (*status_json) {
      nlohmann::json others = nlohmann::json::array();
      for (const auto& c : leftovers) others.push_back(to_json(c));
      std::cout << nlohmann::json{{"initialized", s.initialized}, {"running", s.running}, {"pid", s.pid},
                                  {"port", s.port}, {"pgdata", s.pgdata.string()}, {"log", s.log_file.string()},
                                  {"other_clusters", others}}
                       .dump()
                << "\n";
    } else {
      std::cout << (s.running ? "running" : (s.initialized ? "stopped" : "not initialised"));
      if (s.running) std::cout << " (pid " << s.pid << ", port " << s.port << ")";
      std::cout << "\ndata: " << s.pgdata.string() << "\nlog:  " << s.log_file.string() << "\n";
      bool orphans = false;
      std::size_t unknown = 0;
      std::uintmax_t unknown_bytes = 0;
      for (const auto& c : leftovers) {
        if (c.orphaned) {
          std::cout << "orphaned: " << describe(c) << "\n";
          orphans = true;
        } else {
          ++unknown;
          unknown_bytes += c.bytes;
        }
      }
      if (orphans) std::cout << "remove the orphaned clusters: tradesphere db gc\n";
      if (unknown > 0) {
        std::cout << unknown << " other cluster(s) (" << megabytes(unknown_bytes) << ") in " << db::kClustersRoot
                  << " record no data folder (made by an older version; recorded when their folder starts them "
                     "again); `tradesphere db gc --unknown --dry-run` lists the stopped ones it would remove\n";
      }
    }
    if (!s.running) throw CLI::RuntimeError(3);
  });

  auto* gc = db->add_subcommand(
      "gc", "Remove the clusters under /var/lib/tradesphere/clusters whose data folder (or its secrets) is gone");
  auto unknown = std::make_shared<bool>(false);
  auto dry_run = std::make_shared<bool>(false);
  gc->add_flag("--unknown", *unknown,
               "Also remove stopped clusters that record no data folder (made by an older tradesphere)");
  gc->add_flag("--dry-run", *dry_run, "Only list what would be removed");
  gc->callback([unknown, dry_run] {
    auto victims = collectable(*unknown);
    std::uintmax_t freed = 0;
    for (const auto& c : victims) {
      if (!*dry_run) db::remove_registered_cluster(c);
      std::cout << (*dry_run ? "would remove " : "removed ") << describe(c) << "\n";
      freed += c.bytes;
    }
    std::cout << victims.size() << " cluster(s), " << megabytes(freed) << (*dry_run ? " would be freed" : " freed")
              << "\n";
  });

  auto* url = db->add_subcommand("url", "Print a connection URL (default: the application role's)");
  auto admin = std::make_shared<bool>(false);
  auto superuser = std::make_shared<bool>(false);
  url->add_flag("--admin", *admin, "The schema owner's URL (migrations)");
  url->add_flag("--superuser", *superuser, "The cluster superuser's URL (maintenance only)");
  auto dbname = std::make_shared<std::string>(db::kDatabaseName);
  url->add_option("--database", *dbname, "Database name in the URL")->capture_default_str();
  url->callback([&g, admin, superuser, dbname] {
    auto cluster = embedded_cluster(g);
    cluster.start();
    auto role = *superuser ? db::ClusterRole::kSuperuser : (*admin ? db::ClusterRole::kOwner : db::ClusterRole::kApp);
    std::cout << cluster.url(role, *dbname) << "\n";
  });

  db->add_subcommand("destroy", "Stop the cluster and delete its data (irreversible)")->callback([&g] {
    embedded_cluster(g).destroy();
    std::cout << "PostgreSQL cluster removed\n";
  });
}

}  // namespace tradesphere::cli
