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
  }
  return OmsResult::kInvalid;
}

absl::StatusOr<std::unique_ptr<Journal>> OpenAndRecover(const JournalOptions& options,
                                                        int64_t now_unix_ns, OrderManager* oms,
                                                        RecoveryReport* report) {
  return Journal::Open(
      options, now_unix_ns,
      [oms](const JournalRecord& r) { static_cast<void>(ReplayRecord(r, oms)); }, report);
}

}  // namespace nzeza::oms
