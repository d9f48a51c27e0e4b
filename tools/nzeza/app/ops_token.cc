#include "nzeza/app/ops_token.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace nzeza::app {
namespace {

// The token without the line end a file (or `echo`) adds, checked. `what` names the source for
// the message ("ops.token_file: file /p", "ops.token_env: environment variable X").
absl::StatusOr<Secret> ValidToken(const Secret& raw, std::string_view what) {
  std::string_view t = raw.Reveal();
  while (!t.empty() &&
         (t.back() == '\n' || t.back() == '\r' || t.back() == ' ' || t.back() == '\t')) {
    t.remove_suffix(1);
  }
  if (t.size() < kMinOpsTokenChars || t.size() > kMaxOpsTokenChars) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s does not hold a valid token: it must be %d to %d characters long", what,
                        kMinOpsTokenChars, kMaxOpsTokenChars));
  }
  for (char c : t) {
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s does not hold a valid token: it must be visible ASCII only (no spaces, tabs, control "
          "or non-ASCII characters inside it)",
          what));
    }
  }
  return Secret(t);
}

absl::Status Prefixed(std::string_view key, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrFormat("%s: %s", key, s.message()));
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status CreateError(int err, std::string_view doing, const std::string& path) {
  const std::string msg =
      absl::StrFormat("ops.token_file: cannot %s %s: %s", doing, path, std::strerror(err));
  if (err == ENOENT) {
    return absl::NotFoundError(
        absl::StrFormat("%s (the directory %s must exist)", msg, DirectoryOf(path)));
  }
  if (err == EACCES || err == EPERM || err == EROFS) return absl::PermissionDeniedError(msg);
  return absl::InternalError(msg);
}

// Reads an existing token file (the secret-file rule of secrets.h) and checks the token.
absl::StatusOr<Secret> ReadTokenFile(const std::string& path) {
  absl::StatusOr<Secret> raw = SecretFromFile(path);
  if (!raw.ok()) return Prefixed("ops.token_file", raw.status());
  return ValidToken(*raw, absl::StrFormat("ops.token_file: file %s", path));
}

// Generates a token into a new private file at `path`. Returns the token, or, when another
// process published the file first, what that file holds; `created` says which.
absl::StatusOr<Secret> CreateTokenFile(const std::string& path, bool* created) {
  unsigned char raw[kGeneratedOpsTokenBytes];
  if (RAND_bytes(raw, sizeof(raw)) != 1) {
    char err[256];
    ERR_error_string_n(ERR_get_error(), err, sizeof(err));
    return absl::InternalError(
        absl::StrFormat("ops.token_file: the OpenSSL random generator failed: %s", err));
  }
  static constexpr char kHex[] = "0123456789abcdef";
  char text[2 * kGeneratedOpsTokenBytes + 1];
  for (size_t i = 0; i < sizeof(raw); ++i) {
    text[2 * i] = kHex[raw[i] >> 4];
    text[2 * i + 1] = kHex[raw[i] & 0xf];
  }
  text[sizeof(text) - 1] = '\n';
  Secret token(std::string_view(text, sizeof(text) - 1));
  explicit_bzero(raw, sizeof(raw));

  std::string tmp = path + ".tmp.XXXXXX";
  // mkostemp: O_CREAT|O_EXCL, mode 0600 (a umask can only narrow it).
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    explicit_bzero(text, sizeof(text));
    return CreateError(err, "create a temporary file next to", path);
  }
  auto fail = [&](int err, std::string_view doing) {
    ::close(fd);
    ::unlink(tmp.c_str());
    explicit_bzero(text, sizeof(text));
    return CreateError(err, doing, path);
  };
  if (::fchmod(fd, 0600) != 0) return fail(errno, "set mode 0600 on the temporary file for");
  size_t written = 0;
  while (written < sizeof(text)) {
    const ssize_t w = ::write(fd, text + written, sizeof(text) - written);
    if (w < 0) {
      if (errno == EINTR) continue;
      return fail(errno, "write");
    }
    written += static_cast<size_t>(w);
  }
  explicit_bzero(text, sizeof(text));
  if (::fsync(fd) != 0) return fail(errno, "fsync");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return CreateError(err, "close", path);
  }
  // link(2), unlike rename(2), never replaces an existing file: a token file that appeared
  // meanwhile (another engine starting) wins and is read.
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    if (err == EEXIST) {
      *created = false;
      return ReadTokenFile(path);
    }
    return CreateError(err, "publish", path);
  }
  ::unlink(tmp.c_str());
  // Make the new name durable; a failure here loses nothing a restart cannot recreate.
  if (const int dir = ::open(DirectoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  *created = true;
  return ValidToken(token, absl::StrFormat("ops.token_file: file %s", path));
}

}  // namespace

bool OpsTokenMatches(std::string_view presented, std::string_view expected) noexcept {
  if (expected.empty() || presented.size() != expected.size()) return false;
  return CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) == 0;
}

absl::StatusOr<OpsToken> LoadOrCreateOpsToken(const OpsConfig& config) {
  OpsToken out;
  if (!config.token_env.empty()) {
    absl::StatusOr<Secret> raw = SecretFromEnv(config.token_env);
    if (!raw.ok()) return Prefixed("ops.token_env", raw.status());
    absl::StatusOr<Secret> t = ValidToken(
        *raw, absl::StrFormat("ops.token_env: environment variable %s", config.token_env));
    if (!t.ok()) return t.status();
    out.token = std::move(*t);
    out.source = absl::StrFormat("environment variable %s", config.token_env);
    return out;
  }
  if (config.token_file.empty()) {
    return absl::InvalidArgumentError(
        "ops.token_file: must not be empty (or set ops.token_env instead)");
  }
  const std::string& path = config.token_file;
  absl::StatusOr<Secret> raw = SecretFromFile(path);
  if (raw.ok()) {
    absl::StatusOr<Secret> t = ValidToken(*raw, absl::StrFormat("ops.token_file: file %s", path));
    if (!t.ok()) return t.status();
    out.token = std::move(*t);
  } else if (absl::IsNotFound(raw.status())) {
    absl::StatusOr<Secret> t = CreateTokenFile(path, &out.created);
    if (!t.ok()) return t.status();
    out.token = std::move(*t);
  } else {
    return Prefixed("ops.token_file", raw.status());
  }
  out.source = absl::StrFormat("file %s", path);
  out.path = path;
  return out;
}

}  // namespace nzeza::app
