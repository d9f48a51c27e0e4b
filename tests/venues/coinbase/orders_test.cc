#include "nzeza/venues/coinbase/orders.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

#include "../../common/counting_allocator.h"
#include "coinbase_test_keys.h"
#include "nzeza/venues/coinbase/jwt_pool.h"

namespace nzeza::venues::coinbase {
namespace {

using oms::VenueReject;

CoinbaseInstrument Btc() {
  CoinbaseInstruments t;
  EXPECT_TRUE(
      t.Add({.id = 3, .product_id = "BTC-USD", .price_scale = 2, .size_scale = 8, .fee_scale = 10})
          .ok());
  return *t.Find(3);
}

OrderCmd Cmd(Side side, OrderType type, TimeInForce tif, int64_t price, int64_t size,
             uint8_t flags = 0) {
  OrderCmd c;
  c.type = CmdType::kNew;
  c.side = side;
  c.order_type = type;
  c.tif = tif;
  c.flags = flags;
  c.instrument = 3;
  c.client_order_id = 1700000000123456789ull;
  c.price = price;
  c.size = size;
  return c;
}

std::string Body(const OrderCmd& c, EncodeError* err = nullptr) {
  char buf[kMaxBodyBytes];
  size_t n = 0;
  const EncodeError e = EncodeCreateOrderBody(c, Btc(), buf, sizeof(buf), &n);
  if (err != nullptr) *err = e;
  return e == EncodeError::kOk ? std::string(buf, n) : std::string(EncodeErrorName(e));
}

TEST(CoinbaseOrders, LimitGtcBodyIsExact) {
  EXPECT_EQ(
      Body(Cmd(Side::kBuy, OrderType::kLimit, TimeInForce::kGtc, 4300050, 150000, kOrderPostOnly)),
      R"({"client_order_id":"1700000000123456789","product_id":"BTC-USD","side":"BUY",)"
      R"("order_configuration":{"limit_limit_gtc":{"base_size":"0.0015",)"
      R"("limit_price":"43000.5","post_only":true}}})");
  EXPECT_EQ(Body(Cmd(Side::kSell, OrderType::kLimit, TimeInForce::kGtc, 4300000, 100000000)),
            R"({"client_order_id":"1700000000123456789","product_id":"BTC-USD","side":"SELL",)"
            R"("order_configuration":{"limit_limit_gtc":{"base_size":"1",)"
            R"("limit_price":"43000","post_only":false}}})");
}

TEST(CoinbaseOrders, IocFokAndMarketBodiesAreExact) {
  EXPECT_EQ(Body(Cmd(Side::kBuy, OrderType::kLimit, TimeInForce::kIoc, 1, 1)),
            R"({"client_order_id":"1700000000123456789","product_id":"BTC-USD","side":"BUY",)"
            R"("order_configuration":{"sor_limit_ioc":{"base_size":"0.00000001",)"
            R"("limit_price":"0.01"}}})");
  EXPECT_EQ(Body(Cmd(Side::kSell, OrderType::kLimit, TimeInForce::kFok, 123456, 5)),
            R"({"client_order_id":"1700000000123456789","product_id":"BTC-USD","side":"SELL",)"
            R"("order_configuration":{"limit_limit_fok":{"base_size":"0.00000005",)"
            R"("limit_price":"1234.56"}}})");
  EXPECT_EQ(Body(Cmd(Side::kSell, OrderType::kMarket, TimeInForce::kIoc, 0, 250000000)),
            R"({"client_order_id":"1700000000123456789","product_id":"BTC-USD","side":"SELL",)"
            R"("order_configuration":{"market_market_ioc":{"base_size":"2.5"}}})");
}

TEST(CoinbaseOrders, CombinationsCoinbaseCannotExpressAreRefused) {
  EncodeError e;
  Body(Cmd(Side::kBuy, OrderType::kLimit, TimeInForce::kIoc, 1, 1, kOrderPostOnly), &e);
  EXPECT_EQ(e, EncodeError::kUnsupportedOrder);
  Body(Cmd(Side::kBuy, OrderType::kMarket, TimeInForce::kGtc, 0, 1), &e);
  EXPECT_EQ(e, EncodeError::kUnsupportedOrder);
  Body(Cmd(Side::kBuy, OrderType::kLimit, TimeInForce::kGtc, 1, 1, kOrderReduceOnly), &e);
  EXPECT_EQ(e, EncodeError::kUnsupportedOrder);
  Body(Cmd(Side::kBuy, OrderType::kLimit, TimeInForce::kGtc, 0, 1), &e);
  EXPECT_EQ(e, EncodeError::kInvalidPrice);
  Body(Cmd(Side::kBuy, OrderType::kLimit, TimeInForce::kGtc, 5, -1), &e);
  EXPECT_EQ(e, EncodeError::kInvalidSize);
}

TEST(CoinbaseOrders, EveryShortBufferIsRefusedWithoutOverrun) {
  const OrderCmd c = Cmd(Side::kBuy, OrderType::kLimit, TimeInForce::kGtc, 4300050, 150000);
  const std::string full = Body(c);
  for (size_t cap = 0; cap < full.size(); ++cap) {
    std::string buf(cap + 16, '#');
    size_t n = 0;
    ASSERT_EQ(EncodeCreateOrderBody(c, Btc(), buf.data(), cap, &n), EncodeError::kBufferTooSmall);
    EXPECT_EQ(buf.substr(cap), std::string(16, '#')) << "wrote past cap " << cap;
  }
}

TEST(CoinbaseOrders, BatchCancelBody) {
  char buf[kMaxBodyBytes];
  size_t n = 0;
  const std::string_view ids[] = {"0000-aaaa", "1111-bbbb"};
  ASSERT_EQ(EncodeBatchCancelBody(ids, buf, sizeof(buf), &n), EncodeError::kOk);
  EXPECT_EQ(std::string(buf, n), R"({"order_ids":["0000-aaaa","1111-bbbb"]})");
  EXPECT_EQ(EncodeBatchCancelBody({}, buf, sizeof(buf), &n), EncodeError::kBadArgument);
  const std::string_view bad[] = {"a\"b"};
  EXPECT_EQ(EncodeBatchCancelBody(bad, buf, sizeof(buf), &n), EncodeError::kBadArgument);
  EXPECT_EQ(EncodeBatchCancelBody(ids, buf, 20, &n), EncodeError::kBufferTooSmall);
}

TEST(CoinbaseOrders, HttpRequestBytesAreExact) {
  char buf[kMaxRequestBytes];
  size_t n = 0;
  ASSERT_EQ(EncodeHttpRequest("POST", "/api/v3/brokerage/orders", "api.coinbase.com", "a.b.c", "{}",
                              buf, sizeof(buf), &n),
            EncodeError::kOk);
  EXPECT_EQ(std::string(buf, n),
            "POST /api/v3/brokerage/orders HTTP/1.1\r\nHost: api.coinbase.com\r\n"
            "Authorization: Bearer a.b.c\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\n\r\n{}");
  ASSERT_EQ(EncodeHttpRequest("GET", "/api/v3/brokerage/orders/historical/batch?limit=10",
                              "api.coinbase.com", "a.b.c", "", buf, sizeof(buf), &n),
            EncodeError::kOk);
  EXPECT_EQ(std::string(buf, n),
            "GET /api/v3/brokerage/orders/historical/batch?limit=10 HTTP/1.1\r\n"
            "Host: api.coinbase.com\r\nAuthorization: Bearer a.b.c\r\n\r\n");
  EXPECT_EQ(EncodeHttpRequest("POST", "/x", "h", "a\r\nInjected: 1", "", buf, sizeof(buf), &n),
            EncodeError::kBadArgument);
  EXPECT_EQ(EncodeHttpRequest("POST", "x", "h", "j", "", buf, sizeof(buf), &n),
            EncodeError::kBadArgument);
  EXPECT_EQ(EncodeHttpRequest("POST", "/x", "h", "j", "{}", buf, 10, &n),
            EncodeError::kBufferTooSmall);
}

// The whole hot-path encode: pooled token + body + request, with no allocation.
TEST(CoinbaseOrders, EncodingWithAPooledTokenDoesNotAllocate) {
  nzeza::testing::CoinbaseTestKeys keys = nzeza::testing::LoadCoinbaseTestKeys();
  absl::StatusOr<CoinbaseCredentials> creds =
      CoinbaseCredentials::FromPem(keys.key_name, keys.ec_pem);
  ASSERT_TRUE(creds.ok());
  JwtSigner signer(*creds);
  JwtPool pool(&signer, "api.coinbase.com", {.tokens_per_endpoint = 4});
  ASSERT_EQ(pool.Refill(1700000000, 8), 8);
  const CoinbaseInstrument btc = Btc();
  const OrderCmd c = Cmd(Side::kBuy, OrderType::kLimit, TimeInForce::kGtc, 4300050, 150000);
  char body[kMaxBodyBytes];
  char req[kMaxRequestBytes];
  size_t body_len = 0;
  size_t req_len = 0;
  const uint64_t before = nzeza::testing::AllocationCount();
  const std::string_view jwt = pool.Take(CoinbaseEndpoint::kCreateOrder, 1700000001);
  const EncodeError e1 = EncodeCreateOrderBody(c, btc, body, sizeof(body), &body_len);
  const EncodeError e2 =
      EncodeHttpRequest("POST", EndpointPath(CoinbaseEndpoint::kCreateOrder), "api.coinbase.com",
                        jwt, {body, body_len}, req, sizeof(req), &req_len);
  const uint64_t after = nzeza::testing::AllocationCount();
  EXPECT_EQ(after, before);
  ASSERT_EQ(e1, EncodeError::kOk);
  ASSERT_EQ(e2, EncodeError::kOk);
  // The Authorization header carries a token that verifies for this endpoint.
  const std::string r(req, req_len);
  const size_t at = r.find("Authorization: Bearer ") + 22;
  const std::string token = r.substr(at, r.find("\r\n", at) - at);
  EXPECT_TRUE(VerifyCoinbaseJwt(token, *creds->PublicKeyPem(),
                                "POST api.coinbase.com/api/v3/brokerage/orders", 1700000001)
                  .ok());
  EXPECT_EQ(r.substr(r.size() - body_len), std::string(body, body_len));
}

CreateOrderResponse DecodeCreate(int status, const std::string& json) {
  simdjson::padded_string p(json);
  CreateOrderResponse r;
  r.order_id_len = 99;  // the decoder resets everything
  EXPECT_EQ(DecodeCreateOrderResponse(status, p.data(), p.size(), &r), DecodeError::kOk) << json;
  return r;
}

TEST(CoinbaseOrders, CreateOrderSuccess) {
  // The shape of the reference's example (create-order, 200).
  const CreateOrderResponse r = DecodeCreate(200, R"({
    "success": true,
    "success_response": {"order_id": "11111-00000-000000", "product_id": "BTC-USD",
                         "side": "BUY", "client_order_id": "1700000000123456789"},
    "order_configuration": {"limit_limit_gtc": {"base_size": "0.001", "limit_price": "10000.00",
                            "post_only": false}}})");
  EXPECT_TRUE(r.success);
  EXPECT_EQ(r.order_id_view(), "11111-00000-000000");
  EXPECT_EQ(r.client_order_id, 1700000000123456789ull);
  EXPECT_EQ(r.reject, VenueReject::kNone);
}

TEST(CoinbaseOrders, CreateOrderFailuresMapToVenueRejects) {
  CreateOrderResponse r = DecodeCreate(200, R"({"success":false,
    "failure_reason":"UNKNOWN_FAILURE_REASON","order_id":"",
    "error_response":{"error":"INSUFFICIENT_FUND","message":"Insufficient balance in source account",
      "error_details":"","preview_failure_reason":"PREVIEW_INSUFFICIENT_FUND",
      "new_order_failure_reason":"UNKNOWN_FAILURE_REASON"}})");
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.reject, VenueReject::kInsufficientFunds);
  EXPECT_EQ(r.error_view(), "PREVIEW_INSUFFICIENT_FUND");
  r = DecodeCreate(200, R"({"success":false,"error_response":{"error":"UNKNOWN_FAILURE_REASON",
    "new_order_failure_reason":"INVALID_LIMIT_PRICE_POST_ONLY"}})");
  EXPECT_EQ(r.reject, VenueReject::kPostOnlyWouldCross);
  r = DecodeCreate(200,
                   R"({"success":false,"error_response":{"error":"INVALID_PRICE_PRECISION"}})");
  EXPECT_EQ(r.reject, VenueReject::kInvalidPrice);
  r = DecodeCreate(200, R"({"success":false,"error_response":{"preview_failure_reason":
    "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL"}})");
  EXPECT_EQ(r.reject, VenueReject::kInvalidSize);
  r = DecodeCreate(200, R"({"success":false,"error_response":{"error":"SOMETHING_NEW"}})");
  EXPECT_EQ(r.reject, VenueReject::kUnknown);
  EXPECT_EQ(r.error_view(), "SOMETHING_NEW");
}

