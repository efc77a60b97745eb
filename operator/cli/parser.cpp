#include "cli/parser.hpp"

#include <algorithm>

#include "apimachinery/duration.hpp"

namespace cpo::cli {

CLI::Option* add_string(CLI::App& app, const std::string& names, std::string& target, const std::string& help,
                        const std::string& value_name) {
  auto* option = app.add_option(names, target, help)->type_name(value_name);
  if (!target.empty()) option->default_str(target);
  return option;
}

CLI::Option* add_bool(CLI::App& app, const std::string& name, bool& target, const std::string& help) {
  const CLI::Validator true_or_false(
      [](std::string& value) -> std::string {
        if (value == "true" || value == "false" || value == "1" || value == "0") return "";
        return "\"" + value + "\" is not true or false";
      },
      "");
  return app.add_flag(name, target, help + (target ? " (default: true)" : ""))->check(true_or_false);
}

CLI::Option* add_duration(CLI::App& app, const std::string& name, std::chrono::seconds& target,
                          const std::string& help) {
  const CLI::Validator duration(
      [](std::string& value) -> std::string {
        try {
          apimachinery::parse_duration(value);
          return "";
        } catch (const std::invalid_argument& e) {
          return e.what();
        }
      },
      "");
  return app
      .add_option_function<std::string>(
          name, [&target](const std::string& value) { target = apimachinery::parse_duration(value); }, help)
      ->type_name("DURATION")
      ->default_str(apimachinery::format_duration(target))
      ->check(duration);
}

std::vector<std::string> normalize(std::vector<std::string> args) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      if (i + 1 < args.size()) throw UsageError("unexpected argument \"" + args[i + 1] + "\"");
      break;
    }
    if (arg.size() > 2 && arg[0] == '-' && arg[1] != '-' && arg[2] == '=') {
      out.push_back(arg.substr(0, 2));
      out.push_back(arg.substr(3));
      continue;
    }
    out.push_back(arg);
  }
  return out;
}

void reject_extras(const CLI::App& app) {
  const auto extras = app.remaining();
  auto flag = std::find_if(extras.begin(), extras.end(),
                           [](const std::string& arg) { return arg.size() > 1 && arg[0] == '-'; });
  if (flag != extras.end()) {
    throw UsageError("unknown flag " + flag->substr(0, flag->find('=')) + " for \"" + app.get_name() + "\"");
  }
  if (!extras.empty()) throw UsageError("unexpected argument \"" + extras.front() + "\"");
}

UsageError usage_error(const CLI::ParseError& error) {
  const std::string what = error.what();
  // "--namespace: 1 required NS missing": the flag came last, with no value.
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&error) && what.find(" required ") != std::string::npos &&
      what.size() > 8 && what.compare(what.size() - 8, 8, " missing") == 0) {
    return UsageError(what.substr(0, what.find(':')) + " needs a value");
  }
  return UsageError(what);
}

}  // namespace cpo::cli
