#include "util/file_read.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace cpo::util {
namespace {

std::string describe_limit(std::size_t limit) {
  std::string text = std::to_string(limit) + " bytes";
  if (limit >= (1u << 20) && limit % (1u << 20) == 0) text += " (" + std::to_string(limit >> 20) + " MiB)";
  return text;
}

std::string label(std::string_view what, std::string_view name) {
  std::string out(what);
  if (!out.empty()) out += ' ';
  return out + std::string(name);
}

// Reads `fd` to its end; one byte beyond `limit` is enough to know it is too large.
std::string read_all(int fd, const std::string& name, std::size_t limit) {
  std::string out;
  char buffer[64 * 1024];
  while (true) {
    const std::size_t room = limit + 1 - out.size();
    const ssize_t n = ::read(fd, buffer, room < sizeof buffer ? room : sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw FileReadError("cannot read " + name + ": " + std::strerror(errno));
    }
    if (n == 0) return out;
    out.append(buffer, static_cast<std::size_t>(n));
    if (out.size() > limit) {
      throw FileReadError(name + " is larger than " + describe_limit(limit) + "; refusing to read it");
    }
  }
}

}  // namespace

std::string read_file(const std::filesystem::path& path, std::string_view what, std::size_t limit) {
  const std::string name = label(what, path.string());
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw FileReadError("cannot read " + name + ": " + std::strerror(errno));
  try {
    std::string content = read_all(fd, name, limit);
    ::close(fd);
    return content;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

std::string read_stdin(std::string_view what, std::size_t limit) {
  return read_all(STDIN_FILENO, label(what, "standard input"), limit);
}

}  // namespace cpo::util
