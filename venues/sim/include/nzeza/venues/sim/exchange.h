// The simulated venue's exchange core: products, price-time-priority matching, accounts, a seeded
// market model, and the Coinbase Advanced Trade protocol (REST order endpoints with JWT
// verification, WebSocket `level2`, `market_trades`, `heartbeats`, `user`), with no sockets: the
// server (sim_server.h) ferries bytes to and from it.
//
//   absl::StatusOr<std::unique_ptr<sim::Exchange>> ex = sim::Exchange::Create(config);
//   ex->Advance(now);                                     // market model + matching up to now
//   sim::RestReply r = ex->HandleRest("POST", "/api/v3/brokerage/orders", "127.0.0.1:4443",
//                                     "Bearer eyJ...", body, now);
//   std::unique_ptr<sim::WsSession> s = ex->OpenSession();
//   s->OnClientText(R"({"type":"subscribe","channel":"level2","product_ids":["BTC-USD"]})", now);
//   std::vector<std::string> frames; s->Drain(now, &frames);   // send each as a text frame
//
// Thread: one thread calls everything (the server's I/O thread); nothing here is synchronised.
// Sessions must be destroyed before their Exchange.
#ifndef NZEZA_VENUES_SIM_EXCHANGE_H_
#define NZEZA_VENUES_SIM_EXCHANGE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

namespace nzeza::sim {

// One product. Decimal strings, as the venue publishes them; the number of decimals of
// price_increment / base_increment fixes the price / size scale.
struct SimProductConfig {
  std::string product_id = "BTC-USD";
  std::string price_increment = "0.01";
  std::string base_increment = "0.00000001";
  std::string base_min_size = "0.00001";
  std::string base_max_size = "1000";
  std::string start_price = "50000.00";
  // Market model: the mid's random walk, per sqrt(second), in basis points of price.
  int64_t volatility_bps = 20;
  // Other participants: limit orders placed per second around the mid (some cross and trade),
  // and how many levels per side the book is seeded with at start.
  int64_t participant_orders_per_sec = 200;
  int64_t seed_levels = 50;
  std::string participant_max_size = "0.5";
};

// An API key the venue accepts: CDP key name and its EC P-256 public key (PEM; a private-key PEM
// is accepted too and its public half used). Each key is one account.
struct SimApiKey {
  std::string key_name;
  std::string public_key_pem;
  std::string quote_balance = "1000000";  // starting balances, decimal strings
  std::string base_balance = "10";
};

struct SimConfig {
  uint64_t seed = 1;
  std::vector<SimProductConfig> products = {SimProductConfig{}};
  std::vector<SimApiKey> api_keys;
  // The host the JWT `uri` claim must name ("POST <rest_host>/api/v3/brokerage/orders"); the
  // server sets it to the address it listens on unless configured.
  std::string rest_host = "api.coinbase.com";
  int64_t maker_fee_bps = 0;
  int64_t taker_fee_bps = 5;
  int64_t rest_rate_limit_per_sec = 30;  // per key; over it: HTTP 429 with Coinbase's shape
  int64_t heartbeat_interval_ns = 1'000'000'000;
  int64_t model_step_ns = 1'000'000;  // the market model's time step
};

struct RestReply {
  int status = 200;
  std::string body;  // JSON
  // What the server does with the reply (ExchangeFaults::withhold_*): -1 sends it at once, 0
  // never sends it (the connection stays open and silent), > 0 sends it after that many ms.
  int64_t withhold_ms = -1;
};

// Orders-level fault knobs at the exchange (transport faults live in the server). The counts
// (`*_next*`) are used up one per request; "create-order request" means an authenticated
// POST /api/v3/brokerage/orders inside the rate limit, whatever its outcome.
struct ExchangeFaults {
  int64_t reject_next_orders = 0;  // the next N create-order requests fail (INSUFFICIENT_FUND)
  int64_t reject_every_n = 0;      // every n-th create-order request fails (0: none), counted
                                   // over the exchange's life
  // The next N create-order / batch_cancel requests are executed as usual but their reply is
  // marked RestReply::withhold_ms = withhold_*_ms (0: never sent).
  int64_t withhold_create_next = 0;
  int64_t withhold_create_ms = 0;
  int64_t withhold_cancel_next = 0;
  int64_t withhold_cancel_ms = 0;
  // The next N create-order requests are executed, then answered HTTP 503 (UNAVAILABLE).
  int64_t error_after_accept_next = 0;
  // Orders created while this is > 0 are left out of List Orders (orders/historical/batch) for
  // this many ms after their creation (Coinbase's indexing lag). Setting 0 makes every order
  // visible again at once. Get Order and List Fills are not affected.
  int64_t list_lag_ms = 0;
  // Until this time (unix ns), the user channel is down for `user_down_key`'s account (empty:
  // every account): its updates are dropped, not queued, and a `user` subscribe asks the server
  // to close that connection (WsSession::close_requested). Matching goes on.
  int64_t user_down_until_ns = 0;
  std::string user_down_key = {};
};

// A resting order placed on an account as another client of the same API key would
// (Exchange::PlaceForeignOrder); decimal strings as the venue prints them.
struct ForeignOrder {
  std::string key_name;
  std::string order_id;
  std::string client_order_id;  // "manual-<n>": never a decimal number
  std::string product_id;
  std::string side;  // "BUY"
  std::string limit_price;
  std::string base_size;
};

// What an account holds (for tests and the engine's end-of-run comparison).
struct AccountView {
  bool found = false;
  std::string key_name;
  // Per product: position in base units as a decimal string ("0.00120000"), and totals.
  struct Product {
    std::string product_id;
    std::string base_position;  // signed, relative to the starting balance
    std::string quote_delta;    // signed, includes fees
    int64_t open_orders = 0;
    int64_t fills = 0;
  };
  std::vector<Product> products;
};

// Per product totals, for self-consistency checks and status: what every API account and the
// other participants hold relative to the start, and what the venue kept in fees. Conservation:
// accounts_base + participants_base == 0 and accounts_quote + participants_quote + venue_fees
// == 0, always (added to the interface by the core; not needed by the server).
struct ProductTotals {
  std::string product_id;
  int price_scale = 0;  // decimals of prices
  int size_scale = 0;   // decimals of base amounts
  int quote_scale = 0;  // decimals of quote amounts (price_scale + size_scale: notionals exact)
  int64_t accounts_base = 0;  // mantissas at size_scale / quote_scale
  int64_t participants_base = 0;
  int64_t accounts_quote = 0;
  int64_t participants_quote = 0;
  int64_t venue_fees = 0;
  int64_t trades = 0;    // trades since start
  int64_t mid = 0;       // the model's mid, price mantissa
  int64_t best_bid = 0;  // 0 when that side is empty
  int64_t best_ask = 0;
  int64_t resting_orders = 0;
};

class WsSession;

class Exchange {
 public:
  // Errors (kInvalidArgument naming the field): a malformed decimal, an unknown or bad PEM,
  // no products, duplicate product ids or key names.
  static absl::StatusOr<std::unique_ptr<Exchange>> Create(const SimConfig& config);
  virtual ~Exchange() = default;

