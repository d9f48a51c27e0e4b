// The test-only CDP keys of ../shared/testdata/coinbase/coinbase_jwt_test_keys.json (published by
// coinbase/coinbase-advanced-py tests/constants.py), read at test time.
#ifndef NZEZA_TESTS_VENUES_COINBASE_COINBASE_TEST_KEYS_H_
#define NZEZA_TESTS_VENUES_COINBASE_COINBASE_TEST_KEYS_H_

#include <simdjson.h>

#include <fstream>
#include <sstream>
#include <string>

namespace nzeza::testing {

struct CoinbaseTestKeys {
  std::string key_name;
  std::string ec_pem;
  std::string ed25519_pem;
};

// Empty strings when the file is missing or malformed (the tests then fail on them).
inline CoinbaseTestKeys LoadCoinbaseTestKeys() {
  CoinbaseTestKeys k;
  std::ifstream f(std::string(NZEZA_TESTDATA_DIR) + "/coinbase/coinbase_jwt_test_keys.json");
  std::stringstream ss;
  ss << f.rdbuf();
  simdjson::padded_string json(ss.str());
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (parser.iterate(json).get(doc)) return k;
  std::string_view s;
  if (!doc["TEST_API_KEY"].get_string().get(s)) k.key_name = std::string(s);
  if (!doc["TEST_API_SECRET_EC_P256"].get_string().get(s)) k.ec_pem = std::string(s);
  if (!doc["TEST_ED25519_PKCS8_API_SECRET"].get_string().get(s)) k.ed25519_pem = std::string(s);
  return k;
}

}  // namespace nzeza::testing

#endif  // NZEZA_TESTS_VENUES_COINBASE_COINBASE_TEST_KEYS_H_
