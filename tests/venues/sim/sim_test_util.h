// Test helpers for the simulated exchange core: CDP test keys (Coinbase's published test key from
// ../shared/testdata and freshly generated ones), an independent ES256 JWT signer written here
// with OpenSSL (not the venue's signer: venues never share code), and JSON reading.
#ifndef NZEZA_TESTS_VENUES_SIM_SIM_TEST_UTIL_H_
#define NZEZA_TESTS_VENUES_SIM_SIM_TEST_UTIL_H_

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "nzeza/venues/sim/jwt_verify.h"

namespace nzeza::sim::testing {

struct TestKey {
  std::string name;
  std::string private_pem;
  std::string public_pem;
};

inline std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::string PublicPemOf(const std::string& private_pem) {
  BIO* in = BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
  BIO_free(in);
  if (key == nullptr) return "";
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(out, key);
  char* data = nullptr;
  const long n = BIO_get_mem_data(out, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(out);
  EVP_PKEY_free(key);
  return pem;
}

// Coinbase's published test key (coinbase/coinbase_jwt_test_keys.json); name empty if unreadable.
inline TestKey DocKey() {
  TestKey k;
  const std::string json =
      ReadFileOrEmpty(std::string(NZEZA_TESTDATA_DIR) + "/coinbase/coinbase_jwt_test_keys.json");
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root)) return k;
  std::string_view name, pem;
  if (root["TEST_API_KEY"].get(name) || root["TEST_API_SECRET_EC_P256"].get(pem)) return k;
  k.name = std::string(name);
  k.private_pem = std::string(pem);
  k.public_pem = PublicPemOf(k.private_pem);
  return k;
}

// A fresh P-256 key under `name`.
inline TestKey FreshKey(const std::string& name) {
  TestKey k;
  k.name = name;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(out, &data);
  k.private_pem.assign(data, static_cast<size_t>(n));
  BIO_free(out);
  EVP_PKEY_free(key);
  k.public_pem = PublicPemOf(k.private_pem);
  return k;
}

struct JwtParts {
  std::string alg = "ES256";
  std::string kid;  // empty: the key's name
  std::string sub;  // empty: the key's name
  std::string iss = "cdp";
  std::string nonce = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  std::string uri;  // empty: no uri claim (WebSocket)
  int64_t nbf = 0;
  int64_t exp = 0;
};

// Signs header.payload with ES256 (raw r || s), exactly as a Coinbase client does.
inline std::string SignJwt(const TestKey& key, const JwtParts& p) {
  const std::string kid = p.kid.empty() ? key.name : p.kid;
  const std::string sub = p.sub.empty() ? key.name : p.sub;
  std::string header = "{\"alg\":\"" + p.alg + "\",\"kid\":\"" + kid + "\",\"nonce\":\"" + p.nonce +
                       "\",\"typ\":\"JWT\"}";
  std::string payload = "{\"sub\":\"" + sub + "\",\"iss\":\"" + p.iss +
                        "\",\"nbf\":" + std::to_string(p.nbf) + ",\"exp\":" + std::to_string(p.exp);
  if (!p.uri.empty()) payload += ",\"uri\":\"" + p.uri + "\"";
  payload += "}";
  const std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);

  BIO* in = BIO_new_mem_buf(key.private_pem.data(), static_cast<int>(key.private_pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
  BIO_free(in);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t der_len = 0;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey);
  EVP_DigestSign(ctx, nullptr, &der_len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string der(der_len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &der_len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  const unsigned char* dp = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &dp, static_cast<long>(der_len));
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return input + "." + Base64UrlEncode(raw);
}

// A valid REST token for `method path` at `host`, nbf = now, exp = now + 120.
inline std::string RestJwt(const TestKey& key, std::string_view method, std::string_view host,
                           std::string_view path, int64_t now_ns) {
  JwtParts p;
  p.uri = std::string(method) + " " + std::string(host) + std::string(path);
  p.nbf = now_ns / 1'000'000'000;
  p.exp = p.nbf + 120;
  return SignJwt(key, p);
}

inline std::string WsJwt(const TestKey& key, int64_t now_ns) {
  JwtParts p;
  p.nbf = now_ns / 1'000'000'000;
  p.exp = p.nbf + 120;
  return SignJwt(key, p);
}

}  // namespace nzeza::sim::testing

#endif  // NZEZA_TESTS_VENUES_SIM_SIM_TEST_UTIL_H_
