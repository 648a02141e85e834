// RFC 9457 problem details: the ONE table that maps the library's errors (and
// the HTTP layer's own request errors) to a status, a stable `type` and a title.
//
//   error                         status  type (urn:tradesphere:problem:…)
//   HttpProblem (malformed input)  400    bad-request            (JSON syntax, duplicate keys, depth, \u0000, params)
//   —  missing/invalid token        401    unauthorized
//   PermissionError                403    forbidden
//   NotFoundError, unknown route   404    not-found              (fixed detail: no hint whether the id exists elsewhere)
//   wrong method                   405    method-not-allowed
//   EmailInUseError                409    email-in-use           (existing_customer_id; Location of that customer)
//   ConflictError                  409    conflict
//   VersionConflictError           412    precondition-failed    (when If-Match was sent; else 409 conflict)
//   body too large                 413    payload-too-large      (server.cpp, before the body is read)
//   request head too large         431    request-header-too-large
//   wrong Content-Type             415    unsupported-media-type
//   ValidationError                422    validation             (errors[] = {field, reason})
//   BusinessError                  422    business-rule          (the request is well-formed but a rule refuses it)
//   UnavailableError               503    unavailable            (Retry-After: 1; fixed detail. Pool exhausted,
//                                                                  statement timeout 57014, connection lost, …:
//                                                                  db/sql_errors.cpp; and the server's own overload
//                                                                  refusals, Dispatcher::refuse)
//   RepositoryError, ServiceError,
//   anything else                  500    internal               (fixed detail; the cause is only logged)
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/errors.hpp"

namespace tradesphere::http {

inline constexpr const char* kProblemContentType = "application/problem+json";

struct Problem {
  int status = 500;
  std::string code;   // last part of the type URN, e.g. "not-found"
  std::string title;
  std::string detail;
  std::vector<domain::FieldError> errors;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Allow, Retry-After, WWW-Authenticate
  nlohmann::json extensions = nlohmann::json::object();     // RFC 9457 extension members, e.g. existing_customer_id
  bool server_fault = false;  // 5xx caused by us: log the cause at error level
};

// An error the HTTP layer raises itself (bad JSON, bad params, 401, 405, 413, 415 …).
class HttpProblem : public std::runtime_error {
 public:
  explicit HttpProblem(Problem p) : std::runtime_error(p.detail), problem_(std::move(p)) {}
  const Problem& problem() const noexcept { return problem_; }

 private:
  Problem problem_;
};

// Builds a problem from the table by status and code (title filled in).
Problem make_problem(int status, std::string code, std::string detail = {},
                     std::vector<domain::FieldError> errors = {});
// 400 with field errors (query parameters, JSON syntax).
HttpProblem bad_request(std::string detail, std::vector<domain::FieldError> errors = {});

// The one mapping. `if_match_sent` turns a VersionConflictError into 412.
// Sets `cause` to the internal message (for the log) when it must not be shown.
Problem problem_from_exception(const std::exception_ptr& error, bool if_match_sent, std::string* cause = nullptr);

// {"type","title","status","detail","instance"[, "errors":[{"field","reason"}]]}
nlohmann::json problem_body(const Problem& problem, const std::string& instance);

// "urn:tradesphere:problem:<code>"
std::string problem_type(const std::string& code);

}  // namespace tradesphere::http
