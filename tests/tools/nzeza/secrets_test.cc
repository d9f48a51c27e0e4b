#include "nzeza/app/secrets.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

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

}  // namespace
}  // namespace nzeza::app
