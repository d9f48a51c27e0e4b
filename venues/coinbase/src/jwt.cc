#include "nzeza/venues/coinbase/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <simdjson.h>

#include <charconv>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "bounded_writer.h"

namespace nzeza::venues::coinbase {
namespace {

constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

bool SafeJsonText(std::string_view s) noexcept {
  for (char c : s) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct BioDeleter {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};

// ES256: DER ECDSA-Sig-Value -> raw r || s (32 bytes each).
bool DerToRaw(const unsigned char* der, size_t der_len, unsigned char* raw64) noexcept {
  const unsigned char* p = der;
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) return false;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  return BN_bn2binpad(r, raw64, 32) == 32 && BN_bn2binpad(s, raw64 + 32, 32) == 32;
}

// raw r || s -> DER, for verification.
bool RawToDer(const unsigned char* raw64, std::string* der) {
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw64, 32, nullptr);
  BIGNUM* s = BN_bin2bn(raw64 + 32, 32, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  const int n = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (n <= 0) return false;
  der->resize(static_cast<size_t>(n));
  unsigned char* p = reinterpret_cast<unsigned char*>(der->data());
  return i2d_ECDSA_SIG(sig.get(), &p) == n;
}

absl::Status Unauth(std::string_view why) {
  return absl::UnauthenticatedError("Coinbase JWT rejected: " + std::string(why));
}

}  // namespace

size_t Base64UrlEncode(const unsigned char* data, size_t n, char* out, size_t cap) noexcept {
  const size_t need = n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
  if (need > cap) return 0;
  size_t o = 0;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out[o++] = kB64Url[(v >> 18) & 63];
    out[o++] = kB64Url[(v >> 12) & 63];
    out[o++] = kB64Url[(v >> 6) & 63];
    out[o++] = kB64Url[v & 63];
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t{data[i]} << 16;
    out[o++] = kB64Url[(v >> 18) & 63];
    out[o++] = kB64Url[(v >> 12) & 63];
  } else if (n - i == 2) {
    const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
    out[o++] = kB64Url[(v >> 18) & 63];
    out[o++] = kB64Url[(v >> 12) & 63];
    out[o++] = kB64Url[(v >> 6) & 63];
  }
  return o;
}

bool Base64UrlDecode(std::string_view in, std::string* out) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (in.size() % 4 == 1) return false;
  out->clear();
  out->reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = val(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero (canonical encoding).
  return (acc & ((1u << bits) - 1)) == 0;
}

absl::StatusOr<CoinbaseCredentials> CoinbaseCredentials::FromPem(std::string_view key_name,
                                                                 std::string_view private_key_pem) {
  if (key_name.empty()) {
    return absl::InvalidArgumentError("Coinbase API key name is empty");
  }
  if (key_name.size() > kMaxKeyNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("Coinbase API key name is longer than ", kMaxKeyNameBytes, " bytes"));
  }
  if (!SafeJsonText(key_name)) {
    return absl::InvalidArgumentError(
        "Coinbase API key name holds quotes, backslashes or control characters");
  }
  std::string pem(private_key_pem);
  if (pem.find("\\n") != std::string::npos) pem = absl::StrReplaceAll(pem, {{"\\n", "\n"}});
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* raw = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  // Scrub our copy of the secret.
  OPENSSL_cleanse(pem.data(), pem.size());
  ERR_clear_error();
  if (raw == nullptr) {
    return absl::InvalidArgumentError(
        "Coinbase API private key is not a PEM private key (expected \"-----BEGIN EC PRIVATE "
        "KEY-----\" or \"-----BEGIN PRIVATE KEY-----\"); check the secret's line breaks");
  }
  std::shared_ptr<EVP_PKEY> key(raw, PkeyDeleter());
  CoinbaseCredentials c;
  if (EVP_PKEY_is_a(raw, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(raw, group, sizeof(group), &len) != 1 ||
        (std::string_view(group) != "prime256v1" && std::string_view(group) != "P-256")) {
      ERR_clear_error();
      return absl::InvalidArgumentError(
          "Coinbase API private key is an EC key on another curve; ES256 needs P-256");
    }
    c.algorithm_ = JwtAlgorithm::kEs256;
  } else if (EVP_PKEY_is_a(raw, "ED25519")) {
    c.algorithm_ = JwtAlgorithm::kEdDsa;
  } else {
    return absl::InvalidArgumentError(
        "Coinbase API private key is neither EC P-256 (ES256) nor Ed25519 (EdDSA)");
  }
  c.key_name_ = std::string(key_name);
  c.key_ = std::move(key);
  return c;
}

