// Two operator replicas with leader election while a user edits the config: the
// leader is killed with SIGKILL mid-churn, the standby takes the Lease once it has
// expired and finishes the work, and — by the API server's own audit log — the two
// never wrote in the same moment: every write of the first came before any write of
// the second, and the standby wrote nothing but its Lease attempts until it led.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "support/audit_log.hpp"
#include "support/config_environment.hpp"

using namespace cpo;
using namespace cpo::testing::config;
namespace audit = cpo::testing::audit;
using Clock = std::chrono::system_clock;

namespace {

const std::string kLease = "clusterpolicy-operator-leader";
const std::string kStandbyAccount = "gpu-operator-standby";

// A real ServiceAccount with a bound token and the chart's roles (the ones the first
// identity has), so the audit log tells the replicas apart.
std::filesystem::path standby_identity(ConfigEnvironment& env) {
  env.cluster.kubectl("-n " + kNs + " create serviceaccount " + kStandbyAccount);
  const std::string subject = kNs + ":" + kStandbyAccount;
  env.cluster.kubectl("create clusterrolebinding " + kStandbyAccount +
                      " --clusterrole=clusterpolicy-operator-test --serviceaccount=" + subject);
  env.cluster.kubectl("-n " + kNs + " create rolebinding " + kStandbyAccount +
                      " --role=clusterpolicy-operator-test --serviceaccount=" + subject);
  const auto path = env.cluster.dir() / "kubeconfig-standby";
  testing::write_token_kubeconfig(path, env.cluster.admin_config().server, env.cluster.dir() / "pki" / "ca.crt",
                                  "standby", testing::bound_token(env.cluster, kNs, kStandbyAccount));
  return path;
}

std::string lease_holder(ConfigEnvironment& env) {
  auto lease = env.admin.find(kube::resources::leases, {kNs, kLease, ""});
  return lease ? (*lease)["spec"].value("holderIdentity", "") : "";
}

struct Writes {
  std::vector<json> other;  // everything but the Lease
  std::vector<json> lease;  // successful Lease writes
};

Writes writes_of(const testing::TestCluster& cluster, const std::string& user, Clock::time_point since) {
  Writes w;
  for (auto& e : audit::completed(cluster, [&](const json& e) {
         return audit::user_of(e) == user && audit::is_write(e) && audit::received(e) >= since;
       })) {
    if (audit::resource_of(e) == "leases") {
      if (audit::code_of(e) < 300) w.lease.push_back(std::move(e));
    } else {
      w.other.push_back(std::move(e));
    }
  }
  return w;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

TEST_CASE("Leader failover under churn: the standby takes over after the lease and the two never write together",
          "[config][integration][fault][leader]") {
  ConfigEnvironment env(false);
  const auto standby_kubeconfig = standby_identity(env);
  const std::string leader_user = "system:serviceaccount:" + kNs + ":gpu-operator";
  const std::string standby_user = "system:serviceaccount:" + kNs + ":" + kStandbyAccount;
  struct Cleanup {
    ConfigEnvironment& env;
    ~Cleanup() {
      env.cluster.kubectl("delete clusterrolebinding " + kStandbyAccount + " --ignore-not-found");
      env.cluster.kubectl("-n " + kNs + " delete rolebinding,serviceaccount " + kStandbyAccount + " --ignore-not-found");
      env.cluster.kubectl("-n " + kNs + " delete lease " + kLease + " --ignore-not-found");
    }
  } cleanup{env};
  env.cluster.kubectl("-n " + kNs + " delete lease " + kLease + " --ignore-not-found");
  const Clock::time_point started = Clock::now();

  env.start({"--leader-elect"});
  REQUIRE(testing::eventually([&] { return !lease_holder(env).empty(); }, std::chrono::seconds(20)));
  const std::string first = lease_holder(env);
  testing::OperatorProcess standby(env.cluster, standby_kubeconfig, kNs, {"--leader-elect", "--rollout-deadline=10m"});
  env.deploy({{"mps-any", mps_doc(2)}});

  std::atomic<bool> churning{true};
  std::atomic<int> edits{0};
  std::thread churn([&] {
    kube::Client user(env.cluster.admin_config());
    for (int i = 0; churning; ++i) {
      user.apply(kube::resources::configmaps,
                 {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                  {"metadata", {{"name", "mps-config-all"}, {"namespace", kNs}}},
                  {"data", {{"mps-any", mps_doc(3 + i % 4)}}}},
                 "test-user");
      ++edits;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  });
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const Clock::time_point killed = Clock::now();
  env.op->kill_now();
  const bool took_over = testing::eventually([&] {
    const std::string holder = lease_holder(env);
    return !holder.empty() && holder != first;
  }, std::chrono::seconds(30));
  const Clock::time_point leading = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  churning = false;
  churn.join();
  INFO("standby log:\n" << standby.log_tail());
  REQUIRE(took_over);
  // The Lease lasts 15 s and is retried every 2 s (plus up to 20% jitter), measured
  // on the standby's own clock from when it saw the last renewal: at most
  // 15 + 2 x 2.4 s after the kill.
  const double takeover = seconds(leading - killed);
  WARN("standby leads " << takeover << " s after the leader was killed");
  CHECK(takeover <= 15 + 2 * 2.4 + 0.5);

  // The new leader finishes the work: a last config reaches every consumer.
  const std::map<std::string, std::string> last = {{"mps-any", mps_doc(9)}};
  env.set_config(last);
  const std::string hash = hash_of(last);
  REQUIRE(testing::eventually([&] { return env.consumer_hash() == hash; }, std::chrono::seconds(60)));
  CHECK(testing::eventually([&] {
    const json status = env.config_status();
    return status.value("state", "") == "current" && status.value("appliedHash", "") == hash;
  }, std::chrono::seconds(60)));
  CHECK(standby.running());

  // What the API server recorded.
  const Writes a = writes_of(env.cluster, leader_user, started);
  const Writes b = writes_of(env.cluster, standby_user, started);
  INFO("edits: " << edits << ", writes by the first leader: " << a.other.size()
                 << ", by the standby: " << b.other.size());
  REQUIRE(!a.other.empty());
  REQUIRE(!b.other.empty());
  REQUIRE(!a.lease.empty());
  REQUIRE(!b.lease.empty());
  Clock::time_point a_last = Clock::time_point::min(), a_last_sent = Clock::time_point::min();
  for (const auto& e : a.other) {
    a_last = std::max(a_last, audit::finished(e));
    a_last_sent = std::max(a_last_sent, audit::received(e));
  }
  Clock::time_point b_first = Clock::time_point::max();
  for (const auto& e : b.other) b_first = std::min(b_first, audit::received(e));
  const Clock::time_point a_last_renewal = audit::finished(a.lease.back());
  const Clock::time_point b_acquired = audit::received(b.lease.front());
  INFO("first leader's last write " << seconds(a_last - killed) << " s after the kill, last renewal "
                                    << seconds(a_last_renewal - killed) << " s; standby acquired "
                                    << seconds(b_acquired - killed) << " s, first wrote " << seconds(b_first - killed)
                                    << " s after it");
  CHECK(a_last < b_first);             // never both
  CHECK(a_last_sent <= killed);        // nothing after its death
  CHECK(b_acquired <= b_first);        // the standby wrote only once it led
  // It took the Lease only after the first leader's last renewal had expired.
  CHECK(seconds(b_acquired - a_last_renewal) >= 15 - 0.1);
}
