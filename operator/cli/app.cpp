#include "cli/app.hpp"

#include <functional>
#include <iostream>
#include <utility>

#include "cli/commands.hpp"
#include "cli/parser.hpp"

namespace cpo::cli {

namespace {

constexpr const char* kProgram = "clusterpolicy-operator";
// project(VERSION) of CMakeLists.txt, passed in by operator/CMakeLists.txt.
constexpr const char* kVersion = CPO_VERSION;

struct Commands {
  bool version = false;  // --version
  RunOptions run;
  RenderOptions render;
  ValidateOptions validate;
};

// The whole command line: every subcommand with its flags, bound to `options`.
void define(CLI::App& app, Commands& options) {
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_help_flag("-h,--help", "print this help and exit");
  app.add_flag("--version", options.version, "print the version and exit");
  app.footer("Run 'clusterpolicy-operator COMMAND --help' for a command's flags.");
  struct Subcommand {
    const char* name;
    const char* description;
  };
  auto add = [&](const Subcommand& s) {
    CLI::App* command = app.add_subcommand(s.name, s.description);
    command->allow_extras();  // reject_extras() words the errors
    return command;
  };
  add_run_command(*add({"run", "reconcile ClusterPolicies in a cluster (the default command)"}), options.run);
  add_render_command(*add({"render", "print the objects the operator would apply for a ClusterPolicy manifest"}),
                     options.render);
  add_validate_command(*add({"validate", "check a device-plugin config ConfigMap as the operator does"}),
                       options.validate);
  add({"version", "print the version"});
  app.require_subcommand(0, 1);
}

// The arguments CLI11 parses, in reverse order as CLI11 wants them: `run` comes
// first when the command line starts with a flag of its own (run is the default).
std::vector<std::string> prepared(const std::vector<std::string>& args) {
  std::vector<std::string> out = args;
  const bool top_level_flag = !args.empty() && (args[0] == "-h" || args[0] == "--help" || args[0] == "--version");
  if (args.empty() || (args[0].rfind("-", 0) == 0 && !top_level_flag)) out.insert(out.begin(), "run");
  if (out.size() > 1) {
    std::vector<std::string> rest = normalize({out.begin() + 1, out.end()});
    out.resize(1);
    out.insert(out.end(), rest.begin(), rest.end());
  }
  return {out.rbegin(), out.rend()};
}

int dispatch(CLI::App& app, const Commands& options) {
  if (options.version) {
    std::cout << kProgram << " " << kVersion << "\n";
    return 0;
  }
  CLI::App* command = app.get_subcommands().front();
  const std::string name = command->get_name();
  if (name == "version") {
    if (!command->remaining().empty()) throw UsageError("unexpected argument \"" + command->remaining().front() + "\"");
    std::cout << kProgram << " " << kVersion << "\n";
    return 0;
  }
  reject_extras(*command);
  if (name == "render") return render_command(options.render);
  if (name == "validate") return validate_command(options.validate);
  return run_command(options.run);
}

}  // namespace

int main(const std::vector<std::string>& args) {
  CLI::App app("Reconciles NVIDIA's ClusterPolicy into the device-plugin, MPS control-daemon and GPU Feature "
               "Discovery DaemonSets.",
               kProgram);
  Commands options;
  define(app, options);
  // The subcommand named first (run when the line starts with a flag), for messages.
  std::string command = args.empty() || args[0].rfind("-", 0) == 0 ? "run" : args[0];
  const std::function<bool(const CLI::App*)> named = [&](const CLI::App* sub) { return sub->get_name() == command; };
  if (std::as_const(app).get_subcommands(named).empty()) {
    std::cerr << kProgram << ": unknown command \"" << command << "\"\n\n" << app.help();
    return 2;
  }
  try {
    try {
      std::vector<std::string> argv = prepared(args);
      app.parse(argv);
    } catch (const CLI::CallForHelp& e) {
      return app.exit(e);
    } catch (const CLI::ParseError& e) {
      throw usage_error(e);
    }
    return dispatch(app, options);
  } catch (const UsageError& e) {
    std::cerr << kProgram << " " << command << ": " << e.what() << "\n"
              << "Run '" << kProgram << " " << command << " --help' for usage.\n";
    return 2;
  }
}

}  // namespace cpo::cli
