#include "common/files.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace tradesphere::common {

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::filesystem::path& path, const std::string& content, std::filesystem::perms mode) {
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
    std::filesystem::permissions(tmp, mode);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, path);
}

std::string tail_file(const std::filesystem::path& path, int lines) {
  auto content = read_file(path);
  if (!content) return "";
  std::vector<std::string> all;
  std::stringstream ss(*content);
  std::string line;
  while (std::getline(ss, line)) all.push_back(line);
  std::string out;
  std::size_t start = all.size() > static_cast<std::size_t>(lines) ? all.size() - lines : 0;
  for (std::size_t i = start; i < all.size(); ++i) out += all[i] + "\n";
  return out;
}

}  // namespace tradesphere::common
