#include "nzeza/net/tls.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl/context.hpp>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace nzeza {
namespace ssl = boost::asio::ssl;

namespace {

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error queued" : out;
}

constexpr long kContextOptions = ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                 ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                                 ssl::context::no_tlsv1_1 | ssl::context::single_dh_use;

}  // namespace

absl::StatusOr<TlsContext> MakeClientTlsContext(const TlsClientOptions& options) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(kContextOptions);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  if (!options.ca_file.empty()) {
    std::ifstream probe(options.ca_file);
    if (!probe) {
      return absl::InvalidArgumentError(
          absl::StrFormat("TLS CA file %s cannot be read", options.ca_file));
    }
    ctx->load_verify_file(options.ca_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "TLS CA file %s holds no usable PEM certificate: %s", options.ca_file, ec.message()));
    }
  }
  if (!options.ca_pem.empty()) {
    ctx->add_certificate_authority(boost::asio::buffer(options.ca_pem), ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrFormat("TLS CA PEM text is not a usable certificate: %s", ec.message()));
    }
  }
  if (options.ca_file.empty() && options.ca_pem.empty()) {
    ctx->set_default_verify_paths(ec);
    if (ec) {
      return absl::InternalError(absl::StrFormat("cannot load the system CA store: %s (%s)",
                                                 ec.message(), OpenSslErrors()));
    }
  }
  ctx->set_verify_mode(options.verify_peer ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
                                           : ssl::verify_none);
  return ctx;
}

absl::StatusOr<TlsContext> MakeServerTlsContext(const std::string& cert_pem,
                                                const std::string& key_pem) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(kContextOptions);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  ctx->use_certificate_chain(boost::asio::buffer(cert_pem), ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrFormat("server certificate PEM is not usable: %s", ec.message()));
  }
  ctx->use_private_key(boost::asio::buffer(key_pem), ssl::context::pem, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "server private key PEM is not usable or does not match the certificate: %s",
        ec.message()));
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return absl::InvalidArgumentError("server private key does not match its certificate");
  }
  return ctx;
}

absl::StatusOr<SelfSignedCert> GenerateSelfSignedCert(const std::vector<std::string>& dns_names,
                                                      const std::vector<std::string>& ip_addresses,
                                                      int valid_days) {
  using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
  using Cert = std::unique_ptr<X509, decltype(&X509_free)>;
  using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;

  for (const std::string& ip : ip_addresses) {
    ASN1_OCTET_STRING* parsed = a2i_IPADDRESS(ip.c_str());
    if (parsed == nullptr) {
      return absl::InvalidArgumentError(absl::StrFormat("\"%s\" is not an IP address", ip));
    }
    ASN1_OCTET_STRING_free(parsed);
  }
  PKey key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) return absl::InternalError("EC key generation failed: " + OpenSslErrors());
  Cert cert(X509_new(), X509_free);
  if (!cert) return absl::InternalError("X509_new failed");

  X509_set_version(cert.get(), 2);
  unsigned char serial_bytes[16];
  if (RAND_bytes(serial_bytes, sizeof(serial_bytes)) != 1) {
    return absl::InternalError("no randomness for a serial number: " + OpenSslErrors());
  }
  serial_bytes[0] &= 0x7f;  // positive
  BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof(serial_bytes), nullptr);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get()));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(valid_days) * 86400);
  X509_set_pubkey(cert.get(), key.get());

  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn = dns_names.empty() ? std::string("nzeza") : dns_names.front();
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("nzeza"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);

  std::vector<std::string> sans;
  for (const std::string& d : dns_names) sans.push_back("DNS:" + d);
  for (const std::string& ip : ip_addresses) sans.push_back("IP:" + ip);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  const std::string san_list = absl::StrJoin(sans, ",");
  const std::pair<int, std::string> extensions[] = {
      {NID_basic_constraints, "critical,CA:TRUE"},
      {NID_key_usage, "critical,digitalSignature,keyCertSign"},
      {NID_ext_key_usage, "serverAuth"},
      {NID_subject_key_identifier, "hash"},
      {NID_subject_alt_name, san_list},
  };
  for (const auto& [nid, value] : extensions) {
    if (nid == NID_subject_alt_name && value.empty()) continue;
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    if (ext == nullptr) {
      return absl::InternalError(
          absl::StrFormat("certificate extension %s failed: %s", value, OpenSslErrors()));
    }
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return absl::InternalError("certificate signing failed: " + OpenSslErrors());
  }

  auto to_pem = [](auto write) -> std::string {
    Bio bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!bio || write(bio.get()) != 1) return {};
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(len));
  };
  SelfSignedCert out;
  out.cert_pem = to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); });
  out.key_pem = to_pem([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  if (out.cert_pem.empty() || out.key_pem.empty()) {
    return absl::InternalError("PEM encoding failed: " + OpenSslErrors());
  }
  return out;
}

}  // namespace nzeza
