#include "domain/contact_extraction.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "domain/normalize.hpp"

namespace tradesphere::domain {
namespace {

bool is_email_char(unsigned char c) { return std::isalnum(c) || std::string_view("._%+-@'").find(static_cast<char>(c)) != std::string_view::npos; }
bool is_phone_char(unsigned char c) { return std::isdigit(c) || std::string_view("+()-. /").find(static_cast<char>(c)) != std::string_view::npos; }

void add_unique(std::vector<ExtractedValue>& out, std::string value, const ChatMessage& m) {
  for (const auto& v : out)
    if (v.value == value) return;
  out.push_back({std::move(value), m.id, m.session_id});
}

const std::set<std::string>& stopwords() {
  static const std::set<std::string> k = {
      "about", "after", "again", "also", "because", "been", "before", "being", "could", "does", "doing", "from",
      "have", "having", "hello", "here", "just", "like", "more", "need", "only", "other", "please", "should", "some",
      "than", "thank", "thanks", "that", "their", "them", "then", "there", "these", "they", "this", "those", "want",
      "were", "what", "when", "where", "which", "while", "will", "with", "would", "your", "yours", "into", "know",
      "much", "very", "name", "email", "phone", "number", "call"};
  return k;
}

}  // namespace

std::string region_for_calling_code(std::string_view cc) {
  static const std::map<std::string, std::string, std::less<>> k = {
      {"1", "US"},  {"7", "RU"},  {"20", "EG"}, {"27", "ZA"}, {"30", "GR"}, {"31", "NL"}, {"32", "BE"},
      {"33", "FR"}, {"34", "ES"}, {"36", "HU"}, {"39", "IT"}, {"40", "RO"}, {"41", "CH"}, {"43", "AT"},
      {"44", "GB"}, {"45", "DK"}, {"46", "SE"}, {"47", "NO"}, {"48", "PL"}, {"49", "DE"}, {"52", "MX"},
      {"54", "AR"}, {"55", "BR"}, {"61", "AU"}, {"64", "NZ"}, {"65", "SG"}, {"81", "JP"}, {"82", "KR"},
      {"86", "CN"}, {"90", "TR"}, {"91", "IN"}, {"351", "PT"}, {"353", "IE"}, {"358", "FI"}, {"380", "UA"},
      {"420", "CZ"}, {"971", "AE"}, {"972", "IL"}};
  auto it = k.find(cc);
  return it == k.end() ? "US" : it->second;
}

ContactInfo extract_contact_info(const std::vector<ChatMessage>& messages, std::string_view region) {
  ContactInfo out;
  for (const auto& m : messages) {
    const std::string& t = m.user_message;
    // emails: maximal runs of email characters around an '@'
    for (std::size_t at = t.find('@'); at != std::string::npos; at = t.find('@', at + 1)) {
      std::size_t b = at, e = at + 1;
      while (b > 0 && is_email_char(static_cast<unsigned char>(t[b - 1])) && t[b - 1] != '@') --b;
      while (e < t.size() && is_email_char(static_cast<unsigned char>(t[e])) && t[e] != '@') ++e;
      std::string cand = t.substr(b, e - b);
      while (!cand.empty() && (cand.back() == '.' || cand.back() == '-' || cand.back() == '\'')) cand.pop_back();
      if (auto n = normalize_email(cand)) add_unique(out.emails, *n, m);
    }
    // phones: runs of phone characters holding 7..15 digits
    for (std::size_t i = 0; i < t.size();) {
      if (!(std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '+' || t[i] == '(')) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < t.size() && is_phone_char(static_cast<unsigned char>(t[j]))) ++j;
      std::string cand = t.substr(i, j - i);
      auto digits = std::count_if(cand.begin(), cand.end(), [](char c) { return c >= '0' && c <= '9'; });
      bool in_word = i > 0 && (std::isalpha(static_cast<unsigned char>(t[i - 1])) || t[i - 1] == '@');
      if (digits >= 7 && digits <= 15 && !in_word)
        if (auto n = normalize_phone(trim(cand), region)) add_unique(out.phones, *n, m);
      i = j == i ? i + 1 : j;
    }
    // names after an introduction phrase: up to three capitalized words
    static const char* kIntro[] = {"my name is ", "my name's ", "name is ", "i'm ", "i am ", "this is ", "call me ",
                                   "it's "};
    std::string lt = domain::to_lower_ascii(t);
    for (const char* phrase : kIntro) {
      std::size_t pos = lt.find(phrase);
      if (pos == std::string::npos || (pos > 0 && std::isalpha(static_cast<unsigned char>(lt[pos - 1])))) continue;
      std::size_t k = pos + std::string_view(phrase).size();
      std::vector<std::string> words;
      while (words.size() < 3 && k < t.size()) {
        std::size_t e = k;
        while (e < t.size() && (std::isalpha(static_cast<unsigned char>(t[e])) || t[e] == '-' || t[e] == '\'' ||
                                static_cast<unsigned char>(t[e]) >= 0x80))
          ++e;
        if (e == k || !std::isupper(static_cast<unsigned char>(t[k]))) break;
        words.push_back(t.substr(k, e - k));
        k = e;
        if (k < t.size() && t[k] == ' ') ++k;
        else break;
      }
      // "I'm Looking ..." is not a name: accept only when the phrase starts an introduction
      if (words.empty()) continue;
      static const std::set<std::string> kNotNames = {"Looking", "Interested", "Trying", "Calling", "Here", "Not",
                                                      "Just", "Having", "Still", "The", "A", "An", "Good", "Fine"};
      if (kNotNames.count(words[0])) continue;
      std::string name;
      for (const auto& w : words) name += (name.empty() ? "" : " ") + w;
      add_unique(out.names, name, m);
      break;
    }
  }
  return out;
}

