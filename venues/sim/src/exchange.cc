// The simulated exchange core: accounts, matching, market model and the Coinbase Advanced Trade
// protocol. See exchange.h for the interface and docs/ below for the decisions.
//
// Decisions (documented here because the interface header is shared with the server):
// - Scales: a product's price scale is the number of decimals of price_increment, its size scale
//   that of base_increment; quote amounts (balances, notionals, fees) are kept at
//   price_scale + size_scale, where price x size is exact. Create() refuses a product whose
//   quote scale exceeds 18.
// - Fees: fee = ceil(notional x fee_bps / 10^4) at the quote scale, i.e. exact when it divides,
//   otherwise rounded up by less than one quote unit (10^-quote_scale) in the venue's favour.
//   The taker pays taker_fee_bps, the maker maker_fee_bps; other participants pay none.
// - Balances: each key has, per product, its own base and quote balance (starting from
//   SimApiKey's), so products never share a wallet. Order entry checks what is available: the
//   balance less what the key's open orders hold (a buy holds limit x leaves plus the larger fee,
//   a sell its leaves). A market buy sized in base must afford walking the book now; one sized in
//   quote (quote_size = the notional to trade) must afford quote_size plus the taker fee.
// - Create order failures are HTTP 200 with {"success":false,...,"error_response":{...}} as the
//   venue does; `error` and `new_order_failure_reason` carry Coinbase's NewOrderFailureReason,
//   `preview_failure_reason` the matching PreviewFailureReason (PREVIEW_INVALID_BASE_SIZE_TOO_SMALL
//   for a size under base_min_size, ..._TOO_LARGE above base_max_size). Malformed requests
//   (not JSON, a required member missing or of the wrong type) are HTTP 400 with
//   {"error":"INVALID_ARGUMENT","error_details":...,"message":...}.
// - A repeated client_order_id returns the first order's id again (no new order), as Coinbase.
// - An IOC or market order's unfilled remainder ends CANCELLED; a crossing post-only order is
//   refused with INVALID_LIMIT_PRICE_POST_ONLY. Self-matching is allowed (no STP).
// - Rate limit: per key, a sliding one-second window over admitted requests; the request that
//   would be the (limit + 1)th inside the window is HTTP 429 and not counted. 0 disables it.
// - Cursors (List Orders, List Fills): the position in the account's append-only history where
//   the next page starts (newest first), so orders and fills that arrive between pages never
//   shift a page. List Accounts' cursor is the index of the next wallet. `limit` is capped at
//   1000 (orders, fills) and 250 (accounts, default 49), as the venue documents.
// - List Accounts: one wallet per currency the products name (base, then quote, product by
//   product). A currency starts at the key's base_balance if it is some product's base currency,
//   else at its quote_balance (once, although order entry keeps one wallet per product, see
//   Balances), plus what every product's fills changed it by (positions, notionals, fees), at
//   the largest scale any product uses for it. `hold` is what open orders reserve, exactly as
//   order entry counts it: a buy's limit x leaves plus the larger fee (in quote), a sell's leaves
//   (in base); available_balance = balance - hold.
// - Product book: `limit` levels per side (default: all), aggregated by price; mid_market is
//   exact (one more decimal than prices), spread_bps is truncated to 12 decimals; both empty
//   while a side is empty. best_bid_ask without product_ids lists every product.
// - Faults (ExchangeFaults): withhold_* and error_after_accept are applied after the request was
//   executed, so the order (or cancel) happened whatever the client hears; a foreign order goes
//   through order entry with no injected fault. While the user channel is down its updates are
//   dropped (a reconnecting client learns what happened from REST), not held back.
// - Model time: the first Advance() starts the model clock; steps are taken at start +
//   k x model_step_ns; at most kMaxStepsPerAdvance per call (a caller away longer skips time:
//   the mid does not move over the gap).
#include "nzeza/venues/sim/exchange.h"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include <simdjson.h>

#include <absl/container/flat_hash_map.h>

#include <nzeza/core/decimal.h>

#include "nzeza/venues/sim/jwt_verify.h"
#include "nzeza/venues/sim/market_model.h"
#include "nzeza/venues/sim/matching.h"
#include "nzeza/venues/sim/protocol_util.h"

namespace nzeza::sim {
namespace {

namespace od = simdjson::ondemand;

constexpr int32_t kParticipant = -1;
constexpr int64_t kNsPerSec = 1'000'000'000;
constexpr int64_t kMaxStepsPerAdvance = 5000;
constexpr size_t kRecentTrades = 50;
constexpr size_t kMaxSessionQueue = 100'000;
constexpr size_t kMaxCancelIds = 100;
constexpr size_t kMaxBodyBytes = 1 << 20;

const char* SideName(Side s) { return s == Side::kBuy ? "BUY" : "SELL"; }

int DecimalsOf(std::string_view text) {
  const size_t dot = text.find('.');
  if (dot == std::string_view::npos) return 0;
  return static_cast<int>(text.size() - dot - 1);
}

int64_t Pow10(int n) { return internal_decimal::kPow10[n]; }

int64_t FeeCeil(__int128 notional, int64_t bps) {
  if (bps <= 0 || notional <= 0) return 0;
  const __int128 num = notional * bps;
  return static_cast<int64_t>((num + 9'999) / 10'000);
}

enum class OrderKind : uint8_t { kLimitGtc, kLimitIoc, kMarket };
enum class OrderStatus : uint8_t { kOpen, kFilled, kCancelled };

const char* StatusName(OrderStatus s) {
  switch (s) {
    case OrderStatus::kOpen:
      return "OPEN";
    case OrderStatus::kFilled:
      return "FILLED";
    case OrderStatus::kCancelled:
      return "CANCELLED";
  }
  return "UNKNOWN_ORDER_STATUS";
}

struct Order {
  uint64_t id = 0;  // in the book
  std::string order_id;
  std::string client_order_id;
  int32_t account = 0;
  size_t product = 0;
  Side side = Side::kBuy;
  OrderKind kind = OrderKind::kLimitGtc;
  bool post_only = false;
  int64_t limit_price = 0;  // 0: market
  int64_t size = 0;         // base; for a market buy in quote: what it could take at entry
  __int128 quote_size = 0;  // market buy in quote: the notional (quote scale); else 0
  int64_t filled = 0;
  __int128 filled_value = 0;
  int64_t fees = 0;
  int64_t number_of_fills = 0;
  OrderStatus status = OrderStatus::kOpen;
  int64_t created_ns = 0;
  int64_t last_fill_ns = 0;
  int64_t list_visible_ns = 0;  // ExchangeFaults::list_lag_ms: hidden from List Orders until then
  std::string cancel_reason;

  int64_t leaves() const { return status == OrderStatus::kOpen ? size - filled : 0; }
};

struct FillRecord {
  std::string entry_id;
  uint64_t trade_id = 0;
  size_t order = 0;  // index into orders_
  int64_t price = 0;
  int64_t size = 0;
  int64_t commission = 0;
  int64_t time_ns = 0;
  bool maker = false;
};

struct AccountProduct {
  int64_t base = 0;
  int64_t quote = 0;
  int64_t base_start = 0;
  int64_t quote_start = 0;
  int64_t fills = 0;
};

struct PendingUserUpdate {
  size_t product = 0;
  std::string order_json;
};

struct Account {
  std::string key_name;
  std::string user_id;
  std::vector<AccountProduct> products;
  std::vector<size_t> orders;  // every order, oldest first
  std::vector<size_t> open;    // open orders
  absl::flat_hash_map<std::string, size_t> by_client_id;
  std::vector<FillRecord> fills;
  std::deque<int64_t> window;  // admitted request times, for the rate limit
  std::vector<PendingUserUpdate> pending;
};

struct Product {
  SimProductConfig cfg;
  int price_scale = 0, size_scale = 0, quote_scale = 0;
  int64_t tick = 1, lot = 1, min_size = 0, max_size = 0;
  MatchingBook book;
  std::unique_ptr<MarketModel> model;
  std::vector<uint64_t> participant_orders;
  absl::flat_hash_map<uint64_t, size_t> participant_index;
  uint64_t next_trade_id = 1;
  int64_t last_price = 0;
  std::deque<std::string> recent_trades;                      // JSON objects, newest last
  std::map<std::pair<int, int64_t>, int64_t> pending_levels;  // (side, price) -> size
  std::vector<std::string> pending_trades;
  int64_t participants_base = 0;
  int64_t participants_quote = 0;
  int64_t venue_fees = 0;
  int64_t trades = 0;
};

// One outgoing WebSocket message: numbered ones are head + sequence_num + tail.
struct Outgoing {
  std::shared_ptr<const std::string> head;
  std::shared_ptr<const std::string> tail;  // null: not numbered (errors)
};

class ExchangeImpl;

class WsSessionImpl final : public WsSession {
 public:
  explicit WsSessionImpl(ExchangeImpl* ex);
  ~WsSessionImpl() override;
  void OnClientText(std::string_view frame, int64_t now_unix_ns) override;
  void Drain(int64_t now_unix_ns, std::vector<std::string>* out) override;
  std::string_view user_key() const override;
  bool close_requested() const override { return close_requested_; }

  void Push(const std::shared_ptr<const std::string>& head,
            const std::shared_ptr<const std::string>& tail);
  void PushError(std::string_view message);

  ExchangeImpl* ex_;
  std::deque<Outgoing> queue_;
  uint64_t seq_ = 0;
  std::set<size_t> level2_;
  std::set<size_t> trades_;
  bool heartbeats_ = false;
  int64_t next_heartbeat_ns_ = 0;
  uint64_t heartbeat_counter_ = 0;
  int32_t user_account_ = -1;       // >= 0: subscribed to `user` as this account
  std::set<size_t> user_products_;  // empty: all
  bool close_requested_ = false;
  od::parser parser_;
};

RestReply ErrorReply(int status, std::string_view error, std::string_view detail,
                     std::string_view message) {
  RestReply r;
  r.status = status;
  r.body = "{\"error\":";
  AppendJsonString(&r.body, error);
  r.body += ",\"error_details\":";
  AppendJsonString(&r.body, detail);
  r.body += ",\"message\":";
  AppendJsonString(&r.body, message);
  r.body += "}";
  return r;
}

RestReply BadRequest(std::string_view detail) {
  return ErrorReply(400, "INVALID_ARGUMENT", detail, detail);
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

using Query = std::vector<std::pair<std::string, std::string>>;

Query ParseQuery(std::string_view q) {
  Query out;
  for (std::string_view part : SplitNonEmpty(q, '&')) {
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(PercentDecode(part), "");
    } else {
      out.emplace_back(PercentDecode(part.substr(0, eq)), PercentDecode(part.substr(eq + 1)));
    }
  }
  return out;
}

// Every value of `key` (repeated keys and comma-separated lists both accepted).
std::vector<std::string> QueryValues(const Query& q, std::string_view key) {
  std::vector<std::string> out;
  for (const auto& [k, v] : q) {
    if (k != key) continue;
    for (std::string_view part : SplitNonEmpty(v, ',')) {
      out.emplace_back(part);
    }
  }
  return out;
}

// A parsed create-order request.
struct CreateRequest {
  std::string client_order_id, product_id, side;
  bool has_client_order_id = false, has_product_id = false, has_side = false;
  std::string config_name;  // market_market_ioc, limit_limit_gtc, sor_limit_ioc, ...
  int configs = 0;
  std::string base_size, quote_size, limit_price;
  bool has_base_size = false, has_quote_size = false, has_limit_price = false;
  bool post_only = false;
};

// Reads a JSON string member into *out; false (with *why) when it is not a string.
bool ReadString(od::value& v, std::string_view key, std::string* out, std::string* why) {
  std::string_view s;
  if (v.get_string().get(s)) {
    *why = Cat(key, ": expected a string");
    return false;
  }
  out->assign(s);
  return true;
}

bool ParseCreate(od::parser& parser, std::string_view body, CreateRequest* req, std::string* why) {
  const simdjson::padded_string padded(body);
  od::document doc;
  od::object root;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(root)) {
    *why = "body: not a JSON object";
    return false;
  }
  for (auto field_r : root) {
    od::field field;
    std::string_view key;
    if (std::move(field_r).get(field) || field.unescaped_key().get(key)) {
      *why = "body: malformed JSON";
      return false;
    }
    od::value v = field.value();
    if (key == "client_order_id") {
      if (!ReadString(v, key, &req->client_order_id, why)) return false;
      req->has_client_order_id = true;
    } else if (key == "product_id") {
      if (!ReadString(v, key, &req->product_id, why)) return false;
      req->has_product_id = true;
    } else if (key == "side") {
      if (!ReadString(v, key, &req->side, why)) return false;
      req->has_side = true;
    } else if (key == "order_configuration") {
      od::object cfg;
      if (v.get_object().get(cfg)) {
        *why = "order_configuration: expected an object";
        return false;
      }
      for (auto cfg_r : cfg) {
        od::field cf;
        std::string_view name;
        if (std::move(cfg_r).get(cf) || cf.unescaped_key().get(name)) {
          *why = "order_configuration: malformed JSON";
          return false;
        }
        ++req->configs;
        req->config_name.assign(name);
        od::value cv = cf.value();
        od::object params;
        if (cv.get_object().get(params)) {
          *why = Cat("order_configuration.", name, ": expected an object");
          return false;
        }
        for (auto p_r : params) {
          od::field pf;
          std::string_view pk;
          if (std::move(p_r).get(pf) || pf.unescaped_key().get(pk)) {
            *why = "order_configuration: malformed JSON";
            return false;
          }
          od::value pv = pf.value();
          if (pk == "base_size") {
            if (!ReadString(pv, pk, &req->base_size, why)) return false;
            req->has_base_size = true;
          } else if (pk == "quote_size") {
            if (!ReadString(pv, pk, &req->quote_size, why)) return false;
            req->has_quote_size = true;
          } else if (pk == "limit_price") {
            if (!ReadString(pv, pk, &req->limit_price, why)) return false;
            req->has_limit_price = true;
          } else if (pk == "post_only") {
            bool b = false;
            std::string_view s;
            if (!pv.get_bool().get(b)) {
              req->post_only = b;
            } else if (!pv.get_string().get(s) && (s == "true" || s == "false")) {
              req->post_only = s == "true";
            } else {
              *why = "post_only: expected a boolean";
              return false;
            }
          }
        }
      }
    }
  }
  return true;
}

class ExchangeImpl final : public Exchange {
 public:
  ExchangeImpl(const SimConfig& config, JwtVerifier verifier)
      : config_(config), verifier_(std::move(verifier)) {}
  ~ExchangeImpl() override;

