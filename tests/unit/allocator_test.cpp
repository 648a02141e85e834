// keep_freed_memory_for_reuse (common/allocator.hpp): the blocks of one list page
// (a database result, the row views, the JSON body), freed and allocated again, are
// served from the heap without faulting their pages in again. With glibc's defaults
// the freed heap top is trimmed every time (~500 page faults per round here).
#include "common/allocator.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <string>

namespace {

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kGlibcMalloc = false;  // AddressSanitizer replaces malloc: nothing of glibc's to tune
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kGlibcMalloc = false;
#else
constexpr bool kGlibcMalloc = true;
#endif
#else
constexpr bool kGlibcMalloc = true;
#endif

TEST(Allocator, AListPagesBlocksAreReusedWithoutPageFaults) {
  if (!kGlibcMalloc) GTEST_SKIP() << "built with AddressSanitizer, whose allocator replaces glibc's (the Release build runs it)";
  tradesphere::common::keep_freed_memory_for_reuse();
  auto one_page = [](char fill) {
    std::string result(800 << 10, fill), views(500 << 10, fill), body(800 << 10, fill);
    ASSERT_EQ(result.back() + views.back() + body.back(), 3 * fill);  // used: the allocations are not elided
  };
  one_page('x');  // the first page faults the pages in
  const long before = minor_faults();
  for (int i = 0; i < 5; ++i) one_page(static_cast<char>('a' + i));
  EXPECT_LT(minor_faults() - before, 200);
}

}  // namespace
