// Command-line flags in the style of Kubernetes components: `--name=value`,
// `--name value`, bare `--flag` for booleans (`--flag=false` to turn off), and
// `--help`. Unknown flags and bad values are errors that name the flag.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cpo::cli {

// A usage mistake: the message is shown with a hint to --help and the process exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class FlagSet {
 public:
  explicit FlagSet(std::string command) : command_(std::move(command)) {}

  void add_string(const std::string& name, std::string* target, const std::string& help,
                  const std::string& value_name = "STRING");
  void add_bool(const std::string& name, bool* target, const std::string& help);
  void add_duration(const std::string& name, std::chrono::seconds* target, const std::string& help);
  void add_int(const std::string& name, int* target, const std::string& help);

  // Parses args (without the program and subcommand names). Returns the
  // positional arguments. Throws UsageError. Sets help_requested() on --help/-h.
  std::vector<std::string> parse(const std::vector<std::string>& args);
  bool help_requested() const { return help_; }
  // Whether a flag was given on the command line (not just defaulted).
  bool was_set(const std::string& name) const;

  // "  --name VALUE   help (default: x)" lines, aligned.
  std::string usage() const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    std::string value_name;  // empty for booleans
    std::string default_text;
    std::function<void(const std::string&)> set;
  };
  Flag& find(const std::string& name);

  std::string command_;
  std::vector<Flag> flags_;
  std::vector<std::string> set_;
  bool help_ = false;
};

}  // namespace cpo::cli
