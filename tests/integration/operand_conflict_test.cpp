// Another controller writing the operands: the operator repairs a one-off edit,
// but when another manager keeps reverting a field it applies, it stops re-applying
// that object, says so (Conflict condition, Warning Event, counter), and applies it
// again once the other writer has been quiet, or when a person resumes it.
#include <catch2/catch.hpp>

#include <atomic>
#include <regex>
#include <thread>

#include "clusterpolicy/vocabulary.hpp"
#include "support/config_environment.hpp"

using namespace cpo;
using json = nlohmann::json;
using namespace cpo::testing::config;

namespace {

const std::string kGfd = "gpu-feature-discovery";
const std::string kTheirImage = "nvcr.io/nvidia/k8s-device-plugin:v0.0.1-theirs";

// A second controller that wants GFD on another image: whenever the DaemonSet shows
// anything else, it writes its image back (as field manager "gpu-operator").
class RevertingWriter {
 public:
  explicit RevertingWriter(const testing::TestCluster& cluster) : client_(cluster.admin_config()) {
    thread_ = std::thread([this] { loop(); });
  }
  ~RevertingWriter() { stop(); }
  void stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
  }
  int writes() const { return writes_; }

 private:
  void loop() {
    while (running_) {
      try {
        auto ds = client_.get(kube::resources::daemonsets, {kNs, kGfd, ""});
        if (ds["spec"]["template"]["spec"]["containers"][0].value("image", "") != kTheirImage) {
          json patch = {{"spec", {{"template", {{"spec", {{"containers", json::array({{{"name", kGfd}, {"image", kTheirImage}}})}}}}}}}};
          client_.patch(kube::resources::daemonsets, {kNs, kGfd, ""}, kube::PatchType::StrategicMerge, patch,
                        {.field_manager = "gpu-operator"});
          ++writes_;
        }
      } catch (const std::exception&) {
        // the DaemonSet is not there yet, or a write raced: try again
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  }
  kube::Client client_;
  std::atomic<bool> running_{true};
  std::atomic<int> writes_{0};
  std::thread thread_;
};

std::string gfd_image(ConfigEnvironment& env) {
  return env.admin.get(kube::resources::daemonsets, {kNs, kGfd, ""})["spec"]["template"]["spec"]["containers"][0].value(
      "image", "");
}

long gfd_generation(ConfigEnvironment& env) {
  return env.admin.get(kube::resources::daemonsets, {kNs, kGfd, ""})["metadata"].value("generation", 0L);
}

double metric(ConfigEnvironment& env, const std::string& name) {
  const std::string text = env.op->get(env.op->metrics_port(), "/metrics");
  const std::regex line("^" + name + "(\\{[^}]*\\})? ([0-9.e+]+)$");
  std::istringstream in(text);
  std::string row;
  double total = 0;
  while (std::getline(in, row)) {
    std::smatch m;
    if (std::regex_match(row, m, line)) total += std::stod(m[2]);
  }
  return total;
}

}  // namespace

TEST_CASE("Conflict: a writer that keeps reverting an operand is named, the operator stops fighting, then resumes",
          "[conflict][integration]") {
  ConfigEnvironment env;
  env.deploy({{"mps-any", mps_doc(4)}});
  env.kubectl("annotate clusterpolicies.nvidia.com/cluster-policy " +
              std::string(clusterpolicy::kConflictQuietPeriodAnnotation) + "=6s");
  const std::string ours = gfd_image(env);
  REQUIRE(ours != kTheirImage);
  INFO("operator log:\n" << env.op->log_tail());

  auto writer = std::make_unique<RevertingWriter>(env.cluster);
  REQUIRE(testing::eventually([&] { return env.condition("Conflict").value("status", "") == "True"; },
                              std::chrono::seconds(60)));
  const json conflict = env.condition("Conflict");
  CHECK(conflict.value("reason", "") == "OperandConflict");
  const std::string message = conflict.value("message", "");
  CHECK(message.find("DaemonSet gpu-operator/gpu-feature-discovery") != std::string::npos);
  CHECK(message.find("manager \"gpu-operator\"") != std::string::npos);
  CHECK(message.find("containers[name=gpu-feature-discovery].image") != std::string::npos);
  CHECK(env.condition("Error").value("reason", "") == "OperandConflict");
  CHECK(env.condition("Error").value("status", "") == "True");
  CHECK(testing::eventually([&] { return env.has_event("OperandConflict", "cluster-policy"); }, std::chrono::seconds(20)));
  CHECK(metric(env, "clusterpolicy_operator_operand_conflicts_total") == 1);
  CHECK(metric(env, "clusterpolicy_operator_operands_held") == 1);
  // It repaired the first writes only: two repairs, held at the third.
  CHECK(writer->writes() <= 4);

  // Held: both controllers run, and nobody writes the DaemonSet any more.
  REQUIRE(testing::eventually([&] { return gfd_image(env) == kTheirImage; }, std::chrono::seconds(10)));
  const long generation = gfd_generation(env);
  const int writes = writer->writes();
  std::this_thread::sleep_for(std::chrono::seconds(4));
  CHECK(gfd_generation(env) == generation);
  CHECK(writer->writes() == writes);

  // The other writer goes away: after its quiet period the operator applies its own again.
  writer.reset();
  REQUIRE(testing::eventually([&] { return gfd_image(env) == ours; }, std::chrono::seconds(30)));
  CHECK(testing::eventually([&] { return env.condition("Conflict").value("status", "") == "False"; },
                            std::chrono::seconds(20)));
  CHECK(testing::eventually([&] { return env.has_event("OperandResumed", "cluster-policy"); }, std::chrono::seconds(20)));

  // It comes back: held again at its first write, no taking turns.
  writer = std::make_unique<RevertingWriter>(env.cluster);
  REQUIRE(testing::eventually([&] { return env.condition("Conflict").value("status", "") == "True"; },
                              std::chrono::seconds(30)));
  CHECK(writer->writes() <= 2);
  CHECK(metric(env, "clusterpolicy_operator_operand_conflicts_total") == 2);

  // A person stops it and resumes at once (the doubled quiet period is not waited for).
  writer.reset();
  env.kubectl("annotate clusterpolicies.nvidia.com/cluster-policy " + std::string(clusterpolicy::kResumeApplyAnnotation) +
              "=after-removing-the-other-operator");
  CHECK(testing::eventually([&] { return gfd_image(env) == ours; }, std::chrono::seconds(8)));
  CHECK(testing::eventually([&] { return env.condition("Conflict").value("status", "") == "False"; },
                            std::chrono::seconds(20)));
  CHECK(testing::eventually([&] { return env.condition("Ready").value("status", "") == "True"; },
                            std::chrono::seconds(30)));
}

TEST_CASE("Conflict: a one-off edit by hand is repaired, not held", "[conflict][integration]") {
  ConfigEnvironment env;
  env.deploy({{"mps-any", mps_doc(4)}});
  const std::string ours = gfd_image(env);
  INFO("operator log:\n" << env.op->log_tail());
  env.kubectl("-n gpu-operator set image daemonset/gpu-feature-discovery gpu-feature-discovery=" + kTheirImage);
  REQUIRE(testing::eventually([&] { return gfd_image(env) == ours; }, std::chrono::seconds(20)));
  CHECK(env.condition("Conflict").value("status", "") == "False");
  // No Event about this ClusterPolicy (an earlier test's one of that name may remain).
  const std::string uid = env.admin.get(kube::resources::clusterpolicies, {"", "cluster-policy", ""})["metadata"]["uid"];
  const auto events = env.kubectl("get events -A --field-selector reason=OperandConflict,involvedObject.uid=" + uid);
  CHECK(events.output.find("OperandConflict") == std::string::npos);
}
