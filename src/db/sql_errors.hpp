// Turns libpqxx exceptions into the domain's errors and retry facts.
// Only src/db includes this; nothing above the repository sees pqxx types.
#pragma once

#include <exception>
#include <string>

#include "domain/retry.hpp"

namespace tradesphere::db {

// What the retry rule needs to know about a failure (exception_ptr of a pqxx error).
domain::FailureInfo describe_failure(const std::exception_ptr& error, bool during_commit);

// Rethrows `error` as a domain::Error (already-domain errors pass through):
//   23505 unique_violation      → ConflictError (names the constraint)
//   23503 foreign_key_violation → NotFoundError (a referenced row does not exist)
//   23502/23514/22xxx           → ValidationError
//   42501 insufficient_privilege, RLS WITH CHECK failure → PermissionError
//   57014 query_canceled (statement_timeout), 53xxx, 08xxx, broken connection,
//   40001/40P01 after the last try → UnavailableError
//   P0001 raise_exception from our triggers → BusinessError (our own message)
//   in doubt commit → RepositoryError ("outcome unknown")
//   anything else → RepositoryError (the message is logged, not shown to clients)
[[noreturn]] void rethrow_as_domain_error(const std::exception_ptr& error);

}  // namespace tradesphere::db
