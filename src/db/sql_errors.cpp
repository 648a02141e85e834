#include "db/sql_errors.hpp"

#include <map>
#include <string>

#include <pqxx/pqxx>

#include "common/json_log.hpp"
#include "domain/errors.hpp"

namespace tradesphere::db {
namespace {

// libpqxx 6.4 derives transaction_rollback (40xxx) from pqxx::failure, not from
// sql_error, so it carries no SQLSTATE: recover it from the exception type.
std::string rollback_sqlstate(const pqxx::transaction_rollback& e) {
  if (dynamic_cast<const pqxx::serialization_failure*>(&e) != nullptr) return "40001";
  if (dynamic_cast<const pqxx::deadlock_detected*>(&e) != nullptr) return "40P01";
  if (dynamic_cast<const pqxx::statement_completion_unknown*>(&e) != nullptr) return "40003";
  return "40000";
}

// The request field a constraint guards, in the API's words; "" when it guards
// none a client could name. Constraint names are schema details: logged, never sent.
std::string field_of_constraint(const std::string& constraint) {
  static const std::map<std::string, std::string> kFields = {
      {"customers_company_external_id_key", "external_id"},
      {"companies_slug_key", "slug"},
      {"customers_attributes_check", "attributes"},
      {"customers_lifecycle_stage_check", "lifecycle_stage"},
      {"customers_source_check", "source"},
      {"customers_tags_check", "tags"},
      {"companies_default_country_code_check", "default_country_code"},
      {"app_users_role_check", "role"},
  };
  auto it = kFields.find(constraint);
  return it == kFields.end() ? "" : it->second;
}

}  // namespace

domain::FailureInfo describe_failure(const std::exception_ptr& error, bool during_commit) {
  domain::FailureInfo info;
  info.during_commit = during_commit;
  try {
    std::rethrow_exception(error);
  } catch (const pqxx::in_doubt_error&) {
    info.in_doubt = true;
  } catch (const pqxx::broken_connection&) {
    info.broken_connection = true;
  } catch (const pqxx::transaction_rollback& e) {
    info.sqlstate = rollback_sqlstate(e);
  } catch (const pqxx::sql_error& e) {
    info.sqlstate = e.sqlstate();
  } catch (...) {
  }
  return info;
}

void rethrow_as_domain_error(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const domain::Error&) {
    throw;
  } catch (const pqxx::in_doubt_error& e) {
    common::log(spdlog::level::err, "db.commit_in_doubt", {{"error", e.what()}});
    throw domain::RepositoryError("the database did not confirm the commit; its outcome is unknown");
  } catch (const pqxx::broken_connection&) {
    throw domain::UnavailableError("the database connection was lost");
  } catch (const pqxx::transaction_rollback& e) {
    if (rollback_sqlstate(e) == "40003") {
      throw domain::RepositoryError("the database did not confirm the statement; its outcome is unknown");
    }
    throw domain::UnavailableError("the database is busy (serialization failure or deadlock); try again");
  } catch (const pqxx::sql_error& e) {
    const std::string state = e.sqlstate();
    const std::string msg = e.what();
    auto constraint_of = [&]() -> std::string {
      auto pos = msg.find("constraint \"");
      if (pos == std::string::npos) return "";
      auto end = msg.find('"', pos + 12);
      return msg.substr(pos + 12, end - pos - 12);
    };
    if (state == "23505" || state == "23503" || state == "23502" || state == "23514" || state.rfind("22", 0) == 0) {
      common::log(spdlog::level::info, "db.constraint_violation", {{"sqlstate", state}, {"constraint", constraint_of()}});
    }
    const std::string field = field_of_constraint(constraint_of());
    if (state == "23505") throw domain::ConflictError(field.empty() ? "already exists" : field + " already exists");
    if (state == "23503") throw domain::NotFoundError("a referenced record does not exist");
    if (state == "23502" || state == "23514" || state.rfind("22", 0) == 0) {
      throw domain::ValidationError(field.empty() ? "body" : field, "rejected by the database");
    }
    if (state == "42501") throw domain::PermissionError("not allowed");
    if (state == "57014") throw domain::UnavailableError("the database statement timed out");
    if (state == "40001" || state == "40P01" || state.rfind("08", 0) == 0 || state.rfind("53", 0) == 0 ||
        state.rfind("57P", 0) == 0) {
      throw domain::UnavailableError("the database is busy; try again");
    }
    if (state == "P0001") {
      // RAISE EXCEPTION from our own PL/pgSQL: the message is ours and safe to show.
      auto text = msg.substr(0, msg.find('\n'));
      if (text.rfind("ERROR:  ", 0) == 0) text = text.substr(8);
      throw domain::BusinessError(text);
    }
    common::log(spdlog::level::err, "db.error", {{"sqlstate", state}, {"error", msg}});
    throw domain::RepositoryError("database error");
  } catch (const std::exception& e) {
    common::log(spdlog::level::err, "db.unexpected", {{"error", e.what()}});
    throw domain::RepositoryError("database error");
  }
}

}  // namespace tradesphere::db
