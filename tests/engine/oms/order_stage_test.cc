// OrderStage: journal before send, refusals answered with synthesized rejects, venue events
// journaled, applied and fanned out in order without loss under back-pressure, latencies recorded.
#include <nzeza/oms/order_stage.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <nzeza/oms/recovered_orders.h>
#include <nzeza/oms/recovery.h>

namespace nzeza::oms {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/nzeza_order_stage_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A scripted gateway: records what was sent (and the journal's sequence at that moment), answers
// with the events queued in `to_emit` on the next Poll.
class FakeGateway final : public OrderGateway {
 public:
  explicit FakeGateway(const Journal* journal) : journal_(journal) {}
  SendStatus Send(const OrderCmd& cmd, int64_t) noexcept override {
    if (status != SendStatus::kSent) return status;
    sent.push_back(cmd);
    journal_seq_at_send.push_back(journal_ != nullptr ? journal_->next_sequence() : 0);
    return SendStatus::kSent;
  }
  int Poll(ExecSink& sink) noexcept override {
    const int n = static_cast<int>(to_emit.size() + ids_to_emit.size());
    for (const auto& [id, venue_id] : ids_to_emit) sink.OnVenueOrderId(id, venue_id);
    ids_to_emit.clear();
    for (SessionEvent e : sessions_to_emit) sink.OnSession(e, 7);
    sessions_to_emit.clear();
    for (const ExecEvent& e : to_emit) sink.OnExec(e);
    to_emit.clear();
    return n;
  }
  bool TrackRecovered(const Order& o) noexcept override {
    tracked.push_back(o);
    return true;
  }
  void Forget(uint64_t) noexcept override { ++forgotten; }
  bool ready() const noexcept override { return true; }
  std::string_view name() const noexcept override { return "fake"; }
  uint64_t forgotten = 0;

  std::vector<std::pair<uint64_t, std::string>> ids_to_emit;
  std::vector<SessionEvent> sessions_to_emit;
  std::vector<Order> tracked;

  SendStatus status = SendStatus::kSent;
  std::vector<OrderCmd> sent;
  std::vector<uint64_t> journal_seq_at_send;
  std::vector<ExecEvent> to_emit;

 private:
  const Journal* journal_;
};

constexpr OrderManager::Options kOpts{.max_orders = 1024, .max_instruments = 4};

OrderCmd New(uint64_t id, int64_t price, int64_t size) {
  OrderCmd c;
  c.type = CmdType::kNew;
  c.client_order_id = id;
  c.price = price;
  c.size = size;
  c.times.recv_ns = 1000;
  c.times.decoded_ns = 1100;
  c.times.signal_ns = 1300;
  c.times.risk_ns = 1400;
  return c;
}

ExecEvent Ev(ExecType t, const OrderCmd& c, int64_t last = 0) {
  ExecEvent e;
  e.type = t;
  e.client_order_id = c.client_order_id;
  e.side = c.side;
  e.instrument = c.instrument;
  e.last_price = c.price;
  e.last_size = last;
  e.cum_size = last;
  e.leaves_size = c.size - last;
  e.trade_id = last != 0 ? 77 : 0;
  e.times.sent_ns = 5;
  e.times.recv_ns = 10;
  return e;
}

std::vector<ExecEvent> Drain(SpscRing<ExecEvent>& r) {
  std::vector<ExecEvent> out;
  ExecEvent e;
  while (r.try_pop(e)) out.push_back(e);
  return out;
}

struct Rig {
  explicit Rig(const std::string& dir, size_t exec_capacity = 256)
      : journal(*Journal::Open(
            {.dir = dir, .segment_bytes = 1 << 20, .fsync = FsyncPolicy::kNever}, 1,
            [](const JournalRecord&) {}, nullptr)),
        gw(journal.get()),
        cmds(64),
        to_risk(exec_capacity),
        to_signal(exec_capacity),
        oms(kOpts),
        stage(oms, journal.get(), gw, cmds, to_risk, to_signal, nullptr, {.max_per_poll = 4}) {}
  std::unique_ptr<Journal> journal;
  FakeGateway gw;
  SpscRing<OrderCmd> cmds;
  SpscRing<ExecEvent> to_risk;
  SpscRing<ExecEvent> to_signal;
  OrderManager oms;
  OrderStage stage;
};

TEST(OrderStage, JournalsBeforeSendingAppliesVenueEventsAndFansThemOut) {
  TempDir dir;
  Rig r(dir.path());
  const OrderCmd c = New(11, 100, 10);
  ASSERT_TRUE(r.cmds.try_push(c));
  const uint64_t seq0 = r.journal->next_sequence();
  EXPECT_GT(r.stage.Poll(), 0);
  ASSERT_EQ(r.gw.sent.size(), 1u);
  EXPECT_EQ(r.gw.journal_seq_at_send[0], seq0 + 1);  // the command was journaled first
  EXPECT_GT(r.gw.sent[0].times.sent_ns, 0);
  EXPECT_EQ(r.stage.counters().sent, 1u);
  EXPECT_EQ(r.stage.latency(LatencyStage::kDecode).count(), 1u);
  EXPECT_EQ(r.stage.latency(LatencyStage::kSignal).count(), 1u);
  EXPECT_EQ(r.stage.latency(LatencyStage::kTickToOrder).count(), 1u);

  r.gw.to_emit = {Ev(ExecType::kAck, c), Ev(ExecType::kFill, c, 4)};
  EXPECT_EQ(r.stage.Poll(), 2);
  for (SpscRing<ExecEvent>* ring : {&r.to_risk, &r.to_signal}) {
    const std::vector<ExecEvent> got = Drain(*ring);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].type, ExecType::kAck);
    EXPECT_EQ(got[1].type, ExecType::kFill);
  }
  EXPECT_EQ(r.oms.Find(11)->cum_size, 4);
  EXPECT_EQ(r.oms.position(0).qty, 4);
  EXPECT_EQ(r.stage.latency(LatencyStage::kAck).count(), 1u);
  EXPECT_EQ(r.journal->next_sequence(), seq0 + 3);  // command, ack, fill

