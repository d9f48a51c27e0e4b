#include "nzeza/venues/coinbase/reconciler.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <map>
#include <thread>
#include <utility>

#include <nzeza/core/decimal.h>
#include <nzeza/net/https_client.h>
#include "absl/strings/str_cat.h"
#include "nzeza/venues/coinbase/orders.h"
#include "nzeza/venues/coinbase/user_channel.h"

namespace nzeza::venues::coinbase {

class CoinbaseReconciler::Impl {
 public:
  Impl(CoinbaseReconcilerOptions options, CoinbaseCredentials credentials,
       CoinbaseInstruments instruments, TlsContext tls)
      : options_(std::move(options)),
        signer_(std::move(credentials)),
        instruments_(std::move(instruments)),
        http_(HttpsClientOptions{.host = options_.rest_host,
                                 .port = options_.rest_port,
                                 .tls_context = std::move(tls),
                                 .connect_timeout = options_.request_timeout,
                                 .request_timeout = options_.request_timeout}) {}

  void Abort() noexcept { aborted_.store(true); }

  absl::Status Run(const oms::OrderManager& oms, oms::ExecSink& sink, ReconcileReport* report) {
    *report = ReconcileReport{};
    report_ = report;
    if (aborted_.load()) return absl::CancelledError("Coinbase reconciliation: aborted");
    deadline_ = std::chrono::steady_clock::now() +
                std::chrono::nanoseconds(absl::ToInt64Nanoseconds(options_.timeout));
    std::string data_loss;
    // One line per difference: what, the journal's view, the venue's.
    auto differ = [&](std::string what, std::string journal, std::string venue_view) {
      std::string line = absl::StrCat(what, ": journal ", journal, ", venue ", venue_view);
      absl::StrAppend(&data_loss, data_loss.empty() ? "" : "; ", line);
      report->differences.push_back(std::move(line));
    };
    // 1. Open orders at the venue, all pages.
    std::map<uint64_t, VenueOrder> venue;  // ours, by client id
    std::vector<VenueOrder> foreign;
    absl::Status s = FetchOrders("order_status=OPEN", 1 << 20, [&](VenueOrder o) {
      ++report->venue_open_orders;
      uint64_t id = 0;
      if (!ParseClientOrderId(o.client_order_id, &id)) {
        ++report->foreign_orders;
        foreign.push_back(std::move(o));
        return;
      }
      venue.emplace(id, std::move(o));
    });
    if (!s.ok()) return s;
    for (const auto& [id, o] : venue) {
      const oms::Order* known = oms.Find(id);
      if (known == nullptr || !oms::IsOpen(known->state)) {
        differ(absl::StrCat("order ", o.client_order_id, " (venue id ", o.order_id, ", ",
                            o.product_id, ")"),
               known == nullptr ? "does not have it" : oms::OrderStateName(known->state), "OPEN");
      }
    }
    // Orders another client of this key placed: reported, and canceled if so configured.
    for (const VenueOrder& o : foreign) {
      std::string line = absl::StrCat("foreign order ", o.order_id, " (client_order_id \"",
                                      o.client_order_id, "\", ", o.product_id, ")");
      if (options_.cancel_foreign_orders) {
        absl::Status c = CancelByVenueId(o.order_id);
        absl::StrAppend(&line,
                        c.ok() ? ": canceled" : absl::StrCat(": cancel failed: ", c.ToString()));
        if (c.ok()) ++report->foreign_canceled;
      } else {
        absl::StrAppend(&line, ": left alone (reconcile.foreign_orders = \"report\")");
      }
      report->foreign.push_back(std::move(line));
    }
    // 2. Journal-open orders the venue does not list as open: in the recent orders (every page
    // up to max_pages). One never acknowledged may not be listed yet (the venue indexes new
    // orders with a lag): look again until unacked_grace has passed before calling it unknown.
    std::vector<uint64_t> missing;
    oms.ForEachOrder([&](const oms::Order& o) {
      if (oms::IsOpen(o.state) && venue.find(o.client_order_id) == venue.end()) {
        missing.push_back(o.client_order_id);
      }
    });
    const auto grace_end =
        std::chrono::steady_clock::now() +
        std::chrono::nanoseconds(absl::ToInt64Nanoseconds(options_.unacked_grace));
    for (bool first = true; !missing.empty(); first = false) {
      if (!first) {
        if (std::chrono::steady_clock::now() >= grace_end) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        if (aborted_.load()) return absl::CancelledError("Coinbase reconciliation: aborted");
        ++report->relists;
      }
      s = FetchOrders("", options_.max_pages, [&](VenueOrder o) {
        uint64_t id = 0;
        if (ParseClientOrderId(o.client_order_id, &id) &&
            std::find(missing.begin(), missing.end(), id) != missing.end()) {
          venue.emplace(id, std::move(o));
        }
      });
      if (!s.ok()) return s;
      // Still missing: only the never-acknowledged ones are worth waiting for.
      std::vector<uint64_t> still;
      for (uint64_t id : missing) {
        const oms::Order* o = oms.Find(id);
        if (venue.find(id) == venue.end() && o != nullptr && NeverAcked(*o)) still.push_back(id);
      }
      missing.swap(still);
    }
    // Journal-open orders still not found that have a venue id: asked for one by one (Get Order
    // sees an order at once, where the lists may lag behind it).
    {
      std::vector<std::pair<uint64_t, std::string>> by_id;
      oms.ForEachOrder([&](const oms::Order& o) {
        if (oms::IsOpen(o.state) && !o.venue_order_id().empty() &&
            venue.find(o.client_order_id) == venue.end()) {
          by_id.emplace_back(o.client_order_id, std::string(o.venue_order_id()));
        }
      });
      for (const auto& [id, order_id] : by_id) {
        static constexpr std::string_view kPath = "/api/v3/brokerage/orders/historical/";
        const std::string path = absl::StrCat(std::string(kPath), order_id);
        absl::StatusOr<std::string> body = Get(path, path);
        if (!body.ok()) {
          if (absl::IsCancelled(body.status())) return body.status();
          continue;  // not found (or not now): the difference below says so
        }
        absl::StatusOr<VenueOrder> vo = DecodeGetOrder(*body);
        if (!vo.ok()) return vo.status();
        ++report->lookups;
        venue.emplace(id, std::move(*vo));
      }
    }
    // 3. The differences. Copies: the events emitted change (and may recycle) the table.
    std::vector<oms::Order> open;
    oms.ForEachOrder([&](const oms::Order& o) {
      if (oms::IsOpen(o.state)) open.push_back(o);
    });
    for (const oms::Order& o : open) {
      auto it = venue.find(o.client_order_id);
      if (it == venue.end()) {
        if (NeverAcked(o)) {
          // Not at the venue after the grace: it never arrived there.
          ExecEvent ev = Base(o);
          ev.type = ExecType::kReject;
          ev.reject_code = static_cast<uint16_t>(oms::VenueReject::kUnknownOrder);
          ev.leaves_size = 0;
          sink.OnExec(ev);
          ++report->unknown;
        } else {
          differ(
              absl::StrCat("order ", o.client_order_id,
                           o.venue_order_id().empty()
                               ? std::string()
                               : absl::StrCat(" (venue id ", std::string(o.venue_order_id()), ")")),
              oms::OrderStateName(o.state), "does not have it");
        }
        continue;
      }
      if (o.venue_order_id() != it->second.order_id && !it->second.order_id.empty()) {
        sink.OnVenueOrderId(o.client_order_id, it->second.order_id);
      }
      Apply(o, it->second, sink, report, &data_loss);
    }
    if (!data_loss.empty()) return absl::DataLossError("Coinbase reconciliation: " + data_loss);
    return absl::OkStatus();
  }

