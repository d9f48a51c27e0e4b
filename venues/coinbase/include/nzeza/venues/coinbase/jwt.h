// Coinbase Advanced Trade authentication: a JWT per request, signed with the CDP API key.
//
//   absl::StatusOr<CoinbaseCredentials> creds =
//       CoinbaseCredentials::FromPem(key_name, private_key_pem);   // never echoes the secret
//   JwtSigner signer(*creds);
//   absl::StatusOr<std::string> jwt =
//       signer.Sign("POST", "api.coinbase.com", "/api/v3/brokerage/orders", now_unix_s);
//   // "Authorization: Bearer " + *jwt
//   absl::StatusOr<CoinbaseJwtClaims> c = VerifyCoinbaseJwt(*jwt, public_pem,
//       "POST api.coinbase.com/api/v3/brokerage/orders", now_unix_s);
//
// The token, exactly as Coinbase specifies (docs.cdp.coinbase.com, "Coinbase App / Advanced Trade
// API Key Authentication"; coinbase/coinbase-advanced-py coinbase/jwt_generator.py):
//   header  {"alg":"ES256","kid":<key name>,"nonce":<64 random hex chars>,"typ":"JWT"}
//   claims  {"sub":<key name>,"iss":"cdp","nbf":now,"exp":now+120,"uri":"POST host/path"}
//   ES256: ECDSA P-256 over SHA-256, signature = raw 32-byte r || 32-byte s (JWS, RFC 7518
//   section 3.4; not DER), base64url without padding. An Ed25519 key (PKCS#8 PEM) signs with
//   "alg":"EdDSA" instead. WebSocket subscriptions use the same token without "uri".
// ES256 is randomized, so the same inputs never give the same token: tests verify instead.
//
// Thread: a CoinbaseCredentials / JwtSigner is immutable after construction; Sign* may be called
// from several threads at once (each call has its own OpenSSL context).
#ifndef NZEZA_VENUES_COINBASE_JWT_H_
#define NZEZA_VENUES_COINBASE_JWT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace nzeza::venues::coinbase {

// Longest token the signer writes (header + claims + signature, base64url, for key names up to
// kMaxKeyNameBytes and a uri up to kMaxUriBytes).
inline constexpr size_t kMaxKeyNameBytes = 160;
inline constexpr size_t kMaxUriBytes = 160;
inline constexpr size_t kMaxJwtBytes = 1024;
// The token's validity: exp = nbf + kJwtLifetimeSeconds (Coinbase: two minutes).
inline constexpr int64_t kJwtLifetimeSeconds = 120;

enum class JwtAlgorithm : uint8_t { kEs256 = 0, kEdDsa = 1 };

// "ES256" / "EdDSA".
constexpr const char* JwtAlgorithmName(JwtAlgorithm a) noexcept {
  return a == JwtAlgorithm::kEs256 ? "ES256" : "EdDSA";
}

// A CDP API key: its name ("organizations/{org}/apiKeys/{id}") and private key.
// Copyable (the key is shared, immutable). Never prints or logs the private key.
class CoinbaseCredentials {
 public:
  // Loads the key from PEM text: an EC P-256 key (SEC1 "EC PRIVATE KEY" or PKCS#8) -> ES256, an
  // Ed25519 PKCS#8 key -> EdDSA. Literal "\n" escapes (as keys pasted into an environment
  // variable often carry) are accepted for line breaks.
  // Errors (InvalidArgument; the message never contains the key or any part of it): empty or
  // over-long key name, a key name with quotes, backslashes or control characters, PEM that does
  // not parse as a private key, a key of another type or curve.
  static absl::StatusOr<CoinbaseCredentials> FromPem(std::string_view key_name,
                                                     std::string_view private_key_pem);

  const std::string& key_name() const noexcept { return key_name_; }
  JwtAlgorithm algorithm() const noexcept { return algorithm_; }
  // The public half as a SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----"), e.g. for a
  // simulated venue that verifies our tokens. Errors: Internal (OpenSSL failure).
  absl::StatusOr<std::string> PublicKeyPem() const;
  // The OpenSSL key (internal; for the signer).
  evp_pkey_st* key() const noexcept { return key_.get(); }

