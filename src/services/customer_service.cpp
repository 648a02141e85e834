// The facade's own definitions call its deprecated methods' siblings; silence the
// deprecation warnings for this translation unit only (callers still get them).
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include "services/customer_service.hpp"

#include <algorithm>
#include <sstream>

#include "common/json_log.hpp"
#include "common/metrics.hpp"
#include "db/database.hpp"
#include "domain/errors.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::services {
namespace {

constexpr const char* kMethods[] = {"get_customer_list", "get_customer_details", "search_customers"};
constexpr auto kLogEvery = std::chrono::minutes(1);

bool known_method(const std::string& m) {
  return std::find(std::begin(kMethods), std::end(kMethods), m) != std::end(kMethods);
}

std::string show(const std::optional<std::string>& s) { return s ? "\"" + *s + "\"" : "null"; }

// Field-by-field difference of two profiles (id, stage and tags ignored: legacy has none).
std::string diff_one(const CustomerProfile& a, const CustomerProfile& b) {
  std::ostringstream out;
  auto field = [&](const char* name, const std::string& x, const std::string& y) {
    if (x != y) out << name << ": " << x << " vs " << y << "; ";
  };
  field("name", show(a.name), show(b.name));
  field("email", show(a.email), show(b.email));
  field("phone", show(a.phone), show(b.phone));
  field("conversation_count", std::to_string(a.conversation_count), std::to_string(b.conversation_count));
  field("message_count", std::to_string(a.message_count), std::to_string(b.message_count));
  field("first_contact_at", show(a.first_contact_at), show(b.first_contact_at));
  field("last_contact_at", show(a.last_contact_at), show(b.last_contact_at));
  field("last_message", show(a.last_message), show(b.last_message));
  return out.str();
}

std::vector<CustomerProfile> sorted(std::vector<CustomerProfile> v) {
  std::sort(v.begin(), v.end(), [](const CustomerProfile& a, const CustomerProfile& b) {
    return std::tie(a.email, a.name, a.phone) < std::tie(b.email, b.name, b.phone);
  });
  return v;
}

}  // namespace

const char* to_string(ImplMode mode) noexcept {
  switch (mode) {
    case ImplMode::kNew:
      return "new";
    case ImplMode::kLegacy:
      return "legacy";
    case ImplMode::kCompare:
      return "compare";
  }
  return "new";
}

ImplMode parse_impl_mode(std::string_view text) {
  if (text == "new") return ImplMode::kNew;
  if (text == "legacy") return ImplMode::kLegacy;
  if (text == "compare") return ImplMode::kCompare;
  throw domain::ValidationError("mode", "must be one of new, legacy, compare");
}

ImplMode FacadeConfig::mode_for(const std::string& method) const {
  auto it = per_method.find(method);
  return it == per_method.end() ? default_mode : it->second;
}

FacadeConfig FacadeConfig::parse(std::string_view spec) {
  FacadeConfig config;
  std::vector<domain::FieldError> errors;
  std::size_t start = 0;
  while (start <= spec.size()) {
    std::size_t end = spec.find(',', start);
    if (end == std::string_view::npos) end = spec.size();
    std::string item = domain::trim(spec.substr(start, end - start));
    start = end + 1;
    if (item.empty()) {
      if (end == spec.size()) break;
      continue;
    }
    auto eq = item.find('=');
    if (eq == std::string::npos) {
      errors.push_back({"facade_modes", "expected method=mode, got \"" + item + "\""});
      continue;
    }
    std::string method = domain::trim(item.substr(0, eq));
    std::string mode = domain::trim(item.substr(eq + 1));
    ImplMode parsed;
    try {
      parsed = parse_impl_mode(mode);
    } catch (const domain::ValidationError&) {
      errors.push_back({"facade_modes/" + method, "mode must be one of new, legacy, compare"});
      continue;
    }
    if (method == "*") {
      config.default_mode = parsed;
    } else if (known_method(method)) {
      config.per_method[method] = parsed;
    } else {
      errors.push_back({"facade_modes/" + method, "unknown facade method"});
    }
  }
  if (!errors.empty()) throw domain::ValidationError(std::move(errors));
  return config;
}