  absl::Status Init();

  void Advance(int64_t now_unix_ns) override;
  RestReply HandleRest(std::string_view method, std::string_view target,
                       std::string_view authorization, std::string_view body,
                       int64_t now_unix_ns) override;
  std::unique_ptr<WsSession> OpenSession() override;
  void SetFaults(const ExchangeFaults& faults) override;
  ExchangeFaults faults() const override { return faults_; }
  absl::StatusOr<ForeignOrder> PlaceForeignOrder(std::string_view key_name,
                                                 int64_t now_unix_ns) override;
  AccountView Account(std::string_view key_name) const override;
  int TradeThroughOpenOrders(std::string_view key_name, int64_t now_unix_ns) override;
  const SimConfig& config() const override { return config_; }
  std::vector<ProductTotals> Totals() const override;

  // For sessions.
  void Register(WsSessionImpl* s) { sessions_.push_back(s); }
  void Unregister(WsSessionImpl* s) {
    sessions_.erase(std::remove(sessions_.begin(), sessions_.end(), s), sessions_.end());
  }
  void OnSessionText(WsSessionImpl* s, std::string_view frame, int64_t now);
  std::string_view KeyName(int32_t account) const {
    return accounts_[static_cast<size_t>(account)].key_name;
  }
  void Heartbeat(WsSessionImpl* s, int64_t now, std::vector<std::string>* out);

 private:
  // Envelope head up to and including "sequence_num":.
  std::shared_ptr<const std::string> Head(std::string_view channel, int64_t now) const;
  void Start(int64_t now) {
    if (!started_) {
      started_ = true;
      start_ns_ = now;
      next_step_ns_ = now + config_.model_step_ns;
    }
  }

  // Matching and accounting.
  void Step(size_t pi, int64_t t);
  void ParticipantPlace(size_t pi, Side side, int64_t price, int64_t size, int64_t t);
  void RemoveParticipant(Product& p, uint64_t id);
  void ApplyFills(size_t pi, int32_t taker_account, Order* taker, Side taker_side, int64_t t);
  void NoteLevels(Product& p);
  void UserUpdate(const Order& o);
  void Publish(int64_t now);
  void CancelOrder(Order& o, std::string_view reason, int64_t now);
  Order* FindOrder(uint64_t id) {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &orders_[it->second];
  }
  int64_t AvailableQuote(const struct Account& a, size_t pi) const;
  int64_t AvailableBase(const struct Account& a, size_t pi) const;
  int64_t BuyHold(const Order& o) const;

  // True while the user channel is down for this account (ExchangeFaults::user_down_*).
  bool UserDown(int32_t account, int64_t now) const {
    return now < faults_.user_down_until_ns &&
           (faults_.user_down_key.empty() ||
            faults_.user_down_key == accounts_[static_cast<size_t>(account)].key_name);
  }

  // REST. `injectable`: the reject faults apply (not for PlaceForeignOrder).
  RestReply CreateOrder(int32_t account, std::string_view body, int64_t now, bool injectable);
  RestReply CancelOrders(int32_t account, std::string_view body, int64_t now);
  RestReply ListOrders(int32_t account, const Query& q, int64_t now);
  RestReply ListFills(int32_t account, const Query& q);
  RestReply GetOrder(int32_t account, std::string_view order_id);
  RestReply GetProduct(std::string_view product_id);
  RestReply ListAccounts(int32_t account, const Query& q, int64_t now);
  RestReply ProductBook(const Query& q, int64_t now);
  RestReply BestBidAsk(const Query& q, int64_t now);
  void AppendPricebook(std::string* out, size_t pi, size_t max_levels, int64_t now) const;
  void AppendOrderConfig(std::string* out, const Order& o) const;
  void AppendRestOrder(std::string* out, const Order& o) const;
  void AppendUserOrder(std::string* out, const Order& o) const;
  std::string AvgPrice(const Order& o) const;

  // WebSocket.
  void SendSubscriptions(WsSessionImpl* s, int64_t now);
  void SendL2Snapshot(WsSessionImpl* s, size_t pi, int64_t now);
  void SendTradesSnapshot(WsSessionImpl* s, size_t pi, int64_t now);
  void SendUserSnapshot(WsSessionImpl* s, int64_t now);

