#include "services/console_session_service.hpp"

#include "common/json_log.hpp"

namespace tradesphere::services {

void ConsoleSessionService::create_sign_in_code(const domain::RequestContext& ctx, const std::string& code_hash,
                                                const std::string& user_id, domain::Role role,
                                                std::chrono::seconds valid_for) {
  sessions_.create_sign_in_code(ctx, code_hash, user_id, role, valid_for);
}

std::optional<ConsoleSession> ConsoleSessionService::redeem_sign_in_code(const std::string& code_hash,
                                                                         std::chrono::seconds session_length,
                                                                         const std::string& correlation_id) {
  return sessions_.redeem_sign_in_code(code_hash, session_length, correlation_id);
}

bool ConsoleSessionService::is_active(const domain::RequestContext& ctx, const std::string& session_id) {
  return sessions_.is_active(ctx, session_id);
}

bool ConsoleSessionService::revoke(const domain::RequestContext& ctx, const std::string& session_id) {
  return sessions_.revoke(ctx, session_id);
}

PurgedSignIns ConsoleSessionService::purge_ended(std::chrono::seconds grace) {
  const auto purged = sessions_.purge_ended(grace);
  if (purged.codes || purged.sessions)
    common::log(spdlog::level::info, "console_sign_ins_purged", {{"codes", purged.codes}, {"sessions", purged.sessions}});
  return purged;
}

}  // namespace tradesphere::services
