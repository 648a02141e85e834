// The PostgreSQL settings `db start` sizes to the machine (db/embedded_cluster.hpp).
#include <gtest/gtest.h>

#include <string>

#include "db/embedded_cluster.hpp"

namespace {
using tradesphere::db::server_tuning;
using tradesphere::db::usable_memory_bytes;

std::string setting(const std::string& conf, const std::string& name) {
  const auto at = conf.find("\n" + name + " = ");
  if (at == std::string::npos) return "";
  const auto from = at + name.size() + 4;
  return conf.substr(from, conf.find('\n', from) - from);
}

constexpr std::uint64_t kGiB = 1024ull * 1024 * 1024;

TEST(ServerTuning, AQuarterOfTheMemoryForSharedBuffersWithinBounds) {
  const auto big = server_tuning(24 * kGiB);
  EXPECT_EQ(setting(big, "shared_buffers"), "'6144MB'");
  EXPECT_EQ(setting(big, "effective_cache_size"), "'12288MB'");
  EXPECT_EQ(setting(big, "maintenance_work_mem"), "'768MB'");
  EXPECT_EQ(setting(big, "jit"), "off");
  EXPECT_EQ(setting(big, "max_wal_size"), "'4GB'");

  const auto small = server_tuning(kGiB / 4);  // never below PostgreSQL's defaults
  EXPECT_EQ(setting(small, "shared_buffers"), "'128MB'");
  EXPECT_EQ(setting(small, "effective_cache_size"), "'128MB'");
  EXPECT_EQ(setting(small, "maintenance_work_mem"), "'64MB'");

  const auto huge = server_tuning(256 * kGiB);  // capped
  EXPECT_EQ(setting(huge, "shared_buffers"), "'8192MB'");
  EXPECT_EQ(setting(huge, "maintenance_work_mem"), "'1024MB'");
}

TEST(ServerTuning, TheMachinesMemoryIsKnownOnLinux) {
  const auto bytes = usable_memory_bytes();
  EXPECT_GT(bytes, 64ull * 1024 * 1024);
  EXPECT_LT(bytes, 1ull << 50);
}

}  // namespace
