#include "nzeza/app/secrets.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "nzeza/app/ops_token.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace nzeza::app {
namespace {

// The test key from Coinbase's SDK tests (../shared/testdata/coinbase/coinbase_jwt_test_keys.json,
// "TEST_API_SECRET_EC_P256"): a published test-only key, read from the file at run time.
std::string TestPem() {
  std::ifstream in(std::string(NZEZA_TESTDATA_DIR) + "/coinbase/coinbase_jwt_test_keys.json");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string json = ss.str();
  const std::string key = "\"TEST_API_SECRET_EC_P256\": \"";
  const size_t b = json.find(key);
  if (b == std::string::npos) return "";
  const size_t start = b + key.size();
  const size_t end = json.find('"', start);
  std::string pem;
  for (size_t i = start; i < end; ++i) {
    if (json[i] == '\\' && json[i + 1] == 'n') {
      pem.push_back('\n');
      ++i;
    } else {
      pem.push_back(json[i]);
    }
  }
  return pem;
}

// A file in a fresh temporary directory, removed at the end of the test.
class TempFile {
 public:
  TempFile(std::string_view content, mode_t mode) {
    char dir[] = "/tmp/nzeza_secrets_test_XXXXXX";
    dir_ = mkdtemp(dir);
    path_ = dir_ + "/key";
    std::ofstream(path_) << content;
    chmod(path_.c_str(), mode);
  }
  ~TempFile() {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string path_;
};

constexpr std::string_view kSecretText = "TOP-SECRET-CONTENT-1234";

TEST(Secret, NeverPrints) {
  Secret s{kSecretText};
  EXPECT_EQ(s.Reveal(), kSecretText);
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "<redacted>");
  EXPECT_EQ(absl::StrFormat("%s", s), "<redacted>");
}

TEST(Secret, Empty) {
  Secret e{std::string_view()};
  EXPECT_TRUE(e.empty());
  EXPECT_EQ(e.Reveal(), "");
  Secret d;
  EXPECT_TRUE(d.empty());
}

TEST(Secret, MoveLeavesTheSourceEmpty) {
  Secret a{kSecretText};
  Secret b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the documented state
  EXPECT_EQ(b.Reveal(), kSecretText);
  Secret c;
  c = std::move(b);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(c.Reveal(), kSecretText);
}

TEST(SecretFile, Mode0600Accepted) {
  TempFile f(kSecretText, 0600);
  absl::StatusOr<Secret> s = SecretFromFile(f.path());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->Reveal(), kSecretText);
  TempFile r(kSecretText, 0400);
  EXPECT_TRUE(SecretFromFile(r.path()).ok());
}

TEST(SecretFile, GroupOrOtherAccessRefusedWithoutTheContent) {
  for (mode_t mode : {0644, 0640, 0604, 0660, 0606, 0610, 0601}) {
    TempFile f(kSecretText, mode);
    absl::StatusOr<Secret> s = SecretFromFile(f.path());
    ASSERT_FALSE(s.ok()) << std::oct << mode;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kPermissionDenied);
    const std::string msg(s.status().message());
    EXPECT_NE(msg.find(f.path()), std::string::npos) << msg;
    EXPECT_NE(msg.find(absl::StrFormat("mode %04o", mode)), std::string::npos) << msg;
    EXPECT_NE(msg.find("chmod 600"), std::string::npos) << msg;
    EXPECT_EQ(msg.find(kSecretText), std::string::npos) << msg;
  }
}