 private:
  // The venue never acknowledged it, as far as the journal knows (pending or in doubt).
  static bool NeverAcked(const oms::Order& o) {
    const oms::OrderState w =
        o.state == oms::OrderState::kPendingCancel || o.state == oms::OrderState::kPendingReplace
            ? o.resume
            : o.state;
    return w == oms::OrderState::kPendingNew || w == oms::OrderState::kInDoubt;
  }

  // POST batch_cancel for one venue order id (foreign orders). OK when the venue canceled it.
  absl::Status CancelByVenueId(const std::string& order_id) {
    static constexpr std::string_view kPath = "/api/v3/brokerage/orders/batch_cancel";
    char body[kMaxBodyBytes];
    size_t body_len = 0;
    const std::string_view ids[1] = {order_id};
    if (EncodeBatchCancelBody(ids, body, sizeof(body), &body_len) != EncodeError::kOk) {
      return absl::InvalidArgumentError("order id does not encode");
    }
    absl::StatusOr<std::string> answer =
        Send("POST", kPath, std::string(kPath), std::string(body, body_len));
    if (!answer.ok()) return answer.status();
    BatchCancelResponse decoded;
    if (DecodeBatchCancelResponse(200, answer->data(), answer->size(), &decoded) !=
            DecodeError::kOk ||
        decoded.reject != oms::VenueReject::kNone || decoded.count != 1 ||
        decoded.results[0].reject != oms::VenueReject::kNone) {
      return absl::UnavailableError("the venue did not confirm the cancel");
    }
    return absl::OkStatus();
  }

