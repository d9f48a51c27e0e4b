#include "nzeza/app/secrets.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "simdjson.h"

namespace nzeza::app {

Secret::Secret(std::string_view bytes) : data_(new char[bytes.size() + 1]), size_(bytes.size()) {
  if (!bytes.empty()) std::memcpy(data_.get(), bytes.data(), bytes.size());
  data_[size_] = '\0';
}

Secret::~Secret() { Wipe(); }

Secret::Secret(Secret&& other) noexcept : data_(std::move(other.data_)), size_(other.size_) {
  other.size_ = 0;
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    Wipe();
    data_ = std::move(other.data_);
    size_ = other.size_;
    other.size_ = 0;
  }
  return *this;
}

void Secret::Wipe() noexcept {
  if (data_ != nullptr) explicit_bzero(data_.get(), size_ + 1);
  data_.reset();
  size_ = 0;
}

namespace {

// A buffer that wipes itself: what a file read goes through before it becomes a Secret.
class WipedBuffer {
 public:
  explicit WipedBuffer(size_t n) : bytes_(n) {}
  ~WipedBuffer() { explicit_bzero(bytes_.data(), bytes_.size()); }
  WipedBuffer(const WipedBuffer&) = delete;
  WipedBuffer& operator=(const WipedBuffer&) = delete;
  char* data() { return bytes_.data(); }
  size_t capacity() const { return bytes_.size(); }

 private:
  std::vector<char> bytes_;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string_view TrimTrailingNewlines(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool LooksLikePem(std::string_view s) {
  return s.find("-----BEGIN ") != std::string_view::npos &&
         s.find("PRIVATE KEY-----") != std::string_view::npos;
}

// The JSON string starting at `p` (just after its opening quote), unescaped. PEM text needs only
// the simple escapes; \u escapes are refused rather than half-supported.
absl::StatusOr<Secret> UnescapeJsonSecret(const char* p, const char* end) {
  WipedBuffer out(static_cast<size_t>(end - p));
  size_t n = 0;
  for (; p < end && *p != '"'; ++p) {
    char c = *p;
    if (c == '\\') {
      if (++p >= end) break;
      switch (*p) {
        case 'n':
          c = '\n';
          break;
        case 'r':
          c = '\r';
          break;
        case 't':
          c = '\t';
          break;
        case '/':
        case '\\':
        case '"':
          c = *p;
          break;
        default:
          return absl::InvalidArgumentError("uses an escape a PEM key never needs");
      }
    }
    out.data()[n++] = c;
  }
  if (p >= end) return absl::InvalidArgumentError("is not a terminated string");
  return Secret(std::string_view(out.data(), n));
}

}  // namespace

absl::StatusOr<Secret> SecretFromEnv(std::string_view name) {
  const std::string var(name);
  const char* v = std::getenv(var.c_str());
  if (v == nullptr) {
    return absl::NotFoundError(absl::StrFormat("environment variable %s is not set", name));
  }
  if (*v == '\0') {
    return absl::InvalidArgumentError(absl::StrFormat("environment variable %s is empty", name));
  }
  return Secret(v);
}

absl::StatusOr<Secret> SecretFromFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    const int err = errno;
    const std::string msg =
        absl::StrFormat("cannot open secret file %s: %s", path, std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(msg);
    if (err == EACCES) return absl::PermissionDeniedError(msg);
    if (err == ELOOP) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "secret file %s is a symbolic link; give the path of the file itself", path));
    }
    return absl::InternalError(msg);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return absl::InternalError(
        absl::StrFormat("cannot stat secret file %s: %s", path, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrFormat("secret file %s is not a regular file", path));
  }
  if (st.st_uid != ::geteuid()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("secret file %s is owned by uid %d, not by this user (uid %d)", path,
                        st.st_uid, ::geteuid()));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "secret file %s has mode %04o; it must not be accessible by group or others: chmod 600 %s",
        path, st.st_mode & 07777, path));
  }
  if (static_cast<size_t>(st.st_size) > kMaxSecretFileBytes) {
    return absl::FailedPreconditionError(
        absl::StrFormat("secret file %s is %d bytes; a key file is at most %d", path, st.st_size,
                        kMaxSecretFileBytes));
  }
  WipedBuffer buf(kMaxSecretFileBytes + 1);
  size_t n = 0;
  while (n < buf.capacity()) {
    const ssize_t r = ::read(fd.get(), buf.data() + n, buf.capacity() - n);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(
          absl::StrFormat("cannot read secret file %s: %s", path, std::strerror(errno)));
    }
    n += static_cast<size_t>(r);
  }
  if (n > kMaxSecretFileBytes) {
    return absl::FailedPreconditionError(
        absl::StrFormat("secret file %s is larger than %d bytes", path, kMaxSecretFileBytes));
  }
  if (n == 0) {
    return absl::InvalidArgumentError(absl::StrFormat("secret file %s is empty", path));
  }
  return Secret(std::string_view(buf.data(), n));
}

