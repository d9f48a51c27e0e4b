#include "nzeza/venues/coinbase/jwt.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "coinbase_test_keys.h"

namespace nzeza::venues::coinbase {
namespace {

constexpr int64_t kNow = 1700000000;
constexpr char kHost[] = "api.coinbase.com";
constexpr char kPath[] = "/api/v3/brokerage/orders";
constexpr char kUri[] = "POST api.coinbase.com/api/v3/brokerage/orders";

// Independent check, OpenSSL only: the public key from the private PEM, r||s converted to DER by
// hand, EVP_DigestVerify over "header.payload".
bool OpenSslVerifyEs256(const std::string& private_pem, const std::string& token) {
  BIO* bio = BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) return false;
  const size_t last = token.rfind('.');
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token.substr(last + 1), &raw) || raw.size() != 64) {
    EVP_PKEY_free(key);
    return false;
  }
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig, &der);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx, der, static_cast<size_t>(der_len),
                                   reinterpret_cast<const unsigned char*>(token.data()), last) == 1;
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  EVP_PKEY_free(key);
  ERR_clear_error();
  return ok;
}

std::string Part(const std::string& token, int i) {
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  std::string out;
  if (parts.size() != 3 || !absl::WebSafeBase64Unescape(parts[i], &out)) return "<bad>";
  return out;
}

std::string Encode(const std::string& s) { return absl::WebSafeBase64Escape(s); }

std::string NewKeyPem(const char* curve) {
  EVP_PKEY* k = EVP_EC_gen(curve);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(k);
  return pem;
}

class CoinbaseJwtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = nzeza::testing::LoadCoinbaseTestKeys();
    ASSERT_FALSE(keys_.key_name.empty());
    absl::StatusOr<CoinbaseCredentials> c =
        CoinbaseCredentials::FromPem(keys_.key_name, keys_.ec_pem);
    ASSERT_TRUE(c.ok()) << c.status();
    creds_ = std::make_unique<CoinbaseCredentials>(*c);
    absl::StatusOr<std::string> pub = creds_->PublicKeyPem();
    ASSERT_TRUE(pub.ok());
    public_pem_ = *pub;
  }
  std::string SignRest(int64_t now = kNow) {
    JwtSigner signer(*creds_);
    absl::StatusOr<std::string> t = signer.Sign("POST", kHost, kPath, now);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : "";
  }

  nzeza::testing::CoinbaseTestKeys keys_;
  std::unique_ptr<CoinbaseCredentials> creds_;
  std::string public_pem_;
};

TEST_F(CoinbaseJwtTest, HeaderAndClaimsAreExactlyCoinbases) {
  const std::string token = SignRest();
  const std::string header = Part(token, 0);
  // {"alg":"ES256","kid":<name>,"nonce":<64 hex>,"typ":"JWT"}
  const std::string prefix = "{\"alg\":\"ES256\",\"kid\":\"" + keys_.key_name + "\",\"nonce\":\"";
  ASSERT_EQ(header.substr(0, prefix.size()), prefix) << header;
  const std::string nonce = header.substr(prefix.size(), 64);
  EXPECT_EQ(nonce.find_first_not_of("0123456789abcdef"), std::string::npos) << nonce;
  EXPECT_EQ(header.substr(prefix.size() + 64), "\",\"typ\":\"JWT\"}");
  EXPECT_EQ(Part(token, 1), "{\"sub\":\"" + keys_.key_name +
                                "\",\"iss\":\"cdp\",\"nbf\":1700000000,\"exp\":1700000120,"
                                "\"uri\":\"POST api.coinbase.com/api/v3/brokerage/orders\"}");
  EXPECT_EQ(Part(token, 2).size(), 64u);  // raw r || s, not DER
  EXPECT_EQ(token.find('='), std::string::npos);
}

TEST_F(CoinbaseJwtTest, SignatureVerifiesWithOpenSslIndependently) {
  for (int i = 0; i < 20; ++i) {  // r and s with leading zero bytes must be padded, not shortened
    const std::string token = SignRest(kNow + i);
    ASSERT_TRUE(OpenSslVerifyEs256(keys_.ec_pem, token)) << token;
  }
}

TEST_F(CoinbaseJwtTest, NonceAndSignatureDifferEveryTime) {
  const std::string a = SignRest();
  const std::string b = SignRest();
  EXPECT_NE(Part(a, 0), Part(b, 0));
  EXPECT_NE(Part(a, 2), Part(b, 2));
}

TEST_F(CoinbaseJwtTest, VerifierAcceptsAValidToken) {
  absl::StatusOr<CoinbaseJwtClaims> c =
      VerifyCoinbaseJwt(SignRest(), public_pem_, kUri, kNow + 5, keys_.key_name);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->sub, keys_.key_name);
  EXPECT_EQ(c->iss, "cdp");
  EXPECT_EQ(c->nbf, kNow);
  EXPECT_EQ(c->exp, kNow + 120);
  EXPECT_EQ(c->uri, kUri);
  EXPECT_EQ(c->alg, "ES256");
  EXPECT_EQ(c->nonce.size(), 64u);
}

