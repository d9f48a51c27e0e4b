#include <nzeza/oms/settle_worker.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"

namespace nzeza::oms {
namespace {

// The reconciler's events, handed to the order stage in order.
class ResultSink final : public ExecSink {
 public:
  explicit ResultSink(std::function<void(const SettleResult&)> push) : push_(std::move(push)) {}
  void OnExec(const ExecEvent& ev) override {
    SettleResult r;
    r.kind = SettleResult::Kind::kExec;
    r.exec = ev;
    push_(r);
    ++events;
  }
  void OnVenueOrderId(uint64_t client_order_id, std::string_view venue_order_id) override {
    if (venue_order_id.empty() || venue_order_id.size() > kMaxVenueOrderIdBytes) return;
    SettleResult r;
    r.kind = SettleResult::Kind::kVenueOrderId;
    r.venue_id.client_order_id = client_order_id;
    r.venue_id.length = static_cast<uint32_t>(venue_order_id.size());
    std::memcpy(r.venue_id.id, venue_order_id.data(), venue_order_id.size());
    push_(r);
  }
  uint64_t events = 0;

 private:
  std::function<void(const SettleResult&)> push_;
};

}  // namespace

SettleWorker::SettleWorker(VenueReconciler& reconciler, SettleWorkerOptions options)
    : reconciler_(reconciler),
      options_(std::move(options)),
      requests_(options_.max_orders + 1),
      results_(options_.result_capacity) {}

SettleWorker::~SettleWorker() { Stop(); }

void SettleWorker::Start() {
  if (thread_.joinable()) return;
  stop_.store(false);
  thread_ = std::thread([this] { Run(); });
}

void SettleWorker::Stop() {
  stop_.store(true);
  if (thread_.joinable()) {
    reconciler_.Abort();  // a pass waiting on the venue ends now, not at its timeout
    thread_.join();
  }
}

bool SettleWorker::Begin() noexcept {
  if (busy_) return false;
  busy_ = true;
  overflow_ = false;
  return true;
}

bool SettleWorker::Offer(const Order& order) noexcept {
  // One slot stays free for the end marker.
  if (overflow_ || requests_.size() + 2 > requests_.capacity()) {
    overflow_ = true;
    return false;
  }
  Item it;
  it.order = order;
  return requests_.try_push(it);
}

void SettleWorker::Submit() noexcept {
  Item end;
  end.end = true;
  end.order.client_order_id = overflow_ ? 1 : 0;  // 1: the request lost orders: fail the pass
  (void)requests_.try_push(end);                  // room kept by Offer
}

bool SettleWorker::TakeResult(SettleResult* out) noexcept {
  if (!results_.try_pop(*out)) return false;
  if (out->kind == SettleResult::Kind::kDone || out->kind == SettleResult::Kind::kFailed ||
      out->kind == SettleResult::Kind::kMismatch) {
    busy_ = false;
  }
  return true;
}

std::string SettleWorker::last_message() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_message_;
}

void SettleWorker::PushResult(const SettleResult& r) {
  // The order stage drains results as it polls; wait for room rather than lose one.
  while (!results_.try_push(r)) {
    if (stop_.load()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void SettleWorker::Run() {
  std::vector<Order> orders;
  while (!stop_.load()) {
    Item it;
    if (!requests_.try_pop(it)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    if (!it.end) {
      orders.push_back(it.order);
      continue;
    }
    const bool lost_orders = it.order.client_order_id != 0;
    SettleResult done;
    std::string message;
    if (lost_orders) {
      done.kind = SettleResult::Kind::kFailed;
      message = absl::StrCat("settle pass: more than ", options_.max_orders,
                             " open orders; not reconciled");
    } else {
      OrderManager scratch({.max_orders = orders.size() + 1,
                            .max_instruments = options_.max_instruments,
                            .max_terminal = orders.size() + 1});
      for (const Order& o : orders) (void)scratch.Adopt(o);
      ResultSink sink([this](const SettleResult& r) { PushResult(r); });
      const absl::Status st = reconciler_.Reconcile(scratch, sink);
      if (st.ok()) {
        done.kind = SettleResult::Kind::kDone;
        message = absl::StrCat("settle pass after the execution stream's outage: ", orders.size(),
                               " open orders, ", sink.events, " events from the venue; ok");
      } else {
        done.kind =
            absl::IsDataLoss(st) ? SettleResult::Kind::kMismatch : SettleResult::Kind::kFailed;
        message = absl::StrCat("settle pass after the execution stream's outage: ", orders.size(),
                               " open orders, ", sink.events, " events; ", st.ToString());
      }
    }
    orders.clear();
    if (done.kind != SettleResult::Kind::kDone) {
      std::lock_guard<std::mutex> lock(mu_);
      last_message_ = message;
    }
    if (options_.log) options_.log(message);
    passes_.fetch_add(1, std::memory_order_relaxed);
    PushResult(done);
  }
}

}  // namespace nzeza::oms
