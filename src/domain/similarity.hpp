// String similarity for duplicate detection (pure, thread-safe, no I/O).
// Inputs are UTF-8; names go through domain::name_tokens (ICU folding) first.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tradesphere::domain {

// Jaro-Winkler similarity in [0,1] (prefix scale 0.1, prefix up to 4), on bytes.
double jaro_winkler(std::string_view a, std::string_view b);
// Levenshtein distance on bytes.
std::size_t levenshtein(std::string_view a, std::string_view b);
// Damerau (optimal string alignment) distance: adjacent transpositions cost 1.
std::size_t osa_distance(std::string_view a, std::string_view b);
// osa_distance(a, b) <= max, computed only in the diagonal band |i - j| <= max and
// stopping as soon as a whole row exceeds max: the duplicate scan asks "one or two
// edits apart?" millions of times, and the answer never needs the full matrix.
bool osa_within(std::string_view a, std::string_view b, std::size_t max);
// pg_trgm-style trigram similarity: each word padded "  w ", |A∩B| / |A∪B|.
double trigram_similarity(std::string_view a, std::string_view b);

// The formal first name of a nickname ("bob" -> "robert", "liz" -> "elizabeth"),
// or the token itself. Lower-case ASCII tokens (as name_tokens returns).
std::string canonical_first_name(const std::string& token);
// Soundex code ("robert" -> "r163"), "" for a token without letters.
std::string soundex(std::string_view token);

// Email key for matching: normalized (trim, lower-case), local part without dots
// and without a "+tag" ("J.Smith+crm@x.com" -> "jsmith@x.com"); "" when not an email.
std::string email_match_key(std::string_view raw);
// Digits of a phone, without a leading "1"/"0" trunk digit when longer than 10,
// keeping the last 10 ("+1 (415) 555-0100" -> "4155550100"); "" for fewer than 7 digits.
std::string phone_match_key(std::string_view raw);

}  // namespace tradesphere::domain
