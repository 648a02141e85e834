#include <iostream>
#include <memory>

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

  auto* status = db->add_subcommand("status", "Show whether the cluster is running; exit 3 when stopped");
  auto status_json = std::make_shared<bool>(false);
  status->add_flag("--json", *status_json, "Print JSON");
  status->callback([&g, status_json] {
    auto s = embedded_cluster(g).status();
    if (*status_json) {
      std::cout << nlohmann::json{{"initialized", s.initialized}, {"running", s.running}, {"pid", s.pid},
                                  {"port", s.port}, {"pgdata", s.pgdata.string()}, {"log", s.log_file.string()}}
                       .dump()
                << "\n";
    } else {
      std::cout << (s.running ? "running" : (s.initialized ? "stopped" : "not initialised"));
      if (s.running) std::cout << " (pid " << s.pid << ", port " << s.port << ")";
      std::cout << "\ndata: " << s.pgdata.string() << "\nlog:  " << s.log_file.string() << "\n";
    }
    if (!s.running) throw CLI::RuntimeError(3);
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
