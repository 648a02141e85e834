// `tradesphere-dev evaluate-duplicates`: pairwise precision/recall of duplicate
// detection (domain::scan_duplicates, the product's scorer) on planted duplicates
// (planted_duplicates.hpp) or on a labelled list (--csv with --truth). No database.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "devdata/commands.hpp"
#include "devdata/planted_duplicates.hpp"
#include "domain/csv.hpp"
#include "domain/duplicate_scoring.hpp"

namespace tradesphere::devdata {
namespace {

std::string csv_field(const std::optional<std::string>& v) {
  if (!v) return "";
  bool quote = v->find_first_of(",\"\r\n") != std::string::npos;
  if (!quote) return *v;
  std::string out = "\"";
  for (char c : *v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// A labelled list: import CSV (external_id,name,email,phone,address) and its truth file (external_id,entity).
PlantedDataset read_labelled_list(const std::string& csv_path, const std::string& truth_path) {
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
  PlantedDataset data;
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

void register_evaluate_duplicates_command(CLI::App& app) {
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
  auto generated = std::make_shared<PlantedConfig>();
  eval->add_option("--family-share", generated->family_share,
                   "Generated: share of people with 1-2 family members at their address")
      ->capture_default_str();
  eval->add_option("--replaced-given-share", generated->replaced_given_share,
                   "Generated: share of copies whose given name is replaced by another (FEBRL's kind)")
      ->capture_default_str();
  eval->add_option("--csv", *csv_path, "Evaluate on this customer list (import CSV format) instead of generated data");
  eval->add_option("--truth", *truth_path, "external_id,entity file with the true duplicates of --csv");
  eval->add_flag("--show-model", *show_model, "Print the trained model's parameters as JSON");
  auto show_errors = std::make_shared<std::size_t>(0);
  eval->add_option("--show-errors", *show_errors, "Print up to N wrong links and N missed pairs with their evidence");
  eval->callback([people, seed, scores, write_csv, csv_path, truth_path, show_model, show_errors, name_address_only,
                  generated] {
    PlantedDataset data;
    if (!csv_path->empty()) {
      if (truth_path->empty()) throw CLI::ValidationError("--truth", "--csv needs --truth");
      data = read_labelled_list(*csv_path, *truth_path);
    } else {
      PlantedConfig config = *generated;
      config.people = *people;
      config.seed = *seed;
      config.contact_fields = !*name_address_only;
      data = generate_planted_duplicates(config);
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

}  // namespace tradesphere::devdata
