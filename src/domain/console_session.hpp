// An operator console session (docs/console.md) and what the hourly purge
// deleted, as services::ConsoleSessionService returns them. No database type here.
#pragma once

#include <chrono>
#include <string>

#include "domain/request_context.hpp"

namespace tradesphere::domain {

struct ConsoleSession {
  std::string id;  // uuid
  std::string company_id;
  std::string user_id;
  Role role = Role::kViewer;
  std::chrono::system_clock::time_point expires_at;
};

// Sign-in codes and sessions deleted by one purge (migration 0026).
struct PurgedSignIns {
  long long codes = 0;
  long long sessions = 0;
};

}  // namespace tradesphere::domain
