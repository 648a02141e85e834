// Bearer tokens: HS256 JWTs (libjwt). Claims: sub (user id), company_id (uuid),
// role (viewer|agent|admin), exp (seconds since the epoch), iat; the console's
// session cookie carries the same token plus sid (its console_sessions row).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "domain/request_context.hpp"

namespace tradesphere::http {

inline constexpr std::chrono::seconds kJwtClockSkew{60};
inline constexpr std::size_t kMaxTokenLength = 4096;

struct TokenClaims {
  std::string user_id;     // sub
  std::string company_id;  // uuid text
  domain::Role role = domain::Role::kViewer;
  std::chrono::system_clock::time_point expires_at;
  std::string session_id{};  // sid: set only in console session cookies (console_session.hpp)
};

// Signs the claims with HS256. Throws std::runtime_error on a libjwt failure
// or an empty secret.
std::string issue_token(const std::string& secret, const TokenClaims& claims);

// Verifies an HS256 token: header alg must be HS256 (alg none and every other
// algorithm refused), signature valid under `secret`, exp present and not
// older than now - kJwtClockSkew, sub/company_id/role present with the right
// types, company_id a uuid, role one of viewer|agent|admin. Returns nullopt for
// anything else; the reason is deliberately not returned (no detail leak),
// only logged at debug level by the caller if it wants.
std::optional<TokenClaims> verify_token(const std::string& secret, const std::string& token,
                                        std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// The signing secret: TRADESPHERE_JWT_SECRET when set and non-empty, else
// <data_dir>/secrets/jwt.secret, generated once (32 random bytes, hex, mode 0600).
std::string load_or_create_jwt_secret(const std::filesystem::path& data_dir);

// "1h", "30m", "45s", "2d", or plain seconds; throws domain::ValidationError("ttl", …).
std::chrono::seconds parse_ttl(const std::string& text);

}  // namespace tradesphere::http
