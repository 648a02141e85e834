#pragma once

#include <string_view>
#include <vector>

namespace tradesphere::http {

struct EmbeddedAsset {
  const char* path;  // relative to web/, e.g. "js/app.js"
  std::string_view content;
};

// Every web/ file (the operator console), sorted by path; generated at build time.
const std::vector<EmbeddedAsset>& embedded_console_assets();

}  // namespace tradesphere::http
