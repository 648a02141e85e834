// Writers of the suite's results: <date>-<scale>.json, .md and the latency SVG.
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.hpp"

namespace tradesphere::bench {

namespace {

std::string read_first_line(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      auto colon = line.find(':');
      auto v = line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  }
  return "";
}


}  // namespace

json machine_info() {
  json m;
  m["nproc"] = std::thread::hardware_concurrency();
  m["cpu"] = read_first_line("/proc/cpuinfo", "model name");
  m["mem_total"] = read_first_line("/proc/meminfo", "MemTotal");
  return m;
}

// ---------------------------------------------------------------------------
json to_json(const Config& cfg, const std::string& scale, const ScaleDb& s, const std::vector<Result>& results,
             const json& load) {
  json j;
  j["date"] = cfg.date;
  j["scale"] = scale;
  j["customers"] = s.customers;
  j["chat_rows"] = s.chat_rows;
  j["quick"] = cfg.quick;
  j["machine"] = machine_info();
  j["seed"] = {{"cached", s.cached}, {"seconds", s.seed_seconds}, {"rows_per_second", s.seed_rows_per_second}};
  j["results"] = json::array();
  std::map<std::string, std::map<std::string, double>> p50;
  std::set<std::string> estimated;
  for (const auto& r : results) {
    json x{{"op", r.op}, {"path", r.path}, {"scale", scale}, {"reps", r.stats.ms.size()},
           {"p50_ms", r.stats.pct(50)}, {"p95_ms", r.stats.pct(95)}, {"p99_ms", r.stats.pct(99)},
           {"mean_ms", r.stats.mean()}, {"rows", r.rows}, {"rows_ok", r.ok()}};
    if (r.rows_per_second) x["rows_per_second"] = *r.rows_per_second;
    if (r.queries) x["queries"] = *r.queries;
    if (!r.note.empty()) x["note"] = r.note;
    if (r.skipped) x["skipped"] = true;
    if (r.estimated_ms) x["estimated_ms"] = *r.estimated_ms;
    j["results"].push_back(x);
    p50[r.op][r.path] = r.skipped ? r.estimated_ms.value_or(0) : r.stats.pct(50);
    if (r.skipped) estimated.insert(r.op);
  }
  j["ratios"] = json::array();
  for (const auto& [op, paths] : p50) {
    json x{{"op", op}};
    auto has = [&](const char* p) { return paths.count(p) && paths.at(p) > 0; };
    if (has("library") && has("sql_floor")) x["new_over_floor"] = paths.at("library") / paths.at("sql_floor");
    if (has("http") && has("sql_floor")) x["http_over_floor"] = paths.at("http") / paths.at("sql_floor");
    if (has("library") && has("legacy_n_plus_1")) {
      x["legacy_over_new"] = paths.at("legacy_n_plus_1") / paths.at("library");
      if (estimated.count(op)) x["legacy_estimated"] = true;
    }
    if (has("library") && has("row_by_row")) x["row_by_row_over_new"] = paths.at("row_by_row") / paths.at("library");
    if (has("triggers_on") && has("triggers_off")) x["triggers_on_over_off"] = paths.at("triggers_on") / paths.at("triggers_off");
    if (x.size() > 1) j["ratios"].push_back(x);
  }
  if (!load.is_null()) j["load"] = load;
  return j;
}

std::string fmt(double v, int prec) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