  SimConfig config_;
  JwtVerifier verifier_;
  ExchangeFaults faults_;
  int64_t create_requests_ = 0;  // create-order requests seen (ExchangeFaults::reject_every_n)
  std::vector<Product> products_;
  absl::flat_hash_map<std::string, size_t> product_index_;
  std::vector<struct Account> accounts_;
  absl::flat_hash_map<std::string, int32_t> account_index_;
  std::vector<Order> orders_;
  absl::flat_hash_map<uint64_t, size_t> by_id_;  // book id -> orders_ index
  absl::flat_hash_map<std::string, size_t> by_order_id_;
  std::vector<WsSessionImpl*> sessions_;
  int64_t foreign_orders_ = 0;  // PlaceForeignOrder's "manual-<n>" counter
  bool any_lagged_ = false;     // some order has list_visible_ns set
  uint64_t next_id_ = 1;
  SplitMix64 id_rng_{0};
  bool started_ = false;
  int64_t start_ns_ = 0;
  int64_t next_step_ns_ = 0;
  od::parser parser_;
  // Scratch.
  std::vector<MatchFill> fills_;
  std::vector<LevelUpdate> levels_;
};

// ---------------------------------------------------------------------------------------------
// Set-up.

absl::Status ExchangeImpl::Init() {
  if (config_.products.empty()) return absl::InvalidArgumentError("products: none configured");
  if (config_.model_step_ns <= 0) {
    return absl::InvalidArgumentError("model_step_ns: must be positive");
  }
  if (config_.heartbeat_interval_ns <= 0) {
    return absl::InvalidArgumentError("heartbeat_interval_ns: must be positive");
  }
  if (config_.maker_fee_bps < 0 || config_.maker_fee_bps > 10'000 || config_.taker_fee_bps < 0 ||
      config_.taker_fee_bps > 10'000) {
    return absl::InvalidArgumentError("maker_fee_bps / taker_fee_bps: must be in [0, 10000]");
  }
  id_rng_ = SplitMix64(config_.seed ^ 0x5eed'0dd5'1d5ULL);
  products_.resize(config_.products.size());
  for (size_t i = 0; i < config_.products.size(); ++i) {
    const SimProductConfig& c = config_.products[i];
    Product& p = products_[i];
    p.cfg = c;
    const std::string where = Cat("products[", i, "] (", c.product_id, ")");
    if (c.product_id.empty()) return absl::InvalidArgumentError(where + ".product_id: empty");
    if (!product_index_.emplace(c.product_id, i).second) {
      return absl::InvalidArgumentError(where + ".product_id: duplicate");
    }
    p.price_scale = DecimalsOf(c.price_increment);
    p.size_scale = DecimalsOf(c.base_increment);
    p.quote_scale = p.price_scale + p.size_scale;
    if (p.quote_scale > kMaxDecimalScale) {
      return absl::InvalidArgumentError(
          where + ": price_increment and base_increment have more than 18 decimals together");
    }
    auto parse = [&](const std::string& text, int scale, const char* field,
                     int64_t* out) -> absl::Status {
      const DecimalError e =
          ParseDecimal(text.data(), text.size(), scale, Signedness::kUnsigned, out);
      if (e != DecimalError::kOk) {
        return absl::InvalidArgumentError(
            Cat(where, ".", field, ": \"", text, "\" ", DecimalErrorName(e)));
      }
      return absl::OkStatus();
    };
    int64_t start = 0, pmax = 0;
    if (auto s = parse(c.price_increment, p.price_scale, "price_increment", &p.tick); !s.ok()) {
      return s;
    }
    if (auto s = parse(c.base_increment, p.size_scale, "base_increment", &p.lot); !s.ok()) return s;
    if (auto s = parse(c.base_min_size, p.size_scale, "base_min_size", &p.min_size); !s.ok()) {
      return s;
    }
    if (auto s = parse(c.base_max_size, p.size_scale, "base_max_size", &p.max_size); !s.ok()) {
      return s;
    }
    if (auto s = parse(c.start_price, p.price_scale, "start_price", &start); !s.ok()) return s;
    if (auto s = parse(c.participant_max_size, p.size_scale, "participant_max_size", &pmax);
        !s.ok()) {
      return s;
    }
    if (p.tick <= 0 || p.lot <= 0) {
      return absl::InvalidArgumentError(where + ": price_increment and base_increment must be > 0");
    }
    if (start <= 0 || start % p.tick != 0) {
      return absl::InvalidArgumentError(where +
                                        ".start_price: must be a positive multiple of "
                                        "price_increment");
    }
    if (p.max_size < p.min_size) {
      return absl::InvalidArgumentError(where + ".base_max_size: below base_min_size");
    }
    if (c.volatility_bps < 0 || c.participant_orders_per_sec < 0 || c.seed_levels < 0 ||
        c.seed_levels > 10'000 || c.participant_orders_per_sec > 1'000'000) {
      return absl::InvalidArgumentError(where +
                                        ": volatility_bps, participant_orders_per_sec and "
                                        "seed_levels must be non-negative (seed_levels <= "
                                        "10000, orders/s <= 10^6)");
    }
    MarketModelParams mp;
    mp.start_price = start;
    mp.tick = p.tick;
    mp.lot = p.lot;
    mp.min_size = std::max(p.min_size, p.lot);
    mp.max_size = std::max(pmax, mp.min_size);
    mp.volatility_bps = c.volatility_bps;
    mp.orders_per_sec = c.participant_orders_per_sec;
    mp.seed_levels = c.seed_levels;
    mp.step_ns = config_.model_step_ns;
    // Each product's stream is its own, derived from the seed and the product's position.
    p.model = std::make_unique<MarketModel>(mp, config_.seed * 0x9e3779b97f4a7c15ULL + i + 1);
    p.last_price = start;
    if (c.seed_levels > 0) {
      for (const SeedOrder& o : p.model->SeedBook()) {
        const uint64_t id = next_id_++;
        levels_.clear();
        if (p.book.Add(id, kParticipant, o.side, o.price, o.size, &levels_)) {
          p.participant_index[id] = p.participant_orders.size();
          p.participant_orders.push_back(id);
        }
      }
    }
  }
  levels_.clear();
  for (size_t i = 0; i < config_.api_keys.size(); ++i) {
    const SimApiKey& k = config_.api_keys[i];
    struct Account a;
    a.key_name = k.key_name;
    a.user_id = UuidFromBits(id_rng_.Next(), id_rng_.Next());
    if (!account_index_.emplace(k.key_name, static_cast<int32_t>(i)).second) {
      return absl::InvalidArgumentError(
          Cat("api_keys[", i, "].key_name: duplicate \"", k.key_name, "\""));
    }
    for (size_t pi = 0; pi < products_.size(); ++pi) {
      const Product& p = products_[pi];
      AccountProduct ap;
      if (ParseDecimal(k.quote_balance.data(), k.quote_balance.size(), p.quote_scale,
                       Signedness::kUnsigned, &ap.quote) != DecimalError::kOk ||
          ParseDecimal(k.base_balance.data(), k.base_balance.size(), p.size_scale,
                       Signedness::kUnsigned, &ap.base) != DecimalError::kOk) {
        return absl::InvalidArgumentError(
            Cat("api_keys[", i, "] (", k.key_name, "): quote_balance \"", k.quote_balance,
                "\" / base_balance \"", k.base_balance, "\" not a non-negative decimal that fits ",
                p.cfg.product_id, "'s scales"));
      }
      ap.base_start = ap.base;
      ap.quote_start = ap.quote;
      a.products.push_back(ap);
    }
    accounts_.push_back(std::move(a));
  }
  return absl::OkStatus();
}

ExchangeImpl::~ExchangeImpl() {
  // Sessions must be destroyed first (exchange.h); detach any left so they never touch us.
  for (WsSessionImpl* s : sessions_) s->ex_ = nullptr;
}

// ---------------------------------------------------------------------------------------------
// Matching and accounting.

void ExchangeImpl::NoteLevels(Product& p) {
  for (const LevelUpdate& u : levels_) {
    p.pending_levels[{static_cast<int>(u.side), u.price}] = u.size;
  }
  levels_.clear();
}

void ExchangeImpl::RemoveParticipant(Product& p, uint64_t id) {
  auto it = p.participant_index.find(id);
  if (it == p.participant_index.end()) return;
  const size_t idx = it->second;
  p.participant_index.erase(it);
  const uint64_t last = p.participant_orders.back();
  p.participant_orders.pop_back();
  if (last != id) {
    p.participant_orders[idx] = last;
    p.participant_index[last] = idx;
  }
}

int64_t ExchangeImpl::BuyHold(const Order& o) const {
  if (o.side != Side::kBuy || o.status != OrderStatus::kOpen || o.limit_price == 0) return 0;
  const __int128 n = static_cast<__int128>(o.limit_price) * o.leaves();
  return static_cast<int64_t>(n) +
         FeeCeil(n, std::max(config_.maker_fee_bps, config_.taker_fee_bps));
}

int64_t ExchangeImpl::AvailableQuote(const struct Account& a, size_t pi) const {
  int64_t held = 0;
  for (size_t oi : a.open) {
    if (orders_[oi].product == pi) held += BuyHold(orders_[oi]);
  }
  return a.products[pi].quote - held;
}

int64_t ExchangeImpl::AvailableBase(const struct Account& a, size_t pi) const {
  int64_t held = 0;
  for (size_t oi : a.open) {
    const Order& o = orders_[oi];
    if (o.product == pi && o.side == Side::kSell) held += o.leaves();
  }
  return a.products[pi].base - held;
}

void ExchangeImpl::ApplyFills(size_t pi, int32_t taker_account, Order* taker, Side taker_side,
                              int64_t t) {
  Product& p = products_[pi];
  for (const MatchFill& f : fills_) {
    const __int128 notional128 = static_cast<__int128>(f.price) * f.size;
    const int64_t notional = static_cast<int64_t>(notional128);
    const uint64_t trade_id = p.next_trade_id++;
    ++p.trades;
    p.last_price = f.price;
    // The public trade (side: the taker's).
    std::string trade = "{\"trade_id\":\"";
    Append(&trade, trade_id, "\",\"product_id\":");
    AppendJsonString(&trade, p.cfg.product_id);
    Append(&trade, ",\"price\":\"", DecimalText(f.price, p.price_scale), "\",\"size\":\"",
           DecimalText(f.size, p.size_scale), "\",\"side\":\"", SideName(taker_side),
           "\",\"time\":\"");
    AppendRfc3339Nanos(&trade, t);
    trade += "\"}";
    p.pending_trades.push_back(trade);
    p.recent_trades.push_back(std::move(trade));
    if (p.recent_trades.size() > kRecentTrades) p.recent_trades.pop_front();

    // Each side's books.
    auto settle = [&](int32_t account, Order* order, Side side, bool maker) {
      const int64_t bps = maker ? config_.maker_fee_bps : config_.taker_fee_bps;
      if (account == kParticipant) {
        p.participants_base += side == Side::kBuy ? f.size : -f.size;
        p.participants_quote += side == Side::kBuy ? -notional : notional;
        return;
      }
      const int64_t fee = FeeCeil(notional128, bps);
      p.venue_fees += fee;
      struct Account& a = accounts_[static_cast<size_t>(account)];
      AccountProduct& ap = a.products[pi];
      if (side == Side::kBuy) {
        ap.base += f.size;
        ap.quote -= notional + fee;
      } else {
        ap.base -= f.size;
        ap.quote += notional - fee;
      }
      ++ap.fills;
      if (order == nullptr) return;
      order->filled += f.size;
      order->filled_value += notional128;
      order->fees += fee;
      ++order->number_of_fills;
      order->last_fill_ns = t;
      FillRecord fr;
      fr.entry_id = UuidFromBits(id_rng_.Next(), id_rng_.Next());
      fr.trade_id = trade_id;
      fr.order = by_id_[order->id];
      fr.price = f.price;
      fr.size = f.size;
      fr.commission = fee;
      fr.time_ns = t;
      fr.maker = maker;
      a.fills.push_back(std::move(fr));
      if (order->filled >= order->size) {
        order->status = OrderStatus::kFilled;
        a.open.erase(std::remove(a.open.begin(), a.open.end(), by_id_[order->id]), a.open.end());
      }
      UserUpdate(*order);
    };
    Order* maker_order = f.maker_owner == kParticipant ? nullptr : FindOrder(f.maker_id);
    settle(f.maker_owner, maker_order, Opposite(taker_side), /*maker=*/true);
    settle(taker_account, taker, taker_side, /*maker=*/false);
    if (f.maker_owner == kParticipant && f.maker_leaves == 0) RemoveParticipant(p, f.maker_id);
  }
  fills_.clear();
}

void ExchangeImpl::ParticipantPlace(size_t pi, Side side, int64_t price, int64_t size, int64_t t) {
  Product& p = products_[pi];
  const uint64_t id = next_id_++;
  fills_.clear();
  const int64_t left = p.book.Take(side, price, size, &fills_, &levels_);
  ApplyFills(pi, kParticipant, nullptr, side, t);
  if (left > 0 && p.book.Add(id, kParticipant, side, price, left, &levels_)) {
    p.participant_index[id] = p.participant_orders.size();
    p.participant_orders.push_back(id);
  }
  NoteLevels(p);
}

void ExchangeImpl::Step(size_t pi, int64_t t) {
  Product& p = products_[pi];
  const int arrivals = p.model->Step();
  for (int i = 0; i < arrivals; ++i) {
    BookTop top;
    top.has_bid = p.book.BestBid(&top.bid);
    top.has_ask = p.book.BestAsk(&top.ask);
    const ParticipantAction a = p.model->NextAction(top, p.participant_orders.size());
    if (a.kind == ParticipantAction::Kind::kCancel) {
      // The candidate farthest from the mid goes.
      const int64_t mid = p.model->mid();
      uint64_t id = p.participant_orders[a.cancel_index[0]];
      int64_t farthest = -1;
      for (size_t idx : a.cancel_index) {
        const uint64_t cand = p.participant_orders[idx];
        const RestingOrder* r = p.book.Find(cand);
        const int64_t dist = r == nullptr ? 0 : (r->price > mid ? r->price - mid : mid - r->price);
        if (dist > farthest) {
          farthest = dist;
          id = cand;
        }
      }
      p.book.Cancel(id, &levels_);
      RemoveParticipant(p, id);
      NoteLevels(p);
    } else if (a.kind == ParticipantAction::Kind::kPlace) {
      ParticipantPlace(pi, a.side, a.price, a.size, t);
    }
  }
}

void ExchangeImpl::Advance(int64_t now) {
  Start(now);
  if (now >= next_step_ns_) {
    int64_t steps = (now - next_step_ns_) / config_.model_step_ns + 1;
    if (steps > kMaxStepsPerAdvance) {
      next_step_ns_ += (steps - kMaxStepsPerAdvance) * config_.model_step_ns;
      steps = kMaxStepsPerAdvance;
    }
    for (int64_t s = 0; s < steps; ++s) {
      for (size_t pi = 0; pi < products_.size(); ++pi) Step(pi, next_step_ns_);
      next_step_ns_ += config_.model_step_ns;
    }
  }
  Publish(now);
}

void ExchangeImpl::CancelOrder(Order& o, std::string_view reason, int64_t now) {
  (void)now;
  if (o.status != OrderStatus::kOpen) return;
  Product& p = products_[o.product];
  p.book.Cancel(o.id, &levels_);
  NoteLevels(p);
  o.status = OrderStatus::kCancelled;
  o.cancel_reason.assign(reason);
  struct Account& a = accounts_[static_cast<size_t>(o.account)];
  const size_t oi = by_id_[o.id];
  a.open.erase(std::remove(a.open.begin(), a.open.end(), oi), a.open.end());
  UserUpdate(o);
}

// ---------------------------------------------------------------------------------------------
// Publishing.

std::shared_ptr<const std::string> ExchangeImpl::Head(std::string_view channel, int64_t now) const {
  std::string h = "{\"channel\":\"";
  h += channel;
  h += "\",\"client_id\":\"\",\"timestamp\":\"";
  AppendRfc3339Nanos(&h, now);
  h += "\",\"sequence_num\":";
  return std::make_shared<const std::string>(std::move(h));
}

void ExchangeImpl::UserUpdate(const Order& o) {
  PendingUserUpdate u;
  u.product = o.product;
  AppendUserOrder(&u.order_json, o);
  accounts_[static_cast<size_t>(o.account)].pending.push_back(std::move(u));
}

void ExchangeImpl::Publish(int64_t now) {
  for (size_t pi = 0; pi < products_.size(); ++pi) {
    Product& p = products_[pi];
    if (!p.pending_levels.empty()) {
      std::string tail = ",\"events\":[{\"type\":\"update\",\"product_id\":";
      AppendJsonString(&tail, p.cfg.product_id);
      tail += ",\"updates\":[";
      bool first = true;
      std::string event_time;
      AppendRfc3339Nanos(&event_time, now);
      for (const auto& [key, size] : p.pending_levels) {
        if (!first) tail += ',';
        first = false;
        Append(&tail, "{\"side\":\"", key.first == 0 ? "bid" : "offer", "\",\"event_time\":\"",
               event_time, "\",\"price_level\":\"", DecimalText(key.second, p.price_scale),
               "\",\"new_quantity\":\"", DecimalText(size, p.size_scale), "\"}");
      }
      tail += "]}]}";
      p.pending_levels.clear();
      auto head = Head("l2_data", now);
      auto t = std::make_shared<const std::string>(std::move(tail));
      for (WsSessionImpl* s : sessions_) {
        if (s->level2_.contains(pi)) s->Push(head, t);
      }
    }
    if (!p.pending_trades.empty()) {
      std::string tail = ",\"events\":[{\"type\":\"update\",\"trades\":[";
      // Coinbase lists a message's trades newest first.
      for (size_t i = p.pending_trades.size(); i-- > 0;) {
        tail += p.pending_trades[i];
        if (i > 0) tail += ',';
      }
      tail += "]}]}";
      p.pending_trades.clear();
      auto head = Head("market_trades", now);
      auto t = std::make_shared<const std::string>(std::move(tail));
      for (WsSessionImpl* s : sessions_) {
        if (s->trades_.contains(pi)) s->Push(head, t);
      }
    }
  }
  for (size_t ai = 0; ai < accounts_.size(); ++ai) {
    struct Account& a = accounts_[ai];
    if (a.pending.empty()) continue;
    if (UserDown(static_cast<int32_t>(ai), now)) {
      a.pending.clear();  // the user channel is down: dropped, not delayed
      continue;
    }
    for (WsSessionImpl* s : sessions_) {
      if (s->user_account_ != static_cast<int32_t>(ai)) continue;
      std::string tail = ",\"events\":[{\"type\":\"update\",\"orders\":[";
      bool first = true;
      for (const PendingUserUpdate& u : a.pending) {
        if (!s->user_products_.empty() && !s->user_products_.contains(u.product)) continue;
        if (!first) tail += ',';
        first = false;
        tail += u.order_json;
      }
      if (first) continue;  // nothing for this subscription's products
      tail += "]}]}";
      s->Push(Head("user", now), std::make_shared<const std::string>(std::move(tail)));
    }
    a.pending.clear();
  }
}

// ---------------------------------------------------------------------------------------------
// JSON for orders and fills.

std::string ExchangeImpl::AvgPrice(const Order& o) const {
  const Product& p = products_[o.product];
  if (o.filled <= 0) return "0";
  // filled_value (quote scale) / filled (size scale) = price scale; k more decimals, truncated.
  const int k = std::min(p.size_scale, kMaxDecimalScale - p.price_scale);
  const __int128 avg = o.filled_value * Pow10(k) / o.filled;
  return DecimalText128(avg, p.price_scale + k);
}

void ExchangeImpl::AppendOrderConfig(std::string* out, const Order& o) const {
  const Product& p = products_[o.product];
  if (o.kind == OrderKind::kMarket) {
    *out += "{\"market_market_ioc\":{";
    if (o.quote_size > 0) {
      Append(out, "\"quote_size\":\"", DecimalText128(o.quote_size, p.quote_scale), "\"");
    } else {
      Append(out, "\"base_size\":\"", DecimalText(o.size, p.size_scale), "\"");
    }
    *out += "}}";
    return;
  }
  Append(out, "{\"", o.kind == OrderKind::kLimitGtc ? "limit_limit_gtc" : "sor_limit_ioc",
         "\":{\"base_size\":\"", DecimalText(o.size, p.size_scale), "\",\"limit_price\":\"",
         DecimalText(o.limit_price, p.price_scale), "\"");
  if (o.kind == OrderKind::kLimitGtc) {
    Append(out, ",\"post_only\":", o.post_only ? "true" : "false");
  }
  *out += "}}";
}

void ExchangeImpl::AppendRestOrder(std::string* out, const Order& o) const {
  const Product& p = products_[o.product];
  const struct Account& a = accounts_[static_cast<size_t>(o.account)];
  const int64_t after_fees = static_cast<int64_t>(o.side == Side::kBuy ? o.filled_value + o.fees
                                                                       : o.filled_value - o.fees);
  const int64_t pct =
      o.size > 0 ? static_cast<int64_t>(static_cast<__int128>(o.filled) * 10000 / o.size) : 0;
  *out += "{\"order_id\":";
  AppendJsonString(out, o.order_id);
  *out += ",\"product_id\":";
  AppendJsonString(out, p.cfg.product_id);
  *out += ",\"user_id\":";
  AppendJsonString(out, a.user_id);
  *out += ",\"order_configuration\":";
  AppendOrderConfig(out, o);
  Append(out, ",\"side\":\"", SideName(o.side), "\",\"client_order_id\":");
  AppendJsonString(out, o.client_order_id);
  Append(out, ",\"status\":\"", StatusName(o.status), "\",\"time_in_force\":\"",
         o.kind == OrderKind::kLimitGtc ? "GOOD_UNTIL_CANCELLED" : "IMMEDIATE_OR_CANCEL",
         "\",\"created_time\":\"", Rfc3339Nanos(o.created_ns), "\",\"completion_percentage\":\"",
         DecimalText(pct, 2), "\",\"filled_size\":\"", DecimalText(o.filled, p.size_scale),
         "\",\"average_filled_price\":\"", AvgPrice(o), "\",\"fee\":\"\",\"number_of_fills\":\"",
         o.number_of_fills, "\",\"filled_value\":\"", DecimalText128(o.filled_value, p.quote_scale),
         "\",\"pending_cancel\":false,\"size_in_quote\":", o.quote_size > 0 ? "true" : "false",
         ",\"total_fees\":\"", DecimalText(o.fees, p.quote_scale),
         "\",\"size_inclusive_of_fees\":false,\"total_value_after_fees\":\"",
         DecimalText(after_fees, p.quote_scale),
         "\",\"trigger_status\":\"INVALID_ORDER_TYPE\",\"order_type\":\"",
         o.kind == OrderKind::kMarket ? "MARKET" : "LIMIT",
         "\",\"reject_reason\":\"REJECT_REASON_UNSPECIFIED\",\"settled\":",
         o.status == OrderStatus::kOpen ? "false" : "true",
         ",\"product_type\":\"SPOT\",\"reject_message\":\"\",\"cancel_message\":");
  AppendJsonString(out, o.cancel_reason);
  Append(out, ",\"order_placement_source\":\"RETAIL_ADVANCED\",\"outstanding_hold_amount\":\"",
         DecimalText(BuyHold(o), p.quote_scale), "\",\"is_liquidation\":false");
  if (o.number_of_fills > 0) {
    Append(out, ",\"last_fill_time\":\"", Rfc3339Nanos(o.last_fill_ns), "\"");
  } else {
    *out += ",\"last_fill_time\":null";
  }
  *out += ",\"edit_history\":[],\"retail_portfolio_id\":\"\"}";
}

void ExchangeImpl::AppendUserOrder(std::string* out, const Order& o) const {
  const Product& p = products_[o.product];
  const int64_t after_fees = static_cast<int64_t>(o.side == Side::kBuy ? o.filled_value + o.fees
                                                                       : o.filled_value - o.fees);
  const int64_t pct =
      o.size > 0 ? static_cast<int64_t>(static_cast<__int128>(o.filled) * 10000 / o.size) : 0;
  Append(out, "{\"avg_price\":\"", AvgPrice(o), "\",\"cancel_reason\":");
  AppendJsonString(out, o.cancel_reason);
  *out += ",\"client_order_id\":";
  AppendJsonString(out, o.client_order_id);
  Append(out, ",\"completion_percentage\":\"", DecimalText(pct, 2),
         "\",\"contract_expiry_type\":\"UNKNOWN_CONTRACT_EXPIRY_TYPE\",\"cumulative_quantity\":\"",
         DecimalText(o.filled, p.size_scale), "\",\"filled_value\":\"",
         DecimalText128(o.filled_value, p.quote_scale), "\",\"leaves_quantity\":\"",
         DecimalText(o.leaves(), p.size_scale), "\",\"limit_price\":\"",
         o.limit_price > 0 ? DecimalText(o.limit_price, p.price_scale) : std::string("0"),
         "\",\"number_of_fills\":\"", o.number_of_fills, "\",\"order_id\":");
  AppendJsonString(out, o.order_id);
  Append(out, ",\"order_side\":\"", SideName(o.side), "\",\"order_type\":\"",
         o.kind == OrderKind::kMarket ? "Market" : "Limit", "\",\"outstanding_hold_amount\":\"",
         DecimalText(BuyHold(o), p.quote_scale), "\",\"post_only\":\"",
         o.post_only ? "true" : "false", "\",\"product_id\":");
  AppendJsonString(out, p.cfg.product_id);
  Append(out,
         ",\"product_type\":\"SPOT\",\"reject_Reason\":\"\",\"retail_portfolio_id\":\"\","
         "\"risk_managed_by\":\"UNKNOWN_RISK_MANAGEMENT_TYPE\",\"status\":\"",
         StatusName(o.status), "\",\"stop_price\":\"\",\"time_in_force\":\"",
         o.kind == OrderKind::kLimitGtc ? "GOOD_UNTIL_CANCELLED" : "IMMEDIATE_OR_CANCEL",
         "\",\"total_fees\":\"", DecimalText(o.fees, p.quote_scale),
         "\",\"total_value_after_fees\":\"", DecimalText(after_fees, p.quote_scale),
         "\",\"trigger_status\":\"INVALID_ORDER_TYPE\",\"creation_time\":\"",
         Rfc3339Nanos(o.created_ns),
         "\",\"end_time\":\"0001-01-01T00:00:00Z\",\"start_time\":\"0001-01-01T00:00:00Z\"}");
}

// ---------------------------------------------------------------------------------------------
// REST.

RestReply CreateFailure(std::string_view error, std::string_view preview,
                        std::string_view message) {
  RestReply r;
  r.status = 200;
  r.body =
      "{\"success\":false,\"failure_reason\":\"UNKNOWN_FAILURE_REASON\",\"order_id\":\"\","
      "\"error_response\":{\"error\":";
  AppendJsonString(&r.body, error);
  r.body += ",\"message\":";
  AppendJsonString(&r.body, message);
  r.body += ",\"error_details\":";
  AppendJsonString(&r.body, message);
  r.body += ",\"preview_failure_reason\":";
  AppendJsonString(&r.body, preview);
  r.body += ",\"new_order_failure_reason\":";
  AppendJsonString(&r.body, error);
  r.body += "}}";
  return r;
}

RestReply ExchangeImpl::CreateOrder(int32_t account, std::string_view body, int64_t now,
                                    bool injectable) {
  CreateRequest req;
  std::string why;
  if (!ParseCreate(parser_, body, &req, &why)) return BadRequest(why);
  if (!req.has_client_order_id || req.client_order_id.empty()) {
    return BadRequest("client_order_id: required");
  }
  if (!req.has_product_id) return BadRequest("product_id: required");
  if (!req.has_side) return BadRequest("side: required");
  if (req.configs == 0) return BadRequest("order_configuration: required");
  struct Account& a = accounts_[static_cast<size_t>(account)];

  // A repeated client_order_id returns the original order.
  if (auto it = a.by_client_id.find(req.client_order_id); it != a.by_client_id.end()) {
    const Order& o = orders_[it->second];
    RestReply r;
    r.body = "{\"success\":true,\"failure_reason\":\"UNKNOWN_FAILURE_REASON\",\"order_id\":";
    AppendJsonString(&r.body, o.order_id);
    r.body += ",\"success_response\":{\"order_id\":";
    AppendJsonString(&r.body, o.order_id);
    r.body += ",\"product_id\":";
    AppendJsonString(&r.body, products_[o.product].cfg.product_id);
    Append(&r.body, ",\"side\":\"", SideName(o.side), "\",\"client_order_id\":");
    AppendJsonString(&r.body, o.client_order_id);
    r.body += "},\"order_configuration\":";
    AppendOrderConfig(&r.body, o);
    r.body += "}";
    return r;
  }

  if (injectable) ++create_requests_;
  const bool recurring_reject =
      injectable && faults_.reject_every_n > 0 && create_requests_ % faults_.reject_every_n == 0;
  if ((injectable && faults_.reject_next_orders > 0) || recurring_reject) {
    if (faults_.reject_next_orders > 0) --faults_.reject_next_orders;
    return CreateFailure("INSUFFICIENT_FUND", "PREVIEW_INSUFFICIENT_FUND",
                         "Insufficient balance in source account (injected fault)");
  }

  auto pit = product_index_.find(req.product_id);
  if (pit == product_index_.end()) {
    return CreateFailure("INVALID_PRODUCT_ID", "PREVIEW_INVALID_PRODUCT_ID",
                         Cat("unknown product_id \"", req.product_id, "\""));
  }
  const size_t pi = pit->second;
  Product& p = products_[pi];
  Side side;
  if (req.side == "BUY") {
    side = Side::kBuy;
  } else if (req.side == "SELL") {
    side = Side::kSell;
  } else {
    return CreateFailure("INVALID_SIDE", "PREVIEW_INVALID_SIDE",
                         Cat("side \"", req.side, "\" is not BUY or SELL"));
  }
  OrderKind kind;
  if (req.configs != 1) {
    return CreateFailure("UNSUPPORTED_ORDER_CONFIGURATION",
                         "PREVIEW_UNSUPPORTED_ORDER_CONFIGURATION",
                         "order_configuration must hold exactly one configuration");
  }
  if (req.config_name == "limit_limit_gtc") {
    kind = OrderKind::kLimitGtc;
  } else if (req.config_name == "sor_limit_ioc") {
    kind = OrderKind::kLimitIoc;
  } else if (req.config_name == "market_market_ioc") {
    kind = OrderKind::kMarket;
  } else {
    return CreateFailure(
        "UNSUPPORTED_ORDER_CONFIGURATION", "PREVIEW_UNSUPPORTED_ORDER_CONFIGURATION",
        Cat("order configuration \"", req.config_name,
            "\" is not supported (limit_limit_gtc, sor_limit_ioc, market_market_ioc)"));
  }

  Order o;
  o.kind = kind;
  o.side = side;
  o.product = pi;
  o.account = account;
  o.post_only = kind == OrderKind::kLimitGtc && req.post_only;
  o.client_order_id = req.client_order_id;
  o.created_ns = now;

  // Size.
  auto size_check = [&](const std::string& text, int64_t* out) -> std::optional<RestReply> {
    const DecimalError e =
        ParseDecimal(text.data(), text.size(), p.size_scale, Signedness::kUnsigned, out);
    if (e == DecimalError::kTooManyDecimals || (e == DecimalError::kOk && *out % p.lot != 0)) {
      return CreateFailure(
          "INVALID_SIZE_PRECISION", "PREVIEW_INVALID_SIZE_PRECISION",
          Cat("base_size \"", text, "\" is not a multiple of ", p.cfg.base_increment));
    }
    if (e != DecimalError::kOk || *out <= 0) {
      return CreateFailure("INVALID_REQUEST", "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL",
                           Cat("base_size \"", text, "\" is not a positive decimal"));
    }
    if (*out < p.min_size) {
      return CreateFailure(
          "INVALID_REQUEST", "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL",
          Cat("base_size ", text, " is below base_min_size ", p.cfg.base_min_size));
    }
    if (*out > p.max_size) {
      return CreateFailure(
          "INVALID_REQUEST", "PREVIEW_INVALID_BASE_SIZE_TOO_LARGE",
          Cat("base_size ", text, " is above base_max_size ", p.cfg.base_max_size));
    }
    return std::nullopt;
  };

  if (kind == OrderKind::kMarket) {
    if (req.has_base_size == req.has_quote_size) {
      return CreateFailure("UNSUPPORTED_ORDER_CONFIGURATION",
                           "PREVIEW_UNSUPPORTED_ORDER_CONFIGURATION",
                           "market_market_ioc needs exactly one of base_size, quote_size");
    }
    if (req.has_quote_size) {
      if (side != Side::kBuy) {
        return CreateFailure("UNSUPPORTED_ORDER_CONFIGURATION",
                             "PREVIEW_UNSUPPORTED_ORDER_CONFIGURATION",
                             "quote_size is supported for BUY market orders only");
      }
      int64_t q = 0;  // at the price scale (quote_increment = price_increment here)
      const DecimalError e = ParseDecimal(req.quote_size.data(), req.quote_size.size(),
                                          p.price_scale, Signedness::kUnsigned, &q);
      if (e == DecimalError::kTooManyDecimals) {
        return CreateFailure(
            "INVALID_PRICE_PRECISION", "PREVIEW_INVALID_QUOTE_SIZE_PRECISION",
            Cat("quote_size \"", req.quote_size, "\" has more than ", p.price_scale, " decimals"));
      }
      if (e != DecimalError::kOk || q <= 0) {
        return CreateFailure("INVALID_REQUEST", "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL",
                             Cat("quote_size \"", req.quote_size, "\" is not a positive decimal"));
      }
      o.quote_size = static_cast<__int128>(q) * Pow10(p.size_scale);
      o.size = p.book.SizeForQuote(Side::kBuy, o.quote_size, p.lot);
    } else if (auto fail = size_check(req.base_size, &o.size)) {
      return *fail;
    }
  } else {
    if (!req.has_base_size || !req.has_limit_price) {
      return CreateFailure("INVALID_REQUEST", "UNKNOWN_PREVIEW_FAILURE_REASON",
                           Cat(req.config_name, " needs base_size and limit_price"));
    }
    if (auto fail = size_check(req.base_size, &o.size)) return *fail;
    const DecimalError e = ParseDecimal(req.limit_price.data(), req.limit_price.size(),
                                        p.price_scale, Signedness::kUnsigned, &o.limit_price);
    if (e == DecimalError::kTooManyDecimals ||
        (e == DecimalError::kOk && o.limit_price % p.tick != 0)) {
      return CreateFailure("INVALID_PRICE_PRECISION", "PREVIEW_INVALID_PRICE_PRECISION",
                           Cat("limit_price \"", req.limit_price, "\" is not a multiple of ",
                               p.cfg.price_increment));
    }
    if (e != DecimalError::kOk || o.limit_price <= 0) {
      return CreateFailure("INVALID_LIMIT_PRICE", "PREVIEW_INVALID_LIMIT_PRICE",
                           Cat("limit_price \"", req.limit_price, "\" is not a positive decimal"));
    }
  }

  if (kind == OrderKind::kMarket) {
    int64_t best = 0;
    const bool any = side == Side::kBuy ? p.book.BestAsk(&best) : p.book.BestBid(&best);
    if (!any || o.size <= 0) {
      return CreateFailure("INVALID_NO_LIQUIDITY", "PREVIEW_INVALID_NO_LIQUIDITY",
                           "no liquidity on the other side for this market order");
    }
  }

  // Funds.
  const int64_t taker_bps = config_.taker_fee_bps;
  if (side == Side::kBuy) {
    __int128 need = 0;
    if (kind == OrderKind::kMarket && o.quote_size > 0) {
      need = o.quote_size + FeeCeil(o.quote_size, taker_bps);
    } else if (kind == OrderKind::kMarket) {
      int64_t available = 0;
      const __int128 cost = p.book.CostToTake(Side::kBuy, o.size, &available);
      need = cost + FeeCeil(cost, taker_bps);
    } else {
      const __int128 n = static_cast<__int128>(o.limit_price) * o.size;
      need = n + FeeCeil(n, std::max(config_.maker_fee_bps, taker_bps));
    }
    if (need > AvailableQuote(a, pi)) {
      return CreateFailure("INSUFFICIENT_FUND", "PREVIEW_INSUFFICIENT_FUND",
                           "Insufficient balance in source account");
    }
  } else if (o.size > AvailableBase(a, pi)) {
    return CreateFailure("INSUFFICIENT_FUND", "PREVIEW_INSUFFICIENT_FUND",
                         "Insufficient balance in source account");
  }
  if (o.post_only && p.book.WouldCross(side, o.limit_price)) {
    return CreateFailure("INVALID_LIMIT_PRICE_POST_ONLY", "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY",
                         "Invalid limit price for post only order: it would trade at once");
  }

  // Accepted.
  o.list_visible_ns = faults_.list_lag_ms > 0 ? now + faults_.list_lag_ms * 1'000'000 : 0;
  any_lagged_ = any_lagged_ || o.list_visible_ns > 0;
  o.id = next_id_++;
  o.order_id = UuidFromBits(id_rng_.Next(), id_rng_.Next());
  const size_t oi = orders_.size();
  orders_.push_back(o);
  by_id_[o.id] = oi;
  by_order_id_[o.order_id] = oi;
  a.orders.push_back(oi);
  a.open.push_back(oi);
  a.by_client_id[o.client_order_id] = oi;
  UserUpdate(orders_[oi]);

  fills_.clear();
  const int64_t left =
      p.book.Take(side, kind == OrderKind::kMarket ? MatchingBook::kNoLimit : o.limit_price, o.size,
                  &fills_, &levels_);
  ApplyFills(pi, account, &orders_[oi], side, now);
  Order& placed = orders_[oi];
  if (left > 0) {
    if (kind == OrderKind::kLimitGtc) {
      p.book.Add(placed.id, account, side, placed.limit_price, left, &levels_);
    } else {
      placed.status = OrderStatus::kCancelled;
      placed.cancel_reason = "IOC_REMAINDER";
      a.open.erase(std::remove(a.open.begin(), a.open.end(), oi), a.open.end());
      UserUpdate(placed);
    }
  }
  NoteLevels(p);
  Publish(now);

  RestReply r;
  r.body = "{\"success\":true,\"failure_reason\":\"UNKNOWN_FAILURE_REASON\",\"order_id\":";
  AppendJsonString(&r.body, placed.order_id);
  r.body += ",\"success_response\":{\"order_id\":";
  AppendJsonString(&r.body, placed.order_id);
  r.body += ",\"product_id\":";
  AppendJsonString(&r.body, p.cfg.product_id);
  Append(&r.body, ",\"side\":\"", SideName(side), "\",\"client_order_id\":");
  AppendJsonString(&r.body, placed.client_order_id);
  r.body += "},\"order_configuration\":";
  AppendOrderConfig(&r.body, placed);
  r.body += "}";
  return r;
}

RestReply ExchangeImpl::CancelOrders(int32_t account, std::string_view body, int64_t now) {
  const simdjson::padded_string padded(body);
  od::document doc;
  od::object root;
  if (parser_.iterate(padded).get(doc) || doc.get_object().get(root)) {
    return BadRequest("body: not a JSON object");
  }
  std::vector<std::string> ids;
  bool has_ids = false;
  for (auto field_r : root) {
    od::field field;
    std::string_view key;
    if (std::move(field_r).get(field) || field.unescaped_key().get(key)) {
      return BadRequest("body: malformed JSON");
    }
    if (key != "order_ids") continue;
    has_ids = true;
    od::array arr;
    if (field.value().get_array().get(arr)) return BadRequest("order_ids: expected an array");
    for (auto v_r : arr) {
      od::value v;
      std::string_view s;
      if (std::move(v_r).get(v) || v.get_string().get(s)) {
        return BadRequest("order_ids: expected an array of strings");
      }
      if (ids.size() >= kMaxCancelIds) {
        return BadRequest(Cat("order_ids: at most ", kMaxCancelIds, " per request"));
      }
      ids.emplace_back(s);
    }
  }
  if (!has_ids) return BadRequest("order_ids: required");
  std::string out = "{\"results\":[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    bool success = false;
    const char* reason = "UNKNOWN_CANCEL_FAILURE_REASON";
    auto it = by_order_id_.find(ids[i]);
    if (it == by_order_id_.end() || orders_[it->second].account != account) {
      reason = "UNKNOWN_CANCEL_ORDER";
    } else {
      Order& o = orders_[it->second];
      if (o.status == OrderStatus::kOpen) {
        CancelOrder(o, "User requested cancel", now);
        success = true;
      } else if (o.status == OrderStatus::kFilled) {
        reason = "ORDER_IS_FULLY_FILLED";
      } else {
        reason = "DUPLICATE_CANCEL_REQUEST";
      }
    }
    Append(&out, "{\"success\":", success ? "true" : "false", ",\"failure_reason\":\"", reason,
           "\",\"order_id\":");
    AppendJsonString(&out, ids[i]);
    out += "}";
  }
  out += "]}";
  Publish(now);
  RestReply r;
  r.body = std::move(out);
  return r;
}

// A page position: the index (in an append-only history) below which the next page starts,
// newest first. Absent or empty: the newest end. Errors: not a number, or past the end.
bool ParseCursor(const Query& q, size_t end, size_t* start) {
  *start = end;
  for (const std::string& s : QueryValues(q, "cursor")) {
    int64_t v = 0;
    if (ParseDecimal(s.data(), s.size(), 0, Signedness::kUnsigned, &v) != DecimalError::kOk ||
        v < 0 || static_cast<uint64_t>(v) > end) {
      return false;
    }
    *start = static_cast<size_t>(v);
  }
  return true;
}

// `limit`: a positive integer (default `def`), at most `max`.
bool ParseLimit(const Query& q, int64_t def, int64_t max, int64_t* limit) {
  *limit = def;
  for (const std::string& s : QueryValues(q, "limit")) {
    if (ParseDecimal(s.data(), s.size(), 0, Signedness::kUnsigned, limit) != DecimalError::kOk ||
        *limit <= 0) {
      return false;
    }
    *limit = std::min(*limit, max);
  }
  return true;
}

RestReply ExchangeImpl::ListOrders(int32_t account, const Query& q, int64_t now) {
  const struct Account& a = accounts_[static_cast<size_t>(account)];
  std::vector<std::string> statuses = QueryValues(q, "order_status");
  std::vector<std::string> product_ids = QueryValues(q, "product_ids");
  for (std::string& s : QueryValues(q, "product_id")) product_ids.push_back(std::move(s));
  for (const std::string& s : statuses) {
    if (s != "OPEN" && s != "FILLED" && s != "CANCELLED" && s != "EXPIRED" && s != "FAILED" &&
        s != "PENDING" && s != "UNKNOWN_ORDER_STATUS" && s != "QUEUED" && s != "CANCEL_QUEUED") {
      return BadRequest(Cat("order_status: unknown value \"", s, "\""));
    }
  }
  std::vector<std::string> order_ids = QueryValues(q, "order_ids");
  int64_t limit = 0;
  if (!ParseLimit(q, 1000, 1000, &limit)) return BadRequest("limit: expected a positive integer");
  size_t start = 0;
  if (!ParseCursor(q, a.orders.size(), &start)) {
    return BadRequest("cursor: not a cursor this venue returned");
  }
  std::string out = "{\"orders\":[";
  int64_t n = 0;
  bool has_next = false;
  size_t next = 0;
  // Newest first, as the venue lists them.
  for (size_t i = start; i-- > 0;) {
    const Order& o = orders_[a.orders[i]];
    if (now < o.list_visible_ns) continue;  // not indexed yet (list_lag)
    if (!statuses.empty() &&
        std::find(statuses.begin(), statuses.end(), StatusName(o.status)) == statuses.end()) {
      continue;
    }
    if (!product_ids.empty() &&
        std::find(product_ids.begin(), product_ids.end(), products_[o.product].cfg.product_id) ==
            product_ids.end()) {
      continue;
    }
    if (!order_ids.empty() &&
        std::find(order_ids.begin(), order_ids.end(), o.order_id) == order_ids.end()) {
      continue;
    }
    if (n == limit) {
      has_next = true;
      next = i + 1;
      break;
    }
    if (n > 0) out += ',';
    AppendRestOrder(&out, o);
    ++n;
  }
  Append(&out, "],\"sequence\":\"0\",\"has_next\":", has_next ? "true" : "false", ",\"cursor\":\"",
         has_next ? Cat(next) : std::string(), "\"}");
  RestReply r;
  r.body = std::move(out);
  return r;
}

RestReply ExchangeImpl::ListFills(int32_t account, const Query& q) {
  const struct Account& a = accounts_[static_cast<size_t>(account)];
  std::vector<std::string> order_ids = QueryValues(q, "order_ids");
  for (std::string& s : QueryValues(q, "order_id")) order_ids.push_back(std::move(s));
  std::vector<std::string> product_ids = QueryValues(q, "product_ids");
  for (std::string& s : QueryValues(q, "product_id")) product_ids.push_back(std::move(s));
  int64_t start_ns = INT64_MIN, end_ns = INT64_MAX;
  for (const std::string& s : QueryValues(q, "start_sequence_timestamp")) {
    if (!ParseRfc3339(s, &start_ns)) {
      return BadRequest("start_sequence_timestamp: expected RFC 3339");
    }
  }
  for (const std::string& s : QueryValues(q, "end_sequence_timestamp")) {
    if (!ParseRfc3339(s, &end_ns)) return BadRequest("end_sequence_timestamp: expected RFC 3339");
  }
  int64_t limit = 0;
  if (!ParseLimit(q, 1000, 1000, &limit)) return BadRequest("limit: expected a positive integer");
  size_t start = 0;
  if (!ParseCursor(q, a.fills.size(), &start)) {
    return BadRequest("cursor: not a cursor this venue returned");
  }
  std::string out = "{\"fills\":[";
  int64_t n = 0;
  std::string next_cursor;
  for (size_t i = start; i-- > 0;) {  // newest first
    const FillRecord& f = a.fills[i];
    const Order& o = orders_[f.order];
    const Product& p = products_[o.product];
    if (f.time_ns < start_ns || f.time_ns > end_ns) continue;
    if (!order_ids.empty() &&
        std::find(order_ids.begin(), order_ids.end(), o.order_id) == order_ids.end()) {
      continue;
    }
    if (!product_ids.empty() &&
        std::find(product_ids.begin(), product_ids.end(), p.cfg.product_id) == product_ids.end()) {
      continue;
    }
    if (n == limit) {
      next_cursor = Cat(i + 1);
      break;
    }
    if (n > 0) out += ',';
    ++n;
    out += "{\"entry_id\":";
    AppendJsonString(&out, f.entry_id);
    Append(&out, ",\"trade_id\":\"", f.trade_id, "\",\"order_id\":");
    AppendJsonString(&out, o.order_id);
    Append(&out, ",\"trade_time\":\"", Rfc3339Nanos(f.time_ns),
           "\",\"trade_type\":\"FILL\",\"price\":\"", DecimalText(f.price, p.price_scale),
           "\",\"size\":\"", DecimalText(f.size, p.size_scale), "\",\"commission\":\"",
           DecimalText(f.commission, p.quote_scale), "\",\"product_id\":");
    AppendJsonString(&out, p.cfg.product_id);
    Append(&out, ",\"sequence_timestamp\":\"", Rfc3339Nanos(f.time_ns),
           "\",\"liquidity_indicator\":\"", f.maker ? "MAKER" : "TAKER",
           "\",\"size_in_quote\":false,\"user_id\":");
    AppendJsonString(&out, a.user_id);
    Append(&out, ",\"side\":\"", SideName(o.side), "\",\"retail_portfolio_id\":\"\"}");
  }
  out += "],\"cursor\":";
  AppendJsonString(&out, next_cursor);
  out += "}";
  RestReply r;
  r.body = std::move(out);
  return r;
}

RestReply ExchangeImpl::GetOrder(int32_t account, std::string_view order_id) {
  auto it = by_order_id_.find(std::string(order_id));
  if (it == by_order_id_.end() || orders_[it->second].account != account) {
    return ErrorReply(404, "NOT_FOUND", Cat("order ", order_id, " not found"), "order not found");
  }
  RestReply r;
  r.body = "{\"order\":";
  AppendRestOrder(&r.body, orders_[it->second]);
  r.body += "}";
  return r;
}

RestReply ExchangeImpl::GetProduct(std::string_view product_id) {
  auto it = product_index_.find(std::string(product_id));
  if (it == product_index_.end()) {
    return ErrorReply(404, "NOT_FOUND", Cat("product ", product_id, " not found"),
                      "product not found");
  }
  const Product& p = products_[it->second];
  const size_t dash = p.cfg.product_id.find('-');
  const std::string base = p.cfg.product_id.substr(0, dash);
  const std::string quote =
      dash == std::string::npos ? std::string() : p.cfg.product_id.substr(dash + 1);
  int64_t bid = 0, ask = 0;
  std::string mid;
  if (p.book.BestBid(&bid) && p.book.BestAsk(&ask)) {
    mid = DecimalText128(static_cast<__int128>(bid) * 5 + static_cast<__int128>(ask) * 5,
                         p.price_scale + 1);
  }
  RestReply r;
  r.body = "{\"product_id\":";
  AppendJsonString(&r.body, p.cfg.product_id);
  Append(&r.body, ",\"price\":\"", DecimalText(p.last_price, p.price_scale),
         "\",\"price_percentage_change_24h\":\"0\",\"volume_24h\":\"0\","
         "\"volume_percentage_change_24h\":\"0\",\"base_increment\":");
  AppendJsonString(&r.body, p.cfg.base_increment);
  r.body += ",\"quote_increment\":";
  AppendJsonString(&r.body, p.cfg.price_increment);
  r.body += ",\"quote_min_size\":\"1\",\"quote_max_size\":\"100000000\",\"base_min_size\":";
  AppendJsonString(&r.body, p.cfg.base_min_size);
  r.body += ",\"base_max_size\":";
  AppendJsonString(&r.body, p.cfg.base_max_size);
  r.body += ",\"base_name\":";
  AppendJsonString(&r.body, base);
  r.body += ",\"quote_name\":";
  AppendJsonString(&r.body, quote);
  r.body +=
      ",\"watched\":false,\"is_disabled\":false,\"new\":false,\"status\":\"online\","
      "\"cancel_only\":false,\"limit_only\":false,\"post_only\":false,\"trading_disabled\":false,"
      "\"auction_mode\":false,\"product_type\":\"SPOT\",\"quote_currency_id\":";
  AppendJsonString(&r.body, quote);
  r.body += ",\"base_currency_id\":";
  AppendJsonString(&r.body, base);
  r.body += ",\"mid_market_price\":";
  AppendJsonString(&r.body, mid);
  r.body += ",\"base_display_symbol\":";
  AppendJsonString(&r.body, base);
  r.body += ",\"quote_display_symbol\":";
  AppendJsonString(&r.body, quote);
  r.body += ",\"price_increment\":";
  AppendJsonString(&r.body, p.cfg.price_increment);
  r.body += "}";
  return r;
}

RestReply ExchangeImpl::HandleRest(std::string_view method, std::string_view target,
                                   std::string_view authorization, std::string_view body,
                                   int64_t now) {
  Start(now);
  const size_t qmark = target.find('?');
  const std::string_view path = target.substr(0, qmark);
  const std::string_view query =
      qmark == std::string_view::npos ? std::string_view() : target.substr(qmark + 1);
  constexpr std::string_view kPrefix = "/api/v3/brokerage/";
  enum class Route {
    kNone,
    kCreate,
    kCancel,
    kList,
    kFills,
    kGetOrder,
    kProduct,
    kAccounts,
    kProductBook,
    kBestBidAsk,
  };
  Route route = Route::kNone;
  std::string_view arg;
  if (path == "/api/v3/brokerage/orders") {
    if (method == "POST") route = Route::kCreate;
  } else if (path == "/api/v3/brokerage/orders/batch_cancel") {
    if (method == "POST") route = Route::kCancel;
  } else if (path == "/api/v3/brokerage/orders/historical/batch") {
    if (method == "GET") route = Route::kList;
  } else if (path == "/api/v3/brokerage/orders/historical/fills") {
    if (method == "GET") route = Route::kFills;
  } else if (path.starts_with("/api/v3/brokerage/orders/historical/")) {
    arg = path.substr(std::string_view("/api/v3/brokerage/orders/historical/").size());
    if (method == "GET" && !arg.empty() && arg.find('/') == std::string_view::npos) {
      route = Route::kGetOrder;
    }
  } else if (path == "/api/v3/brokerage/accounts") {
    if (method == "GET") route = Route::kAccounts;
  } else if (path == "/api/v3/brokerage/product_book") {
    if (method == "GET") route = Route::kProductBook;
  } else if (path == "/api/v3/brokerage/best_bid_ask") {
    if (method == "GET") route = Route::kBestBidAsk;
  } else if (path.starts_with("/api/v3/brokerage/products/")) {
    arg = path.substr(std::string_view("/api/v3/brokerage/products/").size());
    if (method == "GET" && !arg.empty() && arg.find('/') == std::string_view::npos) {
      route = Route::kProduct;
    }
  }
  if (route == Route::kNone) {
    const std::string detail = Cat("no endpoint ", method, " ", path,
                                   path.starts_with(kPrefix) ? "" : " (not an API path)");
    return ErrorReply(404, "NOT_FOUND", detail, "Not Found");
  }

  // Authentication: "Bearer <jwt>", uri = "<METHOD> <host><path>".
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !(authorization.starts_with(kBearer) || authorization.starts_with("bearer "))) {
    return ErrorReply(401, "UNAUTHENTICATED", "missing Authorization: Bearer <jwt>",
                      "Unauthorized");
  }
  const std::string uri = Cat(method, " ", config_.rest_host, path);
  absl::StatusOr<std::string> key =
      verifier_.Verify(authorization.substr(kBearer.size()), uri, now);
  if (!key.ok()) {
    return ErrorReply(401, "UNAUTHENTICATED", std::string(key.status().message()), "Unauthorized");
  }
  auto ait = account_index_.find(*key);
  if (ait == account_index_.end()) {
    return ErrorReply(401, "UNAUTHENTICATED", "key has no account", "Unauthorized");
  }
  const int32_t account = ait->second;

