#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "runtime/tls_rotation.hpp"

using namespace cpo::runtime;
using Action = TlsRotation::Action;

namespace {

TlsReading usable(const TlsIdentity& identity) { return {identity, ""}; }

TlsReading unusable(const std::string& certificate, const std::string& key, const std::string& problem) {
  return {TlsIdentity{certificate, key, false}, problem};
}

TlsReading unreadable(const std::string& problem) { return {std::nullopt, problem}; }

// A directory of its own holding tls.crt and tls.key, removed at the end.
struct CertDir {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("cpo-tls-rotation-" + std::to_string(::getpid()));
  CertDir() { std::filesystem::create_directories(path); }
  ~CertDir() { std::filesystem::remove_all(path); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
};

}  // namespace

TEST_CASE("Certificate rotation: a changed usable pair is loaded, an unchanged one is not", "[tls]") {
  const TlsIdentity a{"cert A", "key A", false};
  const TlsIdentity b{"cert B", "key B", false};
  TlsRotation rotation(a);
  CHECK(rotation.consider(usable(a)) == Action::Keep);
  CHECK(rotation.consider(usable(b)) == Action::Load);
  CHECK(rotation.consider(usable(b)) == Action::Keep);
  CHECK(rotation.consider(usable(b)) == Action::Keep);
  // Only the key changing is a new pair too.
  CHECK(rotation.consider(usable({"cert B", "key B2", false})) == Action::Load);
  CHECK(rotation.consider(usable(a)) == Action::Load);
}

TEST_CASE("Certificate rotation: an unusable pair is reported once, when read twice in a row", "[tls]") {
  const TlsIdentity a{"cert A", "key A", false};
  TlsRotation rotation(a);
  const TlsReading mismatched = unusable("cert B", "key A", "tls.key is not the private key of the certificate");
  CHECK(rotation.consider(mismatched) == Action::Keep);  // maybe read across a swap
  CHECK(rotation.consider(mismatched) == Action::Warn);
  for (int poll = 0; poll < 5; ++poll) CHECK(rotation.consider(mismatched) == Action::Keep);

  // Another unusable pair is news, reported once as well.
  const TlsReading garbage = unusable("garbage", "key A", "tls.crt holds no PEM certificate");
  CHECK(rotation.consider(garbage) == Action::Keep);
  CHECK(rotation.consider(garbage) == Action::Warn);
  CHECK(rotation.consider(garbage) == Action::Keep);

  // A file that cannot be read counts by its reason.
  const TlsReading missing = unreadable("cannot read metrics certificate /d/tls.crt: No such file or directory");
  CHECK(rotation.consider(missing) == Action::Keep);
  CHECK(rotation.consider(missing) == Action::Warn);
  CHECK(rotation.consider(missing) == Action::Keep);
}

TEST_CASE("Certificate rotation: a pair whole again at the next poll is loaded without a warning", "[tls]") {
  const TlsIdentity a{"cert A", "key A", false};
  const TlsIdentity b{"cert B", "key B", false};
  TlsRotation rotation(a);
  CHECK(rotation.consider(unusable("cert B", "key A", "mismatch")) == Action::Keep);
  CHECK(rotation.consider(usable(b)) == Action::Load);

  // After going back to the served pair, the same unusable pair is reported again.
  CHECK(rotation.consider(unusable("cert C", "key B", "mismatch")) == Action::Keep);
  CHECK(rotation.consider(unusable("cert C", "key B", "mismatch")) == Action::Warn);
  CHECK(rotation.consider(usable(b)) == Action::Keep);
  CHECK(rotation.consider(unusable("cert C", "key B", "mismatch")) == Action::Keep);
  CHECK(rotation.consider(unusable("cert C", "key B", "mismatch")) == Action::Warn);
}

TEST_CASE("Certificate pairs are checked: PEM, and a key that is the certificate's", "[tls]") {
  const TlsIdentity a = self_signed_identity("metrics-a");
  const TlsIdentity b = self_signed_identity("metrics-b");
  CHECK_FALSE(tls_identity_problem(a, "/d").has_value());
  CHECK(tls_identity_problem({a.certificate_pem, b.private_key_pem, false}, "/d") ==
        "/d/tls.key is not the private key of the certificate in /d/tls.crt");
  CHECK_THAT(tls_identity_problem({"not PEM", a.private_key_pem, false}, "/d").value_or(""),
             Catch::StartsWith("/d/tls.crt holds no PEM certificate"));
  const std::string half_written = a.certificate_pem.substr(0, a.certificate_pem.size() / 2);
  CHECK_THAT(tls_identity_problem({half_written, a.private_key_pem, false}, "/d").value_or(""),
             Catch::StartsWith("/d/tls.crt holds no PEM certificate"));
  CHECK_THAT(tls_identity_problem({a.certificate_pem, "", false}, "/d").value_or(""),
             Catch::StartsWith("/d/tls.key holds no PEM private key"));
  CHECK_THAT(describe_certificate(a.certificate_pem),
             Catch::Matches("subject CN=metrics-a, valid until .* GMT"));
  CHECK(describe_certificate("garbage").empty());
}

TEST_CASE("Certificate directories are read and checked without throwing", "[tls]") {
  const TlsIdentity a = self_signed_identity("metrics-a");
  const TlsIdentity b = self_signed_identity("metrics-b");
  CertDir dir;
  const TlsReading nothing = read_tls_directory(dir.path.string());
  CHECK_FALSE(nothing.identity.has_value());
  CHECK_THAT(nothing.problem, Catch::Contains((dir.path / "tls.crt").string()));

  dir.write("tls.crt", a.certificate_pem);
  dir.write("tls.key", a.private_key_pem);
  const TlsReading whole = read_tls_directory(dir.path.string());
  CHECK(whole.problem.empty());
  REQUIRE(whole.identity.has_value());
  CHECK(whole.identity->certificate_pem == a.certificate_pem);

  dir.write("tls.key", b.private_key_pem);
  const TlsReading mismatched = read_tls_directory(dir.path.string());
  CHECK(mismatched.identity.has_value());
  CHECK_THAT(mismatched.problem, Catch::Contains("tls.key is not the private key"));
}
