// The chat rows' links as the tests read them.
#pragma once

#include <optional>
#include <string>

#include <pqxx/pqxx>

namespace tradesphere::testing {

// The customer a stored chat row was linked to by the end of its INSERT statement (the
// statement trigger links it after RETURNING, migration 0051); nullopt when unlinked.
inline std::optional<std::string> linked_customer(pqxx::transaction_base& tx, long long chat_row_id) {
  return tx.exec1("SELECT customer_id::text FROM \"VC Usage\" WHERE id = " + std::to_string(chat_row_id))[0]
      .as<std::optional<std::string>>();
}

}  // namespace tradesphere::testing
