// The operator console's sign-in: one-time codes (tradesphere console-link), the
// session cookie, and the CSRF rule for cookie-authenticated requests.
//
//   console-link  → code (64 hex, stored as SHA-256, single use, 10 minutes)
//   POST /console/login {"code"} (same Origin) → Set-Cookie ts_console=<JWT with sid>;
//       HttpOnly; SameSite=Strict; Path=/ [; Secure behind TLS]
//   /v1 with the cookie: the JWT is verified and its session row must be active;
//       POST/PUT/PATCH/DELETE also need Origin == the server's own origin (else 403)
//   POST /console/logout → the session row is revoked, the cookie cleared
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "http/api.hpp"

namespace tradesphere::services {
class ConsoleSessionService;
}

namespace tradesphere::http {

inline constexpr const char* kConsoleCookieName = "ts_console";
inline constexpr std::chrono::seconds kSignInCodeLifetime{600};
inline constexpr std::chrono::seconds kConsoleSessionLifetime{8 * 3600};

// A fresh sign-in code (32 random bytes as hex) and the hash stored for it.
std::string new_sign_in_code();
std::string sign_in_code_hash(const std::string& code);
// "<base_url>/console/login?code=<code>" (a trailing '/' of base_url is dropped).
std::string console_link(std::string base_url, const std::string& code);

// The value of cookie `name` in a Cookie header; nullopt when absent.
std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name);

// What the console handlers need to know about the request beyond ApiRequest.
struct ConsoleRequestFacts {
  std::optional<std::string> origin;  // Origin header
  std::string host;                   // Host header
  bool tls = false;                   // X-Forwarded-Proto: https (TLS terminated in front)
  std::optional<std::string> cookie;  // the ts_console cookie
};

// True when Origin is present and equals <scheme>://<Host> (case-insensitive).
bool same_origin(const ConsoleRequestFacts& facts);
// State-changing methods: POST PUT PATCH DELETE (and anything not GET/HEAD/OPTIONS).
bool changes_state(const std::string& method);

std::string session_cookie(const std::string& token, std::chrono::seconds max_age, bool secure);
std::string cleared_session_cookie(bool secure);

// POST /console/login: {"code":"…"} → 200 {user_id, company_id, role, expires_at} + Set-Cookie.
// A foreign or missing Origin → 403; an unknown, used or expired code → 403.
ApiResponse console_sign_in(const ApiRequest& req, const ConsoleRequestFacts& facts,
                            services::ConsoleSessionService& sessions, const std::string& jwt_secret);
// POST /console/logout: revokes the cookie's session (if any), clears the cookie, 204.
// A foreign or missing Origin → 403.
ApiResponse console_sign_out(const ApiRequest& req, const ConsoleRequestFacts& facts,
                             services::ConsoleSessionService& sessions, const std::string& jwt_secret);

}  // namespace tradesphere::http
