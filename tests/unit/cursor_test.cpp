#include "domain/cursor.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/errors.hpp"

namespace tradesphere::domain {
namespace {

constexpr const char* kId = "123e4567-e89b-12d3-a456-426614174000";

// Runs fn, which must throw ValidationError on the "cursor" field; returns the reason.
template <typename Fn>
std::string cursor_error(Fn&& fn) {
  try {
    fn();
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.fields().size(), 1u);
    EXPECT_EQ(e.fields().at(0).field, "cursor");
    return e.fields().at(0).reason;
  }
  ADD_FAILURE() << "expected ValidationError";
  return {};
}

TEST(Base64Url, EncodesRfc4648TestVectorsWithoutPadding) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  // The URL-safe alphabet: 0xfb 0xff -> "-_8" (standard base64 would be "+/8=").
  EXPECT_EQ(base64url_encode(std::string("\xfb\xff", 2)), "-_8");
}

TEST(Base64Url, DecodesWhatItEncodes) {
  std::mt19937 rng(7);
  for (int len = 0; len < 64; ++len) {
    std::string bytes;
    for (int i = 0; i < len; ++i) bytes.push_back(static_cast<char>(rng() & 0xFF));
    EXPECT_EQ(base64url_decode(base64url_encode(bytes)), bytes) << "length " << len;
  }
}

TEST(Base64Url, RejectsNonCanonicalInput) {
  EXPECT_EQ(base64url_decode("Zg=="), std::nullopt);  // padding
  EXPECT_EQ(base64url_decode("Zm9v+g"), std::nullopt);  // standard alphabet
  EXPECT_EQ(base64url_decode("Zm9 v"), std::nullopt);
  EXPECT_EQ(base64url_decode("Z"), std::nullopt);        // impossible length
  EXPECT_EQ(base64url_decode("Zh"), std::nullopt);       // non-zero trailing bits
  EXPECT_EQ(base64url_decode("Zg"), std::string("f"));
}

TEST(Cursor, RoundTripsForEverySortKey) {
  const Cursor cursors[] = {
      {SortKey::kName, false, "Jane \"JJ\" Doe / Ünïcode", false, kId},
      {SortKey::kName, true, "", true, kId},
      {SortKey::kName, false, "", false, kId},  // empty name is not NULL
      {SortKey::kCreatedAt, true, "2026-01-02 03:04:05.123456+00", false, kId},
      {SortKey::kLastContact, true, "2026-01-02T03:04:05Z", false, kId},
      {SortKey::kLastContact, false, "", true, kId},
      {SortKey::kConversationCount, true, "42", false, kId},
  };
  for (const Cursor& c : cursors) {
    const std::string token = encode_cursor(c);
    EXPECT_EQ(decode_cursor(token, c.sort, c.descending), c) << token;
  }
}

TEST(Cursor, TokenIsUrlSafe) {
  const std::string token = encode_cursor({SortKey::kName, false, "?? >>>~~~", false, kId});
  EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
}

TEST(Cursor, DecodeRejectsAnotherSortOrDirection) {
  const std::string token = encode_cursor({SortKey::kCreatedAt, true, "2026-01-02T03:04:05Z", false, kId});
  EXPECT_NE(cursor_error([&] { decode_cursor(token, SortKey::kCreatedAt, false); }).find("another sort"),
            std::string::npos);
  EXPECT_NE(cursor_error([&] { decode_cursor(token, SortKey::kLastContact, true); }).find("another sort"),
            std::string::npos);
}

TEST(Cursor, DecodeRejectsGarbage) {
  for (const std::string& bad : std::vector<std::string>{"", "!!!", "Zm9vYmFy", "e30", std::string(5000, 'A')}) {
    cursor_error([&] { decode_cursor(bad, SortKey::kName, false); });
  }
}

std::string token_of(const nlohmann::json& doc) { return base64url_encode(doc.dump()); }

