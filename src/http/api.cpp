#include "http/api.hpp"

#include <algorithm>
#include <set>
#include <sstream>

#include "domain/normalize.hpp"
#include "http/problem.hpp"

namespace tradesphere::http {

const char* to_string(Access access) noexcept {
  switch (access) {
    case Access::kPublic: return "public";
    case Access::kViewer: return "viewer";
    case Access::kAgent: return "agent";
    case Access::kAdmin: return "admin";
  }
  return "?";
}

const std::string& ApiRequest::param(const std::string& name) const {
  static const std::string empty;
  auto it = path_params.find(name);
  return it == path_params.end() ? empty : it->second;
}

std::optional<std::string> ApiRequest::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::string ApiRequest::media_type() const {
  const auto ct = header("content-type").value_or("");
  std::string media = domain::to_lower_ascii(ct.substr(0, ct.find(';')));
  media.erase(std::remove(media.begin(), media.end(), ' '), media.end());
  return media;
}

nlohmann::json ApiRequest::json_body() const {
  if (body.empty() && header("content-type").value_or("").empty()) throw bad_request("A JSON request body is required.");
  if (media_type() != "application/json") {
    throw HttpProblem(make_problem(415, "unsupported-media-type", "Send the body as application/json."));
  }
  if (body.empty()) throw bad_request("A JSON request body is required.");
  return parse_json_strict(body);
}

std::map<std::string, std::string> ApiRequest::query_map() const {
  std::map<std::string, std::string> out;
  std::vector<domain::FieldError> errors;
  for (const auto& [k, v] : query) {
    if (!out.emplace(k, v).second) errors.push_back({k, "given more than once"});
  }
  if (!errors.empty()) throw bad_request("Invalid query parameters.", std::move(errors));
  return out;
}

std::map<std::string, std::string> ApiRequest::query_map(const std::vector<std::string>& allowed) const {
  auto out = query_map();
  std::vector<domain::FieldError> errors;
  for (const auto& [k, v] : out) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) errors.push_back({k, "unknown parameter"});
  }
  if (!errors.empty()) throw bad_request("Invalid query parameters.", std::move(errors));
  return out;
}

std::optional<int> ApiRequest::if_match_version() const {
  auto h = header("if-match");
  if (!h) return std::nullopt;
  std::string v = *h;
  if (v.rfind("W/", 0) == 0) v = v.substr(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v.empty() || v.size() > 9 || !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })) {
    throw bad_request("If-Match must carry the version (ETag) of the resource.",
                      {{"If-Match", "must be the resource's ETag, e.g. \"3\""}});
  }
  return std::stoi(v);
}

ApiResponse ApiResponse::created(nlohmann::json body, std::string location) {
  ApiResponse r;
  r.status = 201;
  r.body = std::move(body);
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

std::string ApiResponse::serialized() const {
  if (raw_body) return *raw_body;
  if (no_content) return {};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  if (path.empty() || path[0] != '/') return {"\x01"};  // never matches
  i = 1;
  while (i <= path.size()) {
    auto j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

}  // namespace

void RouteTable::add(Route route) { routes_.push_back(std::move(route)); }

RouteTable::Match RouteTable::match(const std::string& method, const std::string& path) const {
  Match result;
  const auto segments = split_path(path);
  int best_literals = -1;
  std::set<std::string> allowed;
  for (const auto& route : routes_) {
    const auto pattern = split_path(route.pattern);
    if (pattern.size() != segments.size()) continue;
    std::map<std::string, std::string> params;
    int literals = 0;
    bool ok = true;
    for (std::size_t i = 0; i < pattern.size() && ok; ++i) {
      const auto& p = pattern[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        if (segments[i].empty()) ok = false;
        else params[p.substr(1, p.size() - 2)] = segments[i];
      } else if (p == segments[i]) {
        ++literals;
      } else {
        ok = false;
      }
    }
    if (!ok) continue;
    allowed.insert(route.method);
    if (route.method == method && literals > best_literals) {
      best_literals = literals;
      result.route = &route;
      result.params = std::move(params);
    }
  }
  result.allowed.assign(allowed.begin(), allowed.end());
  return result;
}

nlohmann::json parse_json_strict(const std::string& text) {
  std::vector<std::set<std::string>> keys;  // one set per open object
  std::string failure;
  auto fail = [&](std::string why) {
    failure = std::move(why);
    return false;
  };
  nlohmann::json::parser_callback_t cb = [&](int depth, nlohmann::json::parse_event_t event,
                                             nlohmann::json& parsed) -> bool {
    if (!failure.empty()) return false;
    using E = nlohmann::json::parse_event_t;
    switch (event) {
      case E::object_start:
      case E::array_start:
        if (static_cast<std::size_t>(depth) >= kMaxJsonDepth) {
          failure = "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
          throw HttpProblem(make_problem(400, "bad-request", failure));
        }
        if (event == E::object_start) keys.emplace_back();
        return true;
      case E::object_end:
        if (!keys.empty()) keys.pop_back();
        return true;
      case E::key: {
        const auto& k = parsed.get_ref<const std::string&>();
        if (k.find('\0') != std::string::npos) return fail("a key contains U+0000");
        if (!keys.empty() && !keys.back().insert(k).second) return fail("duplicate key \"" + k + "\"");
        return true;
      }
      case E::value:
        if (parsed.is_string() && parsed.get_ref<const std::string&>().find('\0') != std::string::npos) {
          return fail("a string contains U+0000");
        }
        return true;
      case E::array_end:
        return true;
    }
    return true;
  };
  nlohmann::json result;
  try {
    result = nlohmann::json::parse(text, cb, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const HttpProblem&) {
    throw;
  } catch (const nlohmann::json::parse_error& e) {
    throw bad_request("The body is not valid JSON (" + std::string(e.what()).substr(0, 200) + ").");
  }
  if (!failure.empty()) {
    throw bad_request("The body is not acceptable JSON: " + failure + ".");
  }
  return result;
}

}  // namespace tradesphere::http
