// JWT ES256 verification as Coinbase does it (venues/sim/jwt_verify.h). Tokens are signed here
// with OpenSSL, with Coinbase's published test key (../shared/testdata/coinbase) and with fresh
// keys.
#include "nzeza/venues/sim/jwt_verify.h"

#include <string>

#include <gtest/gtest.h>

#include "sim_test_util.h"

namespace nzeza::sim {
namespace {

using testing::DocKey;
using testing::FreshKey;
using testing::JwtParts;
using testing::SignJwt;
using testing::TestKey;

constexpr int64_t kNow = 1'700'000'000;  // seconds
constexpr int64_t kNowNs = kNow * 1'000'000'000;
constexpr char kUri[] = "POST api.coinbase.com/api/v3/brokerage/orders";

class JwtVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    doc_ = DocKey();
    ASSERT_FALSE(doc_.name.empty()) << "coinbase_jwt_test_keys.json unreadable";
    ASSERT_FALSE(doc_.public_pem.empty());
    fresh_ = FreshKey("organizations/sim/apiKeys/fresh");
    other_ = FreshKey("organizations/sim/apiKeys/other");
    // The doc key is registered by its public half, the fresh one by its private PEM.
    auto v = JwtVerifier::Create({{doc_.name, doc_.public_pem}, {fresh_.name, fresh_.private_pem}});
    ASSERT_TRUE(v.ok()) << v.status();
    verifier_ = std::make_unique<JwtVerifier>(std::move(*v));
  }

  JwtParts Valid(const std::string& uri = kUri) const {
    JwtParts p;
    p.uri = uri;
    p.nbf = kNow;
    p.exp = kNow + 120;
    return p;
  }

  absl::Status Check(const std::string& token, std::string_view uri = kUri) const {
    return verifier_->Verify(token, uri, kNowNs).status();
  }

  TestKey doc_, fresh_, other_;
  std::unique_ptr<JwtVerifier> verifier_;
};

TEST_F(JwtVerifyTest, DocKeyValidTokenVerifies) {
  auto key = verifier_->Verify(SignJwt(doc_, Valid()), kUri, kNowNs);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, doc_.name);
}

TEST_F(JwtVerifyTest, FreshKeyValidTokenVerifies) {
  auto key = verifier_->Verify(SignJwt(fresh_, Valid()), kUri, kNowNs);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, fresh_.name);
}

TEST_F(JwtVerifyTest, WebSocketTokenHasNoUri) {
  JwtParts p = Valid("");
  auto key = verifier_->Verify(SignJwt(doc_, p), "", kNowNs);
  EXPECT_TRUE(key.ok()) << key.status();
  // The same token is refused for REST, which needs the uri claim.
  EXPECT_EQ(Check(SignJwt(doc_, p)).code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(JwtVerifyTest, Expired) {
  JwtParts p = Valid();
  p.nbf = kNow - 200;
  p.exp = kNow - 80;
  const absl::Status s = Check(SignJwt(doc_, p));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(s.message()).find("expired"), std::string::npos) << s;
  p.nbf = kNow - 120;
  p.exp = kNow;  // exp == now is expired too
  EXPECT_FALSE(Check(SignJwt(doc_, p)).ok());
}

TEST_F(JwtVerifyTest, FutureNbfBeyondSkewRefusedWithinSkewAccepted) {
  JwtParts p = Valid();
  p.nbf = kNow + JwtVerifier::kClockSkewSeconds + 1;
  p.exp = p.nbf + 120;
  const absl::Status s = Check(SignJwt(doc_, p));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(s.message()).find("nbf"), std::string::npos) << s;
  p.nbf = kNow + JwtVerifier::kClockSkewSeconds;
  p.exp = p.nbf + 120;
  EXPECT_TRUE(Check(SignJwt(doc_, p)).ok());
}

TEST_F(JwtVerifyTest, LifetimeOver120sRefused) {
  JwtParts p = Valid();
  p.exp = p.nbf + 121;
  EXPECT_FALSE(Check(SignJwt(doc_, p)).ok());
  p.exp = p.nbf;  // not after nbf
  EXPECT_FALSE(Check(SignJwt(doc_, p)).ok());
}

TEST_F(JwtVerifyTest, WrongKeyRefused) {
  // Signed by a key the venue does not know, claiming to be the doc key.
  JwtParts p = Valid();
  p.kid = doc_.name;
  p.sub = doc_.name;
  const absl::Status s = Check(SignJwt(other_, p));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(s.message()).find("signature"), std::string::npos) << s;
  // And a kid the venue does not know.
  EXPECT_FALSE(Check(SignJwt(other_, Valid())).ok());
}

TEST_F(JwtVerifyTest, WrongUriRefused) {
  EXPECT_FALSE(Check(SignJwt(doc_, Valid("GET api.coinbase.com/api/v3/brokerage/orders"))).ok());
  EXPECT_FALSE(Check(SignJwt(doc_, Valid("POST evil.example/api/v3/brokerage/orders"))).ok());
  EXPECT_FALSE(
      Check(SignJwt(doc_, Valid("POST api.coinbase.com/api/v3/brokerage/orders?x=1"))).ok());
  EXPECT_FALSE(
      Check(SignJwt(doc_, Valid("POST https://api.coinbase.com/api/v3/brokerage/orders"))).ok());
}

