#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tradesphere::db {

// PostgreSQL array literals for a bound parameter ($n::bigint[], $n::uuid[]). The values are
// integers and uuids the repositories hold (no quoting needed); libpqxx 7.7's own array
// conversion is not used because its uuid elements would be quoted as text.
inline std::string bigint_array(const std::vector<std::int64_t>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(values[i]);
  }
  return out + "}";
}

inline std::string uuid_array(const std::vector<std::string>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += ids[i];
  }
  return out + "}";
}

}  // namespace tradesphere::db