TEST(CoinbaseOrders, HttpErrorShapesMapToVenueRejects) {
  CreateOrderResponse r = DecodeCreate(
      401, R"({"error":"UNAUTHENTICATED","error_details":"","message":"Unauthorized"})");
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.reject, VenueReject::kUnauthenticated);
  EXPECT_EQ(r.error_view(), "UNAUTHENTICATED");
  EXPECT_EQ(DecodeCreate(403, R"({"error":"PERMISSION_DENIED","message":"x"})").reject,
            VenueReject::kPermissionDenied);
  EXPECT_EQ(DecodeCreate(429, R"({"error":"RATE_LIMIT_EXCEEDED"})").reject,
            VenueReject::kRateLimited);
  EXPECT_EQ(DecodeCreate(503, "<html>Service Unavailable</html>").reject,
            VenueReject::kVenueUnavailable);
  EXPECT_EQ(DecodeCreate(400, R"({"error":"INVALID_ARGUMENT","message":"bad json"})").reject,
            VenueReject::kInvalidRequest);
  EXPECT_EQ(DecodeCreate(404, "").reject, VenueReject::kInvalidRequest);
}

TEST(CoinbaseOrders, MalformedSuccessBodiesAreRejectedAsMalformed) {
  for (const char* body : {"", "not json", "[]", R"({"success":"yes"})", R"({"x":1})",
                           R"({"success":true,"success_response":{}})"}) {
    simdjson::padded_string p{std::string(body)};
    CreateOrderResponse r;
    EXPECT_EQ(DecodeCreateOrderResponse(200, p.data(), p.size(), &r), DecodeError::kMalformed)
        << body;
    EXPECT_EQ(r.reject, VenueReject::kMalformedResponse);
    EXPECT_FALSE(r.success);
  }
}

