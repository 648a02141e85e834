// The operator console's static files (web/, embedded at build time by
// cmake/embed_console_assets.cmake), served under /console/:
//   /console/        → index.html        /console/login → login.html
//   /console/<path>  → web/<path>
// Each answer carries a strong ETag (SHA-256 of the bytes), Cache-Control: no-cache
// (file names are not content-hashed, so the browser revalidates: 304 when unchanged)
// and the right Content-Type. The security headers every console response carries
// are added by console_security_headers().
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/api.hpp"

namespace tradesphere::http {

class ConsoleAssets {
 public:
  struct Asset {
    std::string_view content;
    std::string content_type;
    std::string etag;  // "\"<sha256 prefix>\""
  };

  ConsoleAssets();  // indexes embedded_console_assets()

  // The asset for a request path under /console/, nullptr when there is none.
  const Asset* find(const std::string& path) const;
  // 200 with the bytes, or 304 when `if_none_match` names the current ETag.
  // Throws NotFoundError for an unknown path.
  ApiResponse serve(const std::string& path, const std::string& if_none_match) const;

  std::size_t size() const { return assets_.size(); }

 private:
  std::map<std::string, Asset, std::less<>> assets_;  // by path relative to web/
};

// Content-Type for a file name by its extension (application/octet-stream otherwise).
std::string console_content_type(std::string_view file_name);

// Headers on every console response (assets, sign-in, errors):
// Content-Security-Policy, X-Content-Type-Options, Referrer-Policy, X-Frame-Options.
const std::vector<std::pair<std::string, std::string>>& console_security_headers();

}  // namespace tradesphere::http
