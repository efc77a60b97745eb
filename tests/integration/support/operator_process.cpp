#include "support/operator_process.hpp"

#include <algorithm>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <regex>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "kube/http.hpp"

extern char** environ;

namespace cpo::testing {

namespace fs = std::filesystem;

unsigned short free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

namespace {

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void apply_yaml(const TestCluster& cluster, const std::string& yaml, const std::string& name) {
  fs::path file = cluster.dir() / ("rbac-" + name + ".yaml");
  std::ofstream(file) << yaml;
  auto result = cluster.kubectl("apply -f " + shell_quote(file.string()));
  if (result.exit_code != 0) throw std::runtime_error("kubectl apply " + name + ": " + result.output);
}

}  // namespace

void grant_chart_rbac(const TestCluster& cluster, const std::string& ns, const std::string& sa_ns,
                      const std::string& sa_name) {
  const fs::path files = fs::path(CPO_SOURCE_DIR) / "charts" / "clusterpolicy-operator" / "files";
  const std::string subject = "subjects:\n- kind: ServiceAccount\n  name: " + sa_name + "\n  namespace: " + sa_ns + "\n";
  apply_yaml(cluster,
             "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: clusterpolicy-operator-test\n"
             "rules:\n" + slurp(files / "clusterrole-rules.yaml") +
             "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n"
             "  name: clusterpolicy-operator-test\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n"
             "  kind: ClusterRole\n  name: clusterpolicy-operator-test\n" + subject,
             "cluster");
  apply_yaml(cluster,
             "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: clusterpolicy-operator-test\n"
             "  namespace: " + ns + "\nrules:\n" + slurp(files / "role-rules.yaml") +
             "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n"
             "  name: clusterpolicy-operator-test\n  namespace: " + ns + "\nroleRef:\n"
             "  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: clusterpolicy-operator-test\n" + subject,
             "namespace");
}

pid_t spawn_logged(std::vector<std::string> args, const fs::path& log) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + args.front());
  return pid;
}

int stop_child(pid_t pid) {
  if (pid <= 0) return -1;
  kill(pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 300; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

GpuSimProcess::GpuSimProcess(const TestCluster& cluster, const std::string& ns, const std::string& delay) {
  log_ = cluster.dir() / ("gpu-sim-" + std::to_string(free_port()) + ".log");
  pid_ = spawn_logged({CPO_GPU_SIM_BINARY, "--kubeconfig=" + cluster.admin_kubeconfig().string(),
                       "--namespace=" + ns, "--delay=" + delay},
                      log_);
}

GpuSimProcess::~GpuSimProcess() { stop_child(pid_); }

std::string GpuSimProcess::log_tail(std::size_t bytes) const {
  std::string all = slurp(log_);
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

OperatorProcess::OperatorProcess(const TestCluster& cluster, const fs::path& kubeconfig, const std::string& ns,
                                 const std::vector<std::string>& extra_args)
    : health_port_(free_port()), metrics_port_(free_port()) {
  log_ = cluster.dir() / ("operator-" + std::to_string(health_port_) + ".log");
  std::vector<std::string> args = {CPO_OPERATOR_BINARY,
                                   "run",
                                   "--kubeconfig=" + kubeconfig.string(),
                                   "--namespace=" + ns,
                                   "--health-probe-bind-address=127.0.0.1:" + std::to_string(health_port_),
                                   "--metrics-bind-address=127.0.0.1:" + std::to_string(metrics_port_),
                                   "--log-level=debug"};
  // Plain /metrics on loopback (the development mode), unless a test asks for HTTPS.
  const bool secure_asked = std::any_of(extra_args.begin(), extra_args.end(), [](const std::string& a) {
    return a.rfind("--metrics-secure", 0) == 0 || a.rfind("--metrics-cert-dir", 0) == 0;
  });
  if (!secure_asked) args.push_back("--metrics-secure=false");
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = spawn_logged(args, log_);
  if (!eventually([&] { int s = 0; get(health_port_, "/healthz", &s); return s == 200 || !running(); },
                  std::chrono::seconds(20)) || !running()) {
    throw std::runtime_error("the operator did not come up; its log:\n" + log_tail());
  }
}

OperatorProcess::~OperatorProcess() { stop(); }

bool OperatorProcess::running() const {
  if (pid_ <= 0) return false;
  return waitpid(pid_, nullptr, WNOHANG) == 0;
}

void OperatorProcess::kill_now() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int OperatorProcess::stop() {
  const int status = stop_child(pid_);
  pid_ = -1;
  return status;
}

std::string OperatorProcess::log_tail(std::size_t bytes) const {
  std::string all = slurp(log_);
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

std::string OperatorProcess::get(unsigned short port, const std::string& path, int* status) const {
  try {
    auto response = local_http_get(port, path);
    if (status) *status = response.status;
    return response.body;
  } catch (const std::exception&) {
    if (status) *status = 0;
    return {};
  }
}

double OperatorProcess::requests(const std::vector<std::string>& methods) const {
  std::string text = get(metrics_port_, "/metrics");
  static const std::regex line(R"re(^rest_client_requests_total\{([^}]*)\} ([0-9.e+]+)$)re");
  double total = 0;
  std::istringstream in(text);
  std::string row;
  while (std::getline(in, row)) {
    std::smatch m;
    if (!std::regex_match(row, m, line)) continue;
    for (const auto& method : methods) {
      if (m[1].str().find("method=\"" + method + "\"") != std::string::npos) total += std::stod(m[2]);
    }
  }
  return total;
}

}  // namespace cpo::testing