TEST(CoinbaseOrders, DecodersDoNotAllocateAfterWarmUp) {
  simdjson::padded_string ok(std::string(
      R"({"success":true,"success_response":{"order_id":"a-b-c","client_order_id":"5"}})"));
  simdjson::padded_string cancel(std::string(
      R"({"results":[{"success":true,"failure_reason":"UNKNOWN_CANCEL_FAILURE_REASON","order_id":"a"}]})"));
  CreateOrderResponse r;
  static BatchCancelResponse c;
  ASSERT_EQ(DecodeCreateOrderResponse(200, ok.data(), ok.size(), &r), DecodeError::kOk);
  ASSERT_EQ(DecodeBatchCancelResponse(200, cancel.data(), cancel.size(), &c), DecodeError::kOk);
  const uint64_t before = nzeza::testing::AllocationCount();
  for (int i = 0; i < 10; ++i) {
    (void)DecodeCreateOrderResponse(200, ok.data(), ok.size(), &r);
    (void)DecodeBatchCancelResponse(200, cancel.data(), cancel.size(), &c);
  }
  EXPECT_EQ(nzeza::testing::AllocationCount(), before);
  EXPECT_EQ(r.order_id_view(), "a-b-c");
}

TEST(CoinbaseOrders, BatchCancelResults) {
  simdjson::padded_string p(std::string(R"({"results":[
    {"success":true,"failure_reason":"UNKNOWN_CANCEL_FAILURE_REASON","order_id":"id-1"},
    {"success":false,"failure_reason":"UNKNOWN_CANCEL_ORDER","order_id":"id-2"},
    {"success":false,"failure_reason":"COMMANDER_REJECTED_CANCEL_ORDER","order_id":"id-3"}]})"));
  static BatchCancelResponse r;
  ASSERT_EQ(DecodeBatchCancelResponse(200, p.data(), p.size(), &r), DecodeError::kOk);
  ASSERT_EQ(r.count, 3u);
  EXPECT_TRUE(r.results[0].success);
  EXPECT_EQ(r.results[0].reject, VenueReject::kNone);
  EXPECT_EQ(r.results[1].order_id_view(), "id-2");
  EXPECT_EQ(r.results[1].reject, VenueReject::kUnknownOrder);
  EXPECT_EQ(r.results[2].reject, VenueReject::kUnknown);
  simdjson::padded_string e(std::string(R"({"error":"UNAUTHENTICATED"})"));
  ASSERT_EQ(DecodeBatchCancelResponse(401, e.data(), e.size(), &r), DecodeError::kOk);
  EXPECT_EQ(r.reject, VenueReject::kUnauthenticated);
  EXPECT_EQ(r.count, 0u);
  simdjson::padded_string m(std::string(R"({"results":{}})"));
  EXPECT_EQ(DecodeBatchCancelResponse(200, m.data(), m.size(), &r), DecodeError::kMalformed);
}