TEST_F(JwtVerifyTest, ClaimAndHeaderRules) {
  JwtParts p = Valid();
  p.iss = "coinbase-cloud";
  EXPECT_FALSE(Check(SignJwt(doc_, p)).ok());
  p = Valid();
  p.sub = fresh_.name;  // sub != kid
  EXPECT_FALSE(Check(SignJwt(doc_, p)).ok());
  p = Valid();
  p.nonce = "";
  EXPECT_FALSE(Check(SignJwt(doc_, p)).ok());
  p = Valid();
  p.alg = "HS256";
  EXPECT_FALSE(Check(SignJwt(doc_, p)).ok());
  p.alg = "none";
  EXPECT_FALSE(Check(SignJwt(doc_, p)).ok());
}

TEST_F(JwtVerifyTest, TamperedSignatureOrPayloadRefused) {
  const std::string token = SignJwt(doc_, Valid());
  // Flip one bit in each part of the signature and of the payload.
  const size_t dot2 = token.rfind('.');
  const size_t dot1 = token.find('.');
  for (size_t pos : {dot2 + 1, dot2 + 20, token.size() - 2, dot1 + 3, dot1 + 10}) {
    std::string t = token;
    t[pos] = t[pos] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(Check(t).ok()) << "pos " << pos;
  }
  // A valid payload for another uri spliced under this signature.
  const std::string other = SignJwt(doc_, Valid("POST api.coinbase.com/api/v3/brokerage/x"));
  const std::string spliced = other.substr(0, other.rfind('.')) + token.substr(dot2);
  EXPECT_FALSE(Check(spliced, "POST api.coinbase.com/api/v3/brokerage/x").ok());
}

TEST_F(JwtVerifyTest, MalformedTokensRefusedWithoutCrash) {
  const std::string good = SignJwt(doc_, Valid());
  const std::vector<std::string> bad = {
      "",
      "abc",
      "a.b",
      "a.b.c.d",
      "..",
      "!!!.???.***",
      Base64UrlEncode("not json") + "." + Base64UrlEncode("{}") + ".AAAA",
      Base64UrlEncode("[1,2]") + "." + Base64UrlEncode("{}") + ".AAAA",
      Base64UrlEncode("{\"alg\":\"ES256\"") + "." + Base64UrlEncode("{") + ".AAAA",
      Base64UrlEncode("{\"alg\":1}") + "." + Base64UrlEncode("{\"nbf\":\"x\"}") + ".AAAA",
      good + "=",
      good.substr(0, good.size() - 4),
      good.substr(0, good.rfind('.') + 1),
      std::string(10000, 'a') + "." + good,
  };
  for (const std::string& t : bad) {
    const absl::Status s = Check(t);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << t.substr(0, 80);
  }
  // Every truncation and single-byte corruption of a valid token is refused.
  for (size_t i = 0; i < good.size(); i += 3) {
    EXPECT_FALSE(Check(good.substr(0, i)).ok());
    std::string t = good;
    t[i] = static_cast<char>(t[i] ^ 0x01);
    EXPECT_FALSE(Check(t).ok()) << i;
  }
}

TEST(JwtVerifierCreate, RefusesBadKeys) {
  EXPECT_EQ(JwtVerifier::Create({{"k", "not a pem"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  const TestKey k = FreshKey("k");
  EXPECT_FALSE(JwtVerifier::Create({{"k", k.public_pem}, {"k", k.public_pem}}).ok());
  EXPECT_FALSE(JwtVerifier::Create({{"", k.public_pem}}).ok());
  // An Ed25519 key (the test file's PKCS#8 form) is not ES256.
  const std::string ed =
      "-----BEGIN PRIVATE "
      "KEY-----\nMC4CAQAwBQYDK2VwBCIEIJNAVJ4tKdL2RtQXaVY0uqIASe5MZut9ACdnTfrbqbrQ\n"
      "-----END PRIVATE KEY-----\n";
  EXPECT_FALSE(JwtVerifier::Create({{"ed", ed}}).ok());
  EXPECT_TRUE(JwtVerifier::Create({{"k", k.public_pem}}).ok());
}

TEST(Base64Url, RoundTripAndRefusals) {
  for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00"}) {
    std::string out;
    ASSERT_TRUE(Base64UrlDecode(Base64UrlEncode(s), &out));
    EXPECT_EQ(out, s);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  std::string out;
  EXPECT_FALSE(Base64UrlDecode("Zg==", &out));  // padding refused
  EXPECT_FALSE(Base64UrlDecode("Z", &out));     // impossible length
  EXPECT_FALSE(Base64UrlDecode("Zh", &out));    // non-zero leftover bits
  EXPECT_FALSE(Base64UrlDecode("a+b/", &out));  // standard alphabet
}

}  // namespace
}  // namespace nzeza::sim
