// Reading a whole file (or standard input) into memory, bounded: every file the
// operator reads goes through here (kubeconfig and the certificate, key and token
// files it names, the in-cluster service-account files, `-f` inputs), so a path
// naming /dev/zero, a FIFO that never ends or a huge file costs at most `limit` bytes.
//
// Contract: returns the whole content, or throws FileReadError whose message names
// `what`, the path and, when the limit is hit, the limit:
//   "kubeconfig /x certificate-authority /dev/zero is larger than 4194304 bytes (4 MiB); refusing to read it"
//   "cannot read token file /var/run/token: No such file or directory"
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cpo::util {

inline constexpr std::size_t kMaxFileBytes = std::size_t{4} << 20;  // 4 MiB

class FileReadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `what` says what the file is for ("kubeconfig", "token file"); it starts the message.
std::string read_file(const std::filesystem::path& path, std::string_view what,
                      std::size_t limit = kMaxFileBytes);

// Standard input (file descriptor 0) to its end, within the same bound.
std::string read_stdin(std::string_view what, std::size_t limit = kMaxFileBytes);

}  // namespace cpo::util