TEST(SecretFile, NotARegularFileOrALink) {
  TempFile f(kSecretText, 0600);
  absl::StatusOr<Secret> dir = SecretFromFile(f.dir());
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(std::string(dir.status().message()).find("not a regular file"), std::string::npos)
      << dir.status();
  const std::string link = f.dir() + "/link";
  ASSERT_EQ(symlink(f.path().c_str(), link.c_str()), 0);
  absl::StatusOr<Secret> l = SecretFromFile(link);
  unlink(link.c_str());
  ASSERT_FALSE(l.ok());
  EXPECT_NE(std::string(l.status().message()).find("symbolic link"), std::string::npos)
      << l.status();
  absl::StatusOr<Secret> missing = SecretFromFile(f.dir() + "/nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST(SecretEnv, ReadsAndReportsByName) {
  setenv("NZEZA_TEST_SECRET", std::string(kSecretText).c_str(), 1);
  absl::StatusOr<Secret> s = SecretFromEnv("NZEZA_TEST_SECRET");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->Reveal(), kSecretText);
  unsetenv("NZEZA_TEST_SECRET");
  absl::StatusOr<Secret> missing = SecretFromEnv("NZEZA_TEST_SECRET");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(missing.status().message()).find("NZEZA_TEST_SECRET"), std::string::npos);
}

TEST(Credentials, PemFileWithKeyName) {
  const std::string pem = TestPem();
  ASSERT_FALSE(pem.empty());
  TempFile f(pem, 0600);
  CredentialsConfig c;
  c.key_file = f.path();
  c.key_name = "organizations/test-organization/apiKeys/test-api-key";
  absl::StatusOr<Credentials> cred = LoadCredentials(c);
  ASSERT_TRUE(cred.ok()) << cred.status();
  EXPECT_EQ(cred->key_name, c.key_name);
  EXPECT_EQ(cred->private_key.Reveal(), pem);
}

TEST(Credentials, CoinbaseJsonKeyFile) {
  const std::string pem = TestPem();
  std::string escaped;
  for (char ch : pem) escaped += ch == '\n' ? std::string("\\n") : std::string(1, ch);
  const std::string json =
      "{\n  \"name\": \"organizations/o/apiKeys/k\",\n  \"privateKey\": \"" + escaped + "\"\n}\n";
  TempFile f(json, 0600);
  absl::StatusOr<Credentials> cred = LoadCredentials(CredentialsConfig{.key_file = f.path()});
  ASSERT_TRUE(cred.ok()) << cred.status();
  EXPECT_EQ(cred->key_name, "organizations/o/apiKeys/k");
  EXPECT_EQ(cred->private_key.Reveal(), pem);

  TempFile bad("{\"name\": \"x\"}", 0600);
  absl::StatusOr<Credentials> b = LoadCredentials(CredentialsConfig{.key_file = bad.path()});
  ASSERT_FALSE(b.ok());
  EXPECT_NE(std::string(b.status().message()).find("privateKey"), std::string::npos);
}

TEST(Credentials, FromEnvironment) {
  const std::string pem = TestPem();
  setenv("NZEZA_TEST_PEM", pem.c_str(), 1);
  setenv("NZEZA_TEST_KEY_NAME", "organizations/o/apiKeys/env", 1);
  absl::StatusOr<Credentials> cred = LoadCredentials(CredentialsConfig{
      .key_name_env = "NZEZA_TEST_KEY_NAME", .private_key_env = "NZEZA_TEST_PEM"});
  unsetenv("NZEZA_TEST_PEM");
  unsetenv("NZEZA_TEST_KEY_NAME");
  ASSERT_TRUE(cred.ok()) << cred.status();
  EXPECT_EQ(cred->key_name, "organizations/o/apiKeys/env");
  EXPECT_EQ(cred->private_key.Reveal(), pem);
}

TEST(Credentials, NotAPemIsRefusedWithoutEchoingIt) {
  setenv("NZEZA_TEST_PEM", std::string(kSecretText).c_str(), 1);
  absl::StatusOr<Credentials> cred =
      LoadCredentials(CredentialsConfig{.key_name = "n", .private_key_env = "NZEZA_TEST_PEM"});
  unsetenv("NZEZA_TEST_PEM");
  ASSERT_FALSE(cred.ok());
  const std::string msg(cred.status().message());
  EXPECT_NE(msg.find("environment variable NZEZA_TEST_PEM"), std::string::npos) << msg;
  EXPECT_EQ(msg.find(kSecretText), std::string::npos) << msg;
}