  // Rate limit: sliding one-second window of admitted requests.
  struct Account& a = accounts_[static_cast<size_t>(account)];
  if (config_.rest_rate_limit_per_sec > 0) {
    while (!a.window.empty() && a.window.front() <= now - kNsPerSec) a.window.pop_front();
    if (static_cast<int64_t>(a.window.size()) >= config_.rest_rate_limit_per_sec) {
      return ErrorReply(
          429, "RATE_LIMIT_EXCEEDED",
          Cat("over ", config_.rest_rate_limit_per_sec, " requests per second for this key"),
          "Too many requests");
    }
    a.window.push_back(now);
  }

  if (body.size() > kMaxBodyBytes) return BadRequest("body: too large");
  switch (route) {
    case Route::kCreate: {
      RestReply r = CreateOrder(account, body, now, /*injectable=*/true);
      if (faults_.error_after_accept_next > 0) {
        --faults_.error_after_accept_next;
        r = ErrorReply(503, "UNAVAILABLE",
                       "upstream request timeout after the order was accepted (injected fault)",
                       "Service Unavailable");
      }
      if (faults_.withhold_create_next > 0) {
        --faults_.withhold_create_next;
        r.withhold_ms = faults_.withhold_create_ms;
      }
      return r;
    }
    case Route::kCancel: {
      RestReply r = CancelOrders(account, body, now);
      if (faults_.withhold_cancel_next > 0) {
        --faults_.withhold_cancel_next;
        r.withhold_ms = faults_.withhold_cancel_ms;
      }
      return r;
    }
    case Route::kList:
      return ListOrders(account, ParseQuery(query), now);
    case Route::kAccounts:
      return ListAccounts(account, ParseQuery(query), now);
    case Route::kProductBook:
      return ProductBook(ParseQuery(query), now);
    case Route::kBestBidAsk:
      return BestBidAsk(ParseQuery(query), now);
    case Route::kFills:
      return ListFills(account, ParseQuery(query));
    case Route::kGetOrder:
      return GetOrder(account, arg);
    case Route::kProduct:
      return GetProduct(arg);
    case Route::kNone:
      break;
  }
  return ErrorReply(404, "NOT_FOUND", "no endpoint", "Not Found");
}