std::string to_markdown(const json& j) {
  std::ostringstream md;
  md << "## Scale " << j["scale"].get<std::string>() << " — " << j["customers"].get<long long>() << " customers, "
     << j["chat_rows"].get<long long>() << " chat rows (" << j["date"].get<std::string>() << ")\n\n";
  md << "Machine: " << j["machine"]["nproc"].get<unsigned>() << " cores, " << j["machine"]["cpu"].get<std::string>()
     << ", " << j["machine"]["mem_total"].get<std::string>() << "\n\n";
  md << "| op | path | reps | p50 ms | p95 ms | p99 ms | rows | queries | rows/s | rows ok |\n";
  md << "|---|---|---:|---:|---:|---:|---:|---:|---:|:---:|\n";
  for (const auto& r : j["results"]) {
    if (r.contains("skipped")) {
      md << "| " << r["op"].get<std::string>() << " | " << r["path"].get<std::string>() << " | 0 | not run (est. ~"
         << fmt(r.value("estimated_ms", 0.0) / 1000.0, 0) << " s) | | | | " << (r.contains("queries") ? fmt(r["queries"], 0) : "")
         << " | | - |\n";
      continue;
    }
    md << "| " << r["op"].get<std::string>() << " | " << r["path"].get<std::string>() << " | " << r["reps"].get<int>()
       << " | " << fmt(r["p50_ms"]) << " | " << fmt(r["p95_ms"]) << " | " << fmt(r["p99_ms"]) << " | "
       << r["rows"].get<long long>() << " | " << (r.contains("queries") ? fmt(r["queries"], 0) : "") << " | "
       << (r.contains("rows_per_second") ? fmt(r["rows_per_second"], 0) : "") << " | "
       << (r["rows_ok"].get<bool>() ? "yes" : "**NO**") << " |\n";
  }
  md << "\nNotes:\n";
  for (const auto& r : j["results"]) {
    if (r.contains("note")) md << "- " << r["op"].get<std::string>() << " / " << r["path"].get<std::string>() << ": " << r["note"].get<std::string>() << "\n";
  }
  md << "\n| op | new / floor | http / floor | legacy / new | row-by-row / new | triggers on / off (batch latency) |\n|---|---:|---:|---:|---:|---:|\n";
  for (const auto& x : j["ratios"]) {
    auto cell = [&](const char* k) { return x.contains(k) ? fmt(x[k]) + "x" : std::string(); };
    md << "| " << x["op"].get<std::string>() << " | " << cell("new_over_floor") << " | " << cell("http_over_floor") << " | " << cell("legacy_over_new")
       << (x.contains("legacy_estimated") ? " (est.)" : "")
       << " | " << cell("row_by_row_over_new") << " | " << cell("triggers_on_over_off") << " |\n";
  }
  // Chat ingest throughput side by side (rows/s over the whole run of each path).
  std::vector<std::string> ingest;
  for (const auto& r : j["results"]) {
    const auto op = r["op"].get<std::string>();
    if (op.rfind("chat_ingest", 0) == 0 && r.contains("rows_per_second")) {
      ingest.push_back(op + " / " + r["path"].get<std::string>() + ": " + fmt(r["rows_per_second"], 0) + " rows/s");
    }
  }
  if (!ingest.empty()) {
    md << "\nChat ingest throughput: ";
    for (std::size_t i = 0; i < ingest.size(); ++i) md << (i ? "; " : "") << ingest[i];
    md << ".\n";
  }
  if (j.contains("load")) {
    const auto& l = j["load"];
    md << "\n### Load: " << l["clients"].get<int>() << " keep-alive clients for " << fmt(l["seconds"], 1)
       << " s against `tradesphere serve` (separate process, " << l["server_threads"].get<int>() << " HTTP threads)\n\n";
    md << "Mix: " << l["mix"].get<std::string>() << "\n\n";
    md << "| requests | errors | throughput req/s | server RSS before | RSS max during | RSS after |\n|---:|---:|---:|---:|---:|---:|\n";
    auto mb = [](const json& kb) { return fmt(kb.get<double>() / 1024.0, 1) + " MB"; };
    md << "| " << l["requests"].get<long long>() << " | " << l["errors"].get<long long>() << " | "
       << fmt(l["requests_per_second"], 1) << " | " << mb(l["rss_kb"]["before"]) << " | " << mb(l["rss_kb"]["max"])
       << " | " << mb(l["rss_kb"]["after"]) << " |\n\n";
    md << "| request | count | errors | req/s | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|---:|\n";
    for (const auto& [name, t] : l["by_type"].items()) {
      md << "| " << name << " | " << t["count"].get<long long>() << " | " << t["errors"].get<long long>() << " | "
         << fmt(t["requests_per_second"], 1) << " | " << fmt(t["p50_ms"]) << " | " << fmt(t["p99_ms"]) << " |\n";
    }
    if (l.contains("first_error")) md << "\nFirst error: " << l["first_error"].get<std::string>() << "\n";
  }
  md << "\n";
  return md.str();
}

