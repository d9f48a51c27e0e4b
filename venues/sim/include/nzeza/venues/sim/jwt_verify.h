// Verifies Coinbase CDP API JWTs (ES256) the way the venue does, written from Coinbase's
// specification, independently of any signer in this project (venues never depend on each other;
// a verifier that shared our signer's code could share its misunderstanding).
//
//   absl::StatusOr<sim::JwtVerifier> v = sim::JwtVerifier::Create({{key_name, public_pem}});
//   absl::StatusOr<std::string> key = v->Verify(token, "POST
//   api.coinbase.com/api/v3/brokerage/orders",
//                                                now_unix_ns);
//   // ok: *key is the CDP key name (kid == sub) that signed it.
//
// The rules, each failure a kUnauthenticated status whose message names the rule:
// - three base64url segments (no padding), header and payload JSON objects;
// - header: "alg" == "ES256", "kid" names a configured key, "nonce" a non-empty string ("typ" is
//   optional and, when present, must be "JWT");
// - payload: "sub" == kid, "iss" == "cdp", integer "nbf" and "exp" (seconds) with
//   nbf <= now + kClockSkewSeconds (a client clock a little ahead is tolerated, as any verifier
//   must), now < exp, nbf < exp and exp - nbf <= 120 (Coinbase's two-minute lifetime);
// - REST: "uri" == "<METHOD> <host><path>" exactly (no scheme, no query), compared as bytes;
//   WebSocket (expected_uri empty): "uri" is not checked (Coinbase's WebSocket JWT has none);
// - the signature: 64 bytes r || s (JWS ES256, RFC 7518 3.4) over
//   base64url(header) "." base64url(payload) with SHA-256 and the key's P-256 public key.
//
// Thread: Verify is const and may be called concurrently; Create is not special.
// Allocates: yes (decoding); control plane.
#ifndef NZEZA_VENUES_SIM_JWT_VERIFY_H_
#define NZEZA_VENUES_SIM_JWT_VERIFY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

namespace nzeza::sim {

// base64url without padding (RFC 4648 section 5); padding '=' is refused, as JWS requires.
// False on any byte outside the alphabet or an impossible length.
bool Base64UrlDecode(std::string_view in, std::string* out);
std::string Base64UrlEncode(std::string_view in);

class JwtVerifier {
 public:
  // How far ahead of our clock a token's nbf may be.
  static constexpr int64_t kClockSkewSeconds = 5;
  // Coinbase's token lifetime: exp - nbf may not exceed it.
  static constexpr int64_t kMaxLifetimeSeconds = 120;

  // (key name, PEM) pairs; the PEM is an EC P-256 public key or private key (its public half is
  // used). Errors: kInvalidArgument naming the key (unreadable PEM, not EC P-256, duplicate name,
  // empty name).
  static absl::StatusOr<JwtVerifier> Create(
      const std::vector<std::pair<std::string, std::string>>& keys);

  JwtVerifier(JwtVerifier&&) noexcept;
  JwtVerifier& operator=(JwtVerifier&&) noexcept;
  ~JwtVerifier();

  // Verifies `token` (the JWT itself, without "Bearer "); returns the key name on success.
  // expected_uri empty: WebSocket token (no uri check). Errors: kUnauthenticated with the rule
  // that failed. Never crashes on any input.
  absl::StatusOr<std::string> Verify(std::string_view token, std::string_view expected_uri,
                                     int64_t now_unix_ns) const;

 private:
  struct Impl;
  explicit JwtVerifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nzeza::sim

#endif  // NZEZA_VENUES_SIM_JWT_VERIFY_H_
