// A customer's conversations and chat rows as the services return them (pages of
// CustomerSyncService, LegacyCustomerService's rows): plain values, filled by
// db::ChatRepository, rendered by the HTTP layer. No database type here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tradesphere::domain {

inline constexpr int kMaxMessagesLimit = 200;  // messages of one conversation per page

struct PageRequest {
  int limit = 50;                     // 1..1000
  std::optional<std::string> cursor;  // next_cursor of the previous page
};

struct ChatRow {
  std::int64_t id = 0;
  std::optional<std::string> session_id;
  std::optional<std::string> tech_id;
  std::optional<std::string> customer_name;
  std::optional<std::string> customer_email;
  std::optional<std::string> customer_phone;
  std::optional<std::string> user_message;
  std::optional<std::string> ai_response;
  std::string created_at;
  std::optional<std::string> customer_id;

  bool operator==(const ChatRow&) const = default;
};

struct ChatRowPage {
  std::vector<ChatRow> items;
  std::optional<std::string> next_cursor;
};

// One conversation (a session; a row without session is its own conversation).
struct Conversation {
  std::string session_key;                // session id, or "row:<id>"
  std::optional<std::string> session_id;  // NULL for a row without session
  std::string first_message_at;
  std::string last_message_at;
  std::int64_t message_count = 0;
  std::optional<std::string> last_user_message;
  std::optional<std::string> last_ai_response;

  bool operator==(const Conversation&) const = default;
};

struct ConversationPage {
  std::vector<Conversation> items;  // most recent conversation first
  std::optional<std::string> next_cursor;
};

struct StoredChat {
  std::int64_t chat_row_id = 0;
  std::optional<std::string> customer_id;  // NULL: stored orphaned (no contact data, paused or failed)
};

struct LinkResult {
  std::int64_t moved_rows = 0;
  std::vector<std::string> previous_customer_ids;  // customers the rows were linked to before
};

struct RelinkResult {
  std::int64_t examined = 0;  // orphaned rows looked at
  std::int64_t linked = 0;    // of those, now linked to a customer
};

}  // namespace tradesphere::domain