// ---------------------------------------------------------------------------------------------
// Fault knobs, foreign orders, accounts and books.

void ExchangeImpl::SetFaults(const ExchangeFaults& faults) {
  faults_ = faults;
  if (faults_.list_lag_ms <= 0 && any_lagged_) {
    // list_lag off: every order is listed again at once.
    for (Order& o : orders_) o.list_visible_ns = 0;
    any_lagged_ = false;
  }
}

absl::StatusOr<ForeignOrder> ExchangeImpl::PlaceForeignOrder(std::string_view key_name,
                                                             int64_t now) {
  Start(now);
  if (accounts_.empty()) return absl::NotFoundError("foreign_order: no API key is configured");
  int32_t account = 0;
  if (!key_name.empty()) {
    auto it = account_index_.find(std::string(key_name));
    if (it == account_index_.end()) {
      return absl::NotFoundError(Cat("foreign_order: no API key named \"", key_name, "\""));
    }
    account = it->second;
  }
  struct Account& a = accounts_[static_cast<size_t>(account)];
  const Product& p = products_[0];
  int64_t bid = 0, ask = 0;
  const int64_t twice_mid =
      p.book.BestBid(&bid) && p.book.BestAsk(&ask) ? bid + ask : 2 * p.model->mid();
  int64_t price = twice_mid / 4;  // half the mid, rounded down to the tick: it rests
  price -= price % p.tick;
  price = std::max(price, p.tick);
  const int64_t lot = p.lot;
  const int64_t size = (std::max(p.min_size, lot) + lot - 1) / lot * lot;
  std::string coid;
  do {
    coid = Cat("manual-", ++foreign_orders_);
  } while (a.by_client_id.contains(coid));
  std::string body = "{\"client_order_id\":";
  AppendJsonString(&body, coid);
  body += ",\"product_id\":";
  AppendJsonString(&body, p.cfg.product_id);
  Append(&body, ",\"side\":\"BUY\",\"order_configuration\":{\"limit_limit_gtc\":{\"base_size\":\"",
         DecimalText(size, p.size_scale), "\",\"limit_price\":\"",
         DecimalText(price, p.price_scale), "\",\"post_only\":false}}}");
  const RestReply r = CreateOrder(account, body, now, /*injectable=*/false);
  auto it = a.by_client_id.find(coid);
  if (it == a.by_client_id.end()) {
    return absl::FailedPreconditionError(Cat("foreign_order: the venue refused it: ", r.body));
  }
  const Order& o = orders_[it->second];
  ForeignOrder f;
  f.key_name = a.key_name;
  f.order_id = o.order_id;
  f.client_order_id = o.client_order_id;
  f.product_id = p.cfg.product_id;
  f.side = SideName(o.side);
  f.limit_price = DecimalText(o.limit_price, p.price_scale);
  f.base_size = DecimalText(o.size, p.size_scale);
  return f;
}

