// Certificate rotation for the secure /metrics endpoint, as controller-runtime's
// certwatcher does it: a Secret mounted in --metrics-cert-dir is replaced in place
// (the kubelet swaps the `..data` symlink; cert-manager renews before expiry), so
// the directory is read again every period and a new, usable pair is served to
// new TLS handshakes; connections already open keep the pair they started with.
//
// A pair that cannot be served (unreadable, not PEM, key not the certificate's)
// leaves the previous pair in service. It is worth one warning once it has been
// read on two polls in a row: a pair read across a swap, or while a writer is
// still writing, is usually whole again at the next poll.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "runtime/tls_identity.hpp"

namespace cpo::runtime {

// What the directory held at one poll.
struct TlsReading {
  std::optional<TlsIdentity> identity;  // both files, when they could be read
  std::string problem;                  // why the pair cannot be served; "" when it can
};

// DIR/tls.crt and DIR/tls.key, read (bounded) and checked. Never throws.
TlsReading read_tls_directory(const std::string& dir);

// The decision at each poll, from what was read and what is served. Pure.
class TlsRotation {
 public:
  enum class Action {
    Keep,  // nothing to do: the served pair, or an unusable one not (or already) reported
    Load,  // a new usable pair: serve it
    Warn,  // an unusable pair read twice in a row: report it, once
  };

  explicit TlsRotation(const TlsIdentity& served);

  // A Load counts as served from then on; a Warn as reported.
  Action consider(const TlsReading& reading);

 private:
  std::string served_;    // fingerprint of the pair in service
  std::string unusable_;  // fingerprint of the last unusable reading
  bool reported_ = false;  // whether unusable_ was warned about
};

// Polls a directory on a thread of its own and hands each new usable pair to
// `install`, which may throw (the pair is then reported as not served).
class CertificateWatcher {
 public:
  using Install = std::function<void(const TlsIdentity&)>;
  CertificateWatcher(std::string dir, const TlsIdentity& served, std::chrono::milliseconds period, Install install);
  ~CertificateWatcher();  // stops and joins the thread
  CertificateWatcher(const CertificateWatcher&) = delete;
  CertificateWatcher& operator=(const CertificateWatcher&) = delete;

 private:
  void poll();

  std::string dir_;
  std::chrono::milliseconds period_;
  Install install_;
  TlsRotation rotation_;
  std::jthread thread_;  // last: started once everything it uses is built
};

}  // namespace cpo::runtime
