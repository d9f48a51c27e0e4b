// The simulated venue's TLS certificate: generated at start (self-signed, short-lived) or loaded
// from files, and written out for clients to trust as their explicit CA.
//
//   absl::StatusOr<sim::SimCert> cert = sim::MakeSimCert({});        // generate
//   absl::Status s = sim::WriteCaFile("/tmp/sim-ca.pem", cert->cert_pem);
//   TlsClientOptions trust{.ca_file = "/tmp/sim-ca.pem"};              // verification stays on
//
// A generated certificate is an EC P-256 key and a self-signed certificate (CA:TRUE, so it is its
// own trust anchor) with CN "localhost" and subjectAltNames DNS:localhost, IP:127.0.0.1, IP:::1,
// valid from an hour ago for `valid_days`. Clients verify it by naming it as their CA, never by
// turning verification off.
//
// Thread: any; control plane only (allocates, reads and writes files).
#ifndef NZEZA_VENUES_SIM_CERT_H_
#define NZEZA_VENUES_SIM_CERT_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace nzeza::sim {

// Where the certificate comes from: PEM text (cert_pem + key_pem), files (cert_file +
// key_file), or, when all four are empty, generated.
struct SimCertOptions {
  std::string cert_pem = {};
  std::string key_pem = {};
  std::string cert_file = {};
  std::string key_file = {};
  int valid_days = 2;  // generated certificates only
};

struct SimCert {
  std::string cert_pem;  // the certificate (also the CA clients trust when self-signed)
  std::string key_pem;   // its private key
  bool generated = false;
};

// A fresh self-signed certificate (see the file comment). Errors: Internal for an OpenSSL
// failure; InvalidArgument for valid_days < 1.
absl::StatusOr<SimCert> GenerateSimCert(int valid_days = 2);

// Checks a given certificate and key: both parse as PEM and the key belongs to the certificate.
// Errors: InvalidArgument naming which one is wrong.
absl::StatusOr<SimCert> LoadSimCert(std::string cert_pem, std::string key_pem);

// Reads both files, then as LoadSimCert. Errors: NotFound / PermissionDenied naming the file, or
// InvalidArgument as above.
absl::StatusOr<SimCert> LoadSimCertFiles(const std::string& cert_file, const std::string& key_file);

// Generates or loads per `options`. Errors: InvalidArgument when only one of a pair is given, or
// any error of the functions above.
absl::StatusOr<SimCert> MakeSimCert(const SimCertOptions& options);

// Writes `cert_pem` to `path` (mode 0644, via a temporary file renamed into place, so a reader
// never sees half a file). Errors: InvalidArgument for an empty path; Internal / PermissionDenied
// naming the path for I/O failures.
absl::Status WriteCaFile(const std::string& path, std::string_view cert_pem);

}  // namespace nzeza::sim

#endif  // NZEZA_VENUES_SIM_CERT_H_
