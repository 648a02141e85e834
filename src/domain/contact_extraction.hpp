// Contact details and summaries from chat text (pure, deterministic; issue 6).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tradesphere::domain {

struct ChatMessage {
  std::int64_t id = 0;  // "VC Usage".id
  std::string session_id;
  std::string user_message;  // what the customer wrote
  std::string ai_response;
  std::string created_at;    // ISO-8601 text
};

struct ExtractedValue {
  std::string value;  // normalized: email lower-cased, phone E.164, name as written
  std::int64_t message_id = 0;
  std::string session_id;
};

struct ContactInfo {
  std::vector<ExtractedValue> emails;  // distinct values, in message order (first mention)
  std::vector<ExtractedValue> phones;
  std::vector<ExtractedValue> names;   // self-introductions: "my name is …", "I'm …", "this is …", "call me …"
};

// Scans the customers' own words (user_message) only. Phones are parsed with
// libphonenumber (domain::normalize_phone) in default_region; only valid numbers count.
ContactInfo extract_contact_info(const std::vector<ChatMessage>& messages, std::string_view default_region = "US");

// ISO region for a country calling code ("1" -> "US", "44" -> "GB"); "US" when unknown.
std::string region_for_calling_code(std::string_view calling_code);

struct ConversationSummary {
  std::size_t sessions = 0;
  std::size_t messages = 0;
  std::optional<std::string> first_at, last_at;
  std::vector<std::string> top_terms;       // most frequent content words (>= 4 letters), at most 5
  std::vector<std::string> open_questions;  // customer questions of the last session after the last answer that resolved nothing
  std::optional<std::string> last_user_message, last_ai_response;
  std::string text;                         // the summary as one paragraph
};

// Deterministic extractive summary; messages in any order (sorted by created_at, id).
ConversationSummary summarize_conversations(std::vector<ChatMessage> messages);
nlohmann::json to_json(const ConversationSummary& summary);

// Share of filled profile fields (name, email, phone, address, notes, tags) in [0,1].
double profile_completeness(const std::optional<std::string>& name, const std::optional<std::string>& email,
                            const std::optional<std::string>& phone, const std::optional<std::string>& address,
                            const std::optional<std::string>& notes, std::size_t tag_count);

}  // namespace tradesphere::domain