TEST(Cursor, DecodeRejectsTamperedDocuments) {
  const nlohmann::json good = {{"v", 1}, {"s", "name"}, {"d", false}, {"k", "Jane"}, {"i", kId}};
  EXPECT_NO_THROW(decode_cursor(token_of(good), SortKey::kName, false));

  auto with = [&](const char* key, const nlohmann::json& value) {
    nlohmann::json doc = good;
    doc[key] = value;
    return token_of(doc);
  };
  cursor_error([&] { decode_cursor(with("i", "not-a-uuid"), SortKey::kName, false); });
  cursor_error([&] { decode_cursor(with("i", 5), SortKey::kName, false); });
  cursor_error([&] { decode_cursor(with("v", 2), SortKey::kName, false); });
  cursor_error([&] { decode_cursor(with("s", "email"), SortKey::kName, false); });
  cursor_error([&] { decode_cursor(with("d", "false"), SortKey::kName, false); });
  cursor_error([&] { decode_cursor(with("k", 5), SortKey::kName, false); });
  cursor_error([&] { decode_cursor(with("extra", 1), SortKey::kName, false); });
  nlohmann::json missing = good;
  missing.erase("k");
  cursor_error([&] { decode_cursor(token_of(missing), SortKey::kName, false); });
}

TEST(Cursor, DecodeRejectsValuesThatDoNotFitTheSortKey) {
  auto doc = [](const char* sort, const nlohmann::json& value) {
    return token_of({{"v", 1}, {"s", sort}, {"d", true}, {"k", value}, {"i", kId}});
  };
  cursor_error([&] { decode_cursor(doc("created_at", "yesterday"), SortKey::kCreatedAt, true); });
  cursor_error([&] { decode_cursor(doc("created_at", nullptr), SortKey::kCreatedAt, true); });
  cursor_error([&] { decode_cursor(doc("last_contact", "'; drop table x"), SortKey::kLastContact, true); });
  cursor_error([&] { decode_cursor(doc("conversation_count", "-1"), SortKey::kConversationCount, true); });
  cursor_error([&] { decode_cursor(doc("conversation_count", "1e3"), SortKey::kConversationCount, true); });
  cursor_error([&] { decode_cursor(doc("conversation_count", nullptr), SortKey::kConversationCount, true); });
  EXPECT_NO_THROW(decode_cursor(doc("last_contact", nullptr), SortKey::kLastContact, true));
}

TEST(Cursor, EncodeRejectsInconsistentCursors) {
  cursor_error([] { encode_cursor({SortKey::kName, false, "x", false, "nope"}); });
  cursor_error([] { encode_cursor({SortKey::kCreatedAt, true, "", true, kId}); });
  cursor_error([] { encode_cursor({SortKey::kConversationCount, true, "many", false, kId}); });
  cursor_error([] { encode_cursor({SortKey::kName, true, "x", true, kId}); });  // null with a value
}

TEST(PageToken, RoundTripsTheKeysValues) {
  const auto token = encode_page_token({{"at", "2026-12-06T16:54:57.651908Z"}, {"i", "abc"}});
  const auto values = decode_page_token(token, {"at", "i"});
  ASSERT_TRUE(values.has_value());
  EXPECT_EQ(*values, (std::vector<std::string>{"2026-12-06T16:54:57.651908Z", "abc"}));
  EXPECT_EQ(base64url_decode(token), R"({"at":"2026-12-06T16:54:57.651908Z","i":"abc","v":1})");
}

TEST(PageToken, RejectsAnythingElse) {
  const auto token = encode_page_token({{"a", "2026-12-06 16:54:57+00"}, {"k", "s1"}});
  EXPECT_TRUE(decode_page_token(token, {"a", "k"}).has_value());
  EXPECT_FALSE(decode_page_token(token, {"at", "k"}).has_value()) << "other keys";
  EXPECT_FALSE(decode_page_token(token, {"a", "k", "i"}).has_value()) << "fewer keys";
  EXPECT_FALSE(decode_page_token(encode_page_token({{"a", "yesterday"}, {"k", "s1"}}), {"a", "k"}).has_value())
      << "first value not a timestamp";
  EXPECT_FALSE(decode_page_token(base64url_encode(R"({"v":"1","a":"2026-12-06","k":"s"})"), {"a", "k"}).has_value());
  EXPECT_FALSE(decode_page_token(base64url_encode(R"({"v":2,"a":"2026-12-06 16:54:57+00","k":"s"})"), {"a", "k"})
                   .has_value());
  EXPECT_FALSE(decode_page_token(base64url_encode(R"({"v":1,"a":"2026-12-06 16:54:57+00","k":3})"), {"a", "k"})
                   .has_value());
  EXPECT_FALSE(decode_page_token("", {"a", "k"}).has_value());
  EXPECT_FALSE(decode_page_token("bad!", {"a", "k"}).has_value());
  EXPECT_FALSE(decode_page_token(base64url_encode("[1]"), {"a", "k"}).has_value());
}

}  // namespace
}  // namespace tradesphere::domain
