#include "http/problem.hpp"

namespace tradesphere::http {
namespace {

const char* title_for(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 428: return "Precondition Required";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Internal Server Error" : "Error";
  }
}

}  // namespace

std::string problem_type(const std::string& code) { return "urn:tradesphere:problem:" + code; }

Problem make_problem(int status, std::string code, std::string detail, std::vector<domain::FieldError> errors) {
  Problem p;
  p.status = status;
  p.code = std::move(code);
  p.title = title_for(status);
  p.detail = std::move(detail);
  p.errors = std::move(errors);
  p.server_fault = status >= 500 && status != 503;
  return p;
}

HttpProblem bad_request(std::string detail, std::vector<domain::FieldError> errors) {
  return HttpProblem(make_problem(400, "bad-request", std::move(detail), std::move(errors)));
}

Problem problem_from_exception(const std::exception_ptr& error, bool if_match_sent, std::string* cause) {
  auto internal = [&](const std::string& why) {
    if (cause) *cause = why;
    return make_problem(500, "internal", "The server failed to handle the request; it has been logged.");
  };
  try {
    std::rethrow_exception(error);
  } catch (const HttpProblem& e) {
    return e.problem();
  } catch (const domain::VersionConflictError& e) {
    if (if_match_sent) {
      auto p = make_problem(412, "precondition-failed",
                            "The resource was changed by someone else; re-read it and retry with its current version.");
      p.headers.emplace_back("ETag", "\"" + std::to_string(e.current_version()) + "\"");
      return p;
    }
    return make_problem(409, "conflict", e.what());
  } catch (const domain::EmailInUseError& e) {
    auto p = make_problem(409, "email-in-use", "Another customer of the company has this email address.");
    p.extensions["existing_customer_id"] = e.existing_customer_id();
    p.headers.emplace_back("Location", "/v1/customers/" + e.existing_customer_id());
    return p;
  } catch (const domain::ValidationError& e) {
    return make_problem(422, "validation", "The request contains invalid fields.", e.fields());
  } catch (const domain::Error& e) {
    switch (e.kind()) {
      case domain::ErrorKind::kNotFound:
        return make_problem(404, "not-found", "The requested resource does not exist.");
      case domain::ErrorKind::kValidation:
        return make_problem(422, "validation", e.what());
      case domain::ErrorKind::kConflict:
        return make_problem(409, "conflict", e.what());
      case domain::ErrorKind::kPermission:
        return make_problem(403, "forbidden", e.what());
      case domain::ErrorKind::kBusiness:
        return make_problem(422, "business-rule", e.what());
      case domain::ErrorKind::kUnavailable: {
        if (cause) *cause = e.what();
        auto p = make_problem(503, "unavailable", "The service is temporarily unavailable; retry shortly.");
        p.headers.emplace_back("Retry-After", "1");
        return p;
      }
      case domain::ErrorKind::kRepository:
      case domain::ErrorKind::kService:
        return internal(e.what());
    }
    return internal(e.what());
  } catch (const std::exception& e) {
    return internal(e.what());
  } catch (...) {
    return internal("non-standard exception");
  }
}

nlohmann::json problem_body(const Problem& problem, const std::string& instance) {
  nlohmann::json body = {{"type", problem_type(problem.code)},
                         {"title", problem.title},
                         {"status", problem.status},
                         {"detail", problem.detail.empty() ? problem.title : problem.detail},
                         {"instance", instance}};
  for (const auto& [k, v] : problem.extensions.items()) body[k] = v;
  if (!problem.errors.empty()) {
    auto errors = nlohmann::json::array();
    for (const auto& f : problem.errors) errors.push_back({{"field", f.field}, {"reason", f.reason}});
    body["errors"] = std::move(errors);
  }
  return body;
}

}  // namespace tradesphere::http