absl::StatusOr<Credentials> LoadCredentials(const CredentialsConfig& config) {
  Credentials out;
  std::string name_from_file;
  if (!config.key_file.empty()) {
    absl::StatusOr<Secret> file = SecretFromFile(config.key_file);
    if (!file.ok()) return file.status();
    std::string_view text = file->Reveal();
    size_t i = 0;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t')) ++i;
    if (i < text.size() && text[i] == '{') {
      // Coinbase's downloaded key file: {"name": "...", "privateKey": "-----BEGIN ..."}.
      // A padded copy for simdjson, wiped afterwards.
      WipedBuffer padded(text.size() + simdjson::SIMDJSON_PADDING);
      std::memcpy(padded.data(), text.data(), text.size());
      std::memset(padded.data() + text.size(), 0, simdjson::SIMDJSON_PADDING);
      simdjson::ondemand::parser parser;
      simdjson::ondemand::document doc;
      std::string_view name;
      simdjson::ondemand::raw_json_string raw;
      if (parser.iterate(padded.data(), text.size(), padded.capacity()).get(doc) !=
              simdjson::SUCCESS ||
          doc["name"].get_string().get(name) != simdjson::SUCCESS ||
          doc["privateKey"].get_raw_json_string().get(raw) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "key file %s is JSON but not a Coinbase key file with string fields \"name\" and "
            "\"privateKey\"",
            config.key_file));
      }
      name_from_file = std::string(name);
      // Unescape the key ourselves, into a buffer we wipe: simdjson's get_string() would leave
      // a copy in the parser's string buffer.
      absl::StatusOr<Secret> key = UnescapeJsonSecret(raw.raw(), padded.data() + text.size());
      if (!key.ok()) {
        return absl::InvalidArgumentError(absl::StrFormat("key file %s: \"privateKey\" %s",
                                                          config.key_file, key.status().message()));
      }
      out.private_key = std::move(*key);
    } else {
      out.private_key = std::move(*file);
    }
  } else if (!config.private_key_env.empty()) {
    absl::StatusOr<Secret> env = SecretFromEnv(config.private_key_env);
    if (!env.ok()) return env.status();
    out.private_key = std::move(*env);
  } else {
    return absl::InvalidArgumentError(
        "venue.credentials: no private key source (key_file or private_key_env)");
  }
  if (!LooksLikePem(out.private_key.Reveal())) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the private key from %s is not a PEM private key (\"-----BEGIN ... PRIVATE KEY-----\")",
        config.key_file.empty() ? absl::StrCat("environment variable ", config.private_key_env)
                                : absl::StrCat("key file ", config.key_file)));
  }
  if (!config.key_name.empty()) {
    out.key_name = config.key_name;
  } else if (!config.key_name_env.empty()) {
    const char* v = std::getenv(config.key_name_env.c_str());
    if (v == nullptr || *v == '\0') {
      return absl::NotFoundError(absl::StrFormat(
          "environment variable %s (the key name) is not set", config.key_name_env));
    }
    out.key_name = std::string(TrimTrailingNewlines(v));
  } else if (!name_from_file.empty()) {
    out.key_name = name_from_file;
  } else {
    return absl::InvalidArgumentError(
        "venue.credentials: no key name (key_name, key_name_env, or a JSON key file)");
  }
  return out;
}

}  // namespace nzeza::app
