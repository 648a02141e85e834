// /v1 routes: thin adapters — parse the request, call the library, render JSON.
// Authorization by role is declared per route (Access); the services check it
// again. Tenancy comes from the token only (ctx.company_id): an id of another
// company is simply not found.
#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <sstream>
#include <utility>

#include "domain/customer.hpp"
#include "domain/customer_csv.hpp"
#include "domain/customer_filters.hpp"
#include "domain/errors.hpp"
#include "http/customer_page_json.hpp"
#include "http/problem.hpp"
#include "http/routes.hpp"
#include "domain/contact_extraction.hpp"
#include "services/customer_crud_service.hpp"
#include "services/customer_enrichment_service.hpp"
#include "services/customer_export_service.hpp"
#include "services/customer_import_service.hpp"
#include "services/customer_lifecycle_service.hpp"
#include "services/customer_merge_service.hpp"
#include "services/customer_sync_service.hpp"
#include "services/overview_service.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::http {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxChatBatch = 100;
constexpr std::size_t kMaxMergeSources = 50;

// ---- request helpers -------------------------------------------------------

// Path ids are uuids; anything else is "not found" (same answer as a missing id).
const std::string& path_uuid(const ApiRequest& req, const std::string& name) {
  const auto& v = req.param(name);
  if (!domain::is_uuid(v)) throw domain::NotFoundError("not found");
  return v;
}

// Runs fn; a ValidationError about query parameters becomes 400 (malformed
// request), not 422.
template <typename F>
auto with_query_params(F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const domain::ValidationError& e) {
    throw bad_request("Invalid query parameters.", e.fields());
  }
}

struct PageParams {
  int limit = 50;
  std::optional<std::string> cursor;
};

int parse_limit(const std::string& text, int max) {
  if (text.empty() || text.size() > 5 || !std::all_of(text.begin(), text.end(), [](unsigned char c) {
        return std::isdigit(c);
      })) {
    throw bad_request("Invalid query parameters.", {{"limit", "must be an integer 1.." + std::to_string(max)}});
  }
  int v = std::stoi(text);
  if (v < 1 || v > max) {
    throw bad_request("Invalid query parameters.", {{"limit", "must be an integer 1.." + std::to_string(max)}});
  }
  return v;
}

PageParams page_params(const ApiRequest& req, int max_limit, int default_limit = 50) {
  auto q = req.query_map({"limit", "cursor"});
  PageParams p;
  p.limit = std::min(default_limit, max_limit);
  if (auto it = q.find("limit"); it != q.end()) p.limit = parse_limit(it->second, max_limit);
  if (auto it = q.find("cursor"); it != q.end()) {
    const auto& c = it->second;
    bool ok = !c.empty() && c.size() <= domain::kMaxCursorLength &&
              std::all_of(c.begin(), c.end(), [](unsigned char ch) { return std::isalnum(ch) || ch == '-' || ch == '_'; });
    if (!ok) throw bad_request("Invalid query parameters.", {{"cursor", "not a cursor issued by this API"}});
    p.cursor = c;
  }
  return p;
}

// Reads the fields of a JSON object body strictly: unknown keys are reported,
// type errors are collected, then check() throws one ValidationError.
class BodyReader {
 public:
  BodyReader(const json& body, std::vector<std::string> known) : body_(body) {
    if (!body.is_object()) {
      errors_.push_back({"/", "must be a JSON object"});
      return;
    }
    for (const auto& [k, v] : body.items()) {
      if (std::find(known.begin(), known.end(), k) == known.end()) errors_.push_back({k, "unknown or read-only field"});
    }
  }

