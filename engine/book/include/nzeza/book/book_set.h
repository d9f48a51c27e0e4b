// BookSet: the signal stage's books, one OrderBook per configured instrument, allocated at start.
//
//   const nzeza::BookConfig configs[] = {{/*instrument=*/0, /*depth=*/50}, {3, 20}};
//   absl::StatusOr<nzeza::BookSet> books = nzeza::BookSet::Create(configs);  // control plane
//   if (!books.ok()) return books.status();
//   nzeza::ApplyResult r = books->Apply(event);   // hot path: routes by event.instrument
//   if (const nzeza::OrderBook* b = books->Find(event.instrument)) { ... }
//
// Instrument ids are dense indexes into the engine's instrument table, so lookup is one array
// index (id -> slot) and never hashes.
//
// Thread: owned by one thread (the signal stage's); not synchronised.
// Allocates: only in Create (and on copy); Apply and Find never allocate.
#ifndef NZEZA_BOOK_BOOK_SET_H_
#define NZEZA_BOOK_BOOK_SET_H_

#include <cstdint>
#include <span>
#include <vector>

#include <absl/status/statusor.h>
#include <nzeza/book/order_book.h>
#include <nzeza/core/events.h>

namespace nzeza {

// Instrument ids a BookSet accepts: [0, kMaxBookInstrumentId].
inline constexpr InstrumentId kMaxBookInstrumentId = (1u << 20) - 1;

// One book to create: which instrument, how many levels per side.
struct BookConfig {
  InstrumentId instrument = 0;
  uint32_t depth = 0;  // in [1, kMaxBookDepth]
};

class BookSet {
 public:
  // One empty book (kEmpty) per config.
  // Errors (kInvalidArgument, naming the entry): depth outside [1, kMaxBookDepth], instrument id
  // above kMaxBookInstrumentId, an instrument listed twice.
  // Allocates: the books (2 x depth levels each) and an id table of (largest id + 1) entries.
  static absl::StatusOr<BookSet> Create(std::span<const BookConfig> configs);

  // Applies ev to the book of ev.instrument (see OrderBook::Apply for the rules and errors).
  // Errors: kUnknownInstrument (no such book; counted in unknown_instrument()), or the book's.
  // Complexity: O(1) lookup plus the book's Apply. Allocates: never.
  ApplyResult Apply(const MdEvent& ev) noexcept {
    OrderBook* book = Find(ev.instrument);
    if (book == nullptr) {
      ++unknown_instrument_;
      return ApplyResult{BookError::kUnknownInstrument, 0};
    }
    return book->Apply(ev);
  }

  // The book of `instrument`, or nullptr when none is configured. O(1).
  OrderBook* Find(InstrumentId instrument) noexcept {
    if (instrument >= slot_.size() || slot_[instrument] == kNoSlot) return nullptr;
    return &books_[slot_[instrument]];
  }
  const OrderBook* Find(InstrumentId instrument) const noexcept {
    return const_cast<BookSet*>(this)->Find(instrument);
  }

  // All books, in config order.
  std::span<OrderBook> books() noexcept { return books_; }
  std::span<const OrderBook> books() const noexcept { return books_; }
  size_t size() const noexcept { return books_.size(); }

  // Events refused with kUnknownInstrument, ever.
  uint64_t unknown_instrument() const noexcept { return unknown_instrument_; }

 private:
  static constexpr uint32_t kNoSlot = UINT32_MAX;
  BookSet() = default;

  std::vector<OrderBook> books_;
  std::vector<uint32_t> slot_;  // instrument id -> index into books_, or kNoSlot
  uint64_t unknown_instrument_ = 0;
};

}  // namespace nzeza

#endif  // NZEZA_BOOK_BOOK_SET_H_