  // What the journal holds rebuilds the same order state.
  ASSERT_TRUE(r.journal->Close().ok());
  OrderManager rebuilt(kOpts);
  RecoveryReport rep;
  auto j = OpenAndRecover({.dir = dir.path(), .segment_bytes = 1 << 20}, 2, &rebuilt, &rep);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(rep.records, 3u);
  ASSERT_NE(rebuilt.Find(11), nullptr);
  EXPECT_EQ(rebuilt.Find(11)->cum_size, 4);
  EXPECT_EQ(rebuilt.position(0).qty, 4);
}

TEST(OrderStage, UnsendableAndRefusedCommandsAreAnsweredNotSent) {
  TempDir dir;
  Rig r(dir.path());
  // Gateway down: a synthesized reject, nothing sent.
  r.gw.status = SendStatus::kNotConnected;
  ASSERT_TRUE(r.cmds.try_push(New(21, 100, 10)));
  (void)r.stage.Poll();
  EXPECT_TRUE(r.gw.sent.empty());
  std::vector<ExecEvent> risk = Drain(r.to_risk);
  ASSERT_EQ(risk.size(), 1u);
  EXPECT_EQ(risk[0].type, ExecType::kReject);
  EXPECT_EQ(risk[0].client_order_id, 21u);
  EXPECT_EQ(static_cast<VenueReject>(risk[0].reject_code), VenueReject::kVenueUnavailable);
  EXPECT_EQ(Drain(r.to_signal).size(), 1u);
  EXPECT_EQ(r.oms.Find(21)->state, OrderState::kRejected);

  // Gateway back; a reused live id is refused by the order manager before the venue.
  r.gw.status = SendStatus::kSent;
  ASSERT_TRUE(r.cmds.try_push(New(22, 100, 10)));
  ASSERT_TRUE(r.cmds.try_push(New(22, 101, 10)));
  (void)r.stage.Poll();
  ASSERT_EQ(r.gw.sent.size(), 1u);
  risk = Drain(r.to_risk);
  ASSERT_EQ(risk.size(), 1u);
  EXPECT_EQ(static_cast<VenueReject>(risk[0].reject_code), VenueReject::kDuplicateClientId);
  EXPECT_EQ(r.oms.Find(22)->price, 100);  // the live order is untouched
  // Regression (issue 6): the refusal named the live order's id and was applied to it, which
  // rejected the live order (and freed risk's exposure for it). It is answered, not applied.
  EXPECT_EQ(r.oms.Find(22)->state, OrderState::kPendingNew);

  // A cancel of an unknown order: a cancel reject naming that order.
  OrderCmd cancel;
  cancel.type = CmdType::kCancel;
  cancel.client_order_id = 23;
  cancel.orig_client_order_id = 999;
  ASSERT_TRUE(r.cmds.try_push(cancel));
  (void)r.stage.Poll();
  risk = Drain(r.to_risk);
  ASSERT_EQ(risk.size(), 1u);
  EXPECT_EQ(risk[0].type, ExecType::kCancelReject);
  EXPECT_EQ(risk[0].client_order_id, 999u);
  EXPECT_EQ(r.stage.counters().not_sent, 3u);
}

