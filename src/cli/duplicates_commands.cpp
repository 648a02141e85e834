// tradesphere duplicates | merge | undo-merge | evaluate-duplicates (issue 6; docs/duplicates.md).
#include <algorithm>
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

// A labelled list: import CSV (external_id,name,email,phone,address) and its truth file (external_id,entity).
domain::PlantedDataset read_labelled_list(const std::string& csv_path, const std::string& truth_path) {
  auto read_all = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    domain::CsvReader reader(in);
    std::vector<std::vector<std::string>> rows;
    domain::CsvRecord rec;
    while (reader.next(rec))
      if (rec.error.empty()) rows.push_back(rec.fields);
    return rows;
  };
  auto column = [](const std::vector<std::string>& header, const std::string& name) {
    auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : static_cast<int>(it - header.begin());
  };
  domain::PlantedDataset data;
  auto rows = read_all(csv_path);
  if (rows.empty()) throw std::runtime_error(csv_path + ": empty");
  const auto& h = rows[0];
  const int id = column(h, "external_id"), name = column(h, "name"), email = column(h, "email"),
            phone = column(h, "phone"), address = column(h, "address");
  if (id < 0) throw std::runtime_error(csv_path + ": no external_id column");
  auto get = [](const std::vector<std::string>& row, int col) -> std::optional<std::string> {
    if (col < 0 || static_cast<std::size_t>(col) >= row.size() || row[static_cast<std::size_t>(col)].empty()) return std::nullopt;
    return row[static_cast<std::size_t>(col)];
  };
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    auto x = get(r, id);
    if (!x) continue;
    data.records.push_back({*x, x, get(r, name), get(r, email), get(r, phone), get(r, address)});
  }
  auto truth = read_all(truth_path);
  if (truth.empty()) throw std::runtime_error(truth_path + ": empty");
  const int tid = column(truth[0], "external_id"), tent = column(truth[0], "entity");
  if (tid < 0 || tent < 0) throw std::runtime_error(truth_path + ": header must have external_id,entity");
  std::map<std::string, std::vector<std::string>> clusters;
  for (std::size_t i = 1; i < truth.size(); ++i)
    if (auto x = get(truth[i], tid), e = get(truth[i], tent); x && e) clusters[*e].push_back(*x);
  for (auto& [e, ids] : clusters)
    if (ids.size() >= 2) data.truth.push_back(std::move(ids));
  return data;
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
    auto report = svc.train_duplicate_model(scope.ctx, *max_block);
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
    options.progress = [](const std::string& stage, std::size_t done, std::size_t total) {
      std::fprintf(stderr, "duplicates: %s %zu/%zu\n", stage.c_str(), done, total);
    };
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
  auto csv_path = std::make_shared<std::string>();
  auto truth_path = std::make_shared<std::string>();
  auto show_model = std::make_shared<bool>(false);
  auto name_address_only = std::make_shared<bool>(false);
  eval->add_flag("--name-address-only", *name_address_only, "Generated variant without emails and phones");
  eval->add_option("--csv", *csv_path, "Evaluate on this customer list (import CSV format) instead of generated data");
  eval->add_option("--truth", *truth_path, "external_id,entity file with the true duplicates of --csv");
  eval->add_flag("--show-model", *show_model, "Print the trained model's parameters as JSON");
  auto show_errors = std::make_shared<std::size_t>(0);
  eval->add_option("--show-errors", *show_errors, "Print up to N wrong links and N missed pairs with their evidence");
  eval->callback([people, seed, scores, write_csv, csv_path, truth_path, show_model, show_errors, name_address_only] {
    domain::PlantedDataset data;
    if (!csv_path->empty()) {
      if (truth_path->empty()) throw CLI::ValidationError("--truth", "--csv needs --truth");
      data = read_labelled_list(*csv_path, *truth_path);
    } else {
      domain::PlantedConfig config;
      config.people = *people;
      config.seed = *seed;
      config.contact_fields = !*name_address_only;
      data = domain::generate_planted_duplicates(config);
    }
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
    auto thresholds = scores->empty() ? std::vector<double>{0.5, 0.6, 0.7, 0.8, 0.9, 0.95} : *scores;
    std::printf("records %zu, true clusters %zu\n", records.size(), data.truth.size());
    domain::ScoringConfig base;
    base.threshold = *std::min_element(thresholds.begin(), thresholds.end());
    auto scan = domain::scan_duplicates(records, base);
    std::printf("candidate pairs %zu; model %s, prior %.2f bits, EM iterations %zu\n", scan.candidate_pairs,
                scan.model->source.c_str(), scan.model->prior_log2_odds, scan.model->em_iterations);
    for (const auto& r : scan.blocking)
      std::printf("  rule %-22s blocks %-7zu pairs %-9zu new %-9zu skipped blocks %zu (largest %zu)\n", r.rule.c_str(),
                  r.blocks, r.pairs, r.new_pairs, r.skipped_blocks, r.largest_skipped);
    if (*show_model) std::printf("%s\n", domain::to_json(*scan.model, false).dump(1).c_str());
    std::printf("%-10s %-10s %-10s %-10s %s\n", "min-score", "precision", "recall", "f1", "tp/fp/fn");
    for (double t : thresholds) {
      std::vector<domain::ScoredPair> pairs;
      for (const auto& p : scan.pairs)
        if (p.score.score >= t) pairs.push_back(p);
      auto groups = domain::group_duplicates(records, std::move(pairs));
      std::vector<std::vector<std::string>> reported;
      for (const auto& grp : groups) {
        reported.emplace_back();
        for (auto i : grp.members) reported.back().push_back(records[i].input.id);
      }
      auto q = domain::evaluate_groups(reported, data.truth);
      if (*show_errors && t == thresholds.back()) {
        std::map<std::string, std::size_t> entity;
        for (std::size_t e = 0; e < data.truth.size(); ++e)
          for (const auto& x : data.truth[e]) entity[x] = e + 1;
        auto same = [&](std::size_t a, std::size_t b) {
          auto ea = entity.find(records[a].input.id), eb = entity.find(records[b].input.id);
          return ea != entity.end() && eb != entity.end() && ea->second == eb->second;
        };
        auto show = [&](std::size_t a, std::size_t b, const domain::PairScore& ps) {
          std::printf("  %.3f  [%s | %s | %s | %s]\n         [%s | %s | %s | %s]\n         %s\n", ps.score,
                      records[a].input.name.value_or("").c_str(), records[a].input.email.value_or("").c_str(),
                      records[a].input.phone.value_or("").c_str(), records[a].input.address.value_or("").c_str(),
                      records[b].input.name.value_or("").c_str(), records[b].input.email.value_or("").c_str(),
                      records[b].input.phone.value_or("").c_str(), records[b].input.address.value_or("").c_str(),
                      domain::explain(ps.evidence).c_str());
        };
        std::size_t shown = 0;
        std::printf("wrong links at %.2f:\n", t);
        for (const auto& grp : groups)
          for (const auto& l : grp.links)
            if (!same(l.a, l.b) && shown++ < *show_errors) show(l.a, l.b, l.score);
        std::map<std::string, std::size_t> index;
        for (std::size_t i = 0; i < records.size(); ++i) index[records[i].input.id] = i;
        std::set<std::pair<std::size_t, std::size_t>> found;
        for (const auto& grp : groups)
          for (auto x : grp.members)
            for (auto y : grp.members)
              if (x < y) found.insert({x, y});
        shown = 0;
        std::printf("missed pairs at %.2f:\n", t);
        for (const auto& cl : data.truth)
          for (std::size_t i = 0; i < cl.size(); ++i)
            for (std::size_t j = i + 1; j < cl.size(); ++j) {
              auto a = index.at(cl[i]), b = index.at(cl[j]);
              if (a > b) std::swap(a, b);
              if (found.count({a, b}) || shown++ >= *show_errors) continue;
              domain::ScoringConfig with_model;
              with_model.model = scan.model;
              show(a, b, domain::score_pair(records[a], records[b], with_model));
            }
      }
      std::printf("%-10.2f %-10.4f %-10.4f %-10.4f %zu/%zu/%zu\n", t, q.precision, q.recall, q.f1, q.true_positives,
                  q.false_positives, q.false_negatives);
    }
  });
}

}  // namespace tradesphere::cli
