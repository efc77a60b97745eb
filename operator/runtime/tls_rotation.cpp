#include "runtime/tls_rotation.hpp"

#include <condition_variable>
#include <mutex>
#include <stop_token>

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include "util/file_read.hpp"

namespace cpo::runtime {

namespace {

// SHA-256 of both files: a poll that finds them unchanged costs no parsing, and
// the watcher keeps no second copy of the private key (unless no digest can be made).
std::string fingerprint_of(const TlsIdentity& identity) {
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  const std::string separator(1, '\0');
  const bool ok = context && EVP_DigestInit_ex(context, EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(context, identity.certificate_pem.data(), identity.certificate_pem.size()) == 1 &&
                  EVP_DigestUpdate(context, separator.data(), separator.size()) == 1 &&
                  EVP_DigestUpdate(context, identity.private_key_pem.data(), identity.private_key_pem.size()) == 1 &&
                  EVP_DigestFinal_ex(context, digest, &size) == 1;
  EVP_MD_CTX_free(context);
  // Without a digest, the content itself tells pairs apart just as well.
  if (!ok) return "content:" + identity.certificate_pem + separator + identity.private_key_pem;
  return "sha256:" + std::string(reinterpret_cast<const char*>(digest), size);
}

// A reading's identity for the decision: its content, or the failure to read it.
std::string fingerprint_of(const TlsReading& reading) {
  return reading.identity ? fingerprint_of(*reading.identity) : "unreadable:" + reading.problem;
}

}  // namespace

TlsReading read_tls_directory(const std::string& dir) {
  TlsReading reading;
  try {
    reading.identity = load_tls_identity(dir);
  } catch (const std::exception& e) {
    reading.problem = e.what();
    return reading;
  }
  reading.problem = tls_identity_problem(*reading.identity, dir).value_or("");
  return reading;
}

TlsRotation::TlsRotation(const TlsIdentity& served) : served_(fingerprint_of(served)) {}

TlsRotation::Action TlsRotation::consider(const TlsReading& reading) {
  const std::string fingerprint = fingerprint_of(reading);
  if (fingerprint == served_) {
    // Back to the pair in service: a later unusable pair is news again.
    unusable_.clear();
    reported_ = false;
    return Action::Keep;
  }
  if (reading.problem.empty()) {
    served_ = fingerprint;
    unusable_.clear();
    reported_ = false;
    return Action::Load;
  }
  if (fingerprint != unusable_) {
    unusable_ = fingerprint;
    reported_ = false;
    return Action::Keep;
  }
  if (reported_) return Action::Keep;
  reported_ = true;
  return Action::Warn;
}

CertificateWatcher::CertificateWatcher(std::string dir, const TlsIdentity& served, std::chrono::milliseconds period,
                                       Install install)
    : dir_(std::move(dir)), period_(period), install_(std::move(install)), rotation_(served) {
  thread_ = std::jthread([this](std::stop_token stop) {
    std::mutex mutex;
    std::condition_variable_any wake;
    std::unique_lock lock(mutex);
    while (true) {
      wake.wait_for(lock, stop, period_, [] { return false; });
      if (stop.stop_requested()) return;
      poll();
    }
  });
}

CertificateWatcher::~CertificateWatcher() = default;

void CertificateWatcher::poll() {
  const TlsReading reading = read_tls_directory(dir_);
  switch (rotation_.consider(reading)) {
    case TlsRotation::Action::Keep:
      return;
    case TlsRotation::Action::Warn:
      spdlog::warn("metrics certificate not reloaded: {}; still serving the previous one", reading.problem);
      return;
    case TlsRotation::Action::Load:
      break;
  }
  try {
    install_(*reading.identity);
    spdlog::info("metrics certificate reloaded from {}: {}", dir_, describe_certificate(reading.identity->certificate_pem));
  } catch (const std::exception& e) {
    spdlog::warn("metrics certificate not reloaded: {}; still serving the previous one", e.what());
  }
}

}  // namespace cpo::runtime
