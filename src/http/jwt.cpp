#include "http/jwt.hpp"

#include <jwt.h>

#include <cstdlib>
#include <memory>
#include <regex>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "common/crypto.hpp"
#include "common/files.hpp"
#include "domain/cursor.hpp"
#include "domain/errors.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::http {
namespace {

struct JwtDeleter {
  void operator()(jwt_t* j) const noexcept { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

// The header must say HS256 before libjwt sees the token (libjwt accepts
// "alg":"none" tokens in some configurations).
bool header_is_hs256(const std::string& token) {
  auto dot = token.find('.');
  if (dot == std::string::npos || dot == 0) return false;
  auto decoded = domain::base64url_decode(std::string_view(token).substr(0, dot));
  if (!decoded) return false;
  auto header = nlohmann::json::parse(*decoded, nullptr, false);
  if (!header.is_object()) return false;
  auto alg = header.find("alg");
  return alg != header.end() && alg->is_string() && alg->get<std::string>() == "HS256";
}

}  // namespace

std::string issue_token(const std::string& secret, const TokenClaims& claims) {
  if (secret.empty()) throw std::runtime_error("empty JWT secret");
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
  JwtPtr j(raw);
  const auto exp = std::chrono::duration_cast<std::chrono::seconds>(claims.expires_at.time_since_epoch()).count();
  const auto iat =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (jwt_add_grant(j.get(), "sub", claims.user_id.c_str()) != 0 ||
      jwt_add_grant(j.get(), "company_id", claims.company_id.c_str()) != 0 ||
      jwt_add_grant(j.get(), "role", domain::to_string(claims.role)) != 0 ||
      jwt_add_grant_int(j.get(), "exp", static_cast<long>(exp)) != 0 ||
      jwt_add_grant_int(j.get(), "iat", static_cast<long>(iat)) != 0) {
    throw std::runtime_error("jwt_add_grant failed");
  }
  if (!claims.session_id.empty() && jwt_add_grant(j.get(), "sid", claims.session_id.c_str()) != 0) {
    throw std::runtime_error("jwt_add_grant failed");
  }
  if (jwt_set_alg(j.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                  static_cast<int>(secret.size())) != 0) {
    throw std::runtime_error("jwt_set_alg failed");
  }
  char* out = jwt_encode_str(j.get());
  if (out == nullptr) throw std::runtime_error("jwt_encode_str failed");
  std::string token(out);
  std::free(out);
  return token;
}

std::optional<TokenClaims> verify_token(const std::string& secret, const std::string& token,
                                        std::chrono::system_clock::time_point now) {
  if (secret.empty() || token.empty() || token.size() > kMaxTokenLength) return std::nullopt;
  int dots = 0;
  for (char c : token) {
    if (c == '.') {
      ++dots;
    } else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                 c == '_')) {
      return std::nullopt;
    }
  }
  if (dots != 2 || !header_is_hs256(token)) return std::nullopt;
  jwt_t* raw = nullptr;
  if (jwt_decode(&raw, token.c_str(), reinterpret_cast<const unsigned char*>(secret.data()),
                 static_cast<int>(secret.size())) != 0 ||
      raw == nullptr) {
    return std::nullopt;
  }
  JwtPtr j(raw);
  if (jwt_get_alg(j.get()) != JWT_ALG_HS256) return std::nullopt;
  char* grants_text = jwt_get_grants_json(j.get(), nullptr);
  if (grants_text == nullptr) return std::nullopt;
  auto grants = nlohmann::json::parse(grants_text, nullptr, false);
  std::free(grants_text);
  if (!grants.is_object()) return std::nullopt;

  auto str = [&](const char* name) -> std::optional<std::string> {
    auto it = grants.find(name);
    if (it == grants.end() || !it->is_string()) return std::nullopt;
    auto v = it->get<std::string>();
    if (v.empty()) return std::nullopt;
    return v;
  };
  auto sub = str("sub");
  auto company = str("company_id");
  auto role_text = str("role");
  auto exp_it = grants.find("exp");
  if (!sub || !company || !role_text || exp_it == grants.end() || !exp_it->is_number_integer()) return std::nullopt;
  if (!domain::is_uuid(*company)) return std::nullopt;
  domain::Role role;
  try {
    role = domain::parse_role(*role_text);
  } catch (const domain::Error&) {
    return std::nullopt;
  }
  const std::chrono::system_clock::time_point exp{std::chrono::seconds(exp_it->get<std::int64_t>())};
  if (exp + kJwtClockSkew < now) return std::nullopt;
  std::string sid;
  if (auto it = grants.find("sid"); it != grants.end()) {
    if (!it->is_string() || !domain::is_uuid(it->get<std::string>())) return std::nullopt;
    sid = it->get<std::string>();
  }
  return TokenClaims{*sub, *company, role, exp, sid};
}

std::string load_or_create_jwt_secret(const std::filesystem::path& data_dir) {
  if (const char* env = std::getenv("TRADESPHERE_JWT_SECRET"); env != nullptr && *env != '\0') return env;
  const auto path = data_dir / "secrets" / "jwt.secret";
  if (auto existing = common::read_file(path); existing && !existing->empty()) {
    std::string s = *existing;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (!s.empty()) return s;
  }
  std::filesystem::create_directories(path.parent_path());
  std::filesystem::permissions(path.parent_path(), std::filesystem::perms::owner_all);
  std::string secret = common::random_hex(32);
  common::write_file(path, secret + "\n", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return secret;
}

std::chrono::seconds parse_ttl(const std::string& text) {
  static const std::regex re("^([0-9]{1,7})([smhd]?)$");
  std::smatch m;
  if (!std::regex_match(text, m, re)) {
    throw domain::ValidationError("ttl", "must be a number followed by s, m, h or d (e.g. 1h)");
  }
  long long n = std::stoll(m[1].str());
  const std::string unit = m[2].str();
  long long factor = unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 1;
  if (n <= 0) throw domain::ValidationError("ttl", "must be positive");
  if (n * factor > 366LL * 86400) throw domain::ValidationError("ttl", "must be at most 366 days");
  return std::chrono::seconds(n * factor);
}

}  // namespace tradesphere::http
