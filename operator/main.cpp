// clusterpolicy-operator: reconciles NVIDIA's ClusterPolicy into the device-plugin,
// MPS control-daemon and GPU Feature Discovery DaemonSets, and rolls them safely
// when the device-plugin config changes. The command line is cli/app.hpp's.
#include <string>
#include <vector>

#include "cli/app.hpp"

int main(int argc, char** argv) { return cpo::cli::main(std::vector<std::string>(argv + 1, argv + argc)); }