  std::optional<std::string> string(const std::string& name, bool required, std::size_t max_len = 1000) {
    auto v = find(name, required);
    if (!v) return std::nullopt;
    if (!v->is_string()) return fail<std::string>(name, "must be a string");
    const auto& s = v->get_ref<const std::string&>();
    if (s.empty() && required) return fail<std::string>(name, "must not be empty");
    if (s.size() > max_len) return fail<std::string>(name, "at most " + std::to_string(max_len) + " bytes");
    return s;
  }
  // string or null: outer nullopt = absent.
  std::optional<std::optional<std::string>> nullable_string(const std::string& name, std::size_t max_len) {
    auto v = find(name, false);
    if (!v) return std::nullopt;
    if (v->is_null()) return std::optional<std::string>{};
    if (!v->is_string()) return fail<std::optional<std::string>>(name, "must be a string or null");
    if (v->get_ref<const std::string&>().size() > max_len) {
      return fail<std::optional<std::string>>(name, "at most " + std::to_string(max_len) + " bytes");
    }
    return std::optional<std::string>(v->get<std::string>());
  }
  std::vector<std::string> string_array(const std::string& name, bool required, std::size_t max_items,
                                        std::size_t max_len = 1000) {
    auto v = find(name, required);
    if (!v) return {};
    if (!v->is_array()) return fail<std::vector<std::string>>(name, "must be an array of strings").value_or(
               std::vector<std::string>{});
    if (v->size() > max_items) {
      errors_.push_back({name, "at most " + std::to_string(max_items) + " items"});
      return {};
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v->size(); ++i) {
      const auto& item = (*v)[i];
      if (!item.is_string() || item.get_ref<const std::string&>().size() > max_len) {
        errors_.push_back({name + "/" + std::to_string(i), "must be a string of at most " + std::to_string(max_len) +
                                                               " bytes"});
        continue;
      }
      out.push_back(item.get<std::string>());
    }
    if (required && out.empty() && errors_.empty()) errors_.push_back({name, "must not be empty"});
    return out;
  }
  const json* raw(const std::string& name) { return find(name, false); }
  void error(std::string field, std::string reason) { errors_.push_back({std::move(field), std::move(reason)}); }
  void check() {
    if (!errors_.empty()) throw domain::ValidationError(errors_);
  }

 private:
  const json* find(const std::string& name, bool required) {
    if (!body_.is_object()) return nullptr;
    auto it = body_.find(name);
    if (it == body_.end()) {
      if (required) errors_.push_back({name, "is required"});
      return nullptr;
    }
    return &*it;
  }
  template <typename T>
  std::optional<T> fail(const std::string& name, std::string reason) {
    errors_.push_back({name, std::move(reason)});
    return std::nullopt;
  }

  const json& body_;
  std::vector<domain::FieldError> errors_;
};

std::string etag(int version) { return "\"" + std::to_string(version) + "\""; }

ApiResponse customer_response(const domain::Customer& c, int status = 200) {
  ApiResponse r = ApiResponse::ok(domain::to_json(c));
  r.status = status;
  r.headers.emplace_back("ETag", etag(c.version));
  return r;
}

