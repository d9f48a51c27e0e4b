#include "nzeza/signal/signal_stage.h"

#include "absl/strings/str_format.h"

namespace nzeza {
namespace {

constexpr InstrumentId kNoInstrument = 0xffffffffu;

size_t HoldCapacity(uint32_t requested) noexcept { return requested < 16 ? 16 : requested; }

}  // namespace

SignalStage::SignalStage(BookSet& books, SpscRing<MdEvent>& md_in, SpscRing<ExecEvent>& exec_in,
                         SpscRing<OrderIntent>& intents_out, SpscRing<MdEvent>* risk_md_out,
                         const TscClock* clock, SignalStageOptions options)
    : books_(books),
      md_in_(md_in),
      exec_in_(exec_in),
      intents_out_(intents_out),
      risk_md_out_(risk_md_out),
      clock_(clock),
      options_(options),
      risk_held_(HoldCapacity(options.risk_hold_capacity)),
      intents_held_(HoldCapacity(options.intent_hold_capacity)) {}

absl::Status SignalStage::AddStrategy(std::unique_ptr<Strategy> strategy, InstrumentId instrument) {
  if (books_.Find(instrument) == nullptr) {
    return absl::NotFoundError(absl::StrFormat(
        "strategy %s: no book is configured for instrument %d", strategy->name(), instrument));
  }
  if (by_instrument_.size() <= instrument) by_instrument_.resize(instrument + 1);
  by_instrument_[instrument].push_back(strategy.get());
  owned_.push_back(std::move(strategy));
  return absl::OkStatus();
}

absl::Status SignalStage::SeedPosition(InstrumentId instrument, int64_t qty) {
  if (instrument >= by_instrument_.size() || by_instrument_[instrument].empty()) {
    return absl::OkStatus();
  }
  const std::vector<Strategy*>& strategies = by_instrument_[instrument];
  if (strategies.size() > 1 && qty != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "instrument %d: %d strategies trade it and the recovered position (%d) is per "
        "instrument: it cannot be split between them",
        instrument, strategies.size(), qty));
  }
  for (Strategy* s : strategies) s->SeedPosition(qty);
  return absl::OkStatus();
}

int SignalStage::Poll() noexcept {
  size_t work = 0;
  if (risk_held_.size() != 0) work += DrainRiskHeld();
  if (intents_held_.size() != 0) work += DrainIntentsHeld();
  bool starved = false;
  auto drain = [&](SpscRing<ExecEvent>& ring, uint32_t max, auto&& apply) {
    for (uint32_t n = 0; n < max; ++n) {
      if (!InputRoom()) {
        starved = true;
        return;
      }
      auto* e = ring.front();
      if (e == nullptr) return;
      apply(*e);
      ring.pop();
      ++work;
    }
  };
  drain(exec_in_, options_.max_exec_per_poll, [this](const ExecEvent& e) { OnExec(e); });
  if (refusals_in_ != nullptr) {
    drain(*refusals_in_, options_.max_exec_per_poll, [this](const ExecEvent& e) { OnExec(e); });
  }
  for (uint32_t n = 0; n < options_.max_md_per_poll; ++n) {
    if (!InputRoom()) {
      starved = true;
      break;
    }
    const MdEvent* e = md_in_.front();
    if (e == nullptr) break;
    OnMd(*e);
    md_in_.pop();
    ++work;
  }
  if (starved) ++counters_.input_backpressure;
  if (overrun_owed_) PassOverrun();
  return static_cast<int>(work);
}

size_t SignalStage::DrainRiskHeld() noexcept {
  size_t n = 0;
  for (; risk_held_.size() != 0 && risk_md_out_->try_push(risk_held_.front()); ++n) {
    risk_held_.pop();
  }
  return n;
}

size_t SignalStage::DrainIntentsHeld() noexcept {
  size_t n = 0;
  for (; intents_held_.size() != 0 && intents_out_.try_push(intents_held_.front()); ++n) {
    intents_held_.pop();
    ++counters_.intents;
  }
  return n;
}

void SignalStage::ToRisk(const MdEvent& ev) noexcept {
  if (risk_md_out_ == nullptr) return;
  MdEvent out = ev;
  if (overrun_owed_) {
    out.flags |= kMdRingOverrun;
    overrun_owed_ = false;
    ++counters_.overruns_to_risk;
  }
  // In order: once something waits, later events wait behind it.
  if (risk_held_.size() == 0 && risk_md_out_->try_push(out)) return;
  ++counters_.risk_md_held;
  risk_held_.push(out);  // room: InputRoom() was checked before the input that caused this
}

void SignalStage::PassOverrun() noexcept {
  if (risk_md_out_ == nullptr) {
    overrun_owed_ = false;
    return;
  }
  if (risk_held_.size() != 0) {  // the newest waiting event carries it
    risk_held_.back().flags |= kMdRingOverrun;
    overrun_owed_ = false;
    ++counters_.overruns_to_risk;
    return;
  }
  // Nothing due: an empty levels event for no instrument (refreshes no staleness clock).
  MdEvent marker = MdEvent::Levels(Venue::kUnknown, kNoInstrument, 0);
  marker.flags = kMdMessageEnd;
  marker.times.signal_ns = Now();
  ToRisk(marker);
}