TEST_F(CoinbaseJwtTest, TamperedHeaderPayloadOrSignatureFail) {
  const std::string token = SignRest();
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  // Payload: a different uri, re-encoded (valid JSON, signature no longer matches).
  std::string payload = Part(token, 1);
  const std::string tampered_payload =
      parts[0] + "." + Encode(payload.replace(payload.find("orders"), 6, "orderz")) + "." +
      parts[2];
  absl::StatusOr<CoinbaseJwtClaims> r =
      VerifyCoinbaseJwt(tampered_payload, public_pem_, std::nullopt, kNow);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(r.status().message().find("bad signature"), std::string::npos) << r.status();
  EXPECT_FALSE(OpenSslVerifyEs256(keys_.ec_pem, tampered_payload));
  // Header: another nonce.
  std::string header = Part(token, 0);
  header[header.find("nonce") + 8] ^= 1;
  const std::string tampered_header = Encode(header) + "." + parts[1] + "." + parts[2];
  r = VerifyCoinbaseJwt(tampered_header, public_pem_, std::nullopt, kNow);
  EXPECT_NE(r.status().message().find("bad signature"), std::string::npos) << r.status();
  // Signature: one bit of s flipped.
  std::string sig = Part(token, 2);
  sig[40] ^= 0x10;
  const std::string tampered_sig = parts[0] + "." + parts[1] + "." + Encode(sig);
  r = VerifyCoinbaseJwt(tampered_sig, public_pem_, std::nullopt, kNow);
  EXPECT_NE(r.status().message().find("bad signature"), std::string::npos) << r.status();
  EXPECT_FALSE(OpenSslVerifyEs256(keys_.ec_pem, tampered_sig));
}

TEST_F(CoinbaseJwtTest, ExpiredAndNotYetValidFail) {
  const std::string token = SignRest();
  absl::StatusOr<CoinbaseJwtClaims> r = VerifyCoinbaseJwt(token, public_pem_, kUri, kNow + 120);
  EXPECT_NE(r.status().message().find("expired"), std::string::npos) << r.status();
  EXPECT_TRUE(VerifyCoinbaseJwt(token, public_pem_, kUri, kNow + 119).ok());
  r = VerifyCoinbaseJwt(token, public_pem_, kUri, kNow - 1);
  EXPECT_NE(r.status().message().find("not yet valid"), std::string::npos) << r.status();
}

TEST_F(CoinbaseJwtTest, WrongKeyUriOrKidFail) {
  const std::string token = SignRest();
  absl::StatusOr<CoinbaseCredentials> other =
      CoinbaseCredentials::FromPem("someone-else", NewKeyPem("P-256"));
  ASSERT_TRUE(other.ok()) << other.status();
  absl::StatusOr<CoinbaseJwtClaims> r =
      VerifyCoinbaseJwt(token, *other->PublicKeyPem(), kUri, kNow);
  EXPECT_NE(r.status().message().find("bad signature"), std::string::npos) << r.status();
  r = VerifyCoinbaseJwt(token, public_pem_,
                        "POST api.coinbase.com/api/v3/brokerage/orders/batch_cancel", kNow);
  EXPECT_NE(r.status().message().find("wrong uri"), std::string::npos) << r.status();
  r = VerifyCoinbaseJwt(token, public_pem_, kUri, kNow, "organizations/x/apiKeys/y");
  EXPECT_NE(r.status().message().find("wrong kid"), std::string::npos) << r.status();
  // A token signed by another key, claiming our key name, is refused too.
  JwtSigner impostor(*CoinbaseCredentials::FromPem(keys_.key_name, NewKeyPem("P-256")));
  r = VerifyCoinbaseJwt(*impostor.Sign("POST", kHost, kPath, kNow), public_pem_, kUri, kNow);
  EXPECT_NE(r.status().message().find("bad signature"), std::string::npos) << r.status();
}

TEST_F(CoinbaseJwtTest, MalformedTokensFail) {
  for (const char* t : {"", "a.b", "a.b.c.d", "!!!.e30.e30", "e30.e30.e30", "W10.W10.AAAA"}) {
    absl::StatusOr<CoinbaseJwtClaims> r = VerifyCoinbaseJwt(t, public_pem_, std::nullopt, kNow);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated) << t;
  }
  EXPECT_EQ(VerifyCoinbaseJwt(SignRest(), "not a pem", std::nullopt, kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CoinbaseJwtTest, WebSocketTokenHasNoUri) {
  JwtSigner signer(*creds_);
  absl::StatusOr<std::string> t = signer.SignWebSocket(kNow);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Part(*t, 1), "{\"sub\":\"" + keys_.key_name +
                             "\",\"iss\":\"cdp\",\"nbf\":1700000000,\"exp\":1700000120}");
  absl::StatusOr<CoinbaseJwtClaims> c = VerifyCoinbaseJwt(*t, public_pem_, std::nullopt, kNow);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->has_uri);
  EXPECT_TRUE(OpenSslVerifyEs256(keys_.ec_pem, *t));
  // A REST verifier expecting a uri refuses it.
  EXPECT_FALSE(VerifyCoinbaseJwt(*t, public_pem_, kUri, kNow).ok());
}