// The venue's id reaches the journal with the order, and recovery rebuilds it: a recovered
// order can be canceled by it.
TEST(OrderStage, VenueOrderIdsAreJournaledAndRecovered) {
  TempDir dir;
  Rig r(dir.path());
  const OrderCmd c = New(31, 100, 10);
  ASSERT_TRUE(r.cmds.try_push(c));
  (void)r.stage.Poll();
  r.gw.ids_to_emit = {{31, "0d1c5a8e-2b1e-4d9b-8f3c-6a7b8c9d0e1f"}, {999, "not-ours"}};
  r.gw.to_emit = {Ev(ExecType::kAck, c)};
  (void)r.stage.Poll();
  EXPECT_EQ(r.oms.Find(31)->venue_order_id(), "0d1c5a8e-2b1e-4d9b-8f3c-6a7b8c9d0e1f");
  EXPECT_EQ(r.stage.counters().venue_order_ids, 1u);
  ASSERT_TRUE(r.journal->Close().ok());
  OrderManager rebuilt(kOpts);
  RecoveryReport rep;
  auto j = OpenAndRecover({.dir = dir.path(), .segment_bytes = 1 << 20}, 2, &rebuilt, &rep);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(rep.records, 4u);  // command, two ids (one for an order we do not know), ack
  ASSERT_NE(rebuilt.Find(31), nullptr);
  EXPECT_EQ(rebuilt.Find(31)->venue_order_id(), "0d1c5a8e-2b1e-4d9b-8f3c-6a7b8c9d0e1f");
  EXPECT_EQ(rebuilt.Find(31)->state, OrderState::kAcked);
}

// Regression (issue 6, item 1): a create that timed out was turned into a reject, freeing risk's
// exposure while the venue held the order. In doubt, it stays live everywhere until the venue says.
TEST(OrderStage, CreateInDoubtStaysLiveAndTheVenueDecides) {
  TempDir dir;
  Rig r(dir.path());
  const OrderCmd c = New(41, 100, 10);
  ASSERT_TRUE(r.cmds.try_push(c));
  (void)r.stage.Poll();
  ExecEvent doubt = Ev(ExecType::kInDoubt, c);
  doubt.request = CmdType::kNew;
  doubt.reject_code = static_cast<uint16_t>(VenueReject::kTimeout);
  r.gw.to_emit = {doubt};
  (void)r.stage.Poll();
  EXPECT_EQ(r.oms.Find(41)->state, OrderState::kInDoubt);
  EXPECT_EQ(r.stage.counters().in_doubt, 1u);
  EXPECT_EQ(r.stage.counters().rejects, 0u);
  std::vector<ExecEvent> risk = Drain(r.to_risk);
  ASSERT_EQ(risk.size(), 1u);
  EXPECT_EQ(risk[0].type, ExecType::kInDoubt);
  EXPECT_EQ(Drain(r.to_signal).size(), 1u);
  // The venue had it: a fill settles it.
  r.gw.to_emit = {Ev(ExecType::kFill, c, 10)};
  (void)r.stage.Poll();
  EXPECT_EQ(r.oms.Find(41)->state, OrderState::kFilled);
  EXPECT_EQ(r.oms.position(0).qty, 10);
  EXPECT_EQ(r.stage.counters().exec_anomalies, 0u);
  ASSERT_TRUE(r.journal->Close().ok());
  OrderManager rebuilt(kOpts);
  RecoveryReport rep;
  auto j = OpenAndRecover({.dir = dir.path(), .segment_bytes = 1 << 20}, 2, &rebuilt, &rep);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(rebuilt.Find(41)->state, OrderState::kFilled);
  EXPECT_EQ(rebuilt.position(0).qty, 10);
}

