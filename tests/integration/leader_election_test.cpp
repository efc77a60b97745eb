// Leader election between candidate processes on one Lease of a real API server:
// one leads; a crashed leader is replaced after the lease duration; a leader
// that shuts down cleanly is replaced at once.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "kube/client.hpp"
#include "support/test_cluster.hpp"

extern char** environ;

using namespace std::chrono_literals;
using cpo::testing::TestCluster;
namespace fs = std::filesystem;

namespace {

// One lease_candidate child process; its stdout goes to a file read on demand.
class CandidateProcess {
 public:
  CandidateProcess(const std::string& identity, const std::string& ns, const std::string& lease,
                   const fs::path& dir)
      : identity_(identity), output_(dir / (identity + ".out")) {
    std::string kubeconfig = TestCluster::get().admin_kubeconfig().string();
    std::string errors = (dir / (identity + ".err")).string();
    std::vector<std::string> args = {CPO_LEASE_CANDIDATE, "--kubeconfig", kubeconfig, "--namespace", ns};
    args.insert(args.end(), {"--name", lease, "--identity", identity});
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, output_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, errors.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int failed = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (failed != 0) throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(failed));
  }
  ~CandidateProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  CandidateProcess(const CandidateProcess&) = delete;
  CandidateProcess& operator=(const CandidateProcess&) = delete;

  const std::string& identity() const { return identity_; }
  bool printed(const std::string& line) const {
    std::ifstream in(output_);
    for (std::string got; std::getline(in, got);) {
      if (got == line) return true;
    }
    return false;
  }
  bool leading() const { return printed("leading " + identity_); }
  void signal(int sig) const { kill(pid_, sig); }
  // The exit code, or -signal when killed by one.
  int wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

 private:
  std::string identity_;
  fs::path output_;
  pid_t pid_ = -1;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("one candidate leads and a crashed leader is replaced and a released lease is taken at once",
          "[leaderelection][integration]") {
  cpo::kube::Client client(TestCluster::get().admin_config());
  cpo::testing::ScopedNamespace ns(client, "lease");
  const std::string lease = "le-test";
  char dir_template[] = "/tmp/lease-test-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  fs::path dir = dir_template;
  auto holder = [&] {
    auto found = client.find(cpo::kube::resources::leases, {ns.name(), lease, ""});
    return found ? found->value("spec", nlohmann::json::object()).value("holderIdentity", "") : "";
  };
  auto transitions = [&] {
    auto found = client.get(cpo::kube::resources::leases, {ns.name(), lease, ""});
    return found["spec"].value("leaseTransitions", -1);
  };

  auto a = std::make_unique<CandidateProcess>("cand-a", ns.name(), lease, dir);
  auto b = std::make_unique<CandidateProcess>("cand-b", ns.name(), lease, dir);
  REQUIRE(cpo::testing::eventually([&] { return a->leading() || b->leading(); }, 30s));
  // The loser sees the winner within a retry period or two, and never leads.
  std::this_thread::sleep_for(5s);
  REQUIRE(a->leading() != b->leading());
  CandidateProcess& first = a->leading() ? *a : *b;
  CandidateProcess& second = a->leading() ? *b : *a;
  CHECK(second.printed("leader " + first.identity()));
  CHECK(holder() == first.identity());
  CHECK(transitions() == 0);

  // A crash: no release, so the survivor waits out the lease duration (15 s) as its
  // own clock measures it, and takes over within a couple of retry periods after.
  auto killed_at = std::chrono::steady_clock::now();
  first.signal(SIGKILL);
  CHECK(first.wait() == -SIGKILL);
  REQUIRE(cpo::testing::eventually([&] { return second.leading(); }, 40s));
  double takeover = seconds_since(killed_at);
  std::cout << "leader_election: takeover after SIGKILL took " << takeover << " s" << std::endl;
  CHECK(takeover >= 12.0);  // the last renewal was at most one retry period (2 s) before the kill
  CHECK(takeover <= 21.0);  // 15 s + the survivor's observation lag and retry (each <= 2.4 s)
  CHECK(holder() == second.identity());
  CHECK(transitions() == 1);

  // A clean shutdown: the leader releases, the waiting candidate acquires at once.
  CandidateProcess third("cand-c", ns.name(), lease, dir);
  REQUIRE(cpo::testing::eventually([&] { return third.printed("leader " + second.identity()); }, 15s));
  auto terminated_at = std::chrono::steady_clock::now();
  second.signal(SIGTERM);
  REQUIRE(cpo::testing::eventually([&] { return third.leading(); }, 20s));
  double handover = seconds_since(terminated_at);
  std::cout << "leader_election: takeover after release took " << handover << " s" << std::endl;
  CHECK(handover <= 4.0);  // one retry period (<= 2.4 s) plus two writes; not 15 s
  CHECK(second.wait() == 0);
  CHECK(second.printed("released " + second.identity()));
  CHECK(holder() == third.identity());
  CHECK(transitions() == 2);

  third.signal(SIGTERM);
  CHECK(third.wait() == 0);
  CHECK(holder() == "");
  fs::remove_all(dir);
}
