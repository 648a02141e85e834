#include "http/console_assets.hpp"

#include "common/crypto.hpp"
#include "domain/errors.hpp"
#include "http/embedded_console_assets.hpp"

namespace tradesphere::http {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// If-None-Match: "*" or a comma-separated list of (possibly weak) entity tags.
bool etag_matches(const std::string& header, const std::string& etag) {
  std::string_view rest(header);
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.substr(0, 2) == "W/") item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
  }
  return false;
}

}  // namespace

std::string console_content_type(std::string_view name) {
  if (ends_with(name, ".html")) return "text/html; charset=utf-8";
  if (ends_with(name, ".js")) return "text/javascript; charset=utf-8";
  if (ends_with(name, ".css")) return "text/css; charset=utf-8";
  if (ends_with(name, ".svg")) return "image/svg+xml";
  if (ends_with(name, ".json")) return "application/json";
  if (ends_with(name, ".png")) return "image/png";
  if (ends_with(name, ".ico")) return "image/x-icon";
  if (ends_with(name, ".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

const std::vector<std::pair<std::string, std::string>>& console_security_headers() {
  static const std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Security-Policy",
       "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
  };
  return headers;
}

ConsoleAssets::ConsoleAssets() {
  for (const auto& file : embedded_console_assets()) {
    Asset a;
    a.content = file.content;
    a.content_type = console_content_type(file.path);
    a.etag = common::sha256_hex(file.content).substr(0, 32);
    a.etag.insert(a.etag.begin(), '"');
    a.etag.push_back('"');
    assets_.emplace(file.path, std::move(a));
  }
}

const ConsoleAssets::Asset* ConsoleAssets::find(const std::string& path) const {
  std::string rel;
  if (path == "/console/" || path == "/console/index.html") {
    rel = "index.html";
  } else if (path == "/console/login") {
    rel = "login.html";
  } else if (path.rfind("/console/", 0) == 0) {
    rel = path.substr(9);
  } else {
    return nullptr;
  }
  if (rel.empty() || rel.find("..") != std::string::npos) return nullptr;
  auto it = assets_.find(rel);
  return it == assets_.end() ? nullptr : &it->second;
}

ApiResponse ConsoleAssets::serve(const std::string& path, const std::string& if_none_match) const {
  const Asset* a = find(path);
  if (a == nullptr) throw domain::NotFoundError("not found");
  ApiResponse r;
  r.headers.emplace_back("ETag", a->etag);
  r.headers.emplace_back("Cache-Control", "no-cache");
  if (!if_none_match.empty() && etag_matches(if_none_match, a->etag)) {
    r.status = 304;
    r.no_content = true;
    return r;
  }
  r.content_type = a->content_type;
  r.raw_body = std::string(a->content);
  return r;
}

}  // namespace tradesphere::http
