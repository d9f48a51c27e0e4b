// The operations endpoint's bearer token: POST /resume (and POST /kill unless
// ops.kill_without_token) must carry "Authorization: Bearer <token>".
//
//   absl::StatusOr<nzeza::app::OpsToken> t = nzeza::app::LoadOrCreateOpsToken(cfg.ops);
//   if (!t.ok()) return t.status();               // names the key and the path, never the token
//   log.Info("ops: token in %s%s", t->source, t->created ? " (created)" : "");
//   OpsServer::Start({..., .token = std::move(t->token),
//                     .kill_without_token = cfg.ops.kill_without_token}, &provider);
//
//   $ curl -X POST -H "Authorization: Bearer $(cat nzeza-ops-token)" 127.0.0.1:9464/resume
//
// Where the token comes from (OpsConfig):
// - token_env set: that environment variable; it must be set and hold a valid token. Nothing is
//   ever generated for it.
// - otherwise token_file (default "nzeza-ops-token", relative to the working directory):
//   - the file exists: it is read under the secret-file rule of secrets.h (a regular file of this
//     user with no group/other permission bits, no symbolic link; a 0644 file is refused, never
//     replaced);
//   - the file does not exist: a fresh token (256 bits from OpenSSL's RAND_bytes, 64 lowercase hex
//     characters, then "\n") is written to a temporary file in the same directory created by
//     mkostemp (O_CREAT|O_EXCL, mode 0600, fchmod'ed 0600 whatever the umask), fsync'ed, and
//     published under the final name with link(2), which never replaces a file: when another
//     process created the token first, its file is read instead. The directory must exist.
//   Delete the file and restart to rotate the token.
// A valid token is 16 to 4096 characters of visible ASCII (0x21-0x7e: no spaces or control
// characters, which an HTTP header could not carry); trailing CR/LF (and spaces/tabs) are
// stripped, so `echo token > file` works.
//
// The token is held in a Secret (never prints, wiped on destruction) and never appears in a
// message: errors and OpsToken::source name the variable or the path only.
//
// Thread: control plane. Allocates: yes.
#ifndef NZEZA_APP_OPS_TOKEN_H_
#define NZEZA_APP_OPS_TOKEN_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nzeza/app/config.h"
#include "nzeza/app/secrets.h"

namespace nzeza::app {

// Bounds on a token's length, in characters.
inline constexpr size_t kMinOpsTokenChars = 16;
inline constexpr size_t kMaxOpsTokenChars = 4096;
// Random bytes in a generated token (hex-encoded: twice as many characters).
inline constexpr size_t kGeneratedOpsTokenBytes = 32;

struct OpsToken {
  Secret token;
  // Where it came from, for the start-up log line: "environment variable NZEZA_OPS_TOKEN" or
  // "file /var/lib/nzeza/ops-token". Never the token itself.
  std::string source;
  // The file holding the token ("" when it came from the environment): what an operator reads.
  std::string path;
  // Whether this call generated it (the file did not exist).
  bool created = false;
};

// Resolves the token as the file comment describes. Errors (every message starts with the key,
// "ops.token_env: " or "ops.token_file: ", and names the variable or path):
// - from the environment: NotFound (not set), InvalidArgument (empty or not a valid token);
// - from the file: as SecretFromFile (PermissionDenied for group/other permission bits: "... has
//   mode 0644; it must not be accessible by group or others: chmod 600 ..."; FailedPrecondition
//   for a symbolic link, not a regular file, another owner, too large), InvalidArgument (not a
//   valid token);
// - creating it: NotFound (the directory does not exist), PermissionDenied (the directory is not
//   writable), Internal (the random generator failed, or a write/fsync/link error).
absl::StatusOr<OpsToken> LoadOrCreateOpsToken(const OpsConfig& config);

// Whether `presented` equals `expected`, in time that depends on their lengths only (not on
// where they differ): CRYPTO_memcmp over equal lengths. An empty `expected` never matches.
// Thread: any. Allocates: no.
bool OpsTokenMatches(std::string_view presented, std::string_view expected) noexcept;

}  // namespace nzeza::app

#endif  // NZEZA_APP_OPS_TOKEN_H_
