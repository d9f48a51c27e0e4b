// Fuzzes the dYdX indexer decoder: the input is a sequence of messages split on '\n', fed to one
// decoder (one connection) whose events are applied to an OrderBook per instrument.
// Invariants checked (abort on violation):
// - every event the decoder emits is accepted by OrderBook::Apply (a snapshot is never crossed,
//   incremental changes only reach live books, levels have price > 0 and size >= 0);
// - a message that fails emits no level or trade event (all or nothing);
// - with the uncross remedy on and a shadow deep enough (never truncated here), no book is ever
//   left crossed after a message;
// - every book passes OrderBook::Validate() after every message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "nzeza/book/order_book.h"
#include "nzeza/feeds/common/md_sink.h"
#include "nzeza/feeds/dydx/decoder.h"

namespace {

using nzeza::MdEvent;

class BookSink final : public nzeza::MdSink {
 public:
  explicit BookSink(size_t n) {
    for (size_t i = 0; i < n; ++i) books.emplace_back(static_cast<nzeza::InstrumentId>(i), 4096);
  }
  void Push(const MdEvent& ev) noexcept override {
    if (ev.type == nzeza::MdType::kLevels || ev.type == nzeza::MdType::kTrade) ++data_events;
    if (ev.instrument >= books.size()) std::abort();
    if (!books[ev.instrument].Apply(ev).ok()) std::abort();
  }
  std::vector<nzeza::OrderBook> books;
  uint64_t data_events = 0;
};

struct Harness {
  Harness() {
    std::vector<nzeza::FeedInstrument> v = {
        {"BTC-USD", 0, 2, 4}, {"ETH-USD", 1, 1, 3}, {"X-USD", 2, 0, 0}};
    decoder = nzeza::MakeDydxDecoder(
        *nzeza::SymbolTable::Create(v),
        {.max_levels = 512, .shadow_depth = 4096, .max_trades = 64, .max_message_bytes = 1 << 16});
  }
  std::unique_ptr<nzeza::DydxDecoder> decoder;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness h;  // one parser for the process, as in production; state reset per input
  BookSink sink(3);
  nzeza::DydxDecoder& d = *h.decoder;
  d.OnClose(0, sink);
  d.OnOpen(0, sink);
  nzeza::FeedAction a;
  while (d.PopAction(&a)) {
  }
  const char* p = reinterpret_cast<const char*>(data);
  const char* end = p + size;
  std::string buf;
  while (p <= end) {
    const char* nl = p;
    while (nl < end && *nl != '\n') ++nl;
    buf.assign(p, static_cast<size_t>(nl - p));
    const size_t n = buf.size();
    buf.append(nzeza::kFeedPadding, '\0');
    const uint64_t before = sink.data_events;
    const nzeza::DecodeError e = d.OnMessage(buf.data(), n, 1, sink);
    if (e != nzeza::DecodeError::kOk && sink.data_events != before) std::abort();
    const bool complete = d.dydx_counters().uncross_incomplete == 0;
    for (const nzeza::OrderBook& b : sink.books) {
      const nzeza::BookInvariant inv = b.Validate();
      if (inv != nzeza::BookInvariant::kOk && inv != nzeza::BookInvariant::kCrossed) std::abort();
      if (complete && b.crossed()) std::abort();
    }
    while (d.PopAction(&a)) {
    }
    p = nl + 1;
  }
  return 0;
}
