// HTTP protocol behaviour: routing (404/405), body limits, content types,
// hostile JSON, query-parameter limits, problem+json, metrics, access log, OpenAPI.
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "common/json_log.hpp"
#include "http/api.hpp"
#include "http/problem.hpp"
#include "support/http_fixture.hpp"

namespace {

using tradesphere::testing::HttpResponse;
using tradesphere::testing::HttpTest;
namespace http = tradesphere::http;

class ProtocolHttpTest : public HttpTest {
 protected:
  long customer_rows() const {
    return owner_query("SELECT count(*) AS n FROM customers")[0]["n"].get<long>();
  }
  void expect_problem(const HttpResponse& r, int status, const std::string& what) const {
    EXPECT_EQ(r.status, status) << what << ": " << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/problem+json") << what;
    auto j = r.json();
    ASSERT_TRUE(j.is_object()) << what << ": " << r.body;
    EXPECT_EQ(j["status"], status) << what;
    EXPECT_TRUE(j["type"].is_string() && j["title"].is_string() && j["detail"].is_string()) << what;
    EXPECT_EQ(j["instance"], r.header("X-Request-Id")) << what;
  }
};

TEST(StrictJson, RejectsDuplicatesDepthAndNulCharacters) {
  EXPECT_NO_THROW(http::parse_json_strict(R"({"a":{"a":1},"b":[{"a":1},{"a":2}]})"));
  EXPECT_THROW(http::parse_json_strict(R"({"a":1,"a":2})"), http::HttpProblem);
  EXPECT_THROW(http::parse_json_strict(R"({"x":{"a":1,"b":2,"a":3}})"), http::HttpProblem);
  EXPECT_THROW(http::parse_json_strict(R"({"a":"x\u0000y"})"), http::HttpProblem);
  EXPECT_THROW(http::parse_json_strict(R"({"a\u0000":1})"), http::HttpProblem);
  EXPECT_THROW(http::parse_json_strict("{\"a\":\"\xff\"}"), http::HttpProblem);
  EXPECT_THROW(http::parse_json_strict(R"({"a":"\ud800"})"), http::HttpProblem);
  EXPECT_THROW(http::parse_json_strict(std::string(40, '[') + std::string(40, ']')), http::HttpProblem);
  EXPECT_NO_THROW(http::parse_json_strict(std::string(20, '[') + std::string(20, ']')));
}

TEST(ProblemMapping, EachLibraryErrorHasOneStatus) {
  using namespace tradesphere::domain;
  auto status = [](auto e, bool if_match = false) {
    return http::problem_from_exception(std::make_exception_ptr(e), if_match).status;
  };
  EXPECT_EQ(status(NotFoundError("x")), 404);
  EXPECT_EQ(status(ValidationError("f", "r")), 422);
  EXPECT_EQ(status(ConflictError("x")), 409);
  EXPECT_EQ(status(VersionConflictError("x", 3)), 409);
  EXPECT_EQ(status(VersionConflictError("x", 3), true), 412);
  EXPECT_EQ(status(PermissionError("x")), 403);
  EXPECT_EQ(status(BusinessError("x")), 422);
  EXPECT_EQ(status(UnavailableError("x")), 503);
  EXPECT_EQ(status(RepositoryError("x")), 500);
  EXPECT_EQ(status(ServiceError("x")), 500);
  EXPECT_EQ(status(std::runtime_error("x")), 500);
  auto p = http::problem_from_exception(std::make_exception_ptr(RepositoryError("SELECT secret FROM t")), false);
  EXPECT_EQ(p.detail.find("SELECT"), std::string::npos) << "a 5xx never shows internals";
  auto v = http::problem_body(
      http::problem_from_exception(std::make_exception_ptr(ValidationError("email", "bad")), false), "id");
  EXPECT_EQ(v["errors"][0]["field"], "email");
}

TEST_F(ProtocolHttpTest, UnknownRouteIs404AndWrongMethodIs405) {
  expect_problem(call("GET", "/v1/nothing-here", admin_token()), 404, "unknown route");
  expect_problem(call("GET", "/nothing-here", ""), 404, "outside /v1 and /console");  // "/" redirects to the console
  auto r = call("DELETE", "/v1/customers", admin_token());
  expect_problem(r, 405, "DELETE on a collection");
  EXPECT_EQ(r.header("Allow"), "GET, POST");
  expect_problem(call("POST", "/healthz", "", "{}"), 405, "POST /healthz");
  expect_problem(call("PUT", "/v1/customers/search", admin_token(), "{}"), 405, "PUT search");
}

TEST_F(ProtocolHttpTest, TenMegabyteBodyIs413AndServerStaysUp) {
  auto r = call("POST", "/v1/customers", admin_token(), std::string(10 << 20, 'a'));
  EXPECT_EQ(r.status, 413) << r.body.substr(0, 200);
  if (r.status == 413) {
    EXPECT_EQ(r.header("Content-Type"), "application/problem+json");
  }
  EXPECT_EQ(call("GET", "/healthz").status, 200);
  EXPECT_EQ(call("POST", "/v1/customers", admin_token(), R"({"name":"Still Up"})").status, 201);
}

// httplib would Brotli-compress JSON at maximum quality for any client that asks
// (seconds of CPU per large page): the server never compresses (server.cpp).
TEST_F(ProtocolHttpTest, ResponsesAreNeverCompressedWhateverTheClientAccepts) {
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(call("POST", "/v1/customers", admin_token(), R"({"name":"Compressible Name )" + std::to_string(i) + R"("})")
                  .status,
              201);
  }
  for (const char* accept : {"br", "gzip", "gzip, deflate, br", "deflate"}) {
    SCOPED_TRACE(accept);
    auto r = call("GET", "/v1/customers?limit=100", admin_token(), std::nullopt, {{"Accept-Encoding", accept}});
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Encoding"), "");
    EXPECT_EQ(r.json()["items"].size(), 30U);
  }
}

