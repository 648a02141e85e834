// `tradesphere-dev seed`: deterministic test data (seed_generator.hpp).
#include <cstdio>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "db/database_config.hpp"
#include "devdata/commands.hpp"
#include "devdata/seed_generator.hpp"

namespace tradesphere::devdata {

void register_seed_command(CLI::App& app, cli::GlobalOptions& g) {
  auto* seed = app.add_subcommand(
      "seed", "Load deterministic, realistic customers and chat rows with COPY (for benchmarks and demos)");
  auto o = std::make_shared<SeedOptions>();
  auto json = std::make_shared<bool>(false);
  seed->add_option("--company", o->company, "Slug of an existing company, or 'new' to create companies")
      ->capture_default_str();
  seed->add_option("--companies", o->companies, "With --company new: how many companies")->capture_default_str();
  seed->add_option("--customers", o->customers, "Customers per company (planted duplicates included)")
      ->capture_default_str();
  seed->add_option("--chats-per-customer", o->chats_per_customer, "Chat rows per customer")->capture_default_str();
  seed->add_option("--duplicate-rate", o->duplicate_rate, "Share of customers that are corrupted copies (0..0.5)")
      ->capture_default_str();
  seed->add_option("--seed", o->seed, "Random seed: the same seed gives the same data")->capture_default_str();
  seed->add_flag("--legacy", o->legacy, "Write the legacy shape (a database at migration 0001) for upgrade runs");
  seed->add_flag("--json", *json, "Print the report as JSON");
  seed->callback([&g, o, json] {
    auto target = db::resolve_database(g.database());
    auto report = seed_database(target.admin_url, *o, [](const SeedProgress& p) {
      if (p.phase == "analyze") {
        std::fprintf(stderr, "\nseed: analyze\n");
      } else {
        std::fprintf(stderr, "\rseed %s: %-9s %llu/%llu rows, %.0f rows/s        ", p.company.c_str(),
                     p.phase.c_str(), static_cast<unsigned long long>(p.rows_done),
                     static_cast<unsigned long long>(p.rows_total), p.rows_per_second);
      }
    });
    if (*json) {
      nlohmann::json j;
      j["customers"] = report.customers;
      j["duplicates"] = report.duplicates;
      j["chat_rows"] = report.chat_rows;
      j["seconds"] = report.seconds;
      j["rows_per_second"] = report.rows_per_second;
      j["companies"] = nlohmann::json::array();
      for (const auto& c : report.companies) {
        j["companies"].push_back({{"id", c.id}, {"slug", c.slug}, {"tech_id", c.tech_id},
                                  {"customers", c.customers}, {"duplicates", c.duplicates},
                                  {"chat_rows", c.chat_rows}});
      }
      std::cout << j.dump() << "\n";
      return;
    }
    for (const auto& c : report.companies) {
      std::cout << "company " << c.slug << " (" << c.id << "), user " << c.tech_id << ": " << c.customers
                << " customers (" << c.duplicates << " planted duplicates), " << c.chat_rows << " chat rows\n";
    }
    std::printf("%llu rows in %.1f s (%.0f rows/s)\n",
                static_cast<unsigned long long>(report.customers + report.chat_rows), report.seconds,
                report.rows_per_second);
  });
}

}  // namespace tradesphere::devdata