json opt(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

json to_json(const domain::Conversation& c) {
  return {{"session_key", c.session_key},       {"session_id", opt(c.session_id)},
          {"first_message_at", c.first_message_at}, {"last_message_at", c.last_message_at},
          {"message_count", c.message_count},   {"last_user_message", opt(c.last_user_message)},
          {"last_ai_response", opt(c.last_ai_response)}};
}

json to_json(const domain::ChatRow& r) {
  return {{"id", r.id},
          {"session_id", opt(r.session_id)},
          {"tech_id", opt(r.tech_id)},
          {"customer_name", opt(r.customer_name)},
          {"customer_email", opt(r.customer_email)},
          {"customer_phone", opt(r.customer_phone)},
          {"user_message", opt(r.user_message)},
          {"ai_response", opt(r.ai_response)},
          {"created_at", r.created_at},
          {"customer_id", opt(r.customer_id)}};
}

json to_json(const domain::TimelineEntry& e) {
  return {{"kind", e.kind}, {"id", e.id}, {"type", e.type}, {"at", e.at}, {"data", e.data}};
}

template <typename Items, typename F>
json page_json(const Items& items, const std::optional<std::string>& next, F&& render) {
  json arr = json::array();
  for (const auto& i : items) arr.push_back(render(i));
  return {{"items", std::move(arr)}, {"next_cursor", opt(next)}};
}

// ---- customers -------------------------------------------------------------

void register_customer_routes(RouteTable& t, ApiServices& s) {
  auto& customers = *s.customers;
  auto& lifecycle = *s.lifecycle;

  t.add({"GET", "/v1/customers", Access::kViewer, [&customers](ApiRequest& req) {
           return with_query_params([&] {
             auto filters = domain::parse_customer_filters(req.query_map());
             // written straight from the database rows, no domain objects, no JSON DOM:
             // see customer_page_json.hpp
             const auto page = customers.get_customer_rows(req.ctx, filters);
             ApiResponse r;
             r.raw_body = render_customer_page(page);
             return r;
           });
         }});

  t.add({"POST", "/v1/customers", Access::kAgent,
         [&customers](ApiRequest& req) {
           auto created = customers.create_customer(req.ctx, domain::new_customer_from_json(req.json_body()));
           auto r = customer_response(created, 201);
           r.headers.emplace_back("Location", "/v1/customers/" + created.id);
           return r;
         },
         true});

  t.add({"GET", "/v1/customers/search", Access::kViewer, [&customers](ApiRequest& req) {
           auto q = req.query_map({"q", "limit"});
           std::string text = q.count("q") ? q["q"] : "";
           int limit = q.count("limit") ? parse_limit(q["limit"], domain::kMaxSearchLimit) : 20;
           auto hits = with_query_params([&] {
             try {
               return customers.search_customers(req.ctx, text, limit);
             } catch (const domain::ValidationError& e) {
               std::vector<domain::FieldError> fields;
               for (auto f : e.fields()) {
                 if (f.field == "query") f.field = "q";
                 fields.push_back(f);
               }
               throw domain::ValidationError(fields);
             }
           });
           json items = json::array();
           for (const auto& h : hits) {
             json j = domain::to_json(h.customer);
             j["score"] = h.score;
             j["matched"] = h.matched;
             items.push_back(std::move(j));
           }
           return ApiResponse::ok({{"items", std::move(items)}, {"next_cursor", nullptr}});
         }});

  t.add({"GET", "/v1/customers/{id}", Access::kViewer, [&customers](ApiRequest& req) {
           req.query_map({});
           auto c = customers.get_customer_with_metrics(req.ctx, path_uuid(req, "id"));
           auto r = ApiResponse::ok(domain::to_json(c));
           r.headers.emplace_back("ETag", etag(c.customer.version));
           return r;
         }});

  t.add({"PATCH", "/v1/customers/{id}", Access::kAgent, [&customers](ApiRequest& req) {
           const auto& id = path_uuid(req, "id");
           auto expected = req.if_match_version();
           auto patch = domain::customer_patch_from_json(req.json_body());
           return customer_response(customers.update_customer(req.ctx, id, patch, expected));
         }});

  t.add({"DELETE", "/v1/customers/{id}", Access::kAdmin, [&customers](ApiRequest& req) {
           const auto& id = path_uuid(req, "id");
           return customer_response(customers.soft_delete_customer(req.ctx, id, req.if_match_version()));
         }});

  t.add({"POST", "/v1/customers/{id}/restore", Access::kAdmin, [&customers](ApiRequest& req) {
           return customer_response(customers.restore_customer(req.ctx, path_uuid(req, "id")));
         }});

  t.add({"GET", "/v1/customers/{id}/timeline", Access::kViewer, [&lifecycle](ApiRequest& req) {
           const auto& id = path_uuid(req, "id");
           auto p = page_params(req, domain::kMaxTimelineLimit);
           auto page = with_query_params([&] { return lifecycle.get_customer_timeline(req.ctx, id, p.limit, p.cursor); });
           return ApiResponse::ok(page_json(page.items, page.next_cursor,
                                            [](const domain::TimelineEntry& e) { return to_json(e); }));
         }});

  t.add({"PUT", "/v1/customers/{id}/stage", Access::kAgent, [&lifecycle](ApiRequest& req) {
           const auto& id = path_uuid(req, "id");
           auto expected = req.if_match_version();
           auto body = req.json_body();
           BodyReader r(body, {"lifecycle_stage"});
           auto stage_text = r.string("lifecycle_stage", true, 50);
           r.check();
           auto stage = domain::parse_lifecycle_stage(*stage_text);
           return customer_response(lifecycle.update_lifecycle_stage(req.ctx, id, stage, expected));
         }});

  t.add({"POST", "/v1/customers/bulk/stage", Access::kAdmin, [&lifecycle](ApiRequest& req) {
           auto body = req.json_body();
           BodyReader r(body, {"customer_ids", "lifecycle_stage"});
           auto ids = r.string_array("customer_ids", true, domain::kMaxBulkIds, 64);
           auto stage_text = r.string("lifecycle_stage", true, 50);
           r.check();
           auto stage = domain::parse_lifecycle_stage(*stage_text);
           auto result = lifecycle.bulk_update_lifecycle_stage(req.ctx, ids, stage);
           return ApiResponse::ok(
               {{"updated", result.updated}, {"unchanged", result.unchanged}, {"not_found", result.not_found}});
         }});

  auto tags_route = [&lifecycle](bool add) {
    return [&lifecycle, add](ApiRequest& req) {
      const auto& id = path_uuid(req, "id");
      auto body = req.json_body();
      BodyReader r(body, {"tags"});
      auto tags = r.string_array("tags", true, 50, 64);
      r.check();
      return customer_response(add ? lifecycle.add_tags(req.ctx, id, tags) : lifecycle.remove_tags(req.ctx, id, tags));
    };
  };
  t.add({"POST", "/v1/customers/{id}/tags", Access::kAgent, tags_route(true)});
  t.add({"DELETE", "/v1/customers/{id}/tags", Access::kAgent, tags_route(false)});
}

// GET /v1/customers/export: the list's filters and sort (parse_customer_export_filters:
// the list's parameters without paging) as CSV, streamed one keyset page per chunk
// (services/customer_export_service.hpp). The header and the first page are read
// before the answer starts, so bad parameters and an unavailable database are
// still problem+json; a failure after that cuts the body short (api.hpp, BodyStream).
void register_export_routes(RouteTable& t, ApiServices& s) {
  auto& exports = *s.exports;
  t.add({"GET", "/v1/customers/export", Access::kViewer, [&exports](ApiRequest& req) {
           std::shared_ptr<services::CustomerExport> run = with_query_params([&] {
             return exports.start(req.ctx, domain::parse_customer_export_filters(req.query_map()));
           });
           auto first = std::make_shared<std::string>(run->next_chunk());
           ApiResponse r;
           r.content_type = "text/csv; charset=utf-8";
           r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" +
                                                             domain::customer_export_file_name(
                                                                 std::chrono::system_clock::now()) +
                                                             "\"");
           r.headers.emplace_back("Cache-Control", "no-store");
           r.body_stream = [run, first]() -> std::string {
             if (!first->empty()) return std::exchange(*first, std::string());
             return run->next_chunk();
           };
           return r;
         }});
}

