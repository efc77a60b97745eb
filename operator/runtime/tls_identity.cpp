#include "runtime/tls_identity.hpp"

#include <functional>
#include <memory>
#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "util/file_read.hpp"

namespace cpo::runtime {

namespace {

constexpr std::size_t kMaxPemBytes = 1 << 20;

[[noreturn]] void fail(const std::string& what) {
  char text[256] = {0};
  ERR_error_string_n(ERR_get_error(), text, sizeof text);
  throw std::runtime_error("making a self-signed certificate: " + what + ": " + text);
}

template <typename T, void (*Free)(T*)>
struct Freer {
  void operator()(T* p) const { Free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Freer<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Freer<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Freer<BIO, BIO_free_all>>;

std::string pem_of(const std::function<int(BIO*)>& write) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) fail("writing PEM");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

void add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) fail("extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

Bio read_only_bio(const std::string& text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

Cert first_certificate(const std::string& pem) {
  Bio bio = read_only_bio(pem);
  return Cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();
  const char* reason = code ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason ? std::string(": ") + reason : std::string();
}

// What `write` prints, or "?" when it fails.
std::string text_of(const std::function<int(BIO*)>& write) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) {
    ERR_clear_error();
    return "?";
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

std::optional<std::string> tls_identity_problem(const TlsIdentity& identity, const std::string& dir) {
  Cert leaf = first_certificate(identity.certificate_pem);
  if (!leaf) return dir + "/tls.crt holds no PEM certificate" + openssl_reason();
  Bio key_bio = read_only_bio(identity.private_key_pem);
  Key key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return dir + "/tls.key holds no PEM private key" + openssl_reason();
  if (X509_check_private_key(leaf.get(), key.get()) != 1) {
    ERR_clear_error();
    return dir + "/tls.key is not the private key of the certificate in " + dir + "/tls.crt";
  }
  return std::nullopt;
}

std::string describe_certificate(const std::string& certificate_pem) {
  Cert leaf = first_certificate(certificate_pem);
  if (!leaf) {
    ERR_clear_error();
    return "";
  }
  const std::string subject = text_of([&](BIO* bio) {
    return X509_NAME_print_ex(bio, X509_get_subject_name(leaf.get()), 0, XN_FLAG_RFC2253) >= 0 ? 1 : 0;
  });
  const std::string not_after =
      text_of([&](BIO* bio) { return ASN1_TIME_print(bio, X509_get0_notAfter(leaf.get())); });
  return "subject " + subject + ", valid until " + not_after;
}

TlsIdentity load_tls_identity(const std::string& dir) {
  TlsIdentity identity;
  identity.certificate_pem = util::read_file(dir + "/tls.crt", "metrics certificate", kMaxPemBytes);
  identity.private_key_pem = util::read_file(dir + "/tls.key", "metrics private key", kMaxPemBytes);
  return identity;
}

TlsIdentity self_signed_identity(const std::string& common_name) {
  Key key(EVP_EC_gen("P-256"));
  if (!key) fail("generating a P-256 key");
  Cert cert(X509_new());
  if (!cert) fail("allocating");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) fail("drawing a serial number");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  add_extension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,DNS:" + common_name);
  add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), NID_key_usage, "critical,digitalSignature");
  add_extension(cert.get(), NID_ext_key_usage, "serverAuth");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) fail("signing");
  TlsIdentity identity;
  identity.self_signed = true;
  identity.certificate_pem = pem_of([&](BIO* bio) { return PEM_write_bio_X509(bio, cert.get()); });
  identity.private_key_pem = pem_of([&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  return identity;
}

}  // namespace cpo::runtime
