// A company (tenant) and one of its users, as services::CompanyAdminService and the
// facade return them. No database type here.
#pragma once

#include <string>

#include "domain/request_context.hpp"

namespace tradesphere::domain {

struct Company {
  std::string id;
  std::string slug;
  std::string name;
  std::string default_country_code;

  bool operator==(const Company&) const = default;
};

struct AppUser {
  std::string tech_id;
  std::string company_id;
  Role role = Role::kAgent;
};

}  // namespace tradesphere::domain