TEST_F(CoinbaseJwtTest, Ed25519KeySignsEdDsa) {
  absl::StatusOr<CoinbaseCredentials> c =
      CoinbaseCredentials::FromPem(keys_.key_name, keys_.ed25519_pem);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->algorithm(), JwtAlgorithm::kEdDsa);
  JwtSigner signer(*c);
  absl::StatusOr<std::string> t = signer.Sign("GET", kHost, "/api/v3/brokerage/accounts", kNow);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Part(*t, 0).substr(0, 16), "{\"alg\":\"EdDSA\",\"");
  absl::StatusOr<CoinbaseJwtClaims> v = VerifyCoinbaseJwt(
      *t, *c->PublicKeyPem(), "GET api.coinbase.com/api/v3/brokerage/accounts", kNow);
  ASSERT_TRUE(v.ok()) << v.status();
  // The EC public key does not verify it (and the algorithm does not match).
  EXPECT_FALSE(VerifyCoinbaseJwt(*t, public_pem_, std::nullopt, kNow).ok());
}

TEST_F(CoinbaseJwtTest, BadCredentialsNeverEchoTheSecret) {
  const std::string secret =
      "-----BEGIN EC PRIVATE KEY-----\nSECRETSECRETSECRET\n-----END EC PRIVATE KEY-----\n";
  absl::StatusOr<CoinbaseCredentials> c = CoinbaseCredentials::FromPem(keys_.key_name, secret);
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message().find("SECRET"), std::string::npos) << c.status();
  c = CoinbaseCredentials::FromPem("", keys_.ec_pem);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  c = CoinbaseCredentials::FromPem("bad\"name", keys_.ec_pem);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  c = CoinbaseCredentials::FromPem(keys_.key_name, NewKeyPem("P-384"));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("P-256"), std::string::npos) << c.status();
  // A wrong key's message mentions none of the real key either.
  std::string broken = keys_.ec_pem;
  broken[40] = '*';
  c = CoinbaseCredentials::FromPem(keys_.key_name, broken);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().find(keys_.ec_pem.substr(31, 20)), std::string::npos);
}

TEST_F(CoinbaseJwtTest, EscapedNewlinesInPemAreAccepted) {
  std::string escaped;
  for (char ch : keys_.ec_pem) {
    if (ch == '\n') {
      escaped += "\\n";
    } else {
      escaped += ch;
    }
  }
  absl::StatusOr<CoinbaseCredentials> c = CoinbaseCredentials::FromPem(keys_.key_name, escaped);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(*c->PublicKeyPem(), public_pem_);
}

TEST_F(CoinbaseJwtTest, SignIntoRefusesSmallBuffersAndBadUris) {
  JwtSigner signer(*creds_);
  char buf[kMaxJwtBytes];
  EXPECT_EQ(signer.SignInto("POST", kHost, kPath, kNow, buf, 100), 0u);
  EXPECT_EQ(signer.SignInto("POST", kHost, "/a\"b", kNow, buf, sizeof(buf)), 0u);
  EXPECT_EQ(signer.SignInto("", kHost, kPath, kNow, buf, sizeof(buf)), 0u);
  const size_t n = signer.SignInto("POST", kHost, kPath, kNow, buf, sizeof(buf));
  ASSERT_GT(n, 0u);
  EXPECT_TRUE(VerifyCoinbaseJwt(std::string_view(buf, n), public_pem_, kUri, kNow).ok());
  EXPECT_FALSE(signer.Sign("POST", kHost, std::string(200, 'a'), kNow).ok());
}

TEST(CoinbaseBase64Url, RoundTripsEveryLength) {
  std::string data;
  for (int n = 0; n < 70; ++n) {
    char out[128];
    const size_t len = Base64UrlEncode(reinterpret_cast<const unsigned char*>(data.data()),
                                       data.size(), out, sizeof(out));
    EXPECT_EQ(std::string(out, len), absl::WebSafeBase64Escape(data));
    std::string back;
    ASSERT_TRUE(Base64UrlDecode(std::string_view(out, len), &back));
    EXPECT_EQ(back, data);
    data.push_back(static_cast<char>(n * 37 + 11));
  }
  std::string out;
  EXPECT_FALSE(Base64UrlDecode("ab=c", &out));
  EXPECT_FALSE(Base64UrlDecode("abcde", &out));
  EXPECT_FALSE(Base64UrlDecode("ab+/", &out));
}

}  // namespace
}  // namespace nzeza::venues::coinbase
