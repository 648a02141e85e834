#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "common/json_log.hpp"
#include "db/legacy_upgrade.hpp"
#include "db/migrations.hpp"

namespace tradesphere::cli {
namespace {

db::MigrationRunner runner_for(const GlobalOptions& g) {
  auto target = db::resolve_database(g.database());
  db::MigrationLog log;
  log.info = [](const std::string& msg) { std::cout << msg << "\n"; };
  return db::MigrationRunner(target.admin_url, db::builtin_migrations(), log);
}

}  // namespace

void register_migrate_commands(CLI::App& app, GlobalOptions& g) {
  auto* migrate = app.add_subcommand("migrate", "Apply, revert or inspect the schema migrations");
  migrate->require_subcommand(1);

  auto up_to = std::make_shared<std::optional<int>>();
  auto* up = migrate->add_subcommand("up", "Apply pending migrations (all, or up to --to N)");
  up->add_option("--to", *up_to, "Stop after version N");
  up->callback([&g, up_to] {
    auto runner = runner_for(g);
    int ran = runner.up(*up_to);
    std::cout << (ran == 0 ? "schema is up to date" : "applied " + std::to_string(ran) + " migration(s)")
              << " (version " << runner.current_version() << ")\n";
  });

  auto down_to = std::make_shared<std::optional<int>>();
  auto* down = migrate->add_subcommand("down", "Revert applied migrations (all, or down to --to N, which stays applied)");
  down->add_option("--to", *down_to, "Keep versions up to N applied (default 0: revert everything)");
  down->callback([&g, down_to] {
    auto runner = runner_for(g);
    int target_version = down_to->value_or(0);
    const bool leaves_new_schema =
        target_version < db::kLegacyBaselineVersion + 1 && runner.current_version() > db::kLegacyBaselineVersion;
    if (leaves_new_schema) {
      // Below the new schema: keep what the legacy shape cannot hold.
      auto stamp = std::to_string(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()));
      auto dir = (std::filesystem::absolute(g.data_dir) / "exports" / ("rollback-" + stamp)).string();
      auto files = db::export_new_schema_data(db::resolve_database(g.database()).admin_url, dir);
      std::cout << "exported " << files.size() << " file(s) of new-schema data to " << dir << "\n";
    }
    int ran = runner.down(*down_to);
    if (leaves_new_schema) {
      db::forget_backfill_progress(db::resolve_database(g.database()).admin_url);
    }
    std::cout << "reverted " << ran << " migration(s) (version " << runner.current_version() << ")\n";
  });

  migrate->add_subcommand("adopt",
                          "Adopt a live legacy database: check its shape, record the baseline, snapshot its data")
      ->callback([&g] {
        auto target = db::resolve_database(g.database());
        auto result = db::adopt_legacy_database(target.admin_url);
        int normalized = 0;
        for (const auto& d : result.differences) normalized += d.kind == db::ShapeClass::kNormalized ? 1 : 0;
        if (result.differences.empty()) {
          std::cout << "the legacy tables have exactly the baseline shape (migration 0001)\n";
        } else {
          std::cout << "differences from the baseline (migration 0001): " << result.differences.size() << " ("
                    << normalized << " normalized by `migrate up` and undone by `migrate down --to 1`, "
                    << result.differences.size() - static_cast<std::size_t>(normalized) << " kept as they are)\n";
          for (const auto& d : result.differences) std::cout << "  - " << d.text() << "\n";
          if (normalized > 0) std::cout << "  the plan (do/undo SQL per step): SELECT * FROM legacy_normalization\n";
        }
        std::cout << "adopted the legacy database at version " << db::kLegacyBaselineVersion << "; snapshot:\n";
        for (const auto& [table, rows] : result.rows_per_table) std::cout << "  " << table << ": " << rows << " rows\n";
        std::cout << "next: tradesphere migrate up && tradesphere backfill && tradesphere verify\n";
      });

  migrate->add_subcommand("status", "List every migration and whether it is applied")->callback([&g] {
    auto runner = runner_for(g);
    bool all_ok = true;
    for (const auto& s : runner.status()) {
      std::cout << std::setw(4) << std::setfill('0') << s.version << std::setfill(' ') << "  " << std::left
                << std::setw(36) << s.name << std::right << "  "
                << (s.applied ? "applied " + s.applied_at : std::string("pending"))
                << (s.checksum_ok ? "" : "  FILE CHANGED SINCE APPLIED") << "\n";
      all_ok = all_ok && s.checksum_ok;
    }
    if (!all_ok) throw CLI::RuntimeError(1);
  });
}

}  // namespace tradesphere::cli
