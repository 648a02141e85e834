#pragma once

#include <string_view>
#include <vector>

namespace tradesphere::db {

struct EmbeddedFile {
  const char* name;          // e.g. "0001_legacy_baseline.up.sql"
  std::string_view content;
};

// Every migrations/*.sql file, sorted by name; generated at build time.
const std::vector<EmbeddedFile>& embedded_migration_files();

}  // namespace tradesphere::db