// A small hand-written SVG: p50 of the library path per op against scale (log-log).
void write_svg(const std::string& path, const std::vector<json>& runs) {
  std::map<std::string, std::vector<std::pair<double, double>>> series;
  for (const auto& j : runs) {
    for (const auto& r : j["results"]) {
      if ((r["path"] != "library" && r["path"] != "legacy_n_plus_1") || r.contains("skipped")) continue;
      const std::string name = r["op"].get<std::string>() + (r["path"] == "library" ? "" : " (legacy)");
      series[name].push_back({j["customers"].get<double>(), std::max(0.01, r["p50_ms"].get<double>())});
    }
  }
  const double W = 760, H = 420, L = 70, R = 250, T = 30, B = 50;
  double xmin = 1e18, xmax = 0, ymin = 1e18, ymax = 0;
  for (auto& [n, pts] : series) {
    for (auto [x, y] : pts) {
      xmin = std::min(xmin, x), xmax = std::max(xmax, x), ymin = std::min(ymin, y), ymax = std::max(ymax, y);
    }
  }
  if (series.empty()) return;
  const double lx0 = std::floor(std::log10(xmin)), lx1 = std::max(lx0 + 1, std::ceil(std::log10(xmax)));
  const double ly0 = std::floor(std::log10(ymin)), ly1 = std::max(ly0 + 1, std::ceil(std::log10(ymax)));
  auto px = [&](double x) { return L + (std::log10(x) - lx0) / (lx1 - lx0) * (W - L - R); };
  auto py = [&](double y) { return H - B - (std::log10(y) - ly0) / (ly1 - ly0) * (H - T - B); };
  const char* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                          "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#000000", "#aa3377"};
  std::ofstream o(path);
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
    << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"" << L << "\" y=\"18\" font-size=\"13\">p50 latency (ms, log) vs customers per company (log)</text>\n";
  for (double e = lx0; e <= lx1; ++e) {
    o << "<line x1=\"" << px(std::pow(10, e)) << "\" y1=\"" << T << "\" x2=\"" << px(std::pow(10, e)) << "\" y2=\""
      << H - B << "\" stroke=\"#ddd\"/><text x=\"" << px(std::pow(10, e)) - 10 << "\" y=\"" << H - B + 16
      << "\">1e" << e << "</text>\n";
  }
  for (double e = ly0; e <= ly1; ++e) {
    o << "<line x1=\"" << L << "\" y1=\"" << py(std::pow(10, e)) << "\" x2=\"" << W - R << "\" y2=\""
      << py(std::pow(10, e)) << "\" stroke=\"#ddd\"/><text x=\"" << L - 40 << "\" y=\"" << py(std::pow(10, e)) + 4
      << "\">" << fmt(std::pow(10, e), e < 0 ? 2 : 0) << "</text>\n";
  }
  int i = 0;
  for (auto& [name, pts] : series) {
    std::sort(pts.begin(), pts.end());
    const char* col = colors[i % 12];
    o << "<polyline fill=\"none\" stroke=\"" << col << "\" stroke-width=\"2\""
      << (name.find("legacy") != std::string::npos ? " stroke-dasharray=\"5,3\"" : "") << " points=\"";
    for (auto [x, y] : pts) o << px(x) << "," << py(y) << " ";
    o << "\"/>\n";
    for (auto [x, y] : pts) o << "<circle cx=\"" << px(x) << "\" cy=\"" << py(y) << "\" r=\"3\" fill=\"" << col << "\"/>\n";
    o << "<rect x=\"" << W - R + 15 << "\" y=\"" << T + i * 16 << "\" width=\"10\" height=\"10\" fill=\"" << col
      << "\"/><text x=\"" << W - R + 30 << "\" y=\"" << T + i * 16 + 9 << "\">" << name << "</text>\n";
    ++i;
  }
  o << "</svg>\n";
}

// EXPLAIN (ANALYZE, BUFFERS) of the statements the repository really sends: auto_explain is
// preloaded for the application role in this database only, one call of each operation runs,

}  // namespace tradesphere::bench
