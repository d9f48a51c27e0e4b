#include <nzeza/oms/recovery.h>

#include <cstring>

namespace nzeza::oms {

OmsResult ReplayRecord(const JournalRecord& record, OrderManager* oms) noexcept {
  switch (record.type) {
    case RecordType::kOrderCmd: {
      if (record.size != sizeof(OrderCmd)) return OmsResult::kInvalid;
      OrderCmd cmd;
      std::memcpy(&cmd, record.payload, sizeof(cmd));
      return oms->OnCmd(cmd);
    }
    case RecordType::kExecEvent: {
      if (record.size != sizeof(ExecEvent)) return OmsResult::kInvalid;
      ExecEvent ev;
      std::memcpy(&ev, record.payload, sizeof(ev));
      return oms->OnExec(ev);
    }
    case RecordType::kVenueOrderId: {
      if (record.size != sizeof(VenueOrderIdRecord)) return OmsResult::kInvalid;
      VenueOrderIdRecord r;
      std::memcpy(&r, record.payload, sizeof(r));
      if (r.length > kMaxVenueOrderIdBytes) return OmsResult::kInvalid;
      return oms->SetVenueOrderId(r.client_order_id, std::string_view(r.id, r.length));
    }
    case RecordType::kClockAnchor:
      return record.size == sizeof(ClockAnchorRecord) ? OmsResult::kApplied : OmsResult::kInvalid;
  }
  return OmsResult::kInvalid;
}

DayPnlReplay::DayPnlReplay(int64_t day_start_unix_ns, OrderManager::Options options)
    : day_start_(day_start_unix_ns), oms_(options) {
  report_.instruments.resize(oms_.max_instruments());
}

void DayPnlReplay::Visit(const JournalRecord& record) noexcept {
  if (record.type == RecordType::kClockAnchor) {
    if (record.size != sizeof(ClockAnchorRecord)) return;
    ClockAnchorRecord a;
    std::memcpy(&a, record.payload, sizeof(a));
    anchored_ = true;
    unix_minus_mono_ = a.unix_ns - a.monotonic_ns;
    ++report_.anchors;
    return;
  }
  if (record.type != RecordType::kExecEvent || record.size != sizeof(ExecEvent)) {
    static_cast<void>(ReplayRecord(record, &oms_));
    return;
  }
  ExecEvent ev;
  std::memcpy(&ev, record.payload, sizeof(ev));
  if (ev.type != ExecType::kFill) {
    static_cast<void>(oms_.OnExec(ev));
    return;
  }
  // The order manager applies a fill to its order's instrument (the event's for an order it no
  // longer holds); compare that position before and after to see what the fill did.
  const Order* o = oms_.Find(ev.client_order_id);
  const InstrumentId id = o != nullptr ? o->instrument : ev.instrument;
  const Position before = oms_.position(id);
  static_cast<void>(oms_.OnExec(ev));
  const Position& after = oms_.position(id);
  if (after.fills == before.fills || id >= report_.instruments.size()) return;  // not applied
  bool today;
  if (anchored_) {
    today = record.timestamp_ns + unix_minus_mono_ >= day_start_;
  } else if (ev.venue_ns != 0) {
    today = ev.venue_ns >= day_start_;
  } else {
    today = true;
    ++report_.fills_undated;
  }
  if (!today) {
    ++report_.fills_earlier;
    return;
  }
  DayPnl& d = report_.instruments[id];
  d.realized += after.realized - before.realized;
  d.fees += after.fees - before.fees;
  ++d.fills;
  ++report_.fills_today;
}

absl::StatusOr<DayPnlReport> ReplayDayPnl(const std::string& dir, int64_t day_start_unix_ns,
                                          OrderManager::Options options) {
  // Large (the order table): on the heap.
  auto day = std::make_unique<DayPnlReplay>(day_start_unix_ns, options);
  absl::StatusOr<RecoveryReport> read =
      ReadJournal(dir, [&day](const JournalRecord& r) { day->Visit(r); });
  if (!read.ok()) return read.status();
  return day->report();
}

absl::StatusOr<std::unique_ptr<Journal>> OpenAndRecover(const JournalOptions& options,
                                                        int64_t now_unix_ns, OrderManager* oms,
                                                        RecoveryReport* report) {
  return Journal::Open(
      options, now_unix_ns,
      [oms](const JournalRecord& r) { static_cast<void>(ReplayRecord(r, oms)); }, report);
}

}  // namespace nzeza::oms