TEST(Credentials, InsecureKeyFileRefused) {
  TempFile f(TestPem(), 0644);
  absl::StatusOr<Credentials> cred =
      LoadCredentials(CredentialsConfig{.key_name = "n", .key_file = f.path()});
  ASSERT_FALSE(cred.ok());
  EXPECT_EQ(cred.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(std::string(cred.status().message()).find("PRIVATE KEY"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// The operations endpoint's token (ops_token.h).

// A fresh temporary directory; every file in it is removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    char dir[] = "/tmp/nzeza_ops_token_test_XXXXXX";
    path_ = mkdtemp(dir);
  }
  ~TempDir() {
    for (const std::string& name : Names()) unlink((path_ + "/" + name).c_str());
    rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::set<std::string> Names() const {
    std::set<std::string> out;
    if (DIR* d = opendir(path_.c_str())) {
      while (dirent* e = readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") out.insert(n);
      }
      closedir(d);
    }
    return out;
  }

 private:
  std::string path_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr std::string_view kOpsToken = "ops-token-5f0c9a7e2d41b8e3";

TEST(OpsToken, FromTheEnvironment) {
  setenv("NZEZA_TEST_OPS_TOKEN", std::string(kOpsToken).c_str(), 1);
  TempDir d;
  // token_env wins over token_file, and then no file is created.
  absl::StatusOr<OpsToken> t = LoadOrCreateOpsToken(
      OpsConfig{.token_file = d.path() + "/ops-token", .token_env = "NZEZA_TEST_OPS_TOKEN"});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->token.Reveal(), kOpsToken);
  EXPECT_EQ(t->source, "environment variable NZEZA_TEST_OPS_TOKEN");
  EXPECT_EQ(t->path, "");
  EXPECT_FALSE(t->created);
  EXPECT_TRUE(d.Names().empty());

  setenv("NZEZA_TEST_OPS_TOKEN", "short", 1);
  absl::StatusOr<OpsToken> weak =
      LoadOrCreateOpsToken(OpsConfig{.token_env = "NZEZA_TEST_OPS_TOKEN"});
  ASSERT_FALSE(weak.ok());
  EXPECT_EQ(weak.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(weak.status().message())
                .find("ops.token_env: environment variable NZEZA_TEST_OPS_TOKEN"),
            std::string::npos)
      << weak.status();
  EXPECT_EQ(std::string(weak.status().message()).find("short"), std::string::npos);

  unsetenv("NZEZA_TEST_OPS_TOKEN");
  absl::StatusOr<OpsToken> missing =
      LoadOrCreateOpsToken(OpsConfig{.token_env = "NZEZA_TEST_OPS_TOKEN"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(missing.status().message()),
            "ops.token_env: environment variable NZEZA_TEST_OPS_TOKEN is not set");
}

TEST(OpsToken, FromAPrivateFileWithoutItsLineEnd) {
  TempFile f(std::string(kOpsToken) + "\n", 0600);
  absl::StatusOr<OpsToken> t = LoadOrCreateOpsToken(OpsConfig{.token_file = f.path()});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->token.Reveal(), kOpsToken);
  EXPECT_EQ(t->source, "file " + f.path());
  EXPECT_EQ(t->path, f.path());
  EXPECT_FALSE(t->created);
}

TEST(OpsToken, AReadableFileIsRefusedNotReplaced) {
  for (mode_t mode : {0644, 0640, 0604}) {
    TempFile f(kOpsToken, mode);
    absl::StatusOr<OpsToken> t = LoadOrCreateOpsToken(OpsConfig{.token_file = f.path()});
    ASSERT_FALSE(t.ok()) << std::oct << mode;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kPermissionDenied);
    const std::string msg(t.status().message());
    EXPECT_EQ(msg.rfind("ops.token_file: ", 0), 0u) << msg;
    EXPECT_NE(msg.find(f.path()), std::string::npos) << msg;
    EXPECT_NE(msg.find(absl::StrFormat("mode %04o", mode)), std::string::npos) << msg;
    EXPECT_NE(msg.find("chmod 600"), std::string::npos) << msg;
    EXPECT_EQ(msg.find(kOpsToken), std::string::npos) << msg;
    // Left as it was.
    struct stat st {};
    ASSERT_EQ(stat(f.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, mode);
    EXPECT_EQ(ReadAll(f.path()), kOpsToken);
  }
}

TEST(OpsToken, ASymbolicLinkIsRefusedNotFollowed) {
  TempDir d;
  const std::string link = d.path() + "/ops-token";
  ASSERT_EQ(symlink((d.path() + "/elsewhere").c_str(), link.c_str()), 0);  // dangling
  absl::StatusOr<OpsToken> t = LoadOrCreateOpsToken(OpsConfig{.token_file = link});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(t.status().message()).find("symbolic link"), std::string::npos);
  EXPECT_EQ(d.Names(), std::set<std::string>{"ops-token"});  // nothing created through it
}

TEST(OpsToken, AnInvalidTokenIsRefusedWithoutEchoingIt) {
  for (std::string bad : {std::string("too-short"), std::string("has a space inside it 123"),
                          std::string("ctl\x01-character-0123456789")}) {
    TempFile f(bad, 0600);
    absl::StatusOr<OpsToken> t = LoadOrCreateOpsToken(OpsConfig{.token_file = f.path()});
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string msg(t.status().message());
    EXPECT_NE(msg.find("ops.token_file: file " + f.path()), std::string::npos) << msg;
    EXPECT_EQ(msg.find(bad), std::string::npos) << msg;
  }
  TempFile empty("", 0600);
  EXPECT_FALSE(LoadOrCreateOpsToken(OpsConfig{.token_file = empty.path()}).ok());
}

TEST(OpsToken, GeneratedIntoAPrivateFileAndReusedNextStart) {
  TempDir d;
  const std::string path = d.path() + "/ops-token";
  const mode_t old_umask = umask(0);  // the file is 0600 whatever the umask
  absl::StatusOr<OpsToken> first = LoadOrCreateOpsToken(OpsConfig{.token_file = path});
  umask(old_umask);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->path, path);
  EXPECT_EQ(first->source, "file " + path);
  const std::string token(first->token.Reveal());
  ASSERT_EQ(token.size(), 2 * kGeneratedOpsTokenBytes);
  EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos);

  struct stat st {};
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_nlink, 1u);  // the temporary name is gone
  EXPECT_EQ(d.Names(), std::set<std::string>{"ops-token"});
  EXPECT_EQ(ReadAll(path), token + "\n");
  // What the secret-file rule accepts, and the next start reuses.
  absl::StatusOr<Secret> raw = SecretFromFile(path);
  ASSERT_TRUE(raw.ok()) << raw.status();
  absl::StatusOr<OpsToken> second = LoadOrCreateOpsToken(OpsConfig{.token_file = path});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->token.Reveal(), token);

  // Another file, another token.
  absl::StatusOr<OpsToken> other =
      LoadOrCreateOpsToken(OpsConfig{.token_file = d.path() + "/other"});
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(other->token.Reveal(), token);
}

TEST(OpsToken, GeneratingNeedsTheDirectory) {
  TempDir d;
  const std::string path = d.path() + "/missing/ops-token";
  absl::StatusOr<OpsToken> t = LoadOrCreateOpsToken(OpsConfig{.token_file = path});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
  const std::string msg(t.status().message());
  EXPECT_EQ(msg.rfind("ops.token_file: ", 0), 0u) << msg;
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find(d.path() + "/missing must exist"), std::string::npos) << msg;
  EXPECT_TRUE(d.Names().empty());
}

TEST(OpsToken, MatchesOnlyTheSameBytes) {
  EXPECT_TRUE(OpsTokenMatches(kOpsToken, kOpsToken));
  EXPECT_FALSE(OpsTokenMatches("ops-token-5f0c9a7e2d41b8e4", kOpsToken));
  EXPECT_FALSE(OpsTokenMatches("ops-token-5f0c9a7e2d41b8e", kOpsToken));
  EXPECT_FALSE(OpsTokenMatches("", kOpsToken));
  EXPECT_FALSE(OpsTokenMatches("", ""));  // no token configured: nothing matches
  EXPECT_FALSE(OpsTokenMatches("anything", ""));
}

}  // namespace
}  // namespace nzeza::app
