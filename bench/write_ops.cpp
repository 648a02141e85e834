// Chat ingest through POST /v1/chat, bulk duplicates, merge + undo (see bench_common.hpp).
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "db/database.hpp"
#include "domain/request_context.hpp"
#include "services/customer_merge_service.hpp"

namespace tradesphere::bench {

namespace {

constexpr int kChatBatch = 100;  // the largest batch POST /v1/chat accepts

// One chat row as POST /v1/chat takes it; even k: a contact the company knows, odd k: a new one.
json chat_item(const std::vector<SampleRow>& known, long long k, const std::string& tech_id, const std::string& tag) {
  json item{{"session_id", "bench-" + tag + "-" + std::to_string(k)},
            {"tech_id", tech_id},
            {"user_message", "Hello, is my order on its way?"},
            {"ai_response", "Let me check."}};
  if (k % 2 == 0 && !known.empty()) {
    const auto& who = known[static_cast<std::size_t>(k / 2) % known.size()];
    item["customer_name"] = who[1].empty() ? json(nullptr) : json(who[1]);
    item["customer_email"] = who[2].empty() ? json(nullptr) : json(who[2]);
    item["customer_phone"] = who[3].empty() ? json(nullptr) : json(who[3]);
    if (who[2].empty() && who[3].empty()) item["customer_email"] = "known" + std::to_string(k) + "@bench.example";
  } else {
    item["customer_name"] = "Ingest Person " + std::to_string(k);
    item["customer_email"] = "ingest" + std::to_string(k) + "-" + tag + "@bench.example";
    item["customer_phone"] = "+1 415 55" + std::to_string(10000 + k % 90000);
  }
  return item;
}

// Rows of a 200 answer whose chat row got a customer.
long long linked_rows(const json& response) {
  if (!response.is_object() || !response.contains("items")) return 0;
  long long n = 0;
  for (const auto& it : response["items"]) n += it.contains("customer_id") && !it["customer_id"].is_null() ? 1 : 0;
  return n;
}

Result ingest_http(const Config& cfg, const ScaleDb& s, ScratchCompany& scratch) {
  const long long rows_wanted = cfg.quick ? 200 : 5000;
  Result r = mk("chat_ingest_http", "http", rows_wanted);
  r.note = std::to_string(kChatBatch) +
           "-row batches to POST /v1/chat (in-process server, keep-alive), half known contacts, half new, into a "
           "scratch company (" + std::to_string(scratch.active_count()) +
           " customers) in the same tables, deleted afterwards; latency = per batch; rows = rows linked to a customer";
  const auto known = scratch.customers();
  HttpHarness http(s, scratch.id());
  long long sent = 0, linked = 0;
  const auto t_start = Clock::now();
  for (int b = 0; sent < rows_wanted && (b == 0 || ms_since(t_start) < cfg.op_budget_s * 1000); ++b) {
    json batch = json::array();
    for (int i = 0; i < kChatBatch && sent + i < rows_wanted; ++i) batch.push_back(chat_item(known, sent + i, scratch.tech_id(), "http"));
    const std::string body = batch.dump();
    json response;
    const auto t0 = Clock::now();
    const int status = http.post_json("/v1/chat", body, response);
    r.stats.ms.push_back(ms_since(t0));
    if (status != 200) {
      r.note += "; batch " + std::to_string(b) + " answered " + std::to_string(status) +
                (response.is_null() ? std::string() : ": " + response.dump().substr(0, 300));
      sent += static_cast<long long>(batch.size());
      break;
    }
    sent += static_cast<long long>(batch.size());
    linked += linked_rows(response);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t_start).count();
  if (sent < rows_wanted && r.note.find("answered") == std::string::npos) {
    r.expected = sent;
    r.note += "; stopped after " + fmt(cfg.op_budget_s, 0) + " s";
  }
  r.rows = linked;
  r.rows_per_second = static_cast<double>(sent) / secs;
  return r;
}

Result duplicates(const Config& cfg, const ScaleDb& s, long long active) {
  db::Database db(db::PoolOptions{s.app_url, 1, std::chrono::milliseconds(5000), std::chrono::milliseconds(3600000)});
  services::CustomerMergeService merges(db);
  domain::RequestContext ctx{s.company_id, "bench", domain::Role::kAdmin, "bench-duplicates"};
  // planted duplicates exist at every scale (5 %): at least one group
  Result r = mk("duplicates_bulk", "library", 1, true);
  r.note = "CustomerMergeService::bulk_find_duplicates over all " + std::to_string(active) +
           " active customers of the seeded company (the bench database holds one company per scale, so this is "
           "also every customer of the database); rows = groups found; rows/s = customers scored per second";
  measure(r, cfg.quick ? 1 : 3, 0, [&] { return static_cast<long long>(merges.bulk_find_duplicates(ctx).size()); },
          cfg.op_budget_s);
  if (!r.stats.ms.empty() && r.stats.pct(50) > 0) r.rows_per_second = static_cast<double>(active) / (r.stats.pct(50) / 1000.0);
  return r;
}

// Merge two customers of the scratch company, then undo; `pairs` disjoint pairs, each once.
std::vector<Result> merge_undo(const Config& cfg, const ScaleDb& s, ScratchCompany& scratch) {
  db::Database db(db::PoolOptions{s.app_url, 1, std::chrono::milliseconds(5000), std::chrono::milliseconds(600000)});
  services::CustomerMergeService merges(db);
  domain::RequestContext ctx{scratch.id(), "bench", domain::Role::kAdmin, "bench-merge"};
  const auto customers = scratch.customers();
  const long long active_before = static_cast<long long>(customers.size());
  const int pairs = std::min<int>(cfg.quick ? 3 : 20, static_cast<int>(customers.size() / 2));
  Result merge = mk("merge_2", "library", pairs);
  merge.note = "CustomerMergeService::merge_customers(target, {source}) of two seeded customers of the scratch "
               "company (each with its chat rows, conversations and events; distinct pairs); rows = merges done";
  Result undo = mk("merge_undo", "library", active_before);
  undo.note = "CustomerMergeService::undo_merge of each merge right after it; rows = active customers of the scratch "
              "company after every undo (must equal the count before: the undo restores)";
  long long merged = 0;
  const auto budget_start = Clock::now();
  for (int i = 0; i < pairs; ++i) {
    if (i > 0 && ms_since(budget_start) > cfg.op_budget_s * 1000) break;
    const auto& target = customers[static_cast<std::size_t>(2 * i)][0];
    const auto& source = customers[static_cast<std::size_t>(2 * i + 1)][0];
    auto t0 = Clock::now();
    auto done = merges.merge_customers(ctx, target, {source});
    merge.stats.ms.push_back(ms_since(t0));
    ++merged;
    t0 = Clock::now();
    merges.undo_merge(ctx, done.merge_id);
    undo.stats.ms.push_back(ms_since(t0));
  }
  if (merged < pairs) {
    merge.expected = merged;
    merge.note += "; stopped after " + fmt(cfg.op_budget_s, 0) + " s";
  }
  merge.rows = merged;
  undo.rows = scratch.active_count();
  return {merge, undo};
}

}  // namespace

std::vector<Result> run_write_ops(const Config& cfg, const ScaleDb& s, long long active_customers,
                                  ScratchCompany& scratch) {
  std::vector<Result> out;
  std::fprintf(stderr, "chat ingest over HTTP...\n");
  out.push_back(ingest_http(cfg, s, scratch));
  std::fprintf(stderr, "duplicates over %lld customers...\n", active_customers);
  out.push_back(duplicates(cfg, s, active_customers));
  std::fprintf(stderr, "merge + undo...\n");
  for (auto& r : merge_undo(cfg, s, scratch)) out.push_back(std::move(r));
  return out;
}

}  // namespace tradesphere::bench