std::string describe_difference(const std::vector<CustomerProfile>& expected,
                                const std::vector<CustomerProfile>& actual) {
  if (expected.size() != actual.size()) {
    return "count " + std::to_string(expected.size()) + " vs " + std::to_string(actual.size());
  }
  auto a = sorted(expected);
  auto b = sorted(actual);
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto d = diff_one(a[i], b[i]);
    if (!d.empty()) return "customer " + show(a[i].email.has_value() ? a[i].email : a[i].name) + ": " + d;
  }
  return "";
}

CustomerService::CustomerService(db::Database& db, FacadeConfig config)
    : db_(db), customers_(db), legacy_(db), config_(std::move(config)) {}

void CustomerService::set_config(FacadeConfig config) {
  std::lock_guard lock(mutex_);
  config_ = std::move(config);
}

FacadeConfig CustomerService::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

ImplMode CustomerService::mode_for(const std::string& method) const {
  std::lock_guard lock(mutex_);
  return config_.mode_for(method);
}

domain::RequestContext CustomerService::context_for(const std::string& tech_id, const std::string& correlation_id) {
  domain::RequestContext lookup;  // no tenant yet
  lookup.user_id = tech_id;
  lookup.role = domain::Role::kAdmin;
  lookup.correlation_id = correlation_id;
  auto user = db_.transact(
      lookup, "find_app_user", [&](db::Tx& tx) { return companies_.find_app_user(tx, tech_id); },
      db::TxMode::kReadOnly);
  if (!user) throw domain::NotFoundError("user " + tech_id + " not found");
  return domain::RequestContext{user->company_id, tech_id, user->role, correlation_id};
}

void CustomerService::note_deprecated_call(const char* method) {
  static auto& calls = common::metrics().counter_family("tradesphere_deprecated_calls_total",
                                                        "Calls of deprecated CustomerService facade methods");
  calls.with({{"method", method}}).inc();
  const auto now = std::chrono::steady_clock::now();
  bool log_now = false;
  {
    std::lock_guard lock(mutex_);
    auto it = last_logged_.find(method);
    if (it == last_logged_.end() || now - it->second >= kLogEvery) {
      last_logged_[method] = now;
      log_now = true;
    }
  }
  if (log_now) {
    common::log(spdlog::level::warn, "facade.deprecated_call",
                {{"method", method}, {"hint", "call the repository/services directly; see docs/architecture.md"}});
  }
}

void CustomerService::record_comparison(const char* method, const std::string& difference) {
  static auto& compared = common::metrics().counter_family(
      "tradesphere_facade_compare_total", "Facade calls run in compare mode, by method and outcome");
  compared.with({{"method", method}, {"outcome", difference.empty() ? "match" : "mismatch"}}).inc();
  if (!difference.empty()) {
    common::log(spdlog::level::warn, "facade.compare_mismatch", {{"method", method}, {"difference", difference}});
  }
}

CustomerProfile CustomerService::to_profile(const domain::CustomerWithMetrics& c) {
  CustomerProfile p;
  p.id = c.customer.id;
  p.name = c.customer.name;
  p.email = c.customer.email;
  p.phone = c.customer.phone;
  p.conversation_count = c.metrics.conversation_count;
  p.message_count = c.metrics.message_count;
  p.first_contact_at = c.metrics.first_contact_at;
  p.last_contact_at = c.metrics.last_contact_at;
  p.last_message = c.metrics.last_message_preview;
  p.lifecycle_stage = domain::to_string(c.customer.stage);
  p.tags = c.customer.tags;
  return p;
}

