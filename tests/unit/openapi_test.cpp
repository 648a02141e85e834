// openapi_route_mismatches(): what keeps api/openapi.json and the route table identical.
#include <algorithm>

#include <gtest/gtest.h>

#include "http/routes.hpp"

namespace {

namespace http = tradesphere::http;

http::ApiResponse nothing(http::ApiRequest&) { return {}; }

std::vector<std::string> mismatches_for(const std::vector<http::Route>& routes) {
  http::RouteTable table;
  for (const auto& r : routes) table.add(r);
  return http::openapi_route_mismatches(table);
}

bool mentions(const std::vector<std::string>& all, const std::string& what) {
  return std::any_of(all.begin(), all.end(), [&](const std::string& m) { return m.find(what) != std::string::npos; });
}

TEST(OpenApiRouteMismatches, NamesRoutesMissingOnEitherSide) {
  auto m = mismatches_for({{"GET", "/healthz", http::Access::kPublic, nothing},
                           {"GET", "/v1/nowhere", http::Access::kViewer, nothing}});
  EXPECT_TRUE(mentions(m, "GET /v1/nowhere: served but not documented"));
  EXPECT_TRUE(mentions(m, "get /readyz: documented but not served"));
  EXPECT_FALSE(mentions(m, "/healthz")) << ::testing::PrintToString(m);
}

TEST(OpenApiRouteMismatches, NamesRoleSecurityAndIdempotencyDifferences) {
  auto m = mismatches_for({{"GET", "/healthz", http::Access::kViewer, nothing},
                           {"GET", "/v1/customers", http::Access::kAgent, nothing},
                           {"POST", "/v1/merges", http::Access::kAdmin, nothing, /*idempotency_key=*/false},
                           {"POST", "/v1/customers/{id}/restore", http::Access::kAdmin, nothing, true}});
  EXPECT_TRUE(mentions(m, "GET /healthz: needs a token but is documented as public"));
  EXPECT_TRUE(mentions(m, "GET /v1/customers: x-required-role is not agent"));
  EXPECT_TRUE(mentions(m, "POST /v1/merges: documents Idempotency-Key but does not honour it"));
  EXPECT_TRUE(mentions(m, "POST /v1/customers/{id}/restore: honours Idempotency-Key but does not document it"));
}

TEST(OpenApiRouteMismatches, TheDocumentAgreesWithTheRolesItStates) {
  auto m = mismatches_for({{"GET", "/v1/customers/{id}", http::Access::kViewer, nothing},
                           {"POST", "/v1/merges", http::Access::kAdmin, nothing, true}});
  for (const auto& line : m) EXPECT_NE(line.find("documented but not served"), std::string::npos) << line;
}

}  // namespace
