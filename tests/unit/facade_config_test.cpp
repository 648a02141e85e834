#include <gtest/gtest.h>

#include "domain/errors.hpp"
#include "services/customer_service.hpp"

namespace {

using tradesphere::services::CustomerProfile;
using tradesphere::services::describe_difference;
using tradesphere::services::FacadeConfig;
using tradesphere::services::ImplMode;

TEST(FacadeConfig, EmptySpecMeansNewEverywhere) {
  auto c = FacadeConfig::parse("");
  EXPECT_EQ(c.mode_for("get_customer_list"), ImplMode::kNew);
  EXPECT_TRUE(c.per_method.empty());
}

TEST(FacadeConfig, ParsesPerMethodModesAndADefault) {
  auto c = FacadeConfig::parse(" *=compare , get_customer_list=legacy,");
  EXPECT_EQ(c.default_mode, ImplMode::kCompare);
  EXPECT_EQ(c.mode_for("get_customer_list"), ImplMode::kLegacy);
  EXPECT_EQ(c.mode_for("search_customers"), ImplMode::kCompare);
}

TEST(FacadeConfig, RejectsUnknownMethodsModesAndSyntax) {
  EXPECT_THROW(FacadeConfig::parse("get_customer_list=old"), tradesphere::domain::ValidationError);
  EXPECT_THROW(FacadeConfig::parse("delete_everything=new"), tradesphere::domain::ValidationError);
  EXPECT_THROW(FacadeConfig::parse("legacy"), tradesphere::domain::ValidationError);
}

TEST(FacadeDifference, IgnoresOrderIdsAndNewOnlyFields) {
  CustomerProfile a;
  a.email = "a@example.com";
  a.message_count = 2;
  CustomerProfile b;
  b.name = "B";
  auto a2 = a;
  a2.id = "some-id";
  a2.lifecycle_stage = "customer";
  a2.tags = {"vip"};
  EXPECT_EQ(describe_difference({a, b}, {b, a2}), "");
}

TEST(FacadeDifference, NamesTheFirstDifferingFieldAndCountMismatches) {
  CustomerProfile a;
  a.email = "a@example.com";
  a.message_count = 2;
  auto changed = a;
  changed.message_count = 3;
  EXPECT_NE(describe_difference({a}, {changed}).find("message_count"), std::string::npos);
  EXPECT_EQ(describe_difference({a}, {}), "count 1 vs 0");
}

}  // namespace
