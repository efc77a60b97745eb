// A leader-election candidate for the integration test: runs the elector on one
// Lease and reports on stdout, one line each, flushed:
//   leading ID     this candidate acquired the lease
//   leader OTHER   another candidate holds it
//   released ID    SIGTERM/SIGINT: the lease was given up (exit 0)
//   lost ID        renewal failed or another took over (exit 1)
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "kube/client.hpp"
#include "runtime/leader_election.hpp"

namespace {

std::mutex output_mutex;

void say(const std::string& verb, const std::string& who) {
  std::lock_guard lock(output_mutex);
  std::cout << verb << ' ' << who << std::endl;
}

int usage() {
  std::cerr << "usage: lease_candidate --kubeconfig FILE --namespace NS --name LEASE --identity ID\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string kubeconfig, ns, name, identity;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--kubeconfig") {
      kubeconfig = value;
    } else if (flag == "--namespace") {
      ns = value;
    } else if (flag == "--name") {
      name = value;
    } else if (flag == "--identity") {
      identity = value;
    } else {
      return usage();
    }
  }
  if (kubeconfig.empty() || ns.empty() || name.empty()) return usage();
  if (identity.empty()) identity = cpo::runtime::default_identity();
  spdlog::set_default_logger(spdlog::stderr_color_mt("stderr"));

  // Signals are taken by one thread with sigwait; every other thread blocks them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::stop_source stop;
  std::thread([signals, stop]() mutable {
    int received = 0;
    sigwait(&signals, &received);
    stop.request_stop();
  }).detach();

  try {
    // A request timeout well under the renew deadline: a hung call cannot outlast it.
    cpo::kube::Client client(cpo::kube::load_kubeconfig(kubeconfig),
                             cpo::kube::ClientOptions{.request_timeout = std::chrono::seconds(4)});
    cpo::runtime::LeaderCallbacks callbacks;
    callbacks.on_started_leading = [&] { say("leading", identity); };
    callbacks.on_new_leader = [&](const std::string& who) {
      if (who != identity) say("leader", who);
    };
    cpo::runtime::LeaderElector elector(
        client, {.lease_namespace = ns, .lease_name = name, .identity = identity}, callbacks);
    if (elector.run(stop.get_token()) == cpo::runtime::LeaderElector::Outcome::Lost) {
      say("lost", identity);
      return 1;
    }
    if (elector.release()) say("released", identity);
    return 0;
  } catch (const std::exception& e) {
    spdlog::error("lease_candidate: {}", e.what());
    return 3;
  }
}
