// The request-target of an HTTP/1.1 request: path and query, percent-decoded.
// Written here because Debian 12's Boost (1.74) predates Boost.URL (1.81) and
// Beast hands the target over undecoded; the rules are RFC 3986 §2.1 plus the
// form convention that '+' in a query means a space.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tradesphere::http {

// %XX sequences decoded; `plus_is_space` for query components. nullopt when a
// '%' is not followed by two hex digits or the result contains U+0000.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

struct RequestTarget {
  std::string path;                              // decoded, starts with '/'
  std::multimap<std::string, std::string> query;  // decoded; "a" without '=' has value ""
};

// origin-form only ("/path?query"); nullopt for anything else or bad encoding.
std::optional<RequestTarget> parse_request_target(std::string_view target);

}  // namespace tradesphere::http
