// The command line as users type it, on CLI11: `--name=value`, `--name value`, bare
// `--flag` for booleans (`--flag=false` turns one off), `-f FILE`, the last of a
// repeated flag wins. These helpers keep the conventions of every subcommand in one
// place: the type names and defaults --help shows, strict booleans, Go-style
// durations, and usage errors worded as the operator has always worded them.
//
// Contract: every mistake on the command line becomes a UsageError whose message
// names the flag; the caller prints it with a hint to --help and exits 2.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace cpo::cli {

// A usage mistake: the message is shown with a hint to --help and the process exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A string flag showing `value_name` and, when not empty, its default in --help.
CLI::Option* add_string(CLI::App& app, const std::string& names, std::string& target, const std::string& help,
                        const std::string& value_name);
// A boolean: bare `--name` is true, `--name=true|false|1|0` sets it.
CLI::Option* add_bool(CLI::App& app, const std::string& name, bool& target, const std::string& help);
// A duration as Kubernetes tools write it ("90s", "10m", "1h30m", bare seconds).
CLI::Option* add_duration(CLI::App& app, const std::string& name, std::chrono::seconds& target,
                          const std::string& help);

// Arguments as CLI11 reads them: `-f=FILE` becomes `-f FILE`. Throws UsageError for
// an argument after `--` (no subcommand takes positional arguments).
std::vector<std::string> normalize(std::vector<std::string> args);

// Throws UsageError for what `app` did not recognise: an unknown flag first
// (`unknown flag --x for "run"`), else an argument (`unexpected argument "x"`).
void reject_extras(const CLI::App& app);

// The UsageError for a CLI11 parse error, in the operator's words.
UsageError usage_error(const CLI::ParseError& error);

}  // namespace cpo::cli