TEST(CoinbaseOrders, ListOrdersAndFills) {
  absl::StatusOr<ListOrdersPage> o = DecodeListOrders(R"({"orders":[{
      "order_id":"0000-000000-000000","product_id":"BTC-USD","user_id":"2222",
      "order_configuration":{"limit_limit_gtc":{"base_size":"0.001","limit_price":"10000.00",
        "post_only":false}},
      "side":"BUY","client_order_id":"11111","status":"OPEN","time_in_force":"GOOD_UNTIL_CANCELLED",
      "created_time":"2021-05-31T09:59:59Z","completion_percentage":"50","filled_size":"0.0005",
      "average_filled_price":"10000.00","fee":"","number_of_fills":"2","filled_value":"5",
      "pending_cancel":false,"size_in_quote":false,"total_fees":"0.03","settled":false}],
      "sequence":"0","has_next":true,"cursor":"789100"})");
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_EQ(o->orders.size(), 1u);
  EXPECT_TRUE(o->has_next);
  EXPECT_EQ(o->cursor, "789100");
  const VenueOrder& v = o->orders[0];
  EXPECT_EQ(v.order_id, "0000-000000-000000");
  EXPECT_EQ(v.client_order_id, "11111");
  EXPECT_EQ(v.status, CoinbaseOrderStatus::kOpen);
  EXPECT_EQ(v.filled_size, "0.0005");
  EXPECT_EQ(v.filled_value, "5");
  EXPECT_EQ(v.total_fees, "0.03");
  EXPECT_EQ(v.number_of_fills, 2);
  EXPECT_EQ(v.side, Side::kBuy);

  absl::StatusOr<ListFillsPage> f = DecodeListFills(R"({"fills":[{
      "entry_id":"22222-2222222-22222222","trade_id":"1111-11111-111111",
      "order_id":"0000-000000-000000","trade_time":"2021-05-31T09:59:59Z","trade_type":"FILL",
      "price":"10000.00","size":"0.001","commission":"1.25","product_id":"BTC-USD",
      "sequence_timestamp":"2021-05-31T09:58:59Z","liquidity_indicator":"MAKER",
      "size_in_quote":false,"user_id":"3333-333333-3333333","side":"SELL"}],"cursor":"789100"})");
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->fills.size(), 1u);
  EXPECT_EQ(f->fills[0].trade_id, "1111-11111-111111");
  EXPECT_EQ(f->fills[0].price, "10000.00");
  EXPECT_EQ(f->fills[0].commission, "1.25");
  EXPECT_EQ(f->fills[0].liquidity, Liquidity::kMaker);
  EXPECT_EQ(f->fills[0].side, Side::kSell);
  EXPECT_FALSE(DecodeListOrders(R"({"orders":{}})").ok());
  EXPECT_FALSE(DecodeListFills(R"({"fills":[{"price":"1"}]})").ok());
}