// POST /v1/customers/import: a CSV file (text/csv) imported with the rules of
// `tradesphere import` (services/customer_import_service.hpp); the body size is the
// server's limit (413 above it). Answers the counts and the line-numbered messages
// (rejects, warnings, rows skipped or applied because their email is held).
constexpr std::size_t kMaxListedImportMessages = 1000;

void register_import_routes(RouteTable& t, ApiServices& s) {
  auto& imports = *s.imports;
  t.add({"POST", "/v1/customers/import", Access::kAgent, [&imports](ApiRequest& req) {
           auto q = req.query_map({"strict", "on_existing_email"});
           services::ImportOptions options;
           std::vector<domain::FieldError> bad;
           if (auto it = q.find("strict"); it != q.end()) {
             if (it->second == "true") options.strict = true;
             else if (it->second != "false") bad.push_back({"strict", "must be true or false"});
           }
           if (auto it = q.find("on_existing_email"); it != q.end()) {
             if (auto e = services::parse_existing_email(it->second)) options.on_existing_email = *e;
             else bad.push_back({"on_existing_email", "must be keep, skip or update"});
           }
           if (!bad.empty()) throw bad_request("Invalid query parameters.", bad);
           if (req.media_type() != "text/csv") {
             throw HttpProblem(make_problem(415, "unsupported-media-type", "Send the file as text/csv."));
           }
           if (req.body.empty()) throw bad_request("A CSV request body is required.");
           std::istringstream in(req.body);
           json messages = json::array();
           bool truncated = false;
           services::ImportCallbacks callbacks;
           callbacks.on_message = [&](const services::ImportMessage& m) {
             if (messages.size() >= kMaxListedImportMessages) {
               truncated = true;
               return;
             }
             json j = {{"line", m.line}, {"kind", services::to_string(m.kind)}, {"message", m.text}};
             if (!m.customer_id.empty()) j["customer_id"] = m.customer_id;
             messages.push_back(std::move(j));
           };
           services::ImportReport report;
           try {
             report = imports.import_csv(req.ctx, in, options, callbacks);
           } catch (const services::ImportFileError& e) {
             throw domain::ValidationError("file", e.what());
           }
           // by line (a batch reports its warnings after the rejects read meanwhile)
           std::stable_sort(messages.begin(), messages.end(),
                            [](const json& a, const json& b) { return a["line"].get<std::size_t>() < b["line"].get<std::size_t>(); });
           return ApiResponse::ok({{"rows", report.rows},
                                   {"imported", report.imported},
                                   {"rejected", report.rejected},
                                   {"warnings", report.warnings},
                                   {"skipped", report.skipped},
                                   {"updated", report.updated},
                                   {"messages", std::move(messages)},
                                   {"messages_truncated", truncated}});
         }});
}