uint64_t Fnv1a(std::string_view a, std::string_view b, uint64_t seed) {
  uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  for (std::string_view part : {a, std::string_view("\0", 1), b}) {
    for (const char c : part) {
      h ^= static_cast<unsigned char>(c);
      h *= 0x100000001b3ULL;
    }
  }
  return h;
}

bool IsFiat(std::string_view currency) {
  return currency == "USD" || currency == "EUR" || currency == "GBP";
}

RestReply ExchangeImpl::ListAccounts(int32_t account, const Query& q, int64_t now) {
  int64_t limit = 0;
  if (!ParseLimit(q, 49, 250, &limit)) return BadRequest("limit: expected a positive integer");
  const struct Account& a = accounts_[static_cast<size_t>(account)];
  const SimApiKey& key = config_.api_keys[static_cast<size_t>(account)];
  // One wallet per currency, in order of first appearance (each product's base, then quote), at
  // the largest scale any product uses for it, so that every product's amounts add exactly.
  struct Currency {
    std::string name;
    int scale = 0;
    bool is_base = false;  // some product's base currency
    __int128 balance = 0;
    __int128 hold = 0;
  };
  std::vector<Currency> cur;
  std::vector<std::pair<size_t, size_t>> of_product;  // (base, quote) index into cur; SIZE_MAX
  auto index = [&](std::string_view name) -> size_t {
    for (size_t i = 0; i < cur.size(); ++i) {
      if (cur[i].name == name) return i;
    }
    cur.push_back(Currency{.name = std::string(name)});
    return cur.size() - 1;
  };
  for (const Product& p : products_) {
    const std::string_view id = p.cfg.product_id;
    const size_t dash = id.find('-');
    const size_t b = index(id.substr(0, dash));
    cur[b].is_base = true;
    cur[b].scale = std::max(cur[b].scale, p.size_scale);
    size_t qi = SIZE_MAX;
    if (dash != std::string_view::npos && dash + 1 < id.size()) {
      qi = index(id.substr(dash + 1));
      cur[qi].scale = std::max(cur[qi].scale, p.quote_scale);
    }
    of_product.emplace_back(b, qi);
  }
  for (Currency& c : cur) {
    const std::string& start = c.is_base ? key.base_balance : key.quote_balance;
    int64_t v = 0;
    if (ParseDecimal(start.data(), start.size(), c.scale, Signedness::kUnsigned, &v) ==
        DecimalError::kOk) {
      c.balance = v;
    }
  }
  for (size_t pi = 0; pi < products_.size(); ++pi) {
    const Product& p = products_[pi];
    const AccountProduct& ap = a.products[pi];
    const auto [b, qi] = of_product[pi];
    cur[b].balance +=
        static_cast<__int128>(ap.base - ap.base_start) * Pow10(cur[b].scale - p.size_scale);
    if (qi != SIZE_MAX) {
      cur[qi].balance +=
          static_cast<__int128>(ap.quote - ap.quote_start) * Pow10(cur[qi].scale - p.quote_scale);
    }
  }
  for (size_t oi : a.open) {
    const Order& o = orders_[oi];
    const Product& p = products_[o.product];
    const auto [b, qi] = of_product[o.product];
    if (o.side == Side::kSell) {
      cur[b].hold += static_cast<__int128>(o.leaves()) * Pow10(cur[b].scale - p.size_scale);
    } else if (qi != SIZE_MAX) {
      cur[qi].hold += static_cast<__int128>(BuyHold(o)) * Pow10(cur[qi].scale - p.quote_scale);
    }
  }
  size_t first = 0;
  for (const std::string& s : QueryValues(q, "cursor")) {
    int64_t v = 0;
    if (ParseDecimal(s.data(), s.size(), 0, Signedness::kUnsigned, &v) != DecimalError::kOk ||
        static_cast<uint64_t>(v) > cur.size()) {
      return BadRequest("cursor: not a cursor this venue returned");
    }
    first = static_cast<size_t>(v);
  }
  const size_t end = std::min(cur.size(), first + static_cast<size_t>(limit));
  const std::string created = Rfc3339Nanos(start_ns_);
  const std::string updated = Rfc3339Nanos(now);
  std::string out = "{\"accounts\":[";
  for (size_t i = first; i < end; ++i) {
    const Currency& c = cur[i];
    if (i > first) out += ',';
    out += "{\"uuid\":";
    AppendJsonString(&out,
                     UuidFromBits(Fnv1a(a.key_name, c.name, 1), Fnv1a(a.key_name, c.name, 2)));
    out += ",\"name\":";
    AppendJsonString(&out, Cat(c.name, " Wallet"));
    out += ",\"currency\":";
    AppendJsonString(&out, c.name);
    Append(&out, ",\"available_balance\":{\"value\":\"",
           DecimalText128(c.balance - c.hold, c.scale), "\",\"currency\":");
    AppendJsonString(&out, c.name);
    Append(&out, "},\"default\":true,\"active\":true,\"created_at\":\"", created,
           "\",\"updated_at\":\"", updated, "\",\"deleted_at\":null,\"type\":\"",
           IsFiat(c.name) ? "ACCOUNT_TYPE_FIAT" : "ACCOUNT_TYPE_CRYPTO",
           "\",\"ready\":true,\"hold\":{\"value\":\"", DecimalText128(c.hold, c.scale),
           "\",\"currency\":");
    AppendJsonString(&out, c.name);
    out += "},\"retail_portfolio_id\":\"\",\"platform\":\"ACCOUNT_PLATFORM_CONSUMER\"}";
  }
  const bool has_next = end < cur.size();
  Append(&out, "],\"has_next\":", has_next ? "true" : "false", ",\"cursor\":\"",
         has_next ? Cat(end) : std::string(), "\",\"size\":", end - first, "}");
  RestReply r;
  r.body = std::move(out);
  return r;
}

