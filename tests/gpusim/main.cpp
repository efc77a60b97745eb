// cpo-gpu-sim: the simulated device plugin + GPU Feature Discovery of the test
// harness (see simulator.hpp). Runs until SIGTERM or SIGINT.
#include <atomic>
#include <csignal>
#include <iostream>
#include <string>
#include <thread>

#include "apimachinery/duration.hpp"
#include "kube/config.hpp"
#include "gpusim/simulator.hpp"

namespace {

std::atomic<bool> stopping{false};

void usage() {
  std::cerr << "usage: cpo-gpu-sim --kubeconfig FILE [--namespace NS] [--delay DURATION] [--interval-ms N]\n"
               "  Writes GFD's labels and the device plugin's capacity on every node whose\n"
               "  device-plugin pod (app=nvidia-device-plugin-daemonset in NS, default gpu-operator)\n"
               "  is Ready, --delay (default 1s) after it became so. Per-node annotations\n"
               "  gpu-sim.clusterpolicy-operator.dev/{gpus,product,lag,lie-replicas,absent} change that.\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string kubeconfig;
  cpo::gpusim::Options options;
  int interval_ms = 200;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const std::string& flag) -> std::optional<std::string> {
      if (arg.rfind(flag + "=", 0) == 0) return arg.substr(flag.size() + 1);
      if (arg == flag && i + 1 < argc) return std::string(argv[++i]);
      return std::nullopt;
    };
    if (auto v = value("--kubeconfig")) {
      kubeconfig = *v;
    } else if (auto ns = value("--namespace")) {
      options.ns = *ns;
    } else if (auto delay = value("--delay")) {
      options.delay = cpo::apimachinery::parse_duration(*delay);
    } else if (auto interval = value("--interval-ms")) {
      interval_ms = std::stoi(*interval);
    } else {
      usage();
      return 2;
    }
  }
  if (kubeconfig.empty()) {
    usage();
    return 2;
  }
  std::signal(SIGTERM, [](int) { stopping = true; });
  std::signal(SIGINT, [](int) { stopping = true; });
  cpo::kube::Client client(cpo::kube::load_kubeconfig(kubeconfig));
  cpo::gpusim::Simulator simulator(client, options);
  std::cout << "gpu-sim: watching device-plugin pods in " << options.ns << std::endl;
  while (!stopping) {
    try {
      simulator.step(cpo::gpusim::Simulator::Clock::now());
    } catch (const std::exception& e) {
      std::cerr << "gpu-sim: " << e.what() << std::endl;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
  return 0;
}
