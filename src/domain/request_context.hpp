// Who is asking, for which company: passed to every repository and service call.
// The db layer turns it into transaction-local settings (SET LOCAL) that the
// row-level-security policies and audit triggers read.
#pragma once

#include <string>

namespace tradesphere::domain {

enum class Role { kViewer, kAgent, kAdmin };

const char* to_string(Role role) noexcept;
// Throws ValidationError("role", ...) for anything but viewer|agent|admin.
Role parse_role(const std::string& text);

struct RequestContext {
  std::string company_id;      // uuid text
  std::string user_id;         // free text (JWT sub / tech id)
  Role role = Role::kViewer;
  std::string correlation_id;  // request id, copied into logs and audit rows

  bool can_write() const noexcept { return role == Role::kAgent || role == Role::kAdmin; }
  bool is_admin() const noexcept { return role == Role::kAdmin; }
};

}  // namespace tradesphere::domain
