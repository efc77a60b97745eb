#include "cli/flags.hpp"

#include "runtime/duration.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace cpo::cli {

namespace {

// How a flag is written: -f for one letter, --name otherwise.
std::string spelled(const std::string& name) { return (name.size() == 1 ? "-" : "--") + name; }

std::string duration_text(std::chrono::seconds value) {
  auto s = value.count();
  if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

}  // namespace

void FlagSet::add_string(const std::string& name, std::string* target, const std::string& help,
                         const std::string& value_name) {
  flags_.push_back({name, help, value_name, *target, [target](const std::string& v) { *target = v; }});
}

void FlagSet::add_bool(const std::string& name, bool* target, const std::string& help) {
  flags_.push_back({name, help, "", *target ? "true" : "false", [target, name](const std::string& v) {
                      if (v == "true" || v == "1") *target = true;
                      else if (v == "false" || v == "0") *target = false;
                      else throw UsageError("--" + name + ": \"" + v + "\" is not true or false");
                    }});
}

void FlagSet::add_duration(const std::string& name, std::chrono::seconds* target, const std::string& help) {
  flags_.push_back({name, help, "DURATION", duration_text(*target), [target, name](const std::string& v) {
                      try {
                        *target = runtime::parse_duration(v);
                      } catch (const std::invalid_argument& e) {
                        throw UsageError("--" + name + ": " + e.what());
                      }
                    }});
}

void FlagSet::add_int(const std::string& name, int* target, const std::string& help) {
  flags_.push_back({name, help, "N", std::to_string(*target), [target, name](const std::string& v) {
                      int value = 0;
                      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
                      if (v.empty() || ec != std::errc{} || ptr != v.data() + v.size()) {
                        throw UsageError("--" + name + ": \"" + v + "\" is not an integer");
                      }
                      *target = value;
                    }});
}

FlagSet::Flag& FlagSet::find(const std::string& name) {
  for (auto& flag : flags_) {
    if (flag.name == name) return flag;
  }
  throw UsageError("unknown flag " + spelled(name) + " for \"" + command_ + "\"");
}

bool FlagSet::was_set(const std::string& name) const {
  return std::find(set_.begin(), set_.end(), name) != set_.end();
}

std::vector<std::string> FlagSet::parse(const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      help_ = true;
      continue;
    }
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positional.push_back(arg);
      continue;
    }
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    auto eq = body.find('=');
    std::string name = body.substr(0, eq);
    Flag& flag = find(name);
    std::string value;
    if (eq != std::string::npos) {
      value = body.substr(eq + 1);
    } else if (flag.value_name.empty()) {
      value = "true";
    } else {
      if (i + 1 >= args.size()) throw UsageError(spelled(name) + " needs a value");
      value = args[++i];
    }
    flag.set(value);
    set_.push_back(name);
  }
  return positional;
}

std::string FlagSet::usage() const {
  std::size_t width = 0;
  std::vector<std::string> heads;
  for (const auto& flag : flags_) {
    heads.push_back(spelled(flag.name) + (flag.value_name.empty() ? "" : " " + flag.value_name));
    width = std::max(width, heads.back().size());
  }
  std::ostringstream out;
  for (std::size_t i = 0; i < flags_.size(); ++i) {
    out << "  " << heads[i] << std::string(width - heads[i].size() + 3, ' ') << flags_[i].help;
    if (!flags_[i].default_text.empty()) out << " (default: " << flags_[i].default_text << ")";
    out << "\n";
  }
  return out.str();
}

}  // namespace cpo::cli