absl::StatusOr<std::string> CoinbaseCredentials::PublicKeyPem() const {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL could not write the Coinbase API public key");
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

JwtSigner::JwtSigner(CoinbaseCredentials credentials) : credentials_(std::move(credentials)) {}

size_t JwtSigner::SignInto(std::string_view method, std::string_view host, std::string_view path,
                           int64_t now_unix_s, char* out, size_t cap) const noexcept {
  char uri[kMaxUriBytes];
  if (method.size() + 1 + host.size() + path.size() > sizeof(uri) || method.empty() ||
      host.empty() || !SafeJsonText(method) || !SafeJsonText(host) || !SafeJsonText(path)) {
    return 0;
  }
  size_t n = 0;
  std::memcpy(uri + n, method.data(), method.size());
  n += method.size();
  uri[n++] = ' ';
  std::memcpy(uri + n, host.data(), host.size());
  n += host.size();
  if (!path.empty()) std::memcpy(uri + n, path.data(), path.size());
  n += path.size();
  return SignImpl(uri, n, true, now_unix_s, out, cap);
}

size_t JwtSigner::SignWebSocketInto(int64_t now_unix_s, char* out, size_t cap) const noexcept {
  return SignImpl(nullptr, 0, false, now_unix_s, out, cap);
}

size_t JwtSigner::SignImpl(const char* uri, size_t uri_len, bool with_uri, int64_t now_unix_s,
                           char* out, size_t cap) const noexcept {
  EVP_PKEY* key = credentials_.key();
  if (key == nullptr) return 0;
  const std::string& kid = credentials_.key_name();
  // Nonce: 32 random bytes as 64 lower-case hex characters.
  unsigned char rnd[32];
  if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
    ERR_clear_error();
    return 0;
  }
  char nonce[64];
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof(rnd); ++i) {
    nonce[2 * i] = kHex[rnd[i] >> 4];
    nonce[2 * i + 1] = kHex[rnd[i] & 15];
  }
  char json[512];
  BoundedWriter h(json, sizeof(json));
  h.Put("{\"alg\":\"");
  h.Put(JwtAlgorithmName(credentials_.algorithm()));
  h.Put("\",\"kid\":\"");
  h.Put(kid);
  h.Put("\",\"nonce\":\"");
  h.Put(std::string_view(nonce, sizeof(nonce)));
  h.Put("\",\"typ\":\"JWT\"}");
  if (!h.ok()) return 0;
  size_t n = Base64UrlEncode(reinterpret_cast<const unsigned char*>(json), h.size(), out, cap);
  if (n == 0 || n + 1 > cap) return 0;
  out[n++] = '.';
  BoundedWriter p(json, sizeof(json));
  p.Put("{\"sub\":\"");
  p.Put(kid);
  p.Put("\",\"iss\":\"cdp\",\"nbf\":");
  p.PutInt(now_unix_s);
  p.Put(",\"exp\":");
  p.PutInt(now_unix_s + kJwtLifetimeSeconds);
  if (with_uri) {
    p.Put(",\"uri\":\"");
    p.Put(std::string_view(uri, uri_len));
    p.Put("\"");
  }
  p.Put("}");
  if (!p.ok()) return 0;
  const size_t pn =
      Base64UrlEncode(reinterpret_cast<const unsigned char*>(json), p.size(), out + n, cap - n);
  if (pn == 0) return 0;
  n += pn;
  // Sign "header.payload" in place.
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  unsigned char sig[80];  // DER ECDSA P-256 is at most 72 bytes; Ed25519 64
  size_t sig_len = sizeof(sig);
  const bool es256 = credentials_.algorithm() == JwtAlgorithm::kEs256;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, es256 ? EVP_sha256() : nullptr, nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &sig_len, reinterpret_cast<const unsigned char*>(out), n) !=
          1) {
    ERR_clear_error();
    return 0;
  }
  unsigned char raw[64];
  if (es256) {
    if (!DerToRaw(sig, sig_len, raw)) {
      ERR_clear_error();
      return 0;
    }
  } else {
    if (sig_len != 64) return 0;
    std::memcpy(raw, sig, 64);
  }
  if (n + 1 > cap) return 0;
  out[n++] = '.';
  const size_t sn = Base64UrlEncode(raw, 64, out + n, cap - n);
  if (sn == 0) return 0;
  return n + sn;
}

absl::StatusOr<std::string> JwtSigner::Sign(std::string_view method, std::string_view host,
                                            std::string_view path, int64_t now_unix_s) const {
  if (method.size() + 1 + host.size() + path.size() > kMaxUriBytes || method.empty() ||
      host.empty() || !SafeJsonText(method) || !SafeJsonText(host) || !SafeJsonText(path)) {
    return absl::InvalidArgumentError(absl::StrCat("Coinbase JWT uri is empty, longer than ",
                                                   kMaxUriBytes,
                                                   " bytes or holds quotes/control characters"));
  }
  std::string s(kMaxJwtBytes, '\0');
  const size_t n = SignInto(method, host, path, now_unix_s, s.data(), s.size());
  if (n == 0) return absl::InternalError("OpenSSL failed to sign the Coinbase JWT");
  s.resize(n);
  return s;
}

absl::StatusOr<std::string> JwtSigner::SignWebSocket(int64_t now_unix_s) const {
  std::string s(kMaxJwtBytes, '\0');
  const size_t n = SignWebSocketInto(now_unix_s, s.data(), s.size());
  if (n == 0) return absl::InternalError("OpenSSL failed to sign the Coinbase JWT");
  s.resize(n);
  return s;
}