TEST(CoinbaseOrders, ClientOrderIds) {
  uint64_t id = 0;
  EXPECT_TRUE(ParseClientOrderId("18446744073709551615", &id));
  EXPECT_EQ(id, 18446744073709551615ull);
  for (const char* bad : {"", "0", "012", "18446744073709551616", "1a", "-1", "11111-000000-000001",
                          "a1b2c3d4-e5f6"}) {
    EXPECT_FALSE(ParseClientOrderId(bad, &id)) << bad;
  }
}

TEST(CoinbaseInstrumentsTable, RefusesBadEntries) {
  CoinbaseInstruments t;
  EXPECT_TRUE(t.Add({.id = 0, .product_id = "ETH-USD", .price_scale = 2, .size_scale = 8}).ok());
  EXPECT_FALSE(t.Add({.id = 0, .product_id = "BTC-USD", .price_scale = 2, .size_scale = 8}).ok());
  EXPECT_FALSE(t.Add({.id = 1, .product_id = "ETH-USD", .price_scale = 2, .size_scale = 8}).ok());
  EXPECT_FALSE(t.Add({.id = 1, .product_id = "btc-usd", .price_scale = 2, .size_scale = 8}).ok());
  EXPECT_FALSE(t.Add({.id = 1, .product_id = "BTC-USD", .price_scale = 10, .size_scale = 10}).ok());
  EXPECT_FALSE(t.Add({.id = 70000, .product_id = "BTC-USD", .price_scale = 2}).ok());
  EXPECT_EQ(t.FindProduct("ETH-USD"), t.Find(0));
  EXPECT_EQ(t.FindProduct("BTC-USD"), nullptr);
  EXPECT_EQ(t.Find(9), nullptr);
}

}  // namespace
}  // namespace nzeza::venues::coinbase