  static ExecEvent Base(const oms::Order& o) {
    ExecEvent ev;
    ev.client_order_id = o.client_order_id;
    ev.side = o.side;
    ev.instrument = o.instrument;
    ev.strategy_id = o.strategy_id;
    ev.cum_size = o.cum_size;
    ev.leaves_size = o.leaves();
    return ev;
  }

  void Apply(const oms::Order& o, const VenueOrder& v, oms::ExecSink& sink, ReconcileReport* report,
             std::string* data_loss) {
    const CoinbaseInstrument* inst = instruments_.Find(o.instrument);
    if (inst == nullptr) {
      std::string line = absl::StrCat("order ", o.client_order_id, ": journal instrument ",
                                      o.instrument, ", venue not in the Coinbase table");
      absl::StrAppend(data_loss, data_loss->empty() ? "" : "; ", line);
      report->differences.push_back(std::move(line));
      return;
    }
    if ((o.state == oms::OrderState::kPendingNew || o.state == oms::OrderState::kInDoubt) &&
        v.status != CoinbaseOrderStatus::kFailed && v.status != CoinbaseOrderStatus::kPending) {
      ExecEvent ack = Base(o);
      ack.type = ExecType::kAck;
      sink.OnExec(ack);
      ++report->acks;
    }
    int64_t cum = 0;
    if (!v.filled_size.empty() &&
        ParseDecimal(v.filled_size.data(), v.filled_size.size(), inst->size_scale,
                     Signedness::kUnsigned, &cum) != DecimalError::kOk) {
      std::string line = absl::StrCat("order ", o.client_order_id, " (venue id ", v.order_id,
                                      "): journal filled ", o.cum_size, ", venue filled_size \"",
                                      v.filled_size, "\" that does not parse");
      absl::StrAppend(data_loss, data_loss->empty() ? "" : "; ", line);
      report->differences.push_back(std::move(line));
      return;
    }
    int64_t filled = o.cum_size;
    if (cum > o.cum_size) {
      // The fills themselves (price, size, fee of each) where the venue lists them all; otherwise
      // (or for a remainder they do not explain) one fill for the difference at the average.
      filled = ApplyVenueFills(o, v, *inst, cum, sink, report);
    }
    if (cum > filled) {
      const int64_t delta = cum - filled;
      ExecEvent fill = Base(o);
      fill.type = ExecType::kFill;
      fill.last_size = delta;
      fill.cum_size = cum;
      fill.leaves_size = o.size > cum ? o.size - cum : 0;
      // The venue's average fill price (per-fill prices are not in the order record).
      int64_t value = 0;
      int64_t avg = 0;
      const bool have_value = !v.filled_value.empty() &&
                              ParseDecimal(v.filled_value.data(), v.filled_value.size(),
                                           inst->price_scale + inst->size_scale,
                                           Signedness::kUnsigned, &value) == DecimalError::kOk;
      const bool have_avg =
          !v.average_filled_price.empty() &&
          ParseDecimal(v.average_filled_price.data(), v.average_filled_price.size(),
                       inst->price_scale, Signedness::kUnsigned, &avg) == DecimalError::kOk;
      if (have_value) {
        fill.last_price = static_cast<int64_t>((static_cast<__int128>(value) + cum / 2) / cum);
      } else if (have_avg) {
        fill.last_price = avg;
      }
      fill.trade_id = UserChannelTradeId(v.order_id, cum);
      sink.OnExec(fill);
      ++report->fills;
      filled = cum;
    }
    ExecEvent done = Base(o);
    done.cum_size = filled;
    done.leaves_size = 0;
    switch (v.status) {
      case CoinbaseOrderStatus::kCancelled:
        done.type = ExecType::kCanceled;
        break;
      case CoinbaseOrderStatus::kExpired:
        done.type = ExecType::kExpired;
        break;
      case CoinbaseOrderStatus::kFailed:
        done.type = ExecType::kReject;
        done.reject_code = static_cast<uint16_t>(oms::VenueReject::kUnknown);
        break;
      default:
        return;  // open, pending, filled (the fill completed it)
    }
    sink.OnExec(done);
    ++report->done;
  }