BookView SignalStage::View(const OrderBook& book, const MdEvent& ev) const noexcept {
  BookView v;
  v.instrument = book.instrument();
  if (const PriceLevel* b = book.best_bid()) {
    v.bid_price = b->price;
    v.bid_size = b->size;
  }
  if (const PriceLevel* a = book.best_ask()) {
    v.ask_price = a->price;
    v.ask_size = a->size;
  }
  uint32_t n = 0;
  for (const PriceLevel& l : book.bids().levels()) {
    if (n++ == options_.view_depth_levels) break;
    v.bid_depth_size += l.size;
  }
  n = 0;
  for (const PriceLevel& l : book.asks().levels()) {
    if (n++ == options_.view_depth_levels) break;
    v.ask_depth_size += l.size;
  }
  v.tradable = book.state() == BookState::kLive && !book.crossed();
  v.now_ns = ev.times.recv_ns != 0 ? ev.times.recv_ns : Now();
  v.times = ev.times;
  return v;
}

void SignalStage::OnMd(const MdEvent& ev) noexcept {
  ++counters_.md_events;
  if ((ev.flags & kMdRingOverrun) != 0) [[unlikely]] {
    ++counters_.feed_overruns;  // the feed dropped events before this one: risk must know
    overrun_owed_ = true;
  }
  // An event that does not continue the message in progress ends it.
  if (msg_open_ && (ev.type != MdType::kLevels || ev.instrument != msg_last_.instrument)) {
    EndMessage();
  }
  const OrderBook* book = books_.Find(ev.instrument);
  const bool was_crossed = book != nullptr && book->crossed();
  const ApplyResult r = books_.Apply(ev);
  if (!r.ok()) {
    ++counters_.book_refused;
    return;
  }
  const std::vector<Strategy*>* strategies =
      ev.instrument < by_instrument_.size() ? &by_instrument_[ev.instrument] : nullptr;

  switch (ev.type) {
    case MdType::kTrade:
      ToRisk(ev);
      if (strategies != nullptr) {
        for (Strategy* s : *strategies) s->OnTrade(ev, sink_);
      }
      break;
    case MdType::kStatus:
      ToRisk(ev);
      break;
    case MdType::kLevels:
      if (!msg_open_) {
        msg_open_ = true;
        msg_was_crossed_ = was_crossed;
        msg_changes_ = 0;
      }
      msg_changes_ |= r.changes;
      msg_last_ = ev;
      break;
    case MdType::kBbo:
      break;
  }

  const bool message_end = ev.type == MdType::kLevels && (ev.flags & kMdMessageEnd) != 0;
  if (message_end) EndMessage();
  if (strategies != nullptr && (message_end || r.Has(kBookStateChanged))) {
    const BookView view = View(*book, ev);
    for (Strategy* s : *strategies) {
      ++counters_.book_views;
      s->OnBook(view, sink_);
    }
  }
  Flush();
}

void SignalStage::EndMessage() noexcept {
  msg_open_ = false;
  const OrderBook* book = books_.Find(msg_last_.instrument);
  if (book == nullptr) return;
  const MdEvent& ev = msg_last_;
  bool told = false;
  if ((msg_changes_ & (kBookBestBidChanged | kBookBestAskChanged)) != 0) {
    MdBbo bbo;
    if (const PriceLevel* b = book->best_bid()) bbo = MdBbo{b->price, b->size, 0, 0};
    if (const PriceLevel* a = book->best_ask()) {
      bbo.ask_price = a->price;
      bbo.ask_size = a->size;
    }
    MdEvent out = MdEvent::Bbo(ev.venue, ev.instrument, bbo);
    out.venue_seq = ev.venue_seq;
    out.exchange_ns = ev.exchange_ns;
    out.times = ev.times;
    ToRisk(out);
    told = true;
  }
  if (book->crossed() != msg_was_crossed_) {
    ApplyResult transition;
    transition.changes = book->crossed() ? kBookBecameCrossed : kBookBecameUncrossed;
    MdEvent cross;
    if (MakeCrossStatusEvent(*book, ev, transition, &cross)) ToRisk(cross);
  }
  if (!told) {
    // Nothing risk reads changed, but the instrument's feed is alive: say so (staleness).
    MdEvent alive = MdEvent::Levels(ev.venue, ev.instrument, ev.venue_seq);
    alive.flags = kMdMessageEnd;
    alive.exchange_ns = ev.exchange_ns;
    alive.times = ev.times;
    ToRisk(alive);
  }
}

void SignalStage::OnExec(const ExecEvent& ev) noexcept {
  ++counters_.exec_events;
  if (ev.type == ExecType::kSession) return;  // the venue session's news is for risk's breaker
  if (ev.instrument < by_instrument_.size()) {
    for (Strategy* s : by_instrument_[ev.instrument]) s->OnExec(ev, sink_);
  }
  Flush();
}

void SignalStage::Flush() noexcept {
  if (sink_.intents().empty() && sink_.dropped() == 0) return;
  const int64_t now = Now();
  for (const OrderIntent& i : sink_.intents()) {
    OrderIntent out = i;
    out.times.signal_ns = now;
    // In order: once an intent waits, later ones wait behind it.
    if (intents_held_.size() == 0 &&
        PushWithBackpressure(intents_out_, out, options_.intent_spins)) {
      ++counters_.intents;
      continue;
    }
    // Held (never dropped), and the overrun goes to risk's breaker.
    ++counters_.intent_overruns;
    overrun_owed_ = true;
    intents_held_.push(out);  // room: InputRoom() was checked before the input that caused this
  }
  counters_.strategy_drops += sink_.dropped();
  sink_.Clear();
}

}  // namespace nzeza
