// Credentials for the venue: loaded from environment variables or from a private file, held in a
// Secret that never prints and wipes its memory.
//
//   absl::StatusOr<nzeza::app::Credentials> c = nzeza::app::LoadCredentials(cfg.venue.credentials);
//   if (!c.ok()) { log(c.status().message()); }   // names the variable or path, never the value
//   signer.Init(c->key_name, c->private_key.Reveal());
//   LOG(INFO) << c->private_key;                  // prints "<redacted>"
//
// The file rule (as ssh applies to its keys): a secret file must be a regular file owned by the
// effective user with no permission bits for group or others (st_mode & 077 == 0, e.g. 0600 or
// 0400); anything else is refused before a byte is read, with an error naming the path, the mode
// and the fix. The check is made on the opened descriptor (fstat), so the file that was checked is
// the file that is read; symbolic links are not followed.
//
// Thread: control plane. Allocates: yes.
#ifndef NZEZA_APP_SECRETS_H_
#define NZEZA_APP_SECRETS_H_

#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "nzeza/app/config.h"

namespace nzeza::app {

// Bytes that must not leak: printing gives "<redacted>"; the destructor (and move-from) wipes the
// buffer with explicit_bzero, which the compiler may not elide. Move-only, so no stray copies.
// Reveal() is the one way to the bytes; keep what it returns no longer than needed.
//
// Thread: a plain value. Allocates: one buffer of the secret's size.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string_view bytes);
  ~Secret();
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;

  std::string_view Reveal() const noexcept { return {data_.get(), size_}; }
  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "<redacted>"; }
  // absl::StrFormat("%s", secret) (and absl::StrCat with Abseil >= 20230125, whose
  // AbslStringify the Debian 12 Abseil predates).
  friend absl::FormatConvertResult<absl::FormatConversionCharSet::kString> AbslFormatConvert(
      const Secret&, const absl::FormatConversionSpec&, absl::FormatSink* sink) {
    sink->Append("<redacted>");
    return {true};
  }
  template <typename Sink>
  friend void AbslStringify(Sink& sink, const Secret&) {
    sink.Append("<redacted>");
  }

 private:
  void Wipe() noexcept;
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
};

// Largest secret file read (a PEM key is ~250 bytes, a CDP JSON key file ~400).
inline constexpr size_t kMaxSecretFileBytes = 64 * 1024;

// The value of environment variable `name`. Errors: NotFound ("environment variable X is not
// set"), InvalidArgument (set but empty).
absl::StatusOr<Secret> SecretFromEnv(std::string_view name);

// The content of a private file (see the file comment for the rule). Errors: NotFound,
// PermissionDenied (open refused, or the file is not private: "secret file /p has mode 0644;
// it must not be accessible by group or others: chmod 600 /p"), FailedPrecondition (not a
// regular file, owned by another user, a symbolic link, larger than kMaxSecretFileBytes),
// Internal (read error). The content never appears in a message.
absl::StatusOr<Secret> SecretFromFile(const std::string& path);

// The venue API key: key name (not secret, but kept with it) and private key PEM.
struct Credentials {
  std::string key_name;
  Secret private_key;
};

// Resolves a [venue.credentials] section. key_file may hold a PEM (then the key name comes from
// key_name / key_name_env) or Coinbase's JSON key file {"name": ..., "privateKey": ...} (whose
// name is used unless key_name / key_name_env is given). Errors: as SecretFromEnv /
// SecretFromFile; InvalidArgument for a JSON key file without its fields, a missing key name, or
// a private key that is not a PEM (the message says which source, never the content).
absl::StatusOr<Credentials> LoadCredentials(const CredentialsConfig& config);

}  // namespace nzeza::app

#endif  // NZEZA_APP_SECRETS_H_
