#include "http/console_session.hpp"

#include <ctime>

#include "common/crypto.hpp"
#include "services/console_session_service.hpp"
#include "domain/normalize.hpp"
#include "http/jwt.hpp"
#include "http/problem.hpp"

namespace tradesphere::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void require_same_origin(const ConsoleRequestFacts& facts) {
  if (!same_origin(facts)) {
    throw HttpProblem(make_problem(403, "forbidden", "This request must come from the console's own origin."));
  }
}

bool is_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (unsigned char c : s) {
    if (!std::isxdigit(c)) return false;
  }
  return true;
}

std::string iso8601(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::string new_sign_in_code() { return common::random_hex(32); }

std::string sign_in_code_hash(const std::string& code) { return common::sha256_hex(domain::to_lower_ascii(code)); }

std::string console_link(std::string base_url, const std::string& code) {
  while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
  return base_url + "/console/login?code=" + code;
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    auto pair = trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim(pair.substr(0, eq)) == name) return std::string(trim(pair.substr(eq + 1)));
  }
  return std::nullopt;
}

bool same_origin(const ConsoleRequestFacts& facts) {
  if (!facts.origin || facts.host.empty()) return false;
  const std::string expected = std::string(facts.tls ? "https://" : "http://") + domain::to_lower_ascii(facts.host);
  return domain::to_lower_ascii(*facts.origin) == expected;
}

bool changes_state(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

std::string session_cookie(const std::string& token, std::chrono::seconds max_age, bool secure) {
  return std::string(kConsoleCookieName) + "=" + token + "; Path=/; Max-Age=" + std::to_string(max_age.count()) +
         "; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "");
}

std::string cleared_session_cookie(bool secure) {
  return std::string(kConsoleCookieName) + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" +
         (secure ? "; Secure" : "");
}

ApiResponse console_sign_in(const ApiRequest& req, const ConsoleRequestFacts& facts,
                            services::ConsoleSessionService& sessions, const std::string& jwt_secret) {
  require_same_origin(facts);
  auto body = req.json_body();
  const auto code = body.is_object() && body.contains("code") && body["code"].is_string()
                        ? body["code"].get<std::string>()
                        : std::string();
  auto refused = [] {
    return HttpProblem(make_problem(403, "forbidden", "This sign-in link is invalid, already used or expired."));
  };
  if (!is_hex64(code) || jwt_secret.empty()) throw refused();
  auto session = sessions.redeem_sign_in_code(sign_in_code_hash(code), kConsoleSessionLifetime, req.ctx.correlation_id);
  if (!session) throw refused();
  TokenClaims claims;
  claims.user_id = session->user_id;
  claims.company_id = session->company_id;
  claims.role = session->role;
  claims.expires_at = session->expires_at;
  claims.session_id = session->id;
  ApiResponse r = ApiResponse::ok({{"user_id", session->user_id},
                                   {"company_id", session->company_id},
                                   {"role", domain::to_string(session->role)},
                                   {"expires_at", iso8601(session->expires_at)}});
  r.headers.emplace_back("Set-Cookie", session_cookie(issue_token(jwt_secret, claims), kConsoleSessionLifetime, facts.tls));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

ApiResponse console_sign_out(const ApiRequest& req, const ConsoleRequestFacts& facts,
                             services::ConsoleSessionService& sessions, const std::string& jwt_secret) {
  require_same_origin(facts);
  if (facts.cookie && !jwt_secret.empty()) {
    if (auto claims = verify_token(jwt_secret, *facts.cookie); claims && !claims->session_id.empty()) {
      domain::RequestContext ctx;
      ctx.company_id = claims->company_id;
      ctx.user_id = claims->user_id;
      ctx.role = claims->role;
      ctx.correlation_id = req.ctx.correlation_id;
      sessions.revoke(ctx, claims->session_id);
    }
  }
  ApiResponse r = ApiResponse::empty();
  r.headers.emplace_back("Set-Cookie", cleared_session_cookie(facts.tls));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace tradesphere::http
