#include "db/console_session_repository.hpp"

#include "db/database.hpp"

namespace tradesphere::db {
namespace {

constexpr const char* kInsertSignInCode = R"SQL(
INSERT INTO console_sign_in_codes (code_hash, company_id, user_id, role, expires_at)
VALUES ($1, $2::uuid, $3, $4, now() + make_interval(secs => $5))
)SQL";
constexpr const char* kRedeemSignInCode = R"SQL(
SELECT session_id::text, company_id::text, user_id, role, extract(epoch FROM expires_at)::bigint
  FROM console_redeem_sign_in_code($1, $2)
)SQL";
constexpr const char* kSessionIsActive = R"SQL(
SELECT 1 FROM console_sessions
 WHERE company_id = $1::uuid AND id = $2::uuid AND revoked_at IS NULL AND expires_at > now()
)SQL";
constexpr const char* kRevokeSession = R"SQL(
UPDATE console_sessions SET revoked_at = now()
 WHERE company_id = $1::uuid AND id = $2::uuid AND revoked_at IS NULL
RETURNING 1
)SQL";

constexpr const char* kPurgeEnded = "SELECT codes, sessions FROM console_purge_ended($1)";

}  // namespace

void ConsoleSessionRepository::create_sign_in_code(Tx& tx, const std::string& company_id, const std::string& code_hash,
                                                   const std::string& user_id, domain::Role role,
                                                   std::chrono::seconds valid_for) {
  tx.exec0(kInsertSignInCode, code_hash, company_id, user_id, domain::to_string(role),
           static_cast<double>(valid_for.count()));
}

std::optional<ConsoleSession> ConsoleSessionRepository::redeem_sign_in_code(Tx& tx, const std::string& code_hash,
                                                                            std::chrono::seconds session_length) {
  auto row = tx.exec01(kRedeemSignInCode, code_hash, static_cast<int>(session_length.count()));
  if (!row) return std::nullopt;
  ConsoleSession s;
  s.id = (*row)[0].as<std::string>();
  s.company_id = (*row)[1].as<std::string>();
  s.user_id = (*row)[2].as<std::string>();
  s.role = domain::parse_role((*row)[3].as<std::string>());
  s.expires_at = std::chrono::system_clock::time_point(std::chrono::seconds((*row)[4].as<long long>()));
  return s;
}

bool ConsoleSessionRepository::is_active(Tx& tx, const std::string& company_id, const std::string& session_id) {
  return tx.exec01(kSessionIsActive, company_id, session_id).has_value();
}

bool ConsoleSessionRepository::revoke(Tx& tx, const std::string& company_id, const std::string& session_id) {
  return tx.exec01(kRevokeSession, company_id, session_id).has_value();
}

ConsoleSessionRepository::Purged ConsoleSessionRepository::purge_ended(Tx& tx, std::chrono::seconds grace) {
  auto row = tx.exec1(kPurgeEnded, static_cast<int>(grace.count()));
  return Purged{row[0].as<long long>(), row[1].as<long long>()};
}

}  // namespace tradesphere::db
