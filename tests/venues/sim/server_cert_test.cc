// The sim's certificate: what a generated one contains (names, CA flag, short validity), loading
// a given pair (and refusing a mismatched one), and the CA file a client in another process uses
// to verify the server with verification on.
#include "nzeza/venues/sim/cert.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "nzeza/net/tls.h"
#include "nzeza/venues/sim/sim_server.h"
#include "server_test_util.h"

namespace nzeza::sim {
namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

X509Ptr ParseCert(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
}

std::string TempPath(const char* name) {
  return ::testing::TempDir() + "/" + name + "." + std::to_string(::getpid());
}

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(SimCert, GeneratedCertificateNamesLoopbackAndIsShortLived) {
  absl::StatusOr<SimCert> c = GenerateSimCert(2);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->generated);
  X509Ptr x = ParseCert(c->cert_pem);
  ASSERT_NE(x, nullptr);
  // subjectAltNames: DNS:localhost, IP:127.0.0.1, IP:::1.
  EXPECT_EQ(X509_check_host(x.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(x.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(x.get(), "::1", 0), 1);
  EXPECT_NE(X509_check_host(x.get(), "example.com", 0, 0, nullptr), 1);
  // CN localhost.
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x.get()), NID_commonName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "localhost");
  // Its own CA (so a client can name it as the trust anchor).
  EXPECT_EQ(X509_check_ca(x.get()), 1);
  // Valid now, for about two days (not years).
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(x.get())), 0);
  time_t in3days = std::time(nullptr) + 3 * 86400;
  time_t in1day = std::time(nullptr) + 86400;
  EXPECT_LT(X509_cmp_time(X509_get0_notAfter(x.get()), &in3days), 0);
  EXPECT_GT(X509_cmp_time(X509_get0_notAfter(x.get()), &in1day), 0);
  // The key is EC P-256.
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pub(X509_get_pubkey(x.get()), EVP_PKEY_free);
  EXPECT_EQ(EVP_PKEY_get_base_id(pub.get()), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_get_bits(pub.get()), 256);
  // Two generations are two keys.
  EXPECT_NE(GenerateSimCert()->key_pem, c->key_pem);
  EXPECT_FALSE(GenerateSimCert(0).ok());
}

TEST(SimCert, LoadsAGivenPairAndRefusesAMismatch) {
  const SimCert a = *GenerateSimCert();
  const SimCert b = *GenerateSimCert();
  absl::StatusOr<SimCert> ok = LoadSimCert(a.cert_pem, a.key_pem);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_FALSE(ok->generated);
  absl::StatusOr<SimCert> mismatch = LoadSimCert(a.cert_pem, b.key_pem);
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(mismatch.status().message()).find("does not belong"), std::string::npos);
  EXPECT_EQ(LoadSimCert("garbage", a.key_pem).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadSimCert(a.cert_pem, "garbage").status().code(), absl::StatusCode::kInvalidArgument);

  const std::string cert_file = TempPath("sim_cert.pem");
  const std::string key_file = TempPath("sim_key.pem");
  WriteFile(cert_file, a.cert_pem);
  WriteFile(key_file, a.key_pem);
  absl::StatusOr<SimCert> files = MakeSimCert({.cert_file = cert_file, .key_file = key_file});
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->cert_pem, a.cert_pem);
  absl::StatusOr<SimCert> missing = LoadSimCertFiles(cert_file + ".nope", key_file);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(missing.status().message()).find(cert_file + ".nope"), std::string::npos);
  EXPECT_EQ(MakeSimCert({.cert_file = cert_file}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeSimCert({.cert_pem = a.cert_pem, .cert_file = cert_file}).status().code(),
            absl::StatusCode::kInvalidArgument);
  ::unlink(cert_file.c_str());
  ::unlink(key_file.c_str());
}

// A client that knows only the CA file verifies the server (the way nzeza trusts the sim).
TEST(SimCert, CaFileLetsAVerifyingClientConnect) {
  const SimCert cert = *GenerateSimCert();
  const std::string ca = TempPath("sim_ca.pem");
  ASSERT_TRUE(WriteCaFile(ca, cert.cert_pem).ok());
  struct stat st {};
  ASSERT_EQ(::stat(ca.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_FALSE(WriteCaFile("", cert.cert_pem).ok());
  EXPECT_FALSE(WriteCaFile("/nonexistent-dir/ca.pem", cert.cert_pem).ok());

  SimServerOptions o;
  o.tls = *MakeServerTlsContext(cert.cert_pem, cert.key_pem);
  class NoExchange : public Exchange {
   public:
    void Advance(int64_t) override {}
    RestReply HandleRest(std::string_view, std::string_view, std::string_view, std::string_view,
                         int64_t) override {
      return {200, R"({"ok":true})"};
    }
    std::unique_ptr<WsSession> OpenSession() override { return nullptr; }
    void SetFaults(const ExchangeFaults&) override {}
    AccountView Account(std::string_view) const override { return {}; }
    const SimConfig& config() const override { return config_; }
    std::vector<ProductTotals> Totals() const override { return {}; }
    SimConfig config_;
  };
  absl::StatusOr<std::unique_ptr<SimServer>> s =
      SimServer::Start(std::move(o), [](const SimServerPorts&) {
        return absl::StatusOr<std::unique_ptr<Exchange>>(std::make_unique<NoExchange>());
      });
  ASSERT_TRUE(s.ok()) << s.status();
  TlsClientOptions trust;
  trust.ca_file = ca;
  absl::StatusOr<TlsContext> ctx = MakeClientTlsContext(trust);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  std::unique_ptr<HttpsClient> c = testing::HttpsTo((*s)->ports().rest, *ctx);
  testing::HttpResult r = testing::Http(*c, HttpRequest{.target = "/api/v3/x"});
  ASSERT_TRUE(r.transport.ok()) << r.transport;
  EXPECT_EQ(r.status, 200);
  // With the system store only (no CA named), verification fails: nothing is turned off.
  absl::StatusOr<TlsContext> system = MakeClientTlsContext({});
  ASSERT_TRUE(system.ok());
  std::unique_ptr<HttpsClient> d = testing::HttpsTo((*s)->ports().rest, *system);
  testing::HttpResult bad = testing::Http(*d, HttpRequest{.target = "/api/v3/x"});
  EXPECT_FALSE(bad.transport.ok());
  (*s)->Stop();
  ::unlink(ca.c_str());
}

}  // namespace
}  // namespace nzeza::sim