TEST_F(ProtocolHttpTest, WrongContentTypeIs415) {
  expect_problem(call("POST", "/v1/customers", admin_token(), R"({"name":"A"})", {}, "text/plain"), 415, "text/plain");
  expect_problem(call("POST", "/v1/customers", admin_token(), "name=A", {}, "application/x-www-form-urlencoded"), 415,
                 "form");
  EXPECT_EQ(call("POST", "/v1/customers", admin_token(), R"({"name":"A"})", {}, "application/json; charset=utf-8")
                .status,
            201);
}

TEST_F(ProtocolHttpTest, HostilePayloadsAreRefusedWithoutEffect) {
  struct Case {
    std::string name;
    std::string body;
    int status;
  };
  std::vector<Case> cases = {
      {"deep nesting", std::string(5000, '[') + std::string(5000, ']'), 400},
      {"deep object nesting", [] {
         std::string s;
         for (int i = 0; i < 2000; ++i) s += "{\"a\":";
         s += "1";
         for (int i = 0; i < 2000; ++i) s += "}";
         return s;
       }(), 400},
      {"huge string", R"({"name":")" + std::string(900000, 'x') + R"("})", 422},
      {"invalid utf-8", "{\"name\":\"\xc3\x28\"}", 400},
      {"overlong utf-8", "{\"name\":\"\xc0\xaf\"}", 400},
      {"lone surrogate", R"({"name":"\udc00"})", 400},
      {"nul character", R"({"name":"a\u0000b"})", 400},
      {"number for string", R"({"name":42})", 422},
      {"object for string", R"({"email":{"x":1}})", 422},
      {"duplicate keys", R"({"name":"a","name":"b"})", 400},
      {"not json", "name: a", 400},
      {"trailing garbage", R"({"name":"a"} x)", 400},
      {"empty body", "", 400},
      {"array body", R"(["name"])", 422},
      {"null body", "null", 422},
  };
  for (const auto& c : cases) {
    auto r = call("POST", "/v1/customers", admin_token(), c.body);
    expect_problem(r, c.status, c.name);
    EXPECT_LT(r.body.size(), 4096u) << c.name << ": the error must not echo the payload";
  }
  EXPECT_EQ(customer_rows(), 0);
  EXPECT_EQ(call("GET", "/healthz").status, 200);
}

TEST_F(ProtocolHttpTest, ValidationErrorsNameTheirFields) {
  auto r = call("POST", "/v1/customers", admin_token(), R"({"email":"not-an-email","color":"red"})");
  expect_problem(r, 422, "invalid fields");
  std::set<std::string> fields;
  const auto body = r.json();
  for (const auto& e : body["errors"]) fields.insert(e["field"].get<std::string>());
  EXPECT_TRUE(fields.count("email")) << r.body;
  EXPECT_TRUE(fields.count("color")) << r.body;
}

