// `tradesphere token` and `tradesphere user add` against the fixture's database.
#include <sstream>

#include <gtest/gtest.h>

#include "common/process.hpp"
#include "support/http_fixture.hpp"

namespace {

using tradesphere::common::run_process;
using tradesphere::testing::HttpTest;

class CliHttpTest : public HttpTest {
 protected:
  tradesphere::common::ProcessResult cli(std::vector<std::string> args) {
    std::vector<std::string> argv = {"env", "DATABASE_URL=" + app_url(), "DATABASE_ADMIN_URL=" + owner_url(),
                                     std::string("TRADESPHERE_JWT_SECRET=") + tradesphere::testing::kTestJwtSecret,
                                     tradesphere::testing::tradesphere_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv);
  }
};

TEST_F(CliHttpTest, TokenCommandPrintsATokenTheServerAccepts) {
  auto r = cli({"token", "--company", "globex", "--user", "carol", "--role", "viewer", "--ttl", "10m"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string token;  // the line that is a JWT (log lines on stderr are JSON objects)
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("eyJ", 0) == 0) token = line;
  }
  ASSERT_FALSE(token.empty()) << r.output;
  auto me = call("GET", "/v1/me", token);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json()["company_id"], company_b_);
  EXPECT_EQ(me.json()["user_id"], "carol");
  EXPECT_EQ(me.json()["role"], "viewer");
  EXPECT_EQ(call("POST", "/v1/customers", token, R"({"name":"x"})").status, 403);

  auto unknown = cli({"token", "--company", "nope", "--user", "carol", "--role", "admin"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.output.find("nope"), std::string::npos) << unknown.output;
  EXPECT_NE(cli({"token", "--company", "acme", "--user", "x", "--role", "root"}).exit_code, 0);
}

TEST_F(CliHttpTest, UserAddRegistersATechIdForTheCompany) {
  auto r = cli({"user", "add", "--company", "acme", "--tech-id", "widget-7", "--role", "agent"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto rows = owner_query("SELECT company_id::text AS company_id, role FROM app_users WHERE tech_id = 'widget-7'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["company_id"], company_a_);
  EXPECT_EQ(rows[0]["role"], "agent");
}

}  // namespace
