// JWT ES256 verification as Coinbase specifies it. See jwt_verify.h.
#include "nzeza/venues/sim/jwt_verify.h"

#include "nzeza/venues/sim/protocol_util.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <simdjson.h>

#include <absl/container/flat_hash_map.h>

namespace nzeza::sim {
namespace {

namespace od = simdjson::ondemand;

using PKeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

int Base64UrlValue(unsigned char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

PKeyPtr LoadKey(const std::string& pem) {
  PKeyPtr none(nullptr, EVP_PKEY_free);
  if (pem.size() > static_cast<size_t>(INT32_MAX)) return none;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return none;
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  if (key == nullptr) {
    (void)BIO_reset(bio);
    key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  }
  BIO_free(bio);
  ERR_clear_error();  // a failed first attempt leaves errors on this thread's queue
  return PKeyPtr(key, EVP_PKEY_free);
}

bool IsP256(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
  char group[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1) return false;
  const std::string_view g(group, len);
  return g == "prime256v1" || g == "P-256" || g == "secp256r1";
}

absl::Status Unauth(std::string_view why) {
  return absl::UnauthenticatedError(Cat("invalid JWT: ", why));
}

// Reads one JSON object of string / integer members into the callbacks' hands. Duplicate
// members that we read are refused (a verifier must not pick one of two "kid"s silently).
struct Claims {
  std::string_view alg, kid, nonce, typ, sub, iss, uri;
  bool has_alg = false, has_kid = false, has_nonce = false, has_typ = false;
  bool has_sub = false, has_iss = false, has_uri = false;
  int64_t nbf = 0, exp = 0;
  bool has_nbf = false, has_exp = false;
};

// Parses `json` (padded) as an object; strings point into the parser's buffer, valid until the
// parser's next use.
absl::Status ReadObject(od::parser& parser, const simdjson::padded_string& json, bool header,
                        Claims* c) {
  od::document doc;
  if (parser.iterate(json).get(doc)) return Unauth(header ? "header not JSON" : "payload not JSON");
  od::object obj;
  if (doc.get_object().get(obj)) {
    return Unauth(header ? "header not a JSON object" : "payload not a JSON object");
  }
  for (auto field_r : obj) {
    od::field field;
    if (std::move(field_r).get(field))
      return Unauth(header ? "header malformed" : "payload malformed");
    std::string_view key;
    if (field.unescaped_key().get(key)) return Unauth("malformed member name");
    od::value v = field.value();
    auto read_str = [&](std::string_view* out, bool* has) -> absl::Status {
      if (*has) return Unauth(Cat("duplicate \"", key, "\""));
      if (v.get_string().get(*out)) return Unauth(Cat("\"", key, "\" not a string"));
      *has = true;
      return absl::OkStatus();
    };
    auto read_int = [&](int64_t* out, bool* has) -> absl::Status {
      if (*has) return Unauth(Cat("duplicate \"", key, "\""));
      if (v.get_int64().get(*out)) return Unauth(Cat("\"", key, "\" not an integer"));
      *has = true;
      return absl::OkStatus();
    };
    absl::Status s;
    if (header) {
      if (key == "alg") {
        s = read_str(&c->alg, &c->has_alg);
      } else if (key == "kid") {
        s = read_str(&c->kid, &c->has_kid);
      } else if (key == "nonce") {
        s = read_str(&c->nonce, &c->has_nonce);
      } else if (key == "typ") {
        s = read_str(&c->typ, &c->has_typ);
      }
    } else {
      if (key == "sub") {
        s = read_str(&c->sub, &c->has_sub);
      } else if (key == "iss") {
        s = read_str(&c->iss, &c->has_iss);
      } else if (key == "uri") {
        s = read_str(&c->uri, &c->has_uri);
      } else if (key == "nbf") {
        s = read_int(&c->nbf, &c->has_nbf);
      } else if (key == "exp") {
        s = read_int(&c->exp, &c->has_exp);
      }
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

bool Base64UrlDecode(std::string_view in, std::string* out) {
  out->clear();
  if (in.size() % 4 == 1) return false;
  out->reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : in) {
    const int v = Base64UrlValue(static_cast<unsigned char>(ch));
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero (canonical encoding).
  return bits == 0 || (acc & ((1u << bits) - 1)) == 0;
}

std::string Base64UrlEncode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(in[i]) << 16) |
                       (static_cast<uint8_t>(in[i + 1]) << 8) | static_cast<uint8_t>(in[i + 2]);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (in.size() - i == 1) {
    const uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (in.size() - i == 2) {
    const uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

struct JwtVerifier::Impl {
  absl::flat_hash_map<std::string, PKeyPtr> keys;
};

JwtVerifier::JwtVerifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JwtVerifier::JwtVerifier(JwtVerifier&&) noexcept = default;
JwtVerifier& JwtVerifier::operator=(JwtVerifier&&) noexcept = default;
JwtVerifier::~JwtVerifier() = default;

absl::StatusOr<JwtVerifier> JwtVerifier::Create(
    const std::vector<std::pair<std::string, std::string>>& keys) {
  auto impl = std::make_unique<Impl>();
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto& [name, pem] = keys[i];
    if (name.empty()) {
      return absl::InvalidArgumentError(Cat("api_keys[", i, "].key_name: empty"));
    }
    PKeyPtr key = LoadKey(pem);
    if (key == nullptr) {
      return absl::InvalidArgumentError(
          Cat("api_keys[", i, "] (", name,
              ").public_key_pem: not a readable PEM public or private key"));
    }
    if (!IsP256(key.get())) {
      return absl::InvalidArgumentError(
          Cat("api_keys[", i, "] (", name, ").public_key_pem: not an EC P-256 key"));
    }
    if (!impl->keys.emplace(name, std::move(key)).second) {
      return absl::InvalidArgumentError(
          Cat("api_keys[", i, "].key_name: duplicate \"", name, "\""));
    }
  }
  return JwtVerifier(std::move(impl));
}

absl::StatusOr<std::string> JwtVerifier::Verify(std::string_view token,
                                                std::string_view expected_uri,
                                                int64_t now_unix_ns) const {
  if (token.empty()) return Unauth("empty token");
  if (token.size() > 8192) return Unauth("token too long");
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Unauth("not three dot-separated segments");
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view sig_b64 = token.substr(dot2 + 1);
  std::string header_json, payload_json, sig;
  if (!Base64UrlDecode(header_b64, &header_json)) return Unauth("header not base64url");
  if (!Base64UrlDecode(payload_b64, &payload_json)) return Unauth("payload not base64url");
  if (!Base64UrlDecode(sig_b64, &sig)) return Unauth("signature not base64url");

  od::parser header_parser, payload_parser;
  const simdjson::padded_string header_padded(header_json);
  const simdjson::padded_string payload_padded(payload_json);
  Claims c;
  if (absl::Status s = ReadObject(header_parser, header_padded, /*header=*/true, &c); !s.ok()) {
    return s;
  }
  if (absl::Status s = ReadObject(payload_parser, payload_padded, /*header=*/false, &c); !s.ok()) {
    return s;
  }
  if (!c.has_alg || c.alg != "ES256") return Unauth("header alg is not ES256");
  if (c.has_typ && c.typ != "JWT") return Unauth("header typ is not JWT");
  if (!c.has_kid) return Unauth("header has no kid");
  if (!c.has_nonce || c.nonce.empty()) return Unauth("header has no nonce");
  auto key_it = impl_->keys.find(std::string(c.kid));
  if (key_it == impl_->keys.end()) return Unauth("unknown key (kid)");
  if (!c.has_sub || c.sub != c.kid) return Unauth("sub does not match kid");
  if (!c.has_iss || c.iss != "cdp") return Unauth("iss is not \"cdp\"");
  if (!c.has_nbf) return Unauth("no nbf");
  if (!c.has_exp) return Unauth("no exp");
  const int64_t now_s = now_unix_ns / 1'000'000'000;
  if (c.nbf > now_s + kClockSkewSeconds) return Unauth("not yet valid (nbf in the future)");
  if (c.exp <= now_s) return Unauth("expired (exp)");
  if (c.exp <= c.nbf) return Unauth("exp not after nbf");
  if (c.exp - c.nbf > kMaxLifetimeSeconds) return Unauth("lifetime exp - nbf over 120 s");
  if (!expected_uri.empty()) {
    if (!c.has_uri) return Unauth("no uri claim");
    if (c.uri != expected_uri) {
      return Unauth(Cat("uri claim \"", c.uri, "\" does not match \"", expected_uri, "\""));
    }
  }
  if (sig.size() != 64) return Unauth("signature is not 64 bytes (r || s)");

  // Raw r || s to DER for OpenSSL's ECDSA verification.
  ECDSA_SIG* esig = ECDSA_SIG_new();
  if (esig == nullptr) return Unauth("out of memory");
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr);
  if (r == nullptr || s == nullptr || ECDSA_SIG_set0(esig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(esig);
    return Unauth("bad signature encoding");
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(esig, &der);
  ECDSA_SIG_free(esig);
  if (der_len <= 0) return Unauth("bad signature encoding");

  const std::string_view signing_input = token.substr(0, dot2);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr &&
            EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key_it->second.get()) == 1 &&
            EVP_DigestVerify(ctx, der, static_cast<size_t>(der_len),
                             reinterpret_cast<const unsigned char*>(signing_input.data()),
                             signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  // A failed verification leaves errors on this thread's OpenSSL queue, where the server's TLS
  // code on the same thread would find them; clear them.
  ERR_clear_error();
  if (!ok) return Unauth("signature does not verify with the key named by kid");
  return std::string(c.kid);
}

}  // namespace nzeza::sim