TEST_F(ProtocolHttpTest, PageLimitsAndCursorsAreCheckedNeverClamped) {
  for (std::string q : {"limit=0", "limit=1001", "limit=-1", "limit=abc", "limit=1&limit=2", "cursor=garbage",
                        "cursor=%21%21%21", "sort=nonsense", "unknown=1"}) {
    expect_problem(call("GET", "/v1/customers?" + q, viewer_token()), 400, q);
  }
  auto ok = call("GET", "/v1/customers?limit=1000", viewer_token());
  EXPECT_EQ(ok.status, 200) << ok.body;
  expect_problem(call("GET", "/v1/conversations/orphaned?limit=5000", viewer_token()), 400, "orphans limit");
  expect_problem(call("GET", "/v1/customers/search?q=a&limit=101", viewer_token()), 400, "search limit");
}

TEST_F(ProtocolHttpTest, MetricsCountRequestsByRouteAndStatus) {
  ASSERT_EQ(call("GET", "/v1/customers", viewer_token()).status, 200);
  ASSERT_EQ(call("GET", "/v1/customers?limit=0", viewer_token()).status, 400);
  auto m = call("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.header("Content-Type").find("text/plain"), std::string::npos);
  EXPECT_NE(m.body.find(R"(tradesphere_http_requests_total{method="GET",route="/v1/customers",status="200"})"),
            std::string::npos)
      << m.body.substr(0, 2000);
  EXPECT_NE(m.body.find(R"(tradesphere_http_requests_total{method="GET",route="/v1/customers",status="400"})"),
            std::string::npos);
  EXPECT_NE(m.body.find("tradesphere_http_request_duration_seconds_bucket"), std::string::npos);
}

TEST_F(ProtocolHttpTest, OneAccessLogLinePerRequest) {
  auto stream = std::make_shared<std::ostringstream>();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*stream);
  tradesphere::common::init_logging("info", sink);
  auto r = call("GET", "/v1/customers", viewer_token(), std::nullopt, {{"X-Request-Id", "log-check-1"}});
  auto missing = call("GET", "/v1/customers/00000000-0000-0000-0000-000000000000", viewer_token(), std::nullopt,
                      {{"X-Request-Id", "log-check-2"}});
  tradesphere::common::init_logging("info");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(missing.status, 404);
  std::istringstream lines(stream->str());
  std::string line;
  int access_lines = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || j["event"] != "http_request") continue;
    ++access_lines;
    EXPECT_EQ(j["method"], "GET");
    EXPECT_EQ(j["company_id"], company_a_);
    EXPECT_TRUE(j["duration_ms"].is_number());
    if (j["correlation_id"] == "log-check-1") {
      EXPECT_EQ(j["route"], "/v1/customers");
      EXPECT_EQ(j["status"], 200);
    } else {
      EXPECT_EQ(j["correlation_id"], "log-check-2");
      EXPECT_EQ(j["route"], "/v1/customers/{id}");
      EXPECT_EQ(j["status"], 404);
    }
  }
  EXPECT_EQ(access_lines, 2) << stream->str();
}

TEST_F(ProtocolHttpTest, OpenApiDocumentsExactlyTheRegisteredRoutes) {
  auto r = call("GET", "/openapi.json");
  ASSERT_EQ(r.status, 200);
  auto doc = r.json();
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["openapi"], "3.1.0");
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      std::string m = method;
      for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.emplace(m, path);
      EXPECT_TRUE(op.contains("responses")) << m << " " << path;
    }
  }
  std::set<std::pair<std::string, std::string>> registered;
  for (const auto& route : server().routes()) registered.insert(route);
  for (const auto& route : registered) {
    EXPECT_TRUE(documented.count(route)) << route.first << " " << route.second << " is not documented";
  }
  for (const auto& route : documented) {
    EXPECT_TRUE(registered.count(route)) << route.first << " " << route.second << " is documented but not served";
  }
  // Every $ref resolves.
  std::function<void(const nlohmann::json&)> check_refs = [&](const nlohmann::json& j) {
    if (j.is_object()) {
      for (const auto& [k, v] : j.items()) {
        if (k == "$ref" && v.is_string()) {
          auto ptr = v.get<std::string>();
          ASSERT_EQ(ptr.rfind("#/", 0), 0u) << ptr;
          EXPECT_TRUE(doc.contains(nlohmann::json::json_pointer(ptr.substr(1)))) << ptr;
        } else {
          check_refs(v);
        }
      }
    } else if (j.is_array()) {
      for (const auto& v : j) check_refs(v);
    }
  };
  check_refs(doc);
}

}  // namespace
