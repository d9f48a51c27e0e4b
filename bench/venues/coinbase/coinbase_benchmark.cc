// Coinbase order entry on the hot path.
//   BM_CoinbaseEncodeNewOrder         body + full HTTP request with a pooled token (ours)
//   BM_CoinbaseEncodeNewOrderOstream  the same bytes built with std::ostringstream / std::string
//   BM_CoinbaseEncodeNewOrderSignInline  ours, but signing the token inline (no pool)
//   BM_CoinbaseJwtSignES256           one token
//   BM_CoinbaseUserChannelDecode      one user-channel update with a fill -> ExecEvents
// Every encoder's output is checked against the reference bytes before timing.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <nzeza/core/decimal.h>
#include "nzeza/venues/coinbase/jwt.h"
#include "nzeza/venues/coinbase/jwt_pool.h"
#include "nzeza/venues/coinbase/orders.h"
#include "nzeza/venues/coinbase/user_channel.h"

namespace nzeza::venues::coinbase {
namespace {

constexpr int64_t kNow = 1700000000;

const JwtSigner& Signer() {
  static const JwtSigner* signer = [] {
    std::ifstream f(std::string(NZEZA_TESTDATA_DIR) + "/coinbase/coinbase_jwt_test_keys.json");
    std::stringstream ss;
    ss << f.rdbuf();
    simdjson::padded_string json(ss.str());
    simdjson::ondemand::parser parser;
    simdjson::ondemand::document doc;
    std::string_view name, pem;
    if (parser.iterate(json).get(doc) || doc["TEST_API_KEY"].get_string().get(name)) std::abort();
    std::string n(name);
    if (doc["TEST_API_SECRET_EC_P256"].get_string().get(pem)) std::abort();
    return new JwtSigner(*CoinbaseCredentials::FromPem(n, std::string(pem)));
  }();
  return *signer;
}

CoinbaseInstrument Btc() {
  CoinbaseInstruments t;
  if (!t.Add({.id = 0, .product_id = "BTC-USD", .price_scale = 2, .size_scale = 8}).ok()) {
    std::abort();
  }
  return *t.Find(0);
}

OrderCmd Cmd(uint64_t id) {
  OrderCmd c;
  c.side = Side::kBuy;
  c.order_type = OrderType::kLimit;
  c.tif = TimeInForce::kGtc;
  c.flags = kOrderPostOnly;
  c.client_order_id = id;
  c.price = 4300050;
  c.size = 150000;
  return c;
}

size_t Encode(const OrderCmd& c, const CoinbaseInstrument& inst, std::string_view jwt, char* req) {
  char body[kMaxBodyBytes];
  size_t body_len = 0;
  size_t len = 0;
  if (EncodeCreateOrderBody(c, inst, body, sizeof(body), &body_len) != EncodeError::kOk ||
      EncodeHttpRequest("POST", "/api/v3/brokerage/orders", "api.coinbase.com", jwt,
                        {body, body_len}, req, kMaxRequestBytes, &len) != EncodeError::kOk) {
    return 0;
  }
  return len;
}

// The competitor: what a typical client does (ostringstream for the JSON, std::string for the
// request), same bytes.
std::string EncodeOstream(const OrderCmd& c, const CoinbaseInstrument& inst,
                          const std::string& jwt) {
  char px[kMaxDecimalChars], sz[kMaxDecimalChars];
  const std::string price(px, FormatDecimal(c.price, inst.price_scale, px));
  const std::string size(sz, FormatDecimal(c.size, inst.size_scale, sz));
  std::ostringstream os;
  os << "{\"client_order_id\":\"" << c.client_order_id << "\",\"product_id\":\""
     << std::string(inst.product()) << "\",\"side\":\"" << (c.side == Side::kBuy ? "BUY" : "SELL")
     << "\",\"order_configuration\":{\"limit_limit_gtc\":{\"base_size\":\"" << size
     << "\",\"limit_price\":\"" << price
     << "\",\"post_only\":" << ((c.flags & kOrderPostOnly) ? "true" : "false") << "}}}";
  const std::string body = os.str();
  std::string req = "POST /api/v3/brokerage/orders HTTP/1.1\r\nHost: api.coinbase.com\r\n";
  req += "Authorization: Bearer " + jwt + "\r\n";
  req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n";
  req += body;
  return req;
}

void BM_CoinbaseEncodeNewOrder(benchmark::State& state) {
  const CoinbaseInstrument btc = Btc();
  // A deep pool, so the timing pauses for a refill only every 2048 orders.
  JwtPool pool(&Signer(), "api.coinbase.com", {.tokens_per_endpoint = 2048});
  pool.Refill(kNow, 4096);
  std::string_view first = pool.Take(CoinbaseEndpoint::kCreateOrder, kNow);
  char req[kMaxRequestBytes];
  const size_t n = Encode(Cmd(1), btc, first, req);
  if (n == 0 || std::string(req, n) != EncodeOstream(Cmd(1), btc, std::string(first))) {
    state.SkipWithError("encoder output differs from the reference");
    return;
  }
  uint64_t id = 1;
  for (auto _ : state) {
    std::string_view jwt = pool.Take(CoinbaseEndpoint::kCreateOrder, kNow);
    if (jwt.empty()) {  // refill outside the timed region: the pool is filled off the hot path
      state.PauseTiming();
      pool.Refill(kNow, 4096);
      jwt = pool.Take(CoinbaseEndpoint::kCreateOrder, kNow);
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(Encode(Cmd(++id), btc, jwt, req));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_CoinbaseEncodeNewOrder);

void BM_CoinbaseEncodeNewOrderOstream(benchmark::State& state) {
  const CoinbaseInstrument btc = Btc();
  const std::string jwt =
      *Signer().Sign("POST", "api.coinbase.com", "/api/v3/brokerage/orders", kNow);
  uint64_t id = 1;
  for (auto _ : state) {
    std::string r = EncodeOstream(Cmd(++id), btc, jwt);
    benchmark::DoNotOptimize(r.data());
  }
}
BENCHMARK(BM_CoinbaseEncodeNewOrderOstream);

void BM_CoinbaseEncodeNewOrderSignInline(benchmark::State& state) {
  const CoinbaseInstrument btc = Btc();
  char jwt[kMaxJwtBytes];
  char req[kMaxRequestBytes];
  uint64_t id = 1;
  for (auto _ : state) {
    const size_t jn = Signer().SignInto("POST", "api.coinbase.com", "/api/v3/brokerage/orders",
                                        kNow, jwt, sizeof(jwt));
    benchmark::DoNotOptimize(Encode(Cmd(++id), btc, {jwt, jn}, req));
  }
}
BENCHMARK(BM_CoinbaseEncodeNewOrderSignInline);

void BM_CoinbaseJwtSignES256(benchmark::State& state) {
  char jwt[kMaxJwtBytes];
  for (auto _ : state) {
    benchmark::DoNotOptimize(Signer().SignInto("POST", "api.coinbase.com",
                                               "/api/v3/brokerage/orders", kNow, jwt, sizeof(jwt)));
  }
}
BENCHMARK(BM_CoinbaseJwtSignES256);

struct NullSink : oms::ExecSink {
  void OnExec(const ExecEvent& ev) override {
    benchmark::DoNotOptimize(ev.last_price);
    ++n;
  }
  uint64_t n = 0;
};

void BM_CoinbaseUserChannelDecode(benchmark::State& state) {
  CoinbaseInstruments inst;
  if (!inst.Add({.id = 0,
                 .product_id = "BTC-USD",
                 .price_scale = 2,
                 .size_scale = 8,
                 .fee_scale = 10})
           .ok()) {
    std::abort();
  }
  CoinbaseOrderTable table(16);
  UserChannelDecoder dec(&inst, &table);
  // An update with a fill (shape of the user channel reference); the order is re-armed each
  // iteration so every decode emits one fill.
  simdjson::padded_string msg(std::string(
      R"({"channel":"user","client_id":"","timestamp":"2023-02-09T20:33:57.609931463Z",)"
      R"("sequence_num":1,"events":[{"type":"update","orders":[{"avg_price":"43000",)"
      R"("cancel_reason":"","client_order_id":"42","completion_percentage":"50",)"
      R"("contract_expiry_type":"UNKNOWN_CONTRACT_EXPIRY_TYPE","cumulative_quantity":"0.0005",)"
      R"("filled_value":"21.5","leaves_quantity":"0.0005","limit_price":"43000",)"
      R"("number_of_fills":"1","order_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890",)"
      R"("order_side":"BUY","order_type":"Limit","outstanding_hold_amount":"21.5",)"
      R"("post_only":"false","product_id":"BTC-USD","product_type":"SPOT","reject_reason":"",)"
      R"("retail_portfolio_id":"","risk_managed_by":"UNKNOWN_RISK_MANAGEMENT_TYPE",)"
      R"("status":"OPEN","stop_price":"","time_in_force":"GOOD_UNTIL_CANCELLED",)"
      R"("total_fees":"0.0215","total_value_after_fees":"21.5215","trigger_status":"INVALID_ORDER_TYPE",)"
      R"("creation_time":"2023-02-09T20:33:57.609931463Z","end_time":"0001-01-01T00:00:00Z",)"
      R"("start_time":"0001-01-01T00:00:00Z"}]}]})"));
  NullSink sink;
  TrackedOrder* t = table.Insert(42);
  t->size = 100000;
  t->acked = true;
  for (auto _ : state) {
    t->cum_size = 0;
    t->filled_value = 0;
    t->fees = 0;
    dec.ResetSequence();
    if (dec.Decode(msg.data(), msg.size(), 1, sink) != DecodeError::kOk) {
      state.SkipWithError("decode failed");
      return;
    }
  }
  if (sink.n != static_cast<uint64_t>(state.iterations())) state.SkipWithError("no fill emitted");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * msg.size()));
  state.SetLabel("simdjson " SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION));
}
BENCHMARK(BM_CoinbaseUserChannelDecode);

}  // namespace
}  // namespace nzeza::venues::coinbase
