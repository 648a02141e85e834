#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace tradesphere::common {

std::optional<std::string> read_file(const std::filesystem::path& path);
// Writes atomically (temp file + rename) with the given permission bits.
void write_file(const std::filesystem::path& path, const std::string& content, std::filesystem::perms mode);
// Last `lines` lines of a text file, or "" when it cannot be read.
std::string tail_file(const std::filesystem::path& path, int lines);

}  // namespace tradesphere::common
