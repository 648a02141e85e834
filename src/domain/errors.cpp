#include "domain/errors.hpp"

namespace tradesphere::domain {

const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kValidation: return "validation";
    case ErrorKind::kConflict: return "conflict";
    case ErrorKind::kPermission: return "permission";
    case ErrorKind::kBusiness: return "business";
    case ErrorKind::kUnavailable: return "unavailable";
    case ErrorKind::kRepository: return "repository";
    case ErrorKind::kService: return "service";
  }
  return "unknown";
}

std::string ValidationError::describe(const std::vector<FieldError>& fields) {
  std::string out = "validation failed";
  for (const auto& f : fields) {
    out += "; " + f.field + ": " + f.reason;
  }
  return out;
}

}  // namespace tradesphere::domain
