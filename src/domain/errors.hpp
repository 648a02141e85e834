// The one error hierarchy of the product. Every layer throws these; the HTTP
// layer maps them to status codes in one table (src/http/problem.cpp).
// No database (libpqxx) or HTTP type appears here.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tradesphere::domain {

enum class ErrorKind {
  kNotFound,
  kValidation,
  kConflict,
  kPermission,
  kBusiness,
  kUnavailable,
  kRepository,
  kService,
};

const char* to_string(ErrorKind kind) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message) : std::runtime_error(std::move(message)), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

class NotFoundError : public Error {
 public:
  explicit NotFoundError(std::string message) : Error(ErrorKind::kNotFound, std::move(message)) {}
};

struct FieldError {
  std::string field;   // JSON-pointer-like path, e.g. "email" or "tags/3"
  std::string reason;  // human readable
};

class ValidationError : public Error {
 public:
  explicit ValidationError(std::vector<FieldError> fields)
      : Error(ErrorKind::kValidation, describe(fields)), fields_(std::move(fields)) {}
  ValidationError(std::string field, std::string reason)
      : ValidationError(std::vector<FieldError>{{std::move(field), std::move(reason)}}) {}
  const std::vector<FieldError>& fields() const noexcept { return fields_; }

 private:
  static std::string describe(const std::vector<FieldError>& fields);
  std::vector<FieldError> fields_;
};

class ConflictError : public Error {
 public:
  explicit ConflictError(std::string message) : Error(ErrorKind::kConflict, std::move(message)) {}
};

// The email belongs to another active customer of the company (one normalized
// email, one customer). HTTP 409 naming the existing customer, as HubSpot does.
class EmailInUseError : public ConflictError {
 public:
  explicit EmailInUseError(std::string existing_customer_id)
      : ConflictError("the email belongs to customer " + existing_customer_id),
        existing_customer_id_(std::move(existing_customer_id)) {}
  const std::string& existing_customer_id() const noexcept { return existing_customer_id_; }

 private:
  std::string existing_customer_id_;
};

// A stale optimistic-concurrency version (HTTP 412 when the client sent If-Match).
class VersionConflictError : public ConflictError {
 public:
  VersionConflictError(std::string message, int current_version)
      : ConflictError(std::move(message)), current_version_(current_version) {}
  int current_version() const noexcept { return current_version_; }

 private:
  int current_version_;
};

class PermissionError : public Error {
 public:
  explicit PermissionError(std::string message) : Error(ErrorKind::kPermission, std::move(message)) {}
};

class BusinessError : public Error {
 public:
  explicit BusinessError(std::string message) : Error(ErrorKind::kBusiness, std::move(message)) {}
};

class UnavailableError : public Error {
 public:
  explicit UnavailableError(std::string message) : Error(ErrorKind::kUnavailable, std::move(message)) {}
};

class RepositoryError : public Error {
 public:
  explicit RepositoryError(std::string message) : Error(ErrorKind::kRepository, std::move(message)) {}
};

class ServiceError : public Error {
 public:
  explicit ServiceError(std::string message) : Error(ErrorKind::kService, std::move(message)) {}
};

}  // namespace tradesphere::domain