void ExchangeImpl::AppendPricebook(std::string* out, size_t pi, size_t max_levels,
                                   int64_t now) const {
  const Product& p = products_[pi];
  *out += "{\"product_id\":";
  AppendJsonString(out, p.cfg.product_id);
  std::vector<std::pair<int64_t, int64_t>> levels;
  for (Side side : {Side::kBuy, Side::kSell}) {
    Append(out, side == Side::kBuy ? ",\"bids\":[" : ",\"asks\":[");
    levels.clear();
    p.book.Levels(side, max_levels, &levels);
    for (size_t i = 0; i < levels.size(); ++i) {
      if (i > 0) *out += ',';
      Append(out, "{\"price\":\"", DecimalText(levels[i].first, p.price_scale), "\",\"size\":\"",
             DecimalText(levels[i].second, p.size_scale), "\"}");
    }
    *out += ']';
  }
  Append(out, ",\"time\":\"", Rfc3339Nanos(now), "\"}");
}

RestReply ExchangeImpl::ProductBook(const Query& q, int64_t now) {
  const std::vector<std::string> ids = QueryValues(q, "product_id");
  if (ids.size() != 1) return BadRequest("product_id: required, one product");
  auto it = product_index_.find(ids[0]);
  if (it == product_index_.end()) {
    return ErrorReply(404, "NOT_FOUND", Cat("product ", ids[0], " not found"), "product not found");
  }
  int64_t limit = 0;
  if (!ParseLimit(q, 1'000'000, 1'000'000, &limit)) {
    return BadRequest("limit: expected a positive integer");
  }
  const Product& p = products_[it->second];
  RestReply r;
  r.body = "{\"pricebook\":";
  AppendPricebook(&r.body, it->second, static_cast<size_t>(limit), now);
  int64_t bid = 0, ask = 0;
  std::string mid, bps, spread;
  if (p.book.BestBid(&bid) && p.book.BestAsk(&ask) && bid + ask > 0) {
    mid = DecimalText128(static_cast<__int128>(bid) * 5 + static_cast<__int128>(ask) * 5,
                         p.price_scale + 1);
    spread = DecimalText(ask - bid, p.price_scale);
    // (ask - bid) / mid x 10^4 = (ask - bid) x 20000 / (ask + bid), truncated to 12 decimals.
    constexpr int kBpsScale = 12;
    bps = DecimalText128(static_cast<__int128>(ask - bid) * 20'000 * Pow10(kBpsScale) /
                             (static_cast<__int128>(bid) + ask),
                         kBpsScale);
  }
  Append(&r.body, ",\"last\":\"", DecimalText(p.last_price, p.price_scale), "\",\"mid_market\":\"",
         mid, "\",\"spread_bps\":\"", bps, "\",\"spread_absolute\":\"", spread, "\"}");
  return r;
}

RestReply ExchangeImpl::BestBidAsk(const Query& q, int64_t now) {
  std::vector<size_t> which;
  for (const std::string& id : QueryValues(q, "product_ids")) {
    auto it = product_index_.find(id);
    if (it == product_index_.end()) {
      return ErrorReply(404, "NOT_FOUND", Cat("product ", id, " not found"), "product not found");
    }
    which.push_back(it->second);
  }
  if (which.empty()) {
    for (size_t pi = 0; pi < products_.size(); ++pi) which.push_back(pi);
  }
  RestReply r;
  r.body = "{\"pricebooks\":[";
  for (size_t i = 0; i < which.size(); ++i) {
    if (i > 0) r.body += ',';
    AppendPricebook(&r.body, which[i], 1, now);
  }
  r.body += "]}";
  return r;
}

// ---------------------------------------------------------------------------------------------
// Views.

int ExchangeImpl::TradeThroughOpenOrders(std::string_view key_name, int64_t now_unix_ns) {
  auto it = account_index_.find(std::string(key_name));
  if (it == account_index_.end()) return -1;
  const struct Account& a = accounts_[static_cast<size_t>(it->second)];
  const std::vector<size_t> open(a.open.begin(), a.open.end());  // fills change a.open
  int n = 0;
  for (size_t oi : open) {
    const Order& o = orders_[oi];
    if (o.status != OrderStatus::kOpen || o.leaves() <= 0 || o.limit_price <= 0) continue;
    const size_t pi = o.product;
    const Side taker = o.side == Side::kBuy ? Side::kSell : Side::kBuy;
    const int64_t price = o.limit_price;
    Product& p = products_[pi];
    fills_.clear();
    // Enough to take every level at `price` or better: the book holds far less than this.
    (void)p.book.Take(taker, price, int64_t{1} << 60, &fills_, &levels_);
    ApplyFills(pi, kParticipant, nullptr, taker, now_unix_ns);
    NoteLevels(p);
    ++n;
  }
  return n;
}

