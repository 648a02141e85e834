// tradesphere duplicates | merge | undo-merge | evaluate-duplicates (issue 6; docs/duplicates.md).
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/cli_context.hpp"
#include "cli/commands.hpp"
#include "db/database.hpp"
#include "domain/planted_duplicates.hpp"
#include "services/customer_merge_service.hpp"

namespace tradesphere::cli {
namespace {

std::unique_ptr<db::Database> app_database(const CompanyScope& scope) {
  db::PoolOptions o;
  o.url = scope.target.app_url;
  o.size = 1;
  o.statement_timeout = std::chrono::milliseconds(300000);
  return std::make_unique<db::Database>(o);
}

std::string csv_field(const std::optional<std::string>& v) {
  if (!v) return "";
  bool quote = v->find_first_of(",\"\r\n") != std::string::npos;
  if (!quote) return *v;
  std::string out = "\"";
  for (char c : *v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

void register_duplicates_commands(CLI::App& app, GlobalOptions& g) {
  // duplicates
  auto* dup = app.add_subcommand("duplicates", "List groups of probable duplicate customers");
  auto slug = std::make_shared<std::string>();
  auto min_score = std::make_shared<double>(domain::ScoringConfig{}.threshold);
  auto format = std::make_shared<std::string>("table");
  dup->add_option("--company", *slug, "Company slug")->required();
  dup->add_option("--min-score", *min_score, "Report pairs scoring at least this (0..1)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  dup->add_option("--format", *format, "table|jsonl")->check(CLI::IsMember({"table", "jsonl"}))->capture_default_str();
  dup->callback([&g, slug, min_score, format] {
    auto scope = company_scope(g, *slug);
    auto database = app_database(scope);
    services::CustomerMergeService svc(*database);
    services::BulkDuplicateOptions options;
    options.scoring.threshold = *min_score;
    options.progress = [](const std::string& stage, std::size_t done, std::size_t total) {
      std::fprintf(stderr, "duplicates: %s %zu/%zu\n", stage.c_str(), done, total);
    };
    auto groups = svc.bulk_find_duplicates(scope.ctx, options);
    for (const auto& grp : groups) {
      if (*format == "jsonl") {
        // key order as documented: score, reasons, customers (id, external_id, name)
        nlohmann::ordered_json line;
        auto j = services::to_json(grp);
        line["score"] = j["score"];
        line["reasons"] = j["reasons"];
        line["customers"] = nlohmann::ordered_json::array();
        for (const auto& c : j["customers"])
          line["customers"].push_back({{"id", c["id"]}, {"external_id", c["external_id"]}, {"name", c["name"]}});
        std::cout << line.dump() << "\n";
        continue;
      }
      std::ostringstream reasons;
      for (std::size_t i = 0; i < grp.reasons.size(); ++i) reasons << (i ? "," : "") << grp.reasons[i];
      std::cout << std::fixed << std::setprecision(2) << grp.score << "  " << reasons.str() << "\n";
      for (const auto& c : grp.customers)
        std::cout << "    " << c.id << "  " << std::left << std::setw(16) << c.external_id.value_or("-") << "  "
                  << c.name.value_or("") << "\n";
    }
    std::fprintf(stderr, "%zu groups\n", groups.size());
  });

  // dismiss-duplicate
  auto* dismiss = app.add_subcommand("dismiss-duplicate",
                                     "Mark two customers as not duplicates: never proposed together again");
  auto dslug = std::make_shared<std::string>();
  auto pair = std::make_shared<std::vector<std::string>>();
  auto reason = std::make_shared<std::string>();
  dismiss->add_option("--company", *dslug, "Company slug")->required();
  dismiss->add_option("customer-ids", *pair, "The two customer ids")->required()->expected(2);
  dismiss->add_option("--reason", *reason, "Why (kept with the dismissal)");
  dismiss->callback([&g, dslug, pair, reason] {
    auto scope = company_scope(g, *dslug);
    auto database = app_database(scope);
    services::CustomerMergeService svc(*database);
    const bool added = svc.dismiss_duplicate(scope.ctx, (*pair)[0], (*pair)[1],
                                             reason->empty() ? std::nullopt : std::optional<std::string>(*reason));
    std::cout << nlohmann::json{{"dismissed", true}, {"already_dismissed", !added}}.dump() << "\n";
  });

  // merge
  auto* merge = app.add_subcommand("merge", "Merge source customers into a target (admin; undo with undo-merge)");
  auto mslug = std::make_shared<std::string>();
  auto into = std::make_shared<std::string>();
  auto sources = std::make_shared<std::vector<std::string>>();
  auto preview_only = std::make_shared<bool>(false);
  merge->add_option("--company", *mslug, "Company slug")->required();
  merge->add_option("--into", *into, "Target customer id")->required();
  merge->add_option("sources", *sources, "Source customer ids")->required();
  merge->add_flag("--preview", *preview_only, "Print the field-by-field preview as JSON and change nothing");
  merge->callback([&g, mslug, into, sources, preview_only] {
    auto scope = company_scope(g, *mslug);
    auto database = app_database(scope);
    services::CustomerMergeService svc(*database);
    if (*preview_only) {
      std::cout << services::to_json(svc.preview_merge(scope.ctx, *into, *sources)).dump(2) << "\n";
      return;
    }
    auto r = svc.merge_customers(scope.ctx, *into, *sources);
    std::cout << services::to_json(r).dump() << "\n";
  });

  // undo-merge
  auto* undo = app.add_subcommand("undo-merge", "Undo a merge exactly (admin)");
  auto uslug = std::make_shared<std::string>();
  auto merge_id = std::make_shared<std::string>();
  undo->add_option("--company", *uslug, "Company slug")->required();
  undo->add_option("merge-id", *merge_id, "The merge_id printed by merge")->required();
  undo->callback([&g, uslug, merge_id] {
    auto scope = company_scope(g, *uslug);
    auto database = app_database(scope);
    services::CustomerMergeService svc(*database);
    auto r = svc.undo_merge(scope.ctx, *merge_id);
    std::cout << nlohmann::json{{"merge_id", r.merge_id}, {"target_id", r.target_id}, {"source_ids", r.source_ids}}.dump()
              << "\n";
  });

  // evaluate-duplicates
  auto* eval = app.add_subcommand(
      "evaluate-duplicates",
      "Measure pairwise precision/recall of duplicate detection on planted duplicates (no database)");
  auto people = std::make_shared<std::size_t>(5000);
  auto seed = std::make_shared<std::uint64_t>(42);
  auto scores = std::make_shared<std::vector<double>>();
  auto write_csv = std::make_shared<std::string>();
  eval->add_option("--people", *people, "Clean customers to generate")->capture_default_str();
  eval->add_option("--seed", *seed, "Generator seed")->capture_default_str();
  eval->add_option("--min-score", *scores, "Thresholds to evaluate (repeatable; default 0.5 0.7 0.8 0.9 0.95)");
  eval->add_option("--write-csv", *write_csv, "Also write the generated list as an import CSV (external_id = record id)");
  eval->callback([people, seed, scores, write_csv] {
    domain::PlantedConfig config;
    config.people = *people;
    config.seed = *seed;
    auto data = domain::generate_planted_duplicates(config);
    if (!write_csv->empty()) {
      std::ofstream out(*write_csv, std::ios::binary);
      out << "external_id,name,email,phone,address\r\n";
      for (const auto& m : data.records)
        out << csv_field(m.external_id) << "," << csv_field(m.name) << "," << csv_field(m.email) << ","
            << csv_field(m.phone) << "," << csv_field(m.address) << "\r\n";
      if (!out) throw std::runtime_error("cannot write " + *write_csv);
    }
    std::vector<domain::PreparedRecord> records;
    for (const auto& m : data.records) records.push_back(domain::prepare(m));
    auto thresholds = scores->empty() ? std::vector<double>{0.5, 0.7, 0.8, 0.9, 0.95} : *scores;
    std::printf("records %zu, true clusters %zu\n", records.size(), data.truth.size());
    std::printf("%-10s %-10s %-10s %-10s %s\n", "min-score", "precision", "recall", "f1", "tp/fp/fn");
    for (double t : thresholds) {
      domain::ScoringConfig sc;
      sc.threshold = t;
      auto groups = domain::group_duplicates(records, domain::find_scored_pairs(records, sc));
      std::vector<std::vector<std::string>> reported;
      for (const auto& grp : groups) {
        reported.emplace_back();
        for (auto i : grp.members) reported.back().push_back(records[i].input.id);
      }
      auto q = domain::evaluate_groups(reported, data.truth);
      std::printf("%-10.2f %-10.4f %-10.4f %-10.4f %zu/%zu/%zu\n", t, q.precision, q.recall, q.f1, q.true_positives,
                  q.false_positives, q.false_negatives);
    }
  });
}

}  // namespace tradesphere::cli
