#include "nzeza/venues/sim/cert.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nzeza/net/tls.h"

namespace nzeza::sim {
namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;
using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

std::string OpenSslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no detail";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    const std::string msg = absl::StrCat(what, " \"", path, "\": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(msg);
    if (err == EACCES) return absl::PermissionDeniedError(msg);
    return absl::InvalidArgumentError(msg);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(what, " \"", path, "\": ", std::strerror(err)));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1u << 20)) {
      ::close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(what, " \"", path, "\": larger than 1 MiB, not a PEM file"));
    }
  }
  ::close(fd);
  return out;
}

}  // namespace

absl::StatusOr<SimCert> GenerateSimCert(int valid_days) {
  if (valid_days < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate validity must be at least 1 day, got ", valid_days));
  }
  absl::StatusOr<SelfSignedCert> c =
      GenerateSelfSignedCert({"localhost"}, {"127.0.0.1", "::1"}, valid_days);
  if (!c.ok()) return c.status();
  SimCert out;
  out.cert_pem = std::move(c->cert_pem);
  out.key_pem = std::move(c->key_pem);
  out.generated = true;
  return out;
}

absl::StatusOr<SimCert> LoadSimCert(std::string cert_pem, std::string key_pem) {
  ERR_clear_error();
  Bio cb(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), BIO_free);
  if (!cb) return absl::InternalError("BIO_new_mem_buf failed");
  Cert cert(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) {
    return absl::InvalidArgumentError(
        absl::StrCat("the certificate is not a PEM X.509 certificate: ", OpenSslError()));
  }
  Bio kb(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), BIO_free);
  if (!kb) return absl::InternalError("BIO_new_mem_buf failed");
  PKey key(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) {
    return absl::InvalidArgumentError(
        absl::StrCat("the key is not an unencrypted PEM private key: ", OpenSslError()));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the private key does not belong to the certificate");
  }
  SimCert out;
  out.cert_pem = std::move(cert_pem);
  out.key_pem = std::move(key_pem);
  out.generated = false;
  return out;
}

absl::StatusOr<SimCert> LoadSimCertFiles(const std::string& cert_file,
                                         const std::string& key_file) {
  absl::StatusOr<std::string> cert = ReadFile(cert_file, "certificate file");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile(key_file, "key file");
  if (!key.ok()) return key.status();
  absl::StatusOr<SimCert> out = LoadSimCert(std::move(*cert), std::move(*key));
  if (!out.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("certificate \"", cert_file, "\" / key \"",
                                                   key_file, "\": ", out.status().message()));
  }
  return out;
}

absl::StatusOr<SimCert> MakeSimCert(const SimCertOptions& options) {
  const bool pem = !options.cert_pem.empty() || !options.key_pem.empty();
  const bool files = !options.cert_file.empty() || !options.key_file.empty();
  if (pem && files) {
    return absl::InvalidArgumentError("give the certificate as PEM text or as files, not both");
  }
  if (pem) {
    if (options.cert_pem.empty() || options.key_pem.empty()) {
      return absl::InvalidArgumentError("a certificate needs both cert_pem and key_pem");
    }
    return LoadSimCert(options.cert_pem, options.key_pem);
  }
  if (files) {
    if (options.cert_file.empty() || options.key_file.empty()) {
      return absl::InvalidArgumentError("a certificate needs both cert_file and key_file");
    }
    return LoadSimCertFiles(options.cert_file, options.key_file);
  }
  return GenerateSimCert(options.valid_days);
}

absl::Status WriteCaFile(const std::string& path, std::string_view cert_pem) {
  if (path.empty()) return absl::InvalidArgumentError("the CA file path is empty");
  const std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    const std::string msg =
        absl::StrCat("cannot write the CA file \"", path, "\": ", std::strerror(err));
    return err == EACCES ? absl::PermissionDeniedError(msg) : absl::InternalError(msg);
  }
  size_t off = 0;
  while (off < cert_pem.size()) {
    const ssize_t n = ::write(fd, cert_pem.data() + off, cert_pem.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return absl::InternalError(
          absl::StrCat("writing the CA file \"", path, "\": ", std::strerror(err)));
    }
    off += static_cast<size_t>(n);
  }
  ::fchmod(fd, 0644);  // whatever the umask: clients of other users may need to read it
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return absl::InternalError(
        absl::StrCat("writing the CA file \"", path, "\": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace nzeza::sim