  // Advances the market model and other participants' orders up to now (unix ns); trades and book
  // changes are published to the sessions.
  virtual void Advance(int64_t now_unix_ns) = 0;

  // One Advanced Trade REST request. `authorization` is the Authorization header's value
  // ("Bearer <jwt>"). Endpoints: POST /api/v3/brokerage/orders, POST
  // /api/v3/brokerage/orders/batch_cancel, GET /api/v3/brokerage/orders/historical/batch
  // (?order_status=OPEN&product_ids=...&limit=N&cursor=C), GET
  // /api/v3/brokerage/orders/historical/fills (?limit=N&cursor=C),
  // GET /api/v3/brokerage/orders/historical/{order_id}, GET /api/v3/brokerage/products/{id},
  // GET /api/v3/brokerage/accounts (?limit=N&cursor=C), GET
  // /api/v3/brokerage/product_book?product_id=X&limit=N, GET
  // /api/v3/brokerage/best_bid_ask?product_ids=X&product_ids=Y. Cursors are opaque to the client
  // (positions in the account's history, stable while new orders and fills arrive); an empty
  // cursor means the last page. A missing, expired, not-yet-valid, wrong-key or wrong-uri JWT is
  // 401 with Coinbase's error body; over the rate limit, 429.
  virtual RestReply HandleRest(std::string_view method, std::string_view target,
                               std::string_view authorization, std::string_view body,
                               int64_t now_unix_ns) = 0;

  // A WebSocket connection's protocol state.
  virtual std::unique_ptr<WsSession> OpenSession() = 0;

  virtual void SetFaults(const ExchangeFaults& faults) = 0;
  // The faults as they stand now (counts used up so far subtracted), for a read-modify-write.
  virtual ExchangeFaults faults() const { return {}; }
  // Places a buy limit order for base_min_size at half the mid (rounded down to the tick, so it
  // rests) on the first product, for `key_name`'s account (empty: the first account), with a
  // client_order_id "manual-<n>": what another client of the same API key would do. It goes
  // through the same entry checks as a REST create (no injected fault applies), shows on the
  // user channel and in the list endpoints. Errors: NotFound (no such key, no account),
  // FailedPrecondition (the venue refused it, e.g. INSUFFICIENT_FUND; the message says why).
  virtual absl::StatusOr<ForeignOrder> PlaceForeignOrder(std::string_view key_name,
                                                         int64_t now_unix_ns) {
    (void)key_name;
    (void)now_unix_ns;
    return absl::UnimplementedError("PlaceForeignOrder");
  }
  virtual AccountView Account(std::string_view key_name) const = 0;
  // Other participants trade through every open order of the account at its limit price (an
  // immediate-or-cancel order on the other side that takes everything at that price or better),
  // as a market moving through a quote does: the account's orders fill, its user channel and the
  // market data say so. Returns the number of orders traded through, -1 for an unknown key.
  virtual int TradeThroughOpenOrders(std::string_view key_name, int64_t now_unix_ns) {
    (void)key_name;
    (void)now_unix_ns;
    return -1;
  }
  virtual const SimConfig& config() const = 0;
  // One entry per product, in configuration order.
  virtual std::vector<ProductTotals> Totals() const = 0;
};

// One WebSocket connection: subscriptions and the connection's own sequence_num (Coinbase numbers
// every message of a connection from 0).
class WsSession {
 public:
  virtual ~WsSession() = default;
  // A text frame from the client: subscribe / unsubscribe (channels level2, market_trades,
  // heartbeats, user; `user` needs a valid JWT without uri). Replies are queued for Drain.
  virtual void OnClientText(std::string_view frame, int64_t now_unix_ns) = 0;
  // Appends the frames to send now, in order: replies, then market data and user-channel updates
  // since the last call, heartbeats when due.
  virtual void Drain(int64_t now_unix_ns, std::vector<std::string>* out) = 0;
  // The key name of this connection's `user` subscription; empty when it has none.
  virtual std::string_view user_key() const { return {}; }
  // True once the exchange wants the connection closed abruptly (a `user` subscribe while the
  // user channel is down: ExchangeFaults::user_down_until_ns). The server checks after each
  // client frame.
  virtual bool close_requested() const { return false; }
};

}  // namespace nzeza::sim

#endif  // NZEZA_VENUES_SIM_EXCHANGE_H_