ConversationSummary summarize_conversations(std::vector<ChatMessage> messages) {
  std::sort(messages.begin(), messages.end(), [](const ChatMessage& a, const ChatMessage& b) {
    return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
  });
  ConversationSummary s;
  s.messages = messages.size();
  if (messages.empty()) {
    s.text = "No conversations.";
    return s;
  }
  std::set<std::string> sessions;
  std::map<std::string, std::size_t> freq;
  for (const auto& m : messages) {
    sessions.insert(m.session_id.empty() ? "row:" + std::to_string(m.id) : m.session_id);
    std::string word;
    auto flush = [&] {
      if (word.size() >= 4 && !stopwords().count(word)) ++freq[word];
      word.clear();
    };
    for (char ch : m.user_message) {
      if (std::isalpha(static_cast<unsigned char>(ch))) word += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      else flush();
    }
    flush();
  }
  s.sessions = sessions.size();
  s.first_at = messages.front().created_at;
  s.last_at = messages.back().created_at;
  std::vector<std::pair<std::string, std::size_t>> terms(freq.begin(), freq.end());
  std::stable_sort(terms.begin(), terms.end(), [](auto& a, auto& b) { return a.second > b.second; });
  for (std::size_t i = 0; i < terms.size() && i < 5; ++i) s.top_terms.push_back(terms[i].first);
  const auto& last_session = messages.back().session_id;
  for (const auto& m : messages)
    if (m.session_id == last_session && m.user_message.find('?') != std::string::npos) {
      bool answered = m.ai_response.find('?') == std::string::npos && m.ai_response.size() > 40;
      if (!answered) s.open_questions.push_back(trim(m.user_message));
    }
  s.last_user_message = messages.back().user_message;
  s.last_ai_response = messages.back().ai_response;
  std::string text = std::to_string(s.sessions) + (s.sessions == 1 ? " conversation" : " conversations") + ", " +
                     std::to_string(s.messages) + (s.messages == 1 ? " message" : " messages") + " from " +
                     *s.first_at + " to " + *s.last_at + ".";
  if (!s.top_terms.empty()) {
    text += " Frequent topics:";
    for (std::size_t i = 0; i < s.top_terms.size(); ++i) text += (i ? ", " : " ") + s.top_terms[i];
    text += ".";
  }
  if (!s.open_questions.empty()) text += " Open questions: " + std::to_string(s.open_questions.size()) + ".";
  text += " Last message: \"" + trim(*s.last_user_message).substr(0, 200) + "\"";
  s.text = text;
  return s;
}

nlohmann::json to_json(const ConversationSummary& s) {
  auto opt = [](const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  return {{"sessions", s.sessions},          {"messages", s.messages},
          {"first_at", opt(s.first_at)},     {"last_at", opt(s.last_at)},
          {"top_terms", s.top_terms},        {"open_questions", s.open_questions},
          {"last_exchange", {{"user", opt(s.last_user_message)}, {"ai", opt(s.last_ai_response)}}},
          {"text", s.text}};
}

double profile_completeness(const std::optional<std::string>& name, const std::optional<std::string>& email,
                            const std::optional<std::string>& phone, const std::optional<std::string>& address,
                            const std::optional<std::string>& notes, std::size_t tag_count) {
  int filled = 0;
  for (const auto* f : {&name, &email, &phone, &address, &notes})
    if (*f && !trim(**f).empty()) ++filled;
  if (tag_count > 0) ++filled;
  return filled / 6.0;
}

}  // namespace tradesphere::domain
