#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include "domain/parallel.hpp"

namespace {
using namespace tradesphere::domain;

TEST(Parallel, RangesCoverEveryIndexOnceAndRethrowTheFirstError) {
  std::vector<int> seen(123457, 0);
  parallel_ranges(seen.size(), [&](std::size_t, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) ++seen[i];
  });
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<long>(seen.size()));
  EXPECT_THROW(parallel_for(50000, [](std::size_t i) {
                 if (i == 40000) throw std::runtime_error("boom");
               }),
               std::runtime_error);
}

TEST(Parallel, SortEqualsStdSortOnEverySizeAndRange) {
  std::mt19937_64 rng(11);
  for (std::size_t n : {0u, 1u, 999u, 99999u, 100000u, 250001u, 1000003u}) {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> v(n);
    for (auto& e : v) e = {rng() % (n / 3 + 1), static_cast<std::uint32_t>(rng() % 7)};  // many equal keys
    auto expected = v;
    std::sort(expected.begin(), expected.end());
    parallel_sort(v.begin(), v.end());
    ASSERT_EQ(v, expected) << n;
  }
  // a range inside a vector, descending: what is outside stays as it is
  std::vector<std::uint64_t> w(300000);
  for (auto& x : w) x = rng();
  auto expected = w;
  std::sort(expected.begin() + 1000, expected.end() - 7, std::greater<>());
  parallel_sort(w.begin() + 1000, w.end() - 7, std::greater<>());
  EXPECT_EQ(w, expected);
}

}  // namespace
