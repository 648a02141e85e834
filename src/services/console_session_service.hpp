// The operator console's sign-in codes and sessions, as the HTTP layer and
// `tradesphere console-link` reach them (docs/console.md). Each call is one
// transaction around db::ConsoleSessionRepository's queries; purging also logs
// what it deleted.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "db/console_session_repository.hpp"
#include "domain/console_session.hpp"
#include "domain/request_context.hpp"

namespace tradesphere::db {
class Database;
}

namespace tradesphere::services {

class ConsoleSessionService {
 public:
  explicit ConsoleSessionService(db::Database& db) : db_(db) {}

  // Stores a code for ctx's company; `user_id` and `role` are who signs in with it.
  void create_sign_in_code(const domain::RequestContext& ctx, const std::string& code_hash,
                           const std::string& user_id, domain::Role role, std::chrono::seconds valid_for);
  // Marks the code used and opens a session; nullopt when the code is unknown, used or expired.
  std::optional<domain::ConsoleSession> redeem_sign_in_code(const std::string& code_hash, std::chrono::seconds session_length,
                                                    const std::string& correlation_id);
  // True when the session of ctx's company exists, is not revoked and has not expired.
  bool is_active(const domain::RequestContext& ctx, const std::string& session_id);
  // Sets revoked_at (idempotent); false when no such active session.
  bool revoke(const domain::RequestContext& ctx, const std::string& session_id);
  // Deletes the codes and sessions that ended more than `grace` ago, in every company,
  // and logs how many (console_sign_ins_purged, info) when any.
  domain::PurgedSignIns purge_ended(std::chrono::seconds grace);

 private:
  db::Database& db_;
  db::ConsoleSessionRepository sessions_;
};

}  // namespace tradesphere::services
