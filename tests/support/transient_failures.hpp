// Transient failures for retry tests, through the public seam of db::Database:
// fail_first(n, unit) wraps a unit of work so that, the first n times it runs, the
// server raises a real serialization failure (SQLSTATE 40001) after the unit's own
// statements. Database::transact then meets it exactly as it meets a production
// conflict: the transaction is rolled back and the whole unit runs again on a new
// transaction (at most domain::kMaxAttempts tries in all).
//
//   int runs = 0;
//   db.transact(ctx, "test", fail_first(2, [&](db::Tx& tx) { ++runs; return insert(tx); }));
//   // runs == 3, one row committed
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

#include "db/database.hpp"

namespace tradesphere::testing {

inline constexpr const char* kRaiseSerializationFailure =
    "DO $$ BEGIN RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = '40001'; END $$";

template <typename F>
auto fail_first(int n, F unit) {
  auto left = std::make_shared<int>(n);
  return [left, unit = std::move(unit)](db::Tx& tx) mutable {
    auto fail = [&] {
      if (*left > 0) {
        --*left;
        tx.exec(kRaiseSerializationFailure);
      }
    };
    if constexpr (std::is_void_v<std::invoke_result_t<F&, db::Tx&>>) {
      unit(tx);
      fail();
    } else {
      auto result = unit(tx);
      fail();
      return result;
    }
  };
}

}  // namespace tradesphere::testing
