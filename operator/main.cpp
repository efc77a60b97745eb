// clusterpolicy-operator: reconciles NVIDIA's ClusterPolicy into the device-plugin,
// MPS control-daemon and GPU Feature Discovery DaemonSets, and rolls them safely
// when the device-plugin config changes.
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/flags.hpp"

namespace {

// project(VERSION) of CMakeLists.txt, passed in by operator/CMakeLists.txt.
constexpr const char* kVersion = CPO_VERSION;

void usage(std::ostream& out) {
  out << "Usage: clusterpolicy-operator [COMMAND] [flags]\n\n"
         "Commands:\n"
         "  run        reconcile ClusterPolicies in a cluster (the default command)\n"
         "  render     print the objects the operator would apply for a ClusterPolicy manifest\n"
         "  validate   check a device-plugin config ConfigMap as the operator does\n"
         "  version    print the version\n\n"
         "Run 'clusterpolicy-operator COMMAND --help' for a command's flags.\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string command = "run";
  if (!args.empty() && !args[0].empty() && args[0][0] != '-') {
    command = args[0];
    args.erase(args.begin());
  } else if (!args.empty() && args[0] == "--version") {
    command = "version";
    args.erase(args.begin());
  } else if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    usage(std::cout);
    std::cout << "\n";
    return cpo::cli::run_command({"--help"});
  }
  try {
    if (command == "run") return cpo::cli::run_command(args);
    if (command == "render") return cpo::cli::render_command(args);
    if (command == "validate") return cpo::cli::validate_command(args);
    if (command == "version") {
      if (!args.empty()) throw cpo::cli::UsageError("unexpected argument \"" + args[0] + "\"");
      std::cout << "clusterpolicy-operator " << kVersion << "\n";
      return 0;
    }
    std::cerr << "clusterpolicy-operator: unknown command \"" << command << "\"\n\n";
    usage(std::cerr);
    return 2;
  } catch (const cpo::cli::UsageError& e) {
    std::cerr << "clusterpolicy-operator " << command << ": " << e.what() << "\n"
              << "Run 'clusterpolicy-operator " << command << " --help' for usage.\n";
    return 2;
  }
}