AccountView ExchangeImpl::Account(std::string_view key_name) const {
  AccountView v;
  auto it = account_index_.find(std::string(key_name));
  if (it == account_index_.end()) return v;
  const struct Account& a = accounts_[static_cast<size_t>(it->second)];
  v.found = true;
  v.key_name = a.key_name;
  for (size_t pi = 0; pi < products_.size(); ++pi) {
    const Product& p = products_[pi];
    const AccountProduct& ap = a.products[pi];
    AccountView::Product vp;
    vp.product_id = p.cfg.product_id;
    vp.base_position = DecimalText(ap.base - ap.base_start, p.size_scale);
    vp.quote_delta = DecimalText(ap.quote - ap.quote_start, p.quote_scale);
    for (size_t oi : a.open) {
      if (orders_[oi].product == pi) ++vp.open_orders;
    }
    vp.fills = ap.fills;
    v.products.push_back(std::move(vp));
  }
  return v;
}

std::vector<ProductTotals> ExchangeImpl::Totals() const {
  std::vector<ProductTotals> out;
  for (size_t pi = 0; pi < products_.size(); ++pi) {
    const Product& p = products_[pi];
    ProductTotals t;
    t.product_id = p.cfg.product_id;
    t.price_scale = p.price_scale;
    t.size_scale = p.size_scale;
    t.quote_scale = p.quote_scale;
    for (const struct Account& a : accounts_) {
      t.accounts_base += a.products[pi].base - a.products[pi].base_start;
      t.accounts_quote += a.products[pi].quote - a.products[pi].quote_start;
    }
    t.participants_base = p.participants_base;
    t.participants_quote = p.participants_quote;
    t.venue_fees = p.venue_fees;
    t.trades = p.trades;
    t.mid = p.model->mid();
    p.book.BestBid(&t.best_bid);
    p.book.BestAsk(&t.best_ask);
    t.resting_orders = static_cast<int64_t>(p.book.order_count());
    out.push_back(std::move(t));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// WebSocket.

std::unique_ptr<WsSession> ExchangeImpl::OpenSession() {
  return std::make_unique<WsSessionImpl>(this);
}

void ExchangeImpl::SendSubscriptions(WsSessionImpl* s, int64_t now) {
  std::string tail = ",\"events\":[{\"subscriptions\":{";
  bool first = true;
  auto list = [&](const char* name, const std::set<size_t>& ps) {
    if (!first) tail += ',';
    first = false;
    Append(&tail, "\"", name, "\":[");
    bool f2 = true;
    for (size_t pi : ps) {
      if (!f2) tail += ',';
      f2 = false;
      AppendJsonString(&tail, products_[pi].cfg.product_id);
    }
    tail += ']';
  };
  if (!s->level2_.empty()) list("level2", s->level2_);
  if (!s->trades_.empty()) list("market_trades", s->trades_);
  if (s->heartbeats_) {
    if (!first) tail += ',';
    first = false;
    tail += "\"heartbeats\":[\"heartbeats\"]";
  }
  if (s->user_account_ >= 0) {
    if (s->user_products_.empty()) {
      if (!first) tail += ',';
      first = false;
      tail += "\"user\":[";
      AppendJsonString(&tail, accounts_[static_cast<size_t>(s->user_account_)].user_id);
      tail += ']';
    } else {
      list("user", s->user_products_);
    }
  }
  tail += "}}]}";
  s->Push(Head("subscriptions", now), std::make_shared<const std::string>(std::move(tail)));
}

void ExchangeImpl::SendL2Snapshot(WsSessionImpl* s, size_t pi, int64_t now) {
  const Product& p = products_[pi];
  std::string tail = ",\"events\":[{\"type\":\"snapshot\",\"product_id\":";
  AppendJsonString(&tail, p.cfg.product_id);
  tail += ",\"updates\":[";
  std::string event_time;
  AppendRfc3339Nanos(&event_time, now);
  bool first = true;
  std::vector<std::pair<int64_t, int64_t>> levels;
  for (Side side : {Side::kBuy, Side::kSell}) {
    levels.clear();
    p.book.Levels(side, SIZE_MAX, &levels);
    for (const auto& [price, size] : levels) {
      if (!first) tail += ',';
      first = false;
      Append(&tail, "{\"side\":\"", side == Side::kBuy ? "bid" : "offer", "\",\"event_time\":\"",
             event_time, "\",\"price_level\":\"", DecimalText(price, p.price_scale),
             "\",\"new_quantity\":\"", DecimalText(size, p.size_scale), "\"}");
    }
  }
  tail += "]}]}";
  s->Push(Head("l2_data", now), std::make_shared<const std::string>(std::move(tail)));
}

void ExchangeImpl::SendTradesSnapshot(WsSessionImpl* s, size_t pi, int64_t now) {
  const Product& p = products_[pi];
  std::string tail = ",\"events\":[{\"type\":\"snapshot\",\"trades\":[";
  for (size_t i = p.recent_trades.size(); i-- > 0;) {
    tail += p.recent_trades[i];
    if (i > 0) tail += ',';
  }
  tail += "]}]}";
  s->Push(Head("market_trades", now), std::make_shared<const std::string>(std::move(tail)));
}

void ExchangeImpl::SendUserSnapshot(WsSessionImpl* s, int64_t now) {
  const struct Account& a = accounts_[static_cast<size_t>(s->user_account_)];
  std::string tail = ",\"events\":[{\"type\":\"snapshot\",\"orders\":[";
  bool first = true;
  for (size_t oi : a.open) {
    const Order& o = orders_[oi];
    if (!s->user_products_.empty() && !s->user_products_.contains(o.product)) continue;
    if (!first) tail += ',';
    first = false;
    AppendUserOrder(&tail, o);
  }
  tail +=
      "],\"positions\":{\"perpetual_futures_positions\":[],\"expiring_futures_positions\":[]}}]}";
  s->Push(Head("user", now), std::make_shared<const std::string>(std::move(tail)));
}

void ExchangeImpl::OnSessionText(WsSessionImpl* s, std::string_view frame, int64_t now) {
  Start(now);
  if (frame.size() > 64 * 1024) {
    s->PushError("message too large");
    return;
  }
  const simdjson::padded_string padded(frame);
  od::document doc;
  od::object root;
  if (s->parser_.iterate(padded).get(doc) || doc.get_object().get(root)) {
    s->PushError("malformed message: not a JSON object");
    return;
  }
  std::string type, channel, jwt;
  std::vector<std::string> product_ids;
  bool has_products = false;
  for (auto field_r : root) {
    od::field field;
    std::string_view key;
    if (std::move(field_r).get(field) || field.unescaped_key().get(key)) {
      s->PushError("malformed message");
      return;
    }
    od::value v = field.value();
    std::string_view sv;
    if (key == "type" || key == "channel" || key == "jwt") {
      if (v.get_string().get(sv)) {
        s->PushError(Cat("malformed message: ", key, " must be a string"));
        return;
      }
      (key == "type" ? type : key == "channel" ? channel : jwt).assign(sv);
    } else if (key == "product_ids") {
      od::array arr;
      if (v.get_array().get(arr)) {
        s->PushError("malformed message: product_ids must be an array of strings");
        return;
      }
      has_products = true;
      for (auto e_r : arr) {
        od::value e;
        if (std::move(e_r).get(e) || e.get_string().get(sv)) {
          s->PushError("malformed message: product_ids must be an array of strings");
          return;
        }
        product_ids.emplace_back(sv);
      }
    }
  }
  const bool subscribe = type == "subscribe";
  if (!subscribe && type != "unsubscribe") {
    s->PushError(Cat("unknown message type \"", type, "\""));
    return;
  }
  std::set<size_t> ps;
  for (const std::string& id : product_ids) {
    auto it = product_index_.find(id);
    if (it == product_index_.end()) {
      s->PushError(Cat("unknown product_id \"", id, "\""));
      return;
    }
    ps.insert(it->second);
  }
  (void)has_products;
  if (channel == "level2" || channel == "l2_data" || channel == "market_trades") {
    std::set<size_t>& set = channel == "market_trades" ? s->trades_ : s->level2_;
    if (subscribe) {
      if (ps.empty()) {
        s->PushError(Cat(channel, ": product_ids required"));
        return;
      }
      std::vector<size_t> added;
      for (size_t pi : ps) {
        if (set.insert(pi).second) added.push_back(pi);
      }
      SendSubscriptions(s, now);
      for (size_t pi : added) {
        if (channel == "market_trades") {
          SendTradesSnapshot(s, pi, now);
        } else {
          SendL2Snapshot(s, pi, now);
        }
      }
    } else {
      if (ps.empty()) {
        set.clear();
      } else {
        for (size_t pi : ps) set.erase(pi);
      }
      SendSubscriptions(s, now);
    }
  } else if (channel == "heartbeats") {
    if (subscribe && !s->heartbeats_) s->next_heartbeat_ns_ = now;
    s->heartbeats_ = subscribe;
    SendSubscriptions(s, now);
  } else if (channel == "user") {
    if (!subscribe) {
      s->user_account_ = -1;
      s->user_products_.clear();
      SendSubscriptions(s, now);
      return;
    }
    if (jwt.empty()) {
      s->PushError("authentication failure: user channel needs a jwt");
      return;
    }
    absl::StatusOr<std::string> key = verifier_.Verify(jwt, "", now);
    if (!key.ok()) {
      s->PushError(Cat("authentication failure: ", key.status().message()));
      return;
    }
    auto ait = account_index_.find(*key);
    if (ait == account_index_.end()) {
      s->PushError("authentication failure: key has no account");
      return;
    }
    if (UserDown(ait->second, now)) {
      // The user channel is down (user_disconnect): the server closes this connection.
      s->close_requested_ = true;
      return;
    }
    s->user_account_ = ait->second;
    s->user_products_ = ps;
    SendSubscriptions(s, now);
    SendUserSnapshot(s, now);
  } else {
    s->PushError(Cat("unsupported channel \"", channel, "\""));
  }
}

void ExchangeImpl::Heartbeat(WsSessionImpl* s, int64_t now, std::vector<std::string>* out) {
  if (!s->heartbeats_ || now < s->next_heartbeat_ns_) return;
  s->next_heartbeat_ns_ = std::max(s->next_heartbeat_ns_ + config_.heartbeat_interval_ns, now);
  ++s->heartbeat_counter_;
  std::string msg = *Head("heartbeats", now);
  Append(&msg, s->seq_++, ",\"events\":[{\"current_time\":\"");
  AppendGoTime(&msg, now, now - start_ns_);
  Append(&msg, "\",\"heartbeat_counter\":\"", s->heartbeat_counter_, "\"}]}");
  out->push_back(std::move(msg));
}

WsSessionImpl::WsSessionImpl(ExchangeImpl* ex) : ex_(ex) { ex_->Register(this); }

WsSessionImpl::~WsSessionImpl() {
  if (ex_ != nullptr) ex_->Unregister(this);
}

void WsSessionImpl::Push(const std::shared_ptr<const std::string>& head,
                         const std::shared_ptr<const std::string>& tail) {
  if (queue_.size() >= kMaxSessionQueue) {
    // A client that never drains: drop everything and its subscriptions rather than grow
    // without bound or skip messages silently.
    queue_.clear();
    level2_.clear();
    trades_.clear();
    heartbeats_ = false;
    user_account_ = -1;
    PushError("slow consumer: subscriptions dropped");
    return;
  }
  queue_.push_back(Outgoing{head, tail});
}

void WsSessionImpl::PushError(std::string_view message) {
  std::string m = "{\"type\":\"error\",\"message\":";
  AppendJsonString(&m, message);
  m += "}";
  queue_.push_back(Outgoing{std::make_shared<const std::string>(std::move(m)), nullptr});
}

std::string_view WsSessionImpl::user_key() const {
  if (ex_ == nullptr || user_account_ < 0) return {};
  return ex_->KeyName(user_account_);
}

void WsSessionImpl::OnClientText(std::string_view frame, int64_t now_unix_ns) {
  if (ex_ == nullptr) return;
  ex_->OnSessionText(this, frame, now_unix_ns);
}

void WsSessionImpl::Drain(int64_t now_unix_ns, std::vector<std::string>* out) {
  for (Outgoing& o : queue_) {
    if (o.tail == nullptr) {
      out->push_back(*o.head);
      continue;
    }
    std::string msg;
    msg.reserve(o.head->size() + o.tail->size() + 20);
    msg += *o.head;
    Append(&msg, seq_++);
    msg += *o.tail;
    out->push_back(std::move(msg));
  }
  queue_.clear();
  if (ex_ != nullptr) ex_->Heartbeat(this, now_unix_ns, out);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Exchange>> Exchange::Create(const SimConfig& config) {
  std::vector<std::pair<std::string, std::string>> keys;
  for (const SimApiKey& k : config.api_keys) keys.emplace_back(k.key_name, k.public_key_pem);
  absl::StatusOr<JwtVerifier> verifier = JwtVerifier::Create(keys);
  if (!verifier.ok()) return verifier.status();
  auto ex = std::make_unique<ExchangeImpl>(config, std::move(*verifier));
  if (absl::Status s = ex->Init(); !s.ok()) return s;
  return std::unique_ptr<Exchange>(std::move(ex));
}

}  // namespace nzeza::sim