// ---- chat and conversations -------------------------------------------------

void register_chat_routes(RouteTable& t, ApiServices& s) {
  auto& sync = *s.sync;

  t.add({"POST", "/v1/chat", Access::kAgent,
         [&sync](ApiRequest& req) {
           auto body = req.json_body();
           const bool batch = body.is_array();
           if (batch && (body.empty() || body.size() > kMaxChatBatch)) {
             throw domain::ValidationError("/", "a batch holds 1.." + std::to_string(kMaxChatBatch) + " chat rows");
           }
           std::vector<domain::ChatRecord> records;
           std::vector<domain::FieldError> errors;
           auto parse_one = [&](const json& item, const std::string& prefix) {
             try {
               records.push_back(domain::chat_record_from_json(item));
             } catch (const domain::ValidationError& e) {
               for (const auto& f : e.fields()) errors.push_back({prefix + f.field, f.reason});
             }
           };
           if (batch) {
             for (std::size_t i = 0; i < body.size(); ++i) parse_one(body[i], std::to_string(i) + "/");
           } else {
             parse_one(body, "");
           }
           if (!errors.empty()) throw domain::ValidationError(errors);
           // All records in one transaction: stored together or not at all.
           json items = json::array();
           std::vector<std::string> customer_ids;
           for (const auto& stored : sync.sync_batch_from_chat(req.ctx, records)) {
             const auto& cid = stored.customer_id;
             if (cid && std::find(customer_ids.begin(), customer_ids.end(), *cid) == customer_ids.end()) {
               customer_ids.push_back(*cid);
             }
             items.push_back({{"chat_row_id", stored.chat_row_id}, {"customer_id", opt(cid)}});
           }
           return ApiResponse::ok({{"items", std::move(items)}, {"customer_ids", customer_ids}});
         },
         true});

  t.add({"GET", "/v1/customers/{id}/conversations", Access::kViewer, [&sync](ApiRequest& req) {
           const auto& id = path_uuid(req, "id");
           auto p = page_params(req, 1000);
           auto page = with_query_params(
               [&] { return sync.get_customer_conversations(req.ctx, id, domain::PageRequest{p.limit, p.cursor}); });
           return ApiResponse::ok(page_json(page.items, page.next_cursor,
                                            [](const domain::Conversation& c) { return to_json(c); }));
         }});

  t.add({"GET", "/v1/customers/{id}/conversations/{session_key}/messages", Access::kViewer,
         [&sync](ApiRequest& req) {
           const auto& id = path_uuid(req, "id");
           const auto& key = req.param("session_key");
           if (key.size() > domain::kMaxSessionIdLength) throw domain::NotFoundError("not found");
           auto p = page_params(req, domain::kMaxMessagesLimit);
           auto page = with_query_params([&] {
             return sync.get_conversation_messages(req.ctx, id, key, domain::PageRequest{p.limit, p.cursor});
           });
           return ApiResponse::ok(
               page_json(page.items, page.next_cursor, [](const domain::ChatRow& r) { return to_json(r); }));
         }});

  t.add({"GET", "/v1/conversations/orphaned", Access::kViewer, [&sync](ApiRequest& req) {
           auto p = page_params(req, 1000);
           auto page = with_query_params(
               [&] { return sync.find_orphaned_conversations(req.ctx, domain::PageRequest{p.limit, p.cursor}); });
           return ApiResponse::ok(
               page_json(page.items, page.next_cursor, [](const domain::ChatRow& r) { return to_json(r); }));
         }});

  t.add({"POST", "/v1/conversations/{session_id}/link", Access::kAgent, [&sync](ApiRequest& req) {
           const auto& session = req.param("session_id");
           if (session.size() > domain::kMaxSessionIdLength) throw domain::NotFoundError("not found");
           auto body = req.json_body();
           BodyReader r(body, {"customer_id"});
           auto customer_id = r.string("customer_id", true, 64);
           r.check();
           if (!domain::is_uuid(*customer_id)) throw domain::NotFoundError("not found");
           auto result = sync.link_conversation_to_customer(req.ctx, *customer_id, session);
           return ApiResponse::ok({{"session_id", session},
                                   {"customer_id", *customer_id},
                                   {"moved_rows", result.moved_rows},
                                   {"previous_customer_ids", result.previous_customer_ids}});
         }});

}