std::vector<CustomerProfile> CustomerService::get_customer_list(const std::string& tech_id,
                                                                const CustomerSearchFilters& filters) {
  note_deprecated_call("get_customer_list");
  const ImplMode mode = mode_for("get_customer_list");
  if (mode == ImplMode::kLegacy) return legacy_.get_customer_list(tech_id, filters);

  auto ctx = context_for(tech_id);
  domain::CustomerFilters f;
  if (filters.sort_by == "name") {
    f.sort = domain::SortKey::kName;
  } else if (filters.sort_by == "conversation_count") {
    f.sort = domain::SortKey::kConversationCount;
  } else if (filters.sort_by == "last_contact") {
    f.sort = domain::SortKey::kLastContact;
  } else {
    throw domain::ValidationError("sort_by", "must be one of last_contact, name, conversation_count");
  }
  f.descending = filters.descending;
  f.limit = filters.limit;
  if (filters.search) {
    auto q = domain::trim(*filters.search);
    if (!q.empty()) f.query = q;
  }
  std::vector<CustomerProfile> result;
  for (auto& c : customers_.get_customers(ctx, f).items) result.push_back(to_profile(c));
  if (mode == ImplMode::kCompare) {
    record_comparison("get_customer_list", describe_difference(legacy_.get_customer_list(tech_id, filters), result));
  }
  return result;
}

std::optional<CustomerProfile> CustomerService::get_customer_details(const std::string& tech_id,
                                                                     const std::string& key) {
  note_deprecated_call("get_customer_details");
  const ImplMode mode = mode_for("get_customer_details");
  if (mode == ImplMode::kLegacy) return legacy_.get_customer_details(tech_id, key);

  auto ctx = context_for(tech_id);
  std::optional<CustomerProfile> result;
  const std::string k = domain::trim(key);
  const bool by_name = !domain::is_uuid(k) && k.find('@') == std::string::npos;
  if (by_name && k.size() > domain::kMaxQueryLength) throw domain::ValidationError("q", "must be at most 200 characters");
  if (!k.empty()) {
    result = db_.transact(
        ctx, "get_customer_details",
        [&](db::Tx& tx) -> std::optional<CustomerProfile> {
          if (domain::is_uuid(k)) {
            if (auto c = records_.find_customer_with_metrics(tx, ctx.company_id, k, false)) return to_profile(*c);
            return std::nullopt;
          }
          if (!by_name) {
            auto c = records_.find_by_email(tx, ctx.company_id, k);
            if (!c) return std::nullopt;
            if (auto cm = records_.find_customer_with_metrics(tx, ctx.company_id, c->id, false)) return to_profile(*cm);
            return std::nullopt;
          }
          for (auto& hit : records_.search_customers(tx, ctx.company_id, k, domain::kMaxSearchLimit)) {
            if (hit.customer.customer.name == k) return to_profile(hit.customer);
          }
          return std::nullopt;
        },
        db::TxMode::kReadOnly);
  }
  if (mode == ImplMode::kCompare && !domain::is_uuid(k)) {
    auto old = legacy_.get_customer_details(tech_id, key);
    std::vector<CustomerProfile> a, b;
    if (old) a.push_back(*old);
    if (result) b.push_back(*result);
    record_comparison("get_customer_details", describe_difference(a, b));
  }
  return result;
}

std::vector<CustomerProfile> CustomerService::search_customers(const std::string& tech_id, const std::string& query) {
  note_deprecated_call("search_customers");
  const ImplMode mode = mode_for("search_customers");
  if (mode == ImplMode::kLegacy) return legacy_.search_customers(tech_id, query);

  auto ctx = context_for(tech_id);
  std::vector<CustomerProfile> result;
  for (auto& hit : customers_.search_customers(ctx, query, domain::kMaxSearchLimit)) result.push_back(to_profile(hit.customer));
  if (mode == ImplMode::kCompare) {
    record_comparison("search_customers", describe_difference(legacy_.search_customers(tech_id, query), result));
  }
  return result;
}

domain::Customer CustomerService::create_customer(const std::string& tech_id, const domain::NewCustomer& customer) {
  note_deprecated_call("create_customer");
  return customers_.create_customer(context_for(tech_id), customer);
}

domain::Customer CustomerService::update_customer(const std::string& tech_id, const std::string& customer_id,
                                                  const domain::CustomerPatch& patch) {
  note_deprecated_call("update_customer");
  return customers_.update_customer(context_for(tech_id), customer_id, patch, std::nullopt);
}

void CustomerService::delete_customer(const std::string& tech_id, const std::string& customer_id) {
  note_deprecated_call("delete_customer");
  (void)customers_.soft_delete_customer(context_for(tech_id), customer_id);
}

}  // namespace tradesphere::services
