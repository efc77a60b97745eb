// What the benchmarks read about the operator process: resident memory, peak,
// threads, CPU seconds (from /proc), and sums of its Prometheus counters.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace cpo::bench {

struct ProcessFigures {
  double rss_mib = 0, peak_mib = 0, cpu_seconds = 0;
  int threads = 0;
};

inline ProcessFigures figures_of(pid_t pid) {
  ProcessFigures f;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream in(line);
    std::string key;
    double value = 0;
    in >> key >> value;
    if (key == "VmRSS:") f.rss_mib = value / 1024;
    if (key == "VmHWM:") f.peak_mib = value / 1024;
    if (key == "Threads:") f.threads = static_cast<int>(value);
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int index = 3; fields >> field; ++index) {  // field 3 is the state
    if (index == 14) utime = std::stod(field);
    if (index == 15) {
      stime = std::stod(field);
      break;
    }
  }
  f.cpu_seconds = (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return f;
}

// The sum of every sample of metric `name` (exposition text) whose labels contain
// each of `label_parts` (e.g. controller="clusterpolicy").
inline double metric_sum(const std::string& exposition, const std::string& name,
                         std::initializer_list<std::string> label_parts = {}) {
  double total = 0;
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
    const char next = line[name.size()];
    if (next != '{' && next != ' ') continue;
    bool wanted = true;
    for (const auto& part : label_parts) wanted = wanted && line.find(part) != std::string::npos;
    if (wanted) total += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

}  // namespace cpo::bench
