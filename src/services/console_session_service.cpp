#include "services/console_session_service.hpp"

#include "common/json_log.hpp"
#include "db/database.hpp"

namespace tradesphere::services {

void ConsoleSessionService::create_sign_in_code(const domain::RequestContext& ctx, const std::string& code_hash,
                                                const std::string& user_id, domain::Role role,
                                                std::chrono::seconds valid_for) {
  db_.transact(ctx, "console_create_sign_in_code", [&](db::Tx& tx) {
    sessions_.create_sign_in_code(tx, ctx.company_id, code_hash, user_id, role, valid_for);
  });
}

std::optional<domain::ConsoleSession> ConsoleSessionService::redeem_sign_in_code(const std::string& code_hash,
                                                                         std::chrono::seconds session_length,
                                                                         const std::string& correlation_id) {
  domain::RequestContext system;  // no tenant yet
  system.user_id = "console-sign-in";
  system.correlation_id = correlation_id;
  return db_.transact(system, "console_redeem_sign_in_code",
                      [&](db::Tx& tx) { return sessions_.redeem_sign_in_code(tx, code_hash, session_length); });
}

bool ConsoleSessionService::is_active(const domain::RequestContext& ctx, const std::string& session_id) {
  return db_.transact(
      ctx, "console_session_is_active", [&](db::Tx& tx) { return sessions_.is_active(tx, ctx.company_id, session_id); },
      db::TxMode::kReadOnly);
}

bool ConsoleSessionService::revoke(const domain::RequestContext& ctx, const std::string& session_id) {
  return db_.transact(ctx, "console_revoke_session",
                      [&](db::Tx& tx) { return sessions_.revoke(tx, ctx.company_id, session_id); });
}

domain::PurgedSignIns ConsoleSessionService::purge_ended(std::chrono::seconds grace) {
  domain::RequestContext system;  // every company's ended rows: no tenant
  system.user_id = "console-purge";
  const auto purged =
      db_.transact(system, "console_purge_ended", [&](db::Tx& tx) { return sessions_.purge_ended(tx, grace); });
  if (purged.codes || purged.sessions)
    common::log(spdlog::level::info, "console_sign_ins_purged", {{"codes", purged.codes}, {"sessions", purged.sessions}});
  return purged;
}

}  // namespace tradesphere::services
