#include "support/fault_proxy.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/operator_process.hpp"

namespace cpo::testing {

namespace fs = std::filesystem;

namespace {

std::string first_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string file_text(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

FaultProxy::FaultProxy(const TestCluster& cluster) : cluster_(cluster) {
  static int instance = 0;
  dir_ = cluster.dir() / ("fault-proxy-" + std::to_string(::getpid()) + "-" + std::to_string(instance++));
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  const std::string ports = file_text(cluster.dir() / "ports");
  const auto at = ports.find("APISERVER_PORT=");
  if (at == std::string::npos) throw std::runtime_error("no APISERVER_PORT in " + (cluster.dir() / "ports").string());
  const std::string port = ports.substr(at + 15, ports.find('\n', at) - at - 15);
  pid_ = spawn_logged({CPO_FAULT_PROXY_BINARY, "--upstream=https://127.0.0.1:" + port,
                       "--upstream-ca=" + (cluster.dir() / "pki" / "ca.crt").string(), "--dir=" + dir_.string()},
                      dir_ / "proxy.log");
  const bool listening = eventually([&] { return fs::exists(dir_ / "address"); }, std::chrono::seconds(10));
  if (!listening) throw std::runtime_error("cpo-fault-proxy did not start: " + log_tail());
  address_ = first_line(dir_ / "address");
  control_ = first_line(dir_ / "control");
}

FaultProxy::~FaultProxy() {
  if (pid_ > 0) stop_child(pid_);
}

fs::path FaultProxy::identity_kubeconfig(const std::string& ns, const std::string& name) const {
  const std::string token = first_line(cluster_.dir() / ("token-" + ns + "-" + name));
  const fs::path path = dir_ / ("kubeconfig-" + ns + "-" + name);
  write_token_kubeconfig(path, address_, dir_ / "ca.crt", name, token);
  return path;
}

std::string FaultProxy::control(const std::string& method, const std::string& path, const std::string& body) const {
  std::string command = "curl -sS --fail-with-body --max-time 10 -X " + method + " " + shell_quote(control_ + path);
  if (!body.empty()) command += " --data-binary " + shell_quote(body);
  CommandResult result = run_command(command);
  if (result.exit_code != 0) throw std::runtime_error("fault proxy " + method + " " + path + ": " + result.output);
  return result.output;
}

void FaultProxy::set(const nlohmann::json& faults) const { control("PUT", "/faults", faults.dump()); }

nlohmann::json FaultProxy::stats() const { return nlohmann::json::parse(control("GET", "/stats")); }

void FaultProxy::reset() const { control("POST", "/reset"); }

std::string FaultProxy::log_tail(std::size_t bytes) const {
  const std::string text = file_text(dir_ / "proxy.log");
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

}  // namespace cpo::testing
