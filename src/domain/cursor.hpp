// Keyset-pagination cursor: the sort column value and id of the last row of a
// page, as an opaque base64url token. The next page is the rows strictly after
// (last_value, last_id) in the page's order, with id as the tie-breaker.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/customer_filters.hpp"

namespace tradesphere::domain {

struct Cursor {
  SortKey sort = SortKey::kCreatedAt;
  bool descending = true;
  // Text form of the last row's sort value, as the repository reads it from SQL:
  //   kName: the name (any text); kCreatedAt / kLastContact: a timestamp accepted
  //   by is_iso8601_timestamp (PostgreSQL's timestamptz text output passes);
  //   kConversationCount: a non-negative decimal integer.
  // When the value is SQL NULL (name or last contact unknown), last_value_null is
  // true and last_value is empty. kCreatedAt and kConversationCount are never NULL.
  std::string last_value;
  bool last_value_null = false;
  std::string last_id;  // uuid of the last row

  bool operator==(const Cursor&) const = default;
};

// Opaque token (base64url without padding of a small JSON document, version 1).
// Throws ValidationError("cursor", ...) if the cursor itself is inconsistent
// (bad uuid, value not matching the sort key).
std::string encode_cursor(const Cursor& cursor);

// Throws ValidationError("cursor", reason) for anything that is not a token made
// by encode_cursor, and for a token issued for another sort key or direction
// (the client changed sort/order but kept the cursor).
Cursor decode_cursor(std::string_view text, SortKey expected_sort, bool expected_descending);

// The keyset token of every other list (a customer's conversations and their
// messages, orphaned chat rows, the timeline, the merge history): base64url of
// {"v":1,"<key>":"<value>",…} with the keyset's values as strings, first the
// timestamp under "at" or "a". The customer list's Cursor above adds the sort key
// and direction. decode_page_token returns the values of `keys`, in their order,
// when the token has exactly these keys with string values and version 1, and the
// first value passes is_iso8601_timestamp; std::nullopt otherwise (the caller
// raises ValidationError("cursor", …) naming its list).
std::string encode_page_token(std::initializer_list<std::pair<std::string_view, std::string_view>> fields);
std::optional<std::vector<std::string>> decode_page_token(std::string_view text,
                                                          std::initializer_list<std::string_view> keys);

// RFC 4648 §5 base64url without padding. Hand-written (about 40 lines) rather
// than OpenSSL's EVP_EncodeBlock, which only does the standard alphabet with
// '=' padding, so we would translate and strip anyway.
std::string base64url_encode(std::string_view bytes);
// Accepts only canonical unpadded base64url (no '=', no whitespace, unused
// trailing bits zero); std::nullopt otherwise.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace tradesphere::domain