// ---- duplicates --------------------------------------------------------------

std::optional<double> min_score_param(const ApiRequest& req) {
  auto q = req.query_map({"min_score", "limit"});
  auto it = q.find("min_score");
  if (it == q.end()) return std::nullopt;
  try {
    std::size_t used = 0;
    double v = std::stod(it->second, &used);
    if (used == it->second.size() && v >= 0.0 && v <= 1.0) return v;
  } catch (const std::exception&) {
  }
  throw bad_request("Invalid query parameters.", {{"min_score", "must be a number 0..1"}});
}

void register_duplicate_routes(RouteTable& t, ApiServices& s) {
  auto& merges = *s.merges;
  t.add({"GET", "/v1/customers/{id}/duplicates", Access::kViewer, [&merges](ApiRequest& req) {
           const auto& id = path_uuid(req, "id");
           domain::ScoringConfig scoring;
           if (auto m = min_score_param(req)) scoring.threshold = *m;
           json items = json::array();
           for (const auto& c : merges.find_duplicates(req.ctx, id, scoring)) items.push_back(services::to_json(c));
           return ApiResponse::ok({{"items", std::move(items)}, {"next_cursor", nullptr}});
         }});
  t.add({"GET", "/v1/duplicates", Access::kViewer, [&merges](ApiRequest& req) {
           const double min_score = min_score_param(req).value_or(domain::ScoringConfig{}.threshold);
           auto q = req.query_map({"min_score", "limit"});
           const int limit = q.count("limit") ? parse_limit(q.at("limit"), 1000) : 100;
           json items = json::array();
           std::size_t total = 0;
           for (const auto& g : merges.duplicate_groups(req.ctx, min_score, static_cast<std::size_t>(limit), &total))
             items.push_back(services::to_json(g));  // strongest first
           return ApiResponse::ok({{"items", std::move(items)}, {"total_groups", total}, {"next_cursor", nullptr}});
         }});
  t.add({"POST", "/v1/duplicates/dismiss", Access::kAgent, [&merges](ApiRequest& req) {
           auto body = req.json_body();
           BodyReader r(body, {"customer_ids", "reason"});
           auto ids = r.string_array("customer_ids", true, 2, 64);
           auto reason = r.nullable_string("reason", 1000);
           if (ids.size() != 2) r.error("customer_ids", "must name exactly two customers");
           r.check();
           for (const auto& id : ids) {
             if (!domain::is_uuid(id)) throw domain::NotFoundError("not found");
           }
           bool added = merges.dismiss_duplicate(req.ctx, ids[0], ids[1], reason.value_or(std::nullopt));
           return ApiResponse::ok({{"customer_ids", ids}, {"dismissed", true}, {"already_dismissed", !added}});
         }});
}