  // Emits, oldest first, the venue's fills of order `v` beyond what the journal holds (o.cum_size),
  // each with its own price, size and fee, up to the venue's cumulative size `cum`. The journal's
  // fills came from the user channel, whose updates carry cumulative sizes at fill boundaries, so
  // the venue's fills up to o.cum_size are the ones already counted. Returns the cumulative size
  // the emitted fills reach (o.cum_size when the venue lists none usable). Each fill's trade_id
  // is what the user channel gives its cumulative size, so a late replay is a duplicate.
  // A fills request that fails or answers something else leaves it all to the average path.
  int64_t ApplyVenueFills(const oms::Order& o, const VenueOrder& v, const CoinbaseInstrument& inst,
                          int64_t cum, oms::ExecSink& sink, ReconcileReport* report) {
    static constexpr std::string_view kPath = "/api/v3/brokerage/orders/historical/fills";
    const int64_t seen = o.cum_size;  // as the journal had it before this pass
    std::vector<VenueFill> fills;
    std::string cursor;
    for (int page = 0; page < options_.max_pages; ++page) {
      std::string target = absl::StrCat(std::string(kPath), "?order_ids=", v.order_id,
                                        "&limit=1000", cursor.empty() ? "" : "&cursor=", cursor);
      absl::StatusOr<std::string> body = Get(kPath, target);
      if (!body.ok()) return seen;
      absl::StatusOr<ListFillsPage> p = DecodeListFills(*body);
      if (!p.ok()) return seen;
      for (VenueFill& f : p->fills) {
        if (f.order_id == v.order_id) fills.push_back(std::move(f));
      }
      if (p->cursor.empty()) break;
      cursor = p->cursor;
    }
    std::reverse(fills.begin(), fills.end());  // the venue lists newest first
    struct Parsed {
      int64_t price, size, fee;
      Liquidity liquidity;
    };
    std::vector<Parsed> parsed;
    int64_t total = 0;
    for (const VenueFill& f : fills) {
      Parsed q{0, 0, 0, f.liquidity};
      if (f.size_in_quote ||
          ParseDecimal(f.price.data(), f.price.size(), inst.price_scale, Signedness::kUnsigned,
                       &q.price) != DecimalError::kOk ||
          ParseDecimal(f.size.data(), f.size.size(), inst.size_scale, Signedness::kUnsigned,
                       &q.size) != DecimalError::kOk ||
          q.size <= 0 ||
          (!f.commission.empty() &&
           ParseDecimal(f.commission.data(), f.commission.size(), inst.fee_scale,
                        Signedness::kSigned, &q.fee) != DecimalError::kOk)) {
        return seen;  // a fill this path cannot read exactly: the average path covers all
      }
      total += q.size;
      parsed.push_back(q);
    }
    // Only a complete list explains the order: otherwise the journal's share is unknown.
    if (total != cum) return seen;
    int64_t acc = 0;
    int64_t through = seen;
    for (const Parsed& q : parsed) {
      const int64_t before = acc;
      acc += q.size;
      if (acc <= seen) continue;       // counted already
      if (before < seen) return seen;  // not at a fill boundary: cannot split exactly
      ExecEvent fill = Base(o);
      fill.type = ExecType::kFill;
      fill.last_size = q.size;
      fill.last_price = q.price;
      fill.fee = q.fee;
      fill.liquidity = q.liquidity;
      fill.cum_size = acc;
      fill.leaves_size = o.size > acc ? o.size - acc : 0;
      fill.trade_id = UserChannelTradeId(v.order_id, acc);
      sink.OnExec(fill);
      ++report->fills;
      through = acc;
    }
    return through;
  }

  int64_t NowS() const {
    return options_.unix_now_s ? options_.unix_now_s() : static_cast<int64_t>(std::time(nullptr));
  }

  template <typename F>
  absl::Status FetchOrders(const std::string& filter, int max_pages, F&& each) {
    static constexpr std::string_view kPath = "/api/v3/brokerage/orders/historical/batch";
    std::string cursor;
    for (int page = 0; page < max_pages; ++page) {
      std::string target = std::string(kPath) + "?limit=1000";
      if (!filter.empty()) absl::StrAppend(&target, "&", filter);
      if (!cursor.empty()) absl::StrAppend(&target, "&cursor=", cursor);
      absl::StatusOr<std::string> body = Get(kPath, target);
      if (!body.ok()) return body.status();
      absl::StatusOr<ListOrdersPage> p = DecodeListOrders(*body);
      if (!p.ok()) return p.status();
      for (VenueOrder& o : p->orders) each(std::move(o));
      if (!p->has_next || p->cursor.empty()) return absl::OkStatus();
      cursor = p->cursor;
    }
    return absl::OkStatus();
  }

  // One signed GET; the JWT's uri names the path without the query (as Coinbase specifies).
  absl::StatusOr<std::string> Get(std::string_view path, const std::string& target) {
    return Send("GET", path, target, "");
  }

