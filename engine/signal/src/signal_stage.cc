#include "nzeza/signal/signal_stage.h"

#include "absl/strings/str_format.h"

namespace nzeza {

SignalStage::SignalStage(BookSet& books, SpscRing<MdEvent>& md_in, SpscRing<ExecEvent>& exec_in,
                         SpscRing<OrderIntent>& intents_out, SpscRing<MdEvent>* risk_md_out,
                         const TscClock* clock, SignalStageOptions options)
    : books_(books),
      md_in_(md_in),
      exec_in_(exec_in),
      intents_out_(intents_out),
      risk_md_out_(risk_md_out),
      clock_(clock),
      options_(options) {}

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

int SignalStage::Poll() noexcept {
  size_t work = exec_in_.drain([this](ExecEvent& e) { OnExec(e); }, options_.max_exec_per_poll);
  if (refusals_in_ != nullptr) {
    work += refusals_in_->drain([this](ExecEvent& e) { OnExec(e); }, options_.max_exec_per_poll);
  }
  work += md_in_.drain([this](MdEvent& e) { OnMd(e); }, options_.max_md_per_poll);
  return static_cast<int>(work);
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

void SignalStage::ToRisk(const MdEvent& ev) noexcept {
  if (risk_md_out_ == nullptr) return;
  if (!risk_md_out_->try_push(ev)) ++counters_.risk_md_overruns;
}

void SignalStage::OnMd(const MdEvent& ev) noexcept {
  ++counters_.md_events;
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
  }
  if (book->crossed() != msg_was_crossed_) {
    ApplyResult transition;
    transition.changes = book->crossed() ? kBookBecameCrossed : kBookBecameUncrossed;
    MdEvent cross;
    if (MakeCrossStatusEvent(*book, ev, transition, &cross)) ToRisk(cross);
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
    if (intents_out_.try_push(out)) {
      ++counters_.intents;
    } else {
      ++counters_.intent_overruns;
    }
  }
  counters_.strategy_drops += sink_.dropped();
  sink_.Clear();
}

}  // namespace nzeza