// ---- enrichment --------------------------------------------------------------

void register_enrichment_routes(RouteTable& t, ApiServices& s) {
  auto& enrichment = *s.enrichment;
  t.add({"POST", "/v1/customers/{id}/enrich", Access::kAgent, [&enrichment](ApiRequest& req) {
           return ApiResponse::ok(
               services::to_json(enrichment.enrich_from_conversations(req.ctx, path_uuid(req, "id"))));
         }});
  t.add({"GET", "/v1/customers/{id}/summary", Access::kViewer, [&enrichment](ApiRequest& req) {
           req.query_map({});
           const auto& id = path_uuid(req, "id");
           json body = domain::to_json(enrichment.generate_conversation_summary(req.ctx, id));
           body["customer_id"] = id;
           return ApiResponse::ok(std::move(body));
         }});
  t.add({"PUT", "/v1/customers/{id}/notes", Access::kAgent, [&enrichment](ApiRequest& req) {
           const auto& id = path_uuid(req, "id");
           auto expected = req.if_match_version();
           auto body = req.json_body();
           BodyReader r(body, {"notes"});
           auto notes = r.nullable_string("notes", domain::kMaxNotesLength);
           if (!notes && body.is_object() && !body.contains("notes")) r.error("notes", "is required");
           r.check();
           // null or blank clears (the service trims)
           return customer_response(enrichment.update_customer_notes(req.ctx, id, *notes, expected));
         }});
}

// ---- merges ----------------------------------------------------------------

struct MergeRequest {
  std::string target_id;
  std::vector<std::string> source_ids;
  std::map<std::string, std::optional<std::string>> choices;
};

