#include "support/json_schema.hpp"

#include <algorithm>
#include <regex>
#include <set>
#include <utility>

namespace tradesphere::testing {
namespace {

using json = nlohmann::json;

const std::set<std::string>& annotations() {
  static const std::set<std::string> k = {"description", "default", "examples", "example", "title",
                                          "readOnly",    "writeOnly", "deprecated", "$comment"};
  return k;
}

const std::set<std::string>& supported() {
  static const std::set<std::string> k = {"$ref",     "type",      "enum",      "const",     "properties",
                                          "required", "additionalProperties",   "items",     "minItems",
                                          "maxItems", "minLength", "maxLength", "minimum",   "maximum",
                                          "allOf",    "anyOf",     "oneOf",     "format"};
  return k;
}

std::string type_of(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    case json::value_t::string: return "string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    case json::value_t::number_float: return "number";
    default: return "unknown";
  }
}

bool has_type(const json& v, const std::string& type) {
  const std::string actual = type_of(v);
  if (type == actual) return true;
  if (type == "number") return actual == "integer";
  if (type == "integer" && actual == "number") {
    const double d = v.get<double>();
    return d == static_cast<double>(static_cast<long long>(d));
  }
  return false;
}

std::string escape_pointer(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::size_t utf8_length(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

bool is_rfc3339_date_time(const std::string& text) {
  static const std::regex kRe(
      R"(^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$)");
  std::smatch m;
  if (!std::regex_match(text, m, kRe)) return false;
  const int y = std::stoi(m[1]), mo = std::stoi(m[2]), d = std::stoi(m[3]);
  const int h = std::stoi(m[4]), mi = std::stoi(m[5]), s = std::stoi(m[6]);
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1) return false;
  if (d > kDays[mo - 1] + ((mo == 2 && is_leap(y)) ? 1 : 0)) return false;
  if (h > 23 || mi > 59 || s > 60) return false;
  if (m[9].matched && (std::stoi(m[9]) > 23 || std::stoi(m[10]) > 59)) return false;
  return true;
}

std::vector<std::string> unsupported_keywords(const json& schema, const std::string& at) {
  std::vector<std::string> out;
  if (!schema.is_object()) return out;
  auto add = [&](const std::vector<std::string>& more) { out.insert(out.end(), more.begin(), more.end()); };
  for (const auto& [key, value] : schema.items()) {
    if (!supported().count(key) && !annotations().count(key)) out.push_back(at + ": " + key);
    if (key == "properties" && value.is_object()) {
      for (const auto& [name, sub] : value.items()) add(unsupported_keywords(sub, at + "/properties/" + name));
    } else if (key == "items" || key == "additionalProperties") {
      add(unsupported_keywords(value, at + "/" + key));
    } else if ((key == "allOf" || key == "anyOf" || key == "oneOf") && value.is_array()) {
      for (std::size_t i = 0; i < value.size(); ++i) add(unsupported_keywords(value[i], at + "/" + key + "/" + std::to_string(i)));
    }
  }
  return out;
}

SchemaValidator::SchemaValidator(json root) : root_(std::move(root)) {}

const json& SchemaValidator::deref(const std::string& ref) const {
  static const json kMissing;
  if (ref.rfind("#/", 0) != 0) return kMissing;
  const json::json_pointer ptr(ref.substr(1));
  return root_.contains(ptr) ? root_.at(ptr) : kMissing;
}

std::vector<std::string> SchemaValidator::validate(const json& instance, const json& schema) const {
  std::vector<std::string> errors;
  check(instance, schema, "", errors, 0);
  return errors;
}

void SchemaValidator::check(const json& v, const json& schema, const std::string& at, std::vector<std::string>& errors,
                            int depth) const {
  const std::string where = at.empty() ? "/" : at;
  auto fail = [&](const std::string& why) { errors.push_back(where + ": " + why); };
  if (depth > 64) return fail("schema nesting too deep (a $ref cycle?)");
  if (schema.is_boolean()) {
    if (!schema.get<bool>()) fail("no value is allowed here");
    return;
  }
  if (!schema.is_object()) return fail("the schema is not an object");

  for (const auto& [key, value] : schema.items()) {
    if (!supported().count(key) && !annotations().count(key)) fail("unsupported schema keyword \"" + key + "\"");
  }

  if (auto it = schema.find("$ref"); it != schema.end()) {
    const json& target = deref(it->get<std::string>());
    if (target.is_null()) return fail("unresolved $ref " + it->get<std::string>());
    check(v, target, at, errors, depth + 1);
  }
  if (auto it = schema.find("type"); it != schema.end()) {
    bool ok = false;
    std::string names;
    if (it->is_string()) {
      ok = has_type(v, *it);
      names = *it;
    } else {
      for (const auto& t : *it) {
        ok |= has_type(v, t);
        names += (names.empty() ? "" : "|") + t.get<std::string>();
      }
    }
    if (!ok) return fail("is " + type_of(v) + ", expected " + names);
  }
  if (auto it = schema.find("enum"); it != schema.end()) {
    if (std::find(it->begin(), it->end(), v) == it->end()) fail(v.dump() + " is not one of " + it->dump());
  }
  if (auto it = schema.find("const"); it != schema.end() && *it != v) fail(v.dump() + " is not " + it->dump());

  if (v.is_object()) {
    if (auto it = schema.find("required"); it != schema.end()) {
      for (const auto& name : *it) {
        if (!v.contains(name.get<std::string>())) fail("required property \"" + name.get<std::string>() + "\" is missing");
      }
    }
    const json empty = json::object();
    const json& props = schema.contains("properties") ? schema["properties"] : empty;
    for (const auto& [key, value] : v.items()) {
      const std::string child = at + "/" + escape_pointer(key);
      if (props.contains(key)) {
        check(value, props[key], child, errors, depth + 1);
      } else if (auto ap = schema.find("additionalProperties"); ap != schema.end()) {
        if (ap->is_boolean() && !ap->get<bool>()) {
          fail("property \"" + key + "\" is not allowed");
        } else if (ap->is_object()) {
          check(value, *ap, child, errors, depth + 1);
        }
      }
    }
  }
  if (v.is_array()) {
    if (auto it = schema.find("minItems"); it != schema.end() && v.size() < it->get<std::size_t>()) {
      fail("has " + std::to_string(v.size()) + " items, fewer than " + it->dump());
    }
    if (auto it = schema.find("maxItems"); it != schema.end() && v.size() > it->get<std::size_t>()) {
      fail("has " + std::to_string(v.size()) + " items, more than " + it->dump());
    }
    if (auto it = schema.find("items"); it != schema.end()) {
      for (std::size_t i = 0; i < v.size(); ++i) check(v[i], *it, at + "/" + std::to_string(i), errors, depth + 1);
    }
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (auto it = schema.find("minLength"); it != schema.end() && utf8_length(s) < it->get<std::size_t>()) {
      fail("is shorter than " + it->dump() + " characters");
    }
    if (auto it = schema.find("maxLength"); it != schema.end() && utf8_length(s) > it->get<std::size_t>()) {
      fail("is longer than " + it->dump() + " characters");
    }
    if (auto it = schema.find("format"); it != schema.end()) {
      static const std::regex kUuid("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
      if (*it == "date-time" && !is_rfc3339_date_time(s)) fail("\"" + s + "\" is not an RFC 3339 date-time");
      if (*it == "uuid" && !std::regex_match(s, kUuid)) fail("\"" + s + "\" is not a uuid");
    }
  }
  if (v.is_number()) {
    const double d = v.get<double>();
    if (auto it = schema.find("minimum"); it != schema.end() && d < it->get<double>()) fail("is below " + it->dump());
    if (auto it = schema.find("maximum"); it != schema.end() && d > it->get<double>()) fail("is above " + it->dump());
  }

  if (auto it = schema.find("allOf"); it != schema.end()) {
    for (const auto& sub : *it) check(v, sub, at, errors, depth + 1);
  }
  if (auto it = schema.find("anyOf"); it != schema.end()) {
    bool any = false;
    for (const auto& sub : *it) {
      std::vector<std::string> sub_errors;
      check(v, sub, at, sub_errors, depth + 1);
      any |= sub_errors.empty();
    }
    if (!any) fail("matches none of anyOf");
  }
  if (auto it = schema.find("oneOf"); it != schema.end()) {
    int matches = 0;
    for (const auto& sub : *it) {
      std::vector<std::string> sub_errors;
      check(v, sub, at, sub_errors, depth + 1);
      matches += sub_errors.empty() ? 1 : 0;
    }
    if (matches != 1) fail("matches " + std::to_string(matches) + " schemas of oneOf, expected exactly 1");
  }
}

std::optional<json> response_schema(const json& doc, const std::string& method, const std::string& path_template,
                                    int status, const std::string& content_type, std::string& why) {
  std::string m = method;
  std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto& paths = doc.at("paths");
  if (!paths.contains(path_template) || !paths[path_template].contains(m)) {
    why = method + " " + path_template + " is not documented";
    return std::nullopt;
  }
  const json& responses = paths[path_template][m].at("responses");
  const std::string code = std::to_string(status);
  const std::string range = code.substr(0, 1) + "XX";
  const json* response = nullptr;
  for (const std::string& key : {code, range, std::string("default")}) {
    if (responses.contains(key)) {
      response = &responses[key];
      break;
    }
  }
  if (!response) {
    why = method + " " + path_template + " does not document status " + code;
    return std::nullopt;
  }
  if (response->contains("$ref")) {
    const json::json_pointer ptr((*response)["$ref"].get<std::string>().substr(1));
    response = &doc.at(ptr);
  }
  const std::string media = content_type.substr(0, content_type.find(';'));
  if (!response->contains("content") || !(*response)["content"].contains(media)) {
    why = method + " " + path_template + " " + code + " does not document content type \"" + media + "\"";
    return std::nullopt;
  }
  const json& entry = (*response)["content"][media];
  return entry.contains("schema") ? entry["schema"] : json::object();
}

}  // namespace tradesphere::testing
