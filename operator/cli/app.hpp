// The command line of clusterpolicy-operator: the subcommands run (the default),
// render, validate and version, parsed with CLI11, and the generated --help.
//
// Contract: returns the process exit status. 0 success; 1 failure (for validate, an
// invalid config); 2 a usage mistake, reported on standard error as
// "clusterpolicy-operator COMMAND: MESSAGE" plus a hint to COMMAND --help.
#pragma once

#include <string>
#include <vector>

namespace cpo::cli {

// `args` without the program name.
int main(const std::vector<std::string>& args);

}  // namespace cpo::cli
