// The operator's subcommands. Each returns the process exit status: 0 success,
// 1 failure (or, for validate, an invalid config), 2 a usage mistake.
#pragma once

#include <string>
#include <vector>

namespace cpo::cli {

int run_command(const std::vector<std::string>& args);
int render_command(const std::vector<std::string>& args);
int validate_command(const std::vector<std::string>& args);

// Reads a whole file ("-" = standard input), at most 4 MiB (util::read_file). Throws
// util::FileReadError naming the file.
std::string read_input(const std::string& path);

}  // namespace cpo::cli
