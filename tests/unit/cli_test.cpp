// The `tradesphere` binary's behaviour that needs no database.
#include <gtest/gtest.h>

#include "common/process.hpp"
#include "support/pg_fixture.hpp"

namespace {

TEST(Cli, VersionPrintsTheVersionAndANewline) {
  auto r = tradesphere::common::run_process({tradesphere::testing::tradesphere_binary(), "--version"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, std::string(TRADESPHERE_VERSION) + "\n");
}

}  // namespace
