// TLS contexts for venue connections and for the servers nzeza runs itself (the simulated venue,
// test servers), and self-signed certificate generation.
//
//   absl::StatusOr<TlsContext> client = MakeClientTlsContext(TlsClientOptions{});  // system CAs
//   SelfSignedCert cert = *GenerateSelfSignedCert({"localhost"}, {"127.0.0.1", "::1"});
//   absl::StatusOr<TlsContext> server = MakeServerTlsContext(cert.cert_pem, cert.key_pem);
//   TlsClientOptions trust_it{.ca_pem = cert.cert_pem};   // verification stays on
//
// Certificate verification is on by default and nothing here turns it off implicitly: a private
// or test server is trusted by naming its CA (ca_file / ca_pem), never by skipping verification.
// Control plane only (allocates, may read files).
#ifndef NZEZA_NET_TLS_H_
#define NZEZA_NET_TLS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace boost::asio::ssl {
class context;
}

namespace nzeza {

struct TlsClientOptions {
  // Verify the server's certificate chain and name. Turning this off is for diagnostics only and
  // must be asked for explicitly (the engine's configuration refuses it for venues).
  bool verify_peer = true;
  // Extra trust anchors: a PEM file path and/or PEM text. When either is set the system store is
  // not used, so a test or simulated venue is trusted and nothing else.
  std::string ca_file;
  std::string ca_pem;
};

// An OpenSSL context (boost::asio::ssl::context) behind a shared pointer, so sessions can keep it
// alive. Thread: immutable after creation; shareable across connections.
using TlsContext = std::shared_ptr<boost::asio::ssl::context>;

// TLS 1.2+ client context. Errors: InvalidArgument for an unreadable CA file or malformed PEM,
// Internal if OpenSSL cannot load the system store.
absl::StatusOr<TlsContext> MakeClientTlsContext(const TlsClientOptions& options);

// TLS 1.2+ server context from PEM certificate (chain) and private key. Errors: InvalidArgument
// for malformed PEM or a key that does not match the certificate.
absl::StatusOr<TlsContext> MakeServerTlsContext(const std::string& cert_pem,
                                                const std::string& key_pem);

struct SelfSignedCert {
  std::string cert_pem;
  std::string key_pem;
};

// An EC P-256 self-signed certificate (CA:TRUE, so clients can name it as their trust anchor),
// valid from one hour ago for `valid_days`, with the given DNS names and IP addresses as
// subjectAltNames (the first DNS name is also the CN). Errors: InvalidArgument for a malformed IP
// address; Internal for an OpenSSL failure.
absl::StatusOr<SelfSignedCert> GenerateSelfSignedCert(const std::vector<std::string>& dns_names,
                                                      const std::vector<std::string>& ip_addresses,
                                                      int valid_days = 30);

}  // namespace nzeza

#endif  // NZEZA_NET_TLS_H_