absl::StatusOr<CoinbaseJwtClaims> VerifyCoinbaseJwt(std::string_view token,
                                                    std::string_view public_key_pem,
                                                    std::optional<std::string_view> expected_uri,
                                                    int64_t now_unix_s,
                                                    std::string_view expected_kid) {
  std::unique_ptr<BIO, BioDeleter> bio(
      BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size())));
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(
      bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  ERR_clear_error();
  if (!key) return absl::InvalidArgumentError("public key PEM does not parse");

  const size_t d1 = token.find('.');
  const size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d1 == std::string_view::npos || d2 == std::string_view::npos ||
      token.find('.', d2 + 1) != std::string_view::npos) {
    return Unauth("malformed token: not three dot-separated parts");
  }
  std::string header_json;
  std::string payload_json;
  std::string sig;
  if (!Base64UrlDecode(token.substr(0, d1), &header_json) ||
      !Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1), &payload_json) ||
      !Base64UrlDecode(token.substr(d2 + 1), &sig)) {
    return Unauth("malformed token: a part is not base64url without padding");
  }

  CoinbaseJwtClaims c;
  simdjson::ondemand::parser parser;
  bool have_nbf = false;
  bool have_exp = false;
  auto parse = [&](const std::string& text, bool header) -> bool {
    simdjson::padded_string padded(text);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    if (parser.iterate(padded).get(doc) || doc.get_object().get(obj)) return false;
    for (auto field : obj) {
      std::string_view k;
      if (field.unescaped_key().get(k)) return false;
      simdjson::ondemand::value v;
      if (field.value().get(v)) return false;
      std::string* dst = nullptr;
      if (header) {
        if (k == "alg")
          dst = &c.alg;
        else if (k == "kid")
          dst = &c.kid;
        else if (k == "nonce")
          dst = &c.nonce;
        else if (k == "typ")
          dst = &c.typ;
      } else {
        if (k == "sub")
          dst = &c.sub;
        else if (k == "iss")
          dst = &c.iss;
        else if (k == "uri") {
          dst = &c.uri;
          c.has_uri = true;
        } else if (k == "nbf" || k == "exp") {
          int64_t t;
          if (v.get_int64().get(t)) return false;
          (k == "nbf" ? c.nbf : c.exp) = t;
          (k == "nbf" ? have_nbf : have_exp) = true;
          continue;
        }
      }
      if (dst != nullptr) {
        std::string_view s;
        if (v.get_string().get(s)) return false;
        *dst = std::string(s);
      }
    }
    return true;
  };
  if (!parse(header_json, true)) return Unauth("malformed token: header is not a JSON object");
  if (!parse(payload_json, false)) return Unauth("malformed token: claims are not a JSON object");

  const bool es256 = EVP_PKEY_is_a(key.get(), "EC");
  if (c.alg != (es256 ? "ES256" : "EdDSA")) {
    return Unauth(absl::StrCat("algorithm mismatch: header alg \"", c.alg, "\" for a ",
                               es256 ? "P-256" : "Ed25519", " key"));
  }
  if (!c.typ.empty() && c.typ != "JWT") return Unauth("malformed token: typ is not \"JWT\"");
  if (c.kid.empty()) return Unauth("malformed token: no kid");
  if (c.nonce.empty()) return Unauth("malformed token: no nonce");
  if (!have_nbf || !have_exp) return Unauth("malformed token: nbf or exp missing");
  if (sig.size() != 64) return Unauth("bad signature: not 64 bytes");

  std::string der;
  const std::string_view signed_part = token.substr(0, d2);
  if (es256 && !RawToDer(reinterpret_cast<const unsigned char*>(sig.data()), &der)) {
    return Unauth("bad signature: r||s does not convert");
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  const std::string& s = es256 ? der : sig;
  const bool ok =
      ctx &&
      EVP_DigestVerifyInit(ctx.get(), nullptr, es256 ? EVP_sha256() : nullptr, nullptr,
                           key.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(s.data()), s.size(),
                       reinterpret_cast<const unsigned char*>(signed_part.data()),
                       signed_part.size()) == 1;
  ERR_clear_error();
  if (!ok) return Unauth("bad signature");

  if (!expected_kid.empty() && c.kid != expected_kid) return Unauth("wrong kid");
  if (c.sub != c.kid) return Unauth("wrong kid: sub differs from kid");
  if (c.iss != "cdp") return Unauth("wrong issuer (iss is not \"cdp\")");
  if (c.exp - c.nbf > kJwtLifetimeSeconds) return Unauth("lifetime over 120 s");
  if (now_unix_s < c.nbf) return Unauth("not yet valid (nbf in the future)");
  if (now_unix_s >= c.exp) return Unauth("expired");
  if (expected_uri.has_value() && (!c.has_uri || c.uri != *expected_uri)) {
    return Unauth("wrong uri \"" + c.uri + "\" (expected \"" + std::string(*expected_uri) + "\")");
  }
  return c;
}

}  // namespace nzeza::venues::coinbase
