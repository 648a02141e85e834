// Sign-in codes and sessions of the operator console (tables console_sign_in_codes
// and console_sessions, migration 0024). Codes are stored as their SHA-256 only;
// redeeming one is a single SECURITY DEFINER call (the tenant is not known yet)
// that marks it used and opens the session. Session checks and revocation run in
// the session's own tenant (row-level security). Query code: every method runs in
// the caller's transaction (services::ConsoleSessionService owns it).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "domain/console_session.hpp"
#include "domain/request_context.hpp"

namespace tradesphere::db {

class Tx;

// The values (domain/console_session.hpp), by their names in this layer.
using domain::ConsoleSession;

class ConsoleSessionRepository {
 public:
  // Stores a code for `company_id`; `user_id` and `role` are who signs in with it.
  void create_sign_in_code(Tx& tx, const std::string& company_id, const std::string& code_hash,
                           const std::string& user_id, domain::Role role, std::chrono::seconds valid_for);
  // Marks the code used and opens a session of `session_length`; nullopt when the
  // code is unknown, already used or expired (indistinguishable on purpose). Needs
  // no tenant (SECURITY DEFINER).
  std::optional<ConsoleSession> redeem_sign_in_code(Tx& tx, const std::string& code_hash,
                                                    std::chrono::seconds session_length);
  // True when the session of the company exists, is not revoked and has not expired.
  bool is_active(Tx& tx, const std::string& company_id, const std::string& session_id);
  // Sets revoked_at (idempotent); false when no such active session.
  bool revoke(Tx& tx, const std::string& company_id, const std::string& session_id);
  // Deletes, in every company, the codes expired and the sessions expired or
  // revoked more than `grace` ago (migration 0026). Returns what was deleted.
  using Purged = domain::PurgedSignIns;
  Purged purge_ended(Tx& tx, std::chrono::seconds grace);
};

}  // namespace tradesphere::db
