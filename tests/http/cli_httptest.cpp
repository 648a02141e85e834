// `tradesphere token`, `user add` and `export` against the fixture's database.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

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
  // The same, through sh, keeping only standard output.
  tradesphere::common::ProcessResult cli_stdout(const std::string& args) {
    return run_process({"sh", "-c",
                        "env DATABASE_URL='" + app_url() + "' DATABASE_ADMIN_URL='" + owner_url() + "' '" +
                            tradesphere::testing::tradesphere_binary() + "' " + args + " 2>/dev/null"});
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

TEST_F(CliHttpTest, ExportWritesTheSameCsvAsTheApi) {
  for (const auto& [name, tag] : {std::pair{"Ann Lee", "vip"}, std::pair{"Bob Stone", "eu"}, std::pair{"Cy Twombly", "vip"}}) {
    ASSERT_EQ(call_json("POST", "/v1/customers", admin_token(), {{"name", name}, {"tags", {tag}}}).status, 201);
  }
  ASSERT_EQ(call_json("POST", "/v1/customers", other_admin_token(), {{"name", "Globex Person"}}).status, 201);

  const auto api = call("GET", "/v1/customers/export?tags_all=vip&sort=name", viewer_token());
  ASSERT_EQ(api.status, 200) << api.body;
  auto out = cli_stdout("export --company acme --tag vip --sort name");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output, api.body);
  EXPECT_NE(out.output.find("Ann Lee"), std::string::npos);
  EXPECT_EQ(out.output.find("Bob Stone"), std::string::npos);
  EXPECT_EQ(out.output.find("Globex"), std::string::npos);

  const auto file = std::filesystem::temp_directory_path() / ("ts-export-" + std::to_string(::getpid()) + ".csv");
  auto r = cli({"export", "--company", "acme", "--output", file.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("exported 3 customers"), std::string::npos) << r.output;
  std::ifstream in(file, std::ios::binary);
  std::stringstream written;
  written << in.rdbuf();
  EXPECT_EQ(written.str(), call("GET", "/v1/customers/export", viewer_token()).body);
  EXPECT_EQ(std::filesystem::status(file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::remove(file);

  auto bad = cli({"export", "--company", "acme", "--stage", "vip"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("--stage"), std::string::npos) << bad.output;
  EXPECT_NE(cli({"export", "--company", "nope"}).exit_code, 0);
}

}  // namespace