 private:
  CoinbaseCredentials() = default;
  std::string key_name_;
  JwtAlgorithm algorithm_ = JwtAlgorithm::kEs256;
  std::shared_ptr<evp_pkey_st> key_;
};

// Signs Coinbase JWTs with one key.
class JwtSigner {
 public:
  explicit JwtSigner(CoinbaseCredentials credentials);

  // Writes a REST token for "METHOD host/path" valid [now, now + 120 s) into out[0, cap) and
  // returns its length; 0 when it cannot (cap too small, method/host/path over kMaxUriBytes or
  // holding '"' '\\' or control characters, an OpenSSL failure). No NUL is written.
  // Allocates: nothing of ours (OpenSSL allocates inside the signature). Complexity: one
  // ECDSA / Ed25519 signature (tens of microseconds: see BM_CoinbaseJwtSignES256).
  size_t SignInto(std::string_view method, std::string_view host, std::string_view path,
                  int64_t now_unix_s, char* out, size_t cap) const noexcept;
  // The same for a WebSocket subscription (no "uri" claim).
  size_t SignWebSocketInto(int64_t now_unix_s, char* out, size_t cap) const noexcept;

  // Allocating forms for the control plane. Errors: InvalidArgument (bad method/host/path),
  // Internal (signing failed).
  absl::StatusOr<std::string> Sign(std::string_view method, std::string_view host,
                                   std::string_view path, int64_t now_unix_s) const;
  absl::StatusOr<std::string> SignWebSocket(int64_t now_unix_s) const;

  const CoinbaseCredentials& credentials() const noexcept { return credentials_; }

 private:
  size_t SignImpl(const char* uri, size_t uri_len, bool with_uri, int64_t now_unix_s, char* out,
                  size_t cap) const noexcept;
  CoinbaseCredentials credentials_;
};

// What a verified token said.
struct CoinbaseJwtClaims {
  std::string alg{};
  std::string kid{};
  std::string nonce{};
  std::string typ{};
  std::string sub{};
  std::string iss{};
  std::string uri{};  // empty for a WebSocket token
  bool has_uri = false;
  int64_t nbf = 0;
  int64_t exp = 0;
};

// Verifies a Coinbase JWT as the venue does (the reference our simulated venue and tests use):
// three base64url parts, header alg matching the key (ES256 with a raw r||s signature, or
// EdDSA), typ "JWT" when present, kid and a non-empty nonce present, sub == kid, iss "cdp", the
// signature, nbf <= now < exp, exp - nbf <= 120, and, when `expected_uri` is given, uri equal to
// it; when `expected_kid` is not empty, kid equal to it.
// Errors: InvalidArgument (the public key PEM does not parse), Unauthenticated with the reason
// ("malformed token: ...", "bad signature", "expired", "not yet valid", "wrong uri", "wrong
// kid", "wrong issuer", "lifetime over 120 s", "algorithm mismatch").
// Allocates (control plane and tests).
absl::StatusOr<CoinbaseJwtClaims> VerifyCoinbaseJwt(std::string_view token,
                                                    std::string_view public_key_pem,
                                                    std::optional<std::string_view> expected_uri,
                                                    int64_t now_unix_s,
                                                    std::string_view expected_kid = {});

// base64url without padding (RFC 4648 section 5). Encode writes 4*ceil(n/3) minus padding
// bytes and returns the length (0 when cap is too small); Decode returns false on characters
// outside the alphabet, padding, an impossible length or cap too small.
size_t Base64UrlEncode(const unsigned char* data, size_t n, char* out, size_t cap) noexcept;
bool Base64UrlDecode(std::string_view in, std::string* out);

}  // namespace nzeza::venues::coinbase

#endif  // NZEZA_VENUES_COINBASE_JWT_H_
