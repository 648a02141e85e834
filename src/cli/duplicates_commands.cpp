// tradesphere duplicates | merge | undo-merge (issue 6; docs/duplicates.md). The quality
// measurement on planted or labelled lists is `tradesphere-dev evaluate-duplicates` (tools/devdata).
#include <algorithm>
#include <chrono>
#include <functional>
#include <cstdio>
#include <map>
#include <set>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/cli_context.hpp"
#include "cli/commands.hpp"
#include "db/database.hpp"
#include "domain/csv.hpp"
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

// Progress on stderr: each stage as it ends, with the seconds since the start.
std::function<void(const std::string&, std::size_t, std::size_t)> stage_printer() {
  const auto start = std::chrono::steady_clock::now();
  return [start](const std::string& stage, std::size_t done, std::size_t total) {
    const std::chrono::duration<double> since = std::chrono::steady_clock::now() - start;
    std::fprintf(stderr, "duplicates: %s %zu/%zu (%.1f s)\n", stage.c_str(), done, total, since.count());
  };
}

}  // namespace

void register_duplicates_commands(CLI::App& app, GlobalOptions& g) {
  // duplicates
  auto* dup = app.add_subcommand("duplicates", "List groups of probable duplicate customers");
  auto slug = std::make_shared<std::string>();
  auto min_score = std::make_shared<double>(domain::ScoringConfig{}.threshold);
  auto format = std::make_shared<std::string>("table");
  dup->add_option("--company", *slug, "Company slug (required unless a subcommand is given)");
  auto rebuild = std::make_shared<bool>(false);
  auto max_block = std::make_shared<std::size_t>(domain::ScoringConfig{}.max_block_size);
  dup->add_flag("--retrain", *rebuild, "Estimate the model again before scanning (otherwise the stored one is used)");
  dup->add_option("--max-block-size", *max_block, "Skip blocking keys shared by more records than this")
      ->capture_default_str();
  // duplicates train
  auto* train = dup->add_subcommand(
      "train", "Estimate the company's duplicate model (EM), store it and rebuild the stored pairs (alias: rebuild)");
  train->alias("rebuild");
  auto tslug = std::make_shared<std::string>();
  train->add_option("--company", *tslug, "Company slug")->required();
  train->callback([&g, tslug, max_block] {
    auto scope = company_scope(g, *tslug);
    auto database = app_database(scope);
    services::CustomerMergeService svc(*database);
    auto report = svc.train_duplicate_model(scope.ctx, *max_block, stage_printer());
    std::cout << services::to_json(report).dump(2) << "\n";
  });
  dup->add_option("--min-score", *min_score, "Report pairs scoring at least this (0..1)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  dup->add_option("--format", *format, "table|jsonl")->check(CLI::IsMember({"table", "jsonl"}))->capture_default_str();
  dup->callback([&g, slug, min_score, format, rebuild, max_block, train] {
    if (train->parsed()) return;
    if (slug->empty()) throw CLI::RequiredError("--company");
    auto scope = company_scope(g, *slug);
    auto database = app_database(scope);
    services::CustomerMergeService svc(*database);
    services::BulkDuplicateOptions options;
    options.scoring.threshold = *min_score;
    options.scoring.max_block_size = *max_block;
    options.retrain = *rebuild;
    services::DuplicateScanReport report;
    options.report = &report;
    options.progress = stage_printer();
    auto groups = svc.bulk_find_duplicates(scope.ctx, options);
    std::fprintf(stderr, "duplicates: %zu records, %zu candidate pairs, model %s%s\n", report.records,
                 report.candidate_pairs, report.model ? report.model->source.c_str() : "-",
                 report.model_stored ? " (trained now and stored)" : "");
    for (const auto& r : report.blocking)
      std::fprintf(stderr, "duplicates: rule %-28s pairs %zu (new %zu), blocks over %zu records skipped: %zu%s\n",
                   r.rule.c_str(), r.pairs, r.new_pairs, *max_block, r.skipped_blocks,
                   r.skipped_blocks ? (" (largest " + std::to_string(r.largest_skipped) + ")").c_str() : "");
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
        line["pairs"] = j["pairs"];
        std::cout << line.dump() << "\n";
        continue;
      }
      std::ostringstream reasons;
      for (std::size_t i = 0; i < grp.reasons.size(); ++i) reasons << (i ? "," : "") << grp.reasons[i];
      std::cout << std::fixed << std::setprecision(2) << grp.score << "  " << reasons.str() << "\n";
      for (const auto& c : grp.customers)
        std::cout << "    " << c.id << "  " << std::left << std::setw(16) << c.external_id.value_or("-") << "  "
                  << c.name.value_or("") << "\n";
      for (const auto& p : grp.pairs)
        std::cout << "      " << p.a.substr(0, 8) << " ~ " << p.b.substr(0, 8) << "  " << std::setprecision(3) << p.score
                  << "  " << domain::explain(p.evidence) << "\n";
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
}

}  // namespace tradesphere::cli
