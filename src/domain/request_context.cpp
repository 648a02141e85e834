#include "domain/request_context.hpp"

#include "domain/errors.hpp"

namespace tradesphere::domain {

const char* to_string(Role role) noexcept {
  switch (role) {
    case Role::kViewer: return "viewer";
    case Role::kAgent: return "agent";
    case Role::kAdmin: return "admin";
  }
  return "viewer";
}

Role parse_role(const std::string& text) {
  if (text == "viewer") return Role::kViewer;
  if (text == "agent") return Role::kAgent;
  if (text == "admin") return Role::kAdmin;
  throw ValidationError("role", "must be one of viewer, agent, admin");
}

}  // namespace tradesphere::domain
