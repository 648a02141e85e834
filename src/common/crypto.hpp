// Thin wrappers over OpenSSL for the few digests and random values we need.
#pragma once

#include <string>
#include <string_view>

namespace tradesphere::common {

// Lower-case hex SHA-256 of the bytes.
std::string sha256_hex(std::string_view data);
// `bytes` cryptographically random bytes as lower-case hex (2*bytes characters).
std::string random_hex(std::size_t bytes);

}  // namespace tradesphere::common