  // One signed request (GET or POST with a JSON body); the body of a 200 answer. A 429 (the
  // key's request budget is spent, e.g. by the engine that ran just before a restart) is waited
  // out and asked again, within the pass's timeout.
  absl::StatusOr<std::string> Send(std::string_view method, std::string_view path,
                                   const std::string& target, const std::string& payload) {
    for (int attempt = 0;; ++attempt) {
      bool rate_limited = false;
      absl::StatusOr<std::string> r = SendOnce(method, path, target, payload, &rate_limited);
      if (!rate_limited) return r;
      if (report_ != nullptr) ++report_->rate_limited;
      const auto wait = std::chrono::milliseconds(attempt == 0 ? 250 : 1000);
      if (std::chrono::steady_clock::now() + wait > deadline_) return r;
      for (auto end = std::chrono::steady_clock::now() + wait;
           std::chrono::steady_clock::now() < end;) {
        if (aborted_.load()) return absl::CancelledError("Coinbase reconciliation: aborted");
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
  }

  absl::StatusOr<std::string> SendOnce(std::string_view method, std::string_view path,
                                       const std::string& target, const std::string& payload,
                                       bool* rate_limited) {
    absl::StatusOr<std::string> jwt =
        signer_.Sign(std::string(method), options_.uri_host, path, NowS());
    if (!jwt.ok()) return absl::InternalError("Coinbase reconciliation: signing failed");
    std::string raw(kMaxRequestBytes + target.size() + payload.size(), '\0');
    size_t len = 0;
    if (EncodeHttpRequest(method, target, options_.uri_host, *jwt, payload, raw.data(), raw.size(),
                          &len) != EncodeError::kOk) {
      return absl::InternalError("Coinbase reconciliation: request does not encode");
    }
    raw.resize(len);
    bool done = false;
    absl::Status result;
    std::string body;
    absl::Status q = http_.Request(
        HttpRequest{.method = method == "POST" ? HttpMethod::kPost : HttpMethod::kGet,
                    .target = target,
                    .raw = std::move(raw)},
        [&](const HttpResponse& r) {
          done = true;
          if (!r.transport.ok()) {
            result = absl::UnavailableError(
                absl::StrCat("Coinbase reconciliation: ", r.transport.message()));
          } else if (r.status != 200) {
            *rate_limited = r.status == 429;
            result = absl::UnavailableError(absl::StrCat(
                "Coinbase reconciliation: ", std::string(method), " ", std::string(path),
                " answered HTTP ", r.status, ": ", std::string(r.body.substr(0, 200))));
          } else {
            body = std::string(r.body);
          }
        });
    if (!q.ok()) return q;
    while (!done) {
      if (aborted_.load()) {
        http_.Close();  // runs the callback (Cancelled)
        return absl::CancelledError("Coinbase reconciliation: aborted");
      }
      if (std::chrono::steady_clock::now() > deadline_) {
        http_.Close();  // runs the callback (Cancelled)
        return absl::UnavailableError("Coinbase reconciliation timed out");
      }
      if (http_.Poll() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!result.ok()) return result;
    return body;
  }

  CoinbaseReconcilerOptions options_;
  JwtSigner signer_;
  CoinbaseInstruments instruments_;
  std::chrono::steady_clock::time_point deadline_;
  ReconcileReport* report_ = nullptr;  // the pass in progress
  std::atomic<bool> aborted_{false};
  HttpsClient http_;
};

absl::StatusOr<std::unique_ptr<CoinbaseReconciler>> CoinbaseReconciler::Create(
    CoinbaseReconcilerOptions options, CoinbaseCredentials credentials,
    CoinbaseInstruments instruments) {
  if (options.rest_host.empty()) {
    return absl::InvalidArgumentError("Coinbase reconciler: rest_host is empty");
  }
  if (options.uri_host.empty()) options.uri_host = options.rest_host;
  absl::StatusOr<TlsContext> tls = MakeClientTlsContext(options.tls);
  if (!tls.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Coinbase reconciler TLS options: ", tls.status().message()));
  }
  return std::unique_ptr<CoinbaseReconciler>(new CoinbaseReconciler(std::make_unique<Impl>(
      std::move(options), std::move(credentials), std::move(instruments), *tls)));
}

CoinbaseReconciler::CoinbaseReconciler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CoinbaseReconciler::~CoinbaseReconciler() = default;
void CoinbaseReconciler::Abort() noexcept { impl_->Abort(); }
absl::Status CoinbaseReconciler::Reconcile(const oms::OrderManager& oms, oms::ExecSink& sink) {
  return impl_->Run(oms, sink, &report_);
}

}  // namespace nzeza::venues::coinbase
