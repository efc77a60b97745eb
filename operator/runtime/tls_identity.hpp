// The certificate the secure /metrics endpoint presents: tls.crt and tls.key from
// a directory (a Secret mounted there, e.g. one cert-manager issues), else a
// self-signed one made at start, as controller-runtime does. A scraper then
// verifies with the directory's CA, or skips verification of the self-signed one
// (Prometheus' `insecure_skip_verify`); the bearer token is what guards access.
#pragma once

#include <optional>
#include <string>

namespace cpo::runtime {

struct TlsIdentity {
  std::string certificate_pem;  // the chain, leaf first
  std::string private_key_pem;
  bool self_signed = false;
};

// From DIR/tls.crt and DIR/tls.key. Throws std::runtime_error naming the file.
TlsIdentity load_tls_identity(const std::string& dir);

// Why `identity` cannot be served, naming the file at fault (`dir`/tls.crt or
// `dir`/tls.key): no certificate in it, no private key in it, or a key that is not
// the certificate's. std::nullopt when the pair is usable.
std::optional<std::string> tls_identity_problem(const TlsIdentity& identity, const std::string& dir);

// "subject CN=metrics, valid until Jan  1 00:00:00 2030 GMT" for the first
// certificate of `certificate_pem`; "" when there is none.
std::string describe_certificate(const std::string& certificate_pem);

// A fresh P-256 key and a certificate for `common_name`, valid a year, for the
// names localhost and 127.0.0.1 (and `common_name`).
TlsIdentity self_signed_identity(const std::string& common_name);

}  // namespace cpo::runtime