MergeRequest read_merge_request(const json& body, bool with_choices) {
  std::vector<std::string> known = {"target_id", "source_ids"};
  if (with_choices) known.push_back("field_choices");
  BodyReader r(body, known);
  MergeRequest m;
  m.target_id = r.string("target_id", true, 64).value_or("");
  m.source_ids = r.string_array("source_ids", true, kMaxMergeSources, 64);
  if (with_choices) {
    if (const json* fc = r.raw("field_choices")) {
      if (!fc->is_object()) {
        r.error("field_choices", "must be an object of field -> string or null");
      } else {
        for (const auto& [k, v] : fc->items()) {
          if (v.is_null()) {
            m.choices[k] = std::nullopt;
          } else if (v.is_string() && v.get_ref<const std::string&>().size() <= domain::kMaxNotesLength) {
            m.choices[k] = v.get<std::string>();
          } else {
            r.error("field_choices/" + k, "must be a string or null");
          }
        }
      }
    }
  }
  r.check();
  // Ids that are not uuids cannot exist: same answer as a missing id.
  if (!domain::is_uuid(m.target_id)) throw domain::NotFoundError("not found");
  for (const auto& id : m.source_ids) {
    if (!domain::is_uuid(id)) throw domain::NotFoundError("not found");
  }
  return m;
}

void register_merge_routes(RouteTable& t, ApiServices& s) {
  auto& merges = *s.merges;

  t.add({"POST", "/v1/merges/preview", Access::kViewer, [&merges](ApiRequest& req) {
           auto m = read_merge_request(req.json_body(), false);
           return ApiResponse::ok(services::to_json(merges.preview_merge(req.ctx, m.target_id, m.source_ids)));
         }});

  t.add({"POST", "/v1/merges", Access::kAdmin,
         [&merges](ApiRequest& req) {
           auto m = read_merge_request(req.json_body(), true);
           auto result = merges.merge_customers(req.ctx, m.target_id, m.source_ids, m.choices);
           return ApiResponse::created(services::to_json(result), "/v1/merges/" + result.merge_id);
         },
         true});

  t.add({"GET", "/v1/merges", Access::kViewer, [&merges](ApiRequest& req) {
           auto p = page_params(req, 200);
           auto page = with_query_params([&] { return merges.list_merges(req.ctx, p.limit, p.cursor); });
           return ApiResponse::ok(page_json(page.items, page.next_cursor,
                                            [](const services::MergeDetails& m) { return services::to_json(m); }));
         }});

  t.add({"GET", "/v1/merges/{id}", Access::kViewer, [&merges](ApiRequest& req) {
           req.query_map({});
           return ApiResponse::ok(services::to_json(merges.get_merge(req.ctx, path_uuid(req, "id"))));
         }});

  t.add({"POST", "/v1/merges/{id}/undo", Access::kAdmin, [&merges](ApiRequest& req) {
           auto result = merges.undo_merge(req.ctx, path_uuid(req, "id"));
           return ApiResponse::ok({{"merge_id", result.merge_id},
                                   {"target_id", result.target_id},
                                   {"source_ids", result.source_ids},
                                   {"undone", true}});
         }});
}

// ---- overview -----------------------------------------------------------------

// GET /v1/overview: the console's Overview, counts of the caller's company only.
void register_overview_routes(RouteTable& t, ApiServices& s) {
  auto& overview = *s.overview;
  t.add({"GET", "/v1/overview", Access::kViewer, [&overview](ApiRequest& req) {
           req.query_map({});  // no parameters: any is a 400
           return ApiResponse::ok(services::to_json(overview.get_overview(req.ctx)));
         }});
}

}  // namespace

void register_v1_routes(RouteTable& table, ApiServices& services) {
  table.add({"GET", "/v1/me", Access::kViewer, [](ApiRequest& req) {
               return ApiResponse::ok({{"user_id", req.ctx.user_id},
                                       {"company_id", req.ctx.company_id},
                                       {"role", domain::to_string(req.ctx.role)}});
             }});
  if (services.customers && services.lifecycle) register_customer_routes(table, services);
  if (services.exports) register_export_routes(table, services);
  if (services.imports) register_import_routes(table, services);
  if (services.sync) register_chat_routes(table, services);
  if (services.merges) register_merge_routes(table, services);
  if (services.enrichment) register_enrichment_routes(table, services);
  if (services.merges) register_duplicate_routes(table, services);
  if (services.overview) register_overview_routes(table, services);
}

}  // namespace tradesphere::http