// More than ten times the order table's capacity through the stage, the journal behind it:
// nothing is refused for a full table, and recovery rebuilds the position from the journal
// with a table that holds only what recycling left.
TEST(OrderStage, LongRunRecyclesFinishedOrdersAndRecoversFromTheJournal) {
  TempDir dir;
  Rig r(dir.path());
  const size_t total = 12 * kOpts.max_orders;
  int64_t bought = 0;
  for (uint64_t i = 0; i < total; ++i) {
    const OrderCmd c = New(100'000 + i, 100, 10);
    ASSERT_TRUE(r.cmds.try_push(c));
    (void)r.stage.Poll();
    r.gw.to_emit = {Ev(ExecType::kAck, c)};
    if (i % 4 == 0) {
      ExecEvent f = Ev(ExecType::kFill, c, 10);
      f.trade_id = 5'000'000 + i;
      r.gw.to_emit.push_back(f);
      bought += 10;
    } else {
      ExecEvent x = Ev(ExecType::kCanceled, c);
      x.leaves_size = 0;
      r.gw.to_emit.push_back(x);
    }
    (void)r.stage.Poll();
    (void)Drain(r.to_risk);
    (void)Drain(r.to_signal);
  }
  EXPECT_EQ(r.gw.sent.size(), total);
  EXPECT_EQ(r.gw.forgotten, total);  // the gateway's table is told of every finished order
  EXPECT_EQ(r.stage.counters().oms_refused, 0u);
  EXPECT_EQ(r.stage.counters().exec_anomalies, 0u);
  EXPECT_EQ(r.oms.position(0).qty, bought);
  EXPECT_LE(r.oms.size(), r.oms.max_terminal());
  EXPECT_GE(r.oms.recycled(), total - r.oms.max_terminal());
  ASSERT_TRUE(r.journal->Close().ok());
  OrderManager rebuilt(kOpts);
  RecoveryReport rep;
  auto j = OpenAndRecover({.dir = dir.path(), .segment_bytes = 1 << 20}, 2, &rebuilt, &rep);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(rebuilt.position(0).qty, bought);
  EXPECT_EQ(rebuilt.size(), r.oms.size());
  EXPECT_EQ(rebuilt.result_count(OmsResult::kTableFull), 0u);
}

// Answers a settle pass from a script: the orders it was given are recorded, `fills` are emitted
// for them (cumulative sizes as the venue reports them).
class ScriptedReconciler final : public VenueReconciler {
 public:
  absl::Status Reconcile(const OrderManager& oms, ExecSink& sink) override {
    std::vector<uint64_t> seen;
    oms.ForEachOrder([&](const Order& o) { seen.push_back(o.client_order_id); });
    {
      std::lock_guard<std::mutex> lock(mu);
      given.push_back(seen);
    }
    if (calls.fetch_add(1) < fail_first) return absl::UnavailableError("venue down");
    for (const ExecEvent& e : fills) sink.OnExec(e);
    sink.OnVenueOrderId(51, "venue-51");
    return absl::OkStatus();
  }
  std::vector<ExecEvent> fills;
  int fail_first = 0;
  std::atomic<int> calls{0};
  std::mutex mu;
  std::vector<std::vector<uint64_t>> given;
};

// Issue 6, item 4: a private-stream outage opens risk's breaker (kExecStreamLost) and holds it
// until the stream is back and a settle pass has brought in what happened meanwhile, counted
// once even where the stream delivered part of it too.
TEST(OrderStage, ExecStreamOutageIsSettledBeforeItCountsAsRestored) {
  TempDir dir;
  Rig r(dir.path());
  ScriptedReconciler rec;
  rec.fail_first = 1;  // the first pass cannot reach the venue: retried a second later
  SettleWorker settle(rec, {.max_instruments = kOpts.max_instruments});
  settle.Start();
  r.stage.SetSettleWorker(&settle);
  const OrderCmd c = New(51, 100, 10);
  ASSERT_TRUE(r.cmds.try_push(c));
  (void)r.stage.Poll();
  r.gw.to_emit = {Ev(ExecType::kAck, c)};
  (void)r.stage.Poll();
  (void)Drain(r.to_risk);
  (void)Drain(r.to_signal);

  r.gw.sessions_to_emit = {SessionEvent::kExecStreamLost};
  (void)r.stage.Poll();
  std::vector<ExecEvent> risk = Drain(r.to_risk);
  ASSERT_EQ(risk.size(), 1u);
  EXPECT_EQ(risk[0].type, ExecType::kSession);
  EXPECT_EQ(static_cast<SessionEvent>(risk[0].reject_code), SessionEvent::kExecStreamLost);
  EXPECT_TRUE(r.stage.exec_stream_lost());

  // Meanwhile the venue filled all 10; the stream, once back, delivers the first 4 of them.
  ExecEvent venue_fill = Ev(ExecType::kFill, c, 10);
  venue_fill.trade_id = 901;
  rec.fills = {venue_fill};
  ExecEvent stream_fill = Ev(ExecType::kFill, c, 4);
  stream_fill.trade_id = 900;
  r.gw.sessions_to_emit = {SessionEvent::kExecStreamRestored};
  r.gw.to_emit = {stream_fill};
  bool restored = false;
  for (int i = 0; i < 5000 && !restored; ++i) {
    (void)r.stage.Poll();
    for (const ExecEvent& e : Drain(r.to_risk)) {
      if (e.type == ExecType::kSession &&
          static_cast<SessionEvent>(e.reject_code) == SessionEvent::kExecStreamRestored) {
        restored = true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(restored);
  EXPECT_FALSE(r.stage.exec_stream_lost());
  EXPECT_EQ(rec.calls.load(), 2);  // the failed pass, then the one that settled it
  EXPECT_EQ(r.stage.counters().settle_failures, 1u);
  EXPECT_EQ(r.stage.counters().settle_passes, 1u);
  EXPECT_EQ(r.stage.counters().settle_fills_capped, 1u);
  EXPECT_EQ(r.oms.Find(51)->cum_size, 10);  // 4 from the stream + the 6 beyond them
  EXPECT_EQ(r.oms.Find(51)->state, OrderState::kFilled);
  EXPECT_EQ(r.oms.position(0).qty, 10);
  EXPECT_EQ(r.oms.Find(51)->venue_order_id(), "venue-51");
  {
    std::lock_guard<std::mutex> lock(rec.mu);
    ASSERT_FALSE(rec.given.empty());
    EXPECT_EQ(rec.given.back(), std::vector<uint64_t>{51});  // the open orders, nothing else
  }
  settle.Stop();
  // The journal holds what was applied: recovery agrees.
  ASSERT_TRUE(r.journal->Close().ok());
  OrderManager rebuilt(kOpts);
  RecoveryReport rep;
  auto j = OpenAndRecover({.dir = dir.path(), .segment_bytes = 1 << 20}, 2, &rebuilt, &rep);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(rebuilt.position(0).qty, 10);
  EXPECT_EQ(rebuilt.Find(51)->venue_order_id(), "venue-51");
}

// Answers cancels from a script: the first in doubt (no definite answer), the next canceled.
class CancelScriptGateway final : public OrderGateway {
 public:
  SendStatus Send(const OrderCmd& cmd, int64_t) noexcept override {
    sent.push_back(cmd);
    return SendStatus::kSent;
  }
  int Poll(ExecSink& sink) noexcept override {
    int n = 0;
    for (; answered < sent.size(); ++answered, ++n) {
      ExecEvent e;
      e.client_order_id = sent[answered].orig_client_order_id;
      e.request = CmdType::kCancel;
      e.type = answered == 0 ? ExecType::kInDoubt : ExecType::kCanceled;
      sink.OnExec(e);
    }
    return n;
  }
  bool TrackRecovered(const Order& o) noexcept override {
    tracked.push_back(o.client_order_id);
    return true;
  }
  bool ready() const noexcept override { return true; }
  std::string_view name() const noexcept override { return "script"; }
  std::vector<OrderCmd> sent;
  std::vector<uint64_t> tracked;
  size_t answered = 0;
};

// Regression (issue 6 campaign, finding 2): a recovered order the dead process had already
// sent a cancel for (pending cancel in the journal) got its new cancel journaled but not sent,
// and the start failed after 10 s with the order still working at the venue. And a cancel
// without a definite answer is sent again.
TEST(CancelRecoveredOrders, PendingCancelIsSentAgainAndAnInDoubtCancelIsRetried) {
  TempDir dir;
  OrderManager oms(kOpts);
  std::unique_ptr<Journal> journal = *Journal::Open(
      {.dir = dir.path(), .segment_bytes = 1 << 20, .fsync = FsyncPolicy::kNever}, 1,
      [](const JournalRecord&) {}, nullptr);
  const OrderCmd c = New(61, 100, 10);
  ASSERT_EQ(oms.OnCmd(c), OmsResult::kApplied);
  ASSERT_EQ(oms.OnExec(Ev(ExecType::kAck, c)), OmsResult::kApplied);
  OrderCmd first_cancel;
  first_cancel.type = CmdType::kCancel;
  first_cancel.client_order_id = 62;
  first_cancel.orig_client_order_id = 61;
  ASSERT_EQ(oms.OnCmd(first_cancel), OmsResult::kApplied);  // the dead run's cancel
  ASSERT_EQ(oms.Find(61)->state, OrderState::kPendingCancel);
  CancelScriptGateway gw;
  ClientOrderIdGenerator ids(0, oms.max_client_order_id());
  absl::StatusOr<RecoveredCancels> r =
      CancelRecoveredOrders(oms, journal.get(), gw, ids, absl::Seconds(5));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->open, 1u);
  EXPECT_EQ(gw.tracked, std::vector<uint64_t>{61});
  ASSERT_EQ(gw.sent.size(), 2u);  // the first in doubt, then again (a second later)
  EXPECT_EQ(gw.sent[0].orig_client_order_id, 61u);
  EXPECT_EQ(gw.sent[1].orig_client_order_id, 61u);
  EXPECT_NE(gw.sent[0].client_order_id, gw.sent[1].client_order_id);
  EXPECT_GT(gw.sent[0].client_order_id, 62u);
  EXPECT_EQ(oms.Find(61)->state, OrderState::kCanceled);
  EXPECT_EQ(r->canceled, 2u);
}

// Exec rings of 8 and a gateway that answers 40 events in one poll: none is lost, the order is
// kept on both rings, and the stage stops taking commands while it cannot answer them.
TEST(OrderStage, BackPressureNeverDropsVenueEvents) {
  TempDir dir;
  Rig r(dir.path(), /*exec_capacity=*/8);
  std::vector<OrderCmd> orders;
  for (uint64_t i = 0; i < 40; ++i) {
    orders.push_back(New(100 + i, 100, 10));
    ASSERT_TRUE(r.cmds.try_push(orders.back()));
  }
  std::vector<ExecEvent> risk, signal;
  bool emitted = false;
  for (int round = 0; round < 200 && (risk.size() < 40 || signal.size() < 40); ++round) {
    (void)r.stage.Poll();
    if (r.gw.sent.size() == 40 && !emitted) {
      for (const OrderCmd& c : orders) r.gw.to_emit.push_back(Ev(ExecType::kAck, c));
      emitted = true;
    }
    // The consumers drain a little each round.
    ExecEvent e;
    for (int k = 0; k < 3 && r.to_risk.try_pop(e); ++k) risk.push_back(e);
    for (int k = 0; k < 2 && r.to_signal.try_pop(e); ++k) signal.push_back(e);
  }
  ASSERT_EQ(r.gw.sent.size(), 40u);
  ASSERT_EQ(risk.size(), 40u);
  ASSERT_EQ(signal.size(), 40u);
  for (size_t i = 0; i < 40; ++i) {
    EXPECT_EQ(risk[i].client_order_id, 100 + i);
    EXPECT_EQ(signal[i].client_order_id, 100 + i);
  }
  EXPECT_EQ(r.stage.counters().exec_drops, 0u);
  EXPECT_EQ(r.stage.counters().acks, 40u);
  EXPECT_EQ(r.stage.counters().exec_anomalies, 0u);
  EXPECT_GE(r.stage.counters().exec_backpressure, 1u);
}

}  // namespace
}  // namespace nzeza::oms
