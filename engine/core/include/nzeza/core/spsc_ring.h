// SpscRing<T>: the bounded single-producer single-consumer queue between pipeline stages.
//
//   SpscRing<MdEvent> ring(4096);
//   // producer thread                      // consumer thread
//   if (!ring.try_push(ev)) { /* full */ }   while (MdEvent* e = ring.front()) { Use(*e);
//   ring.pop(); }
//                                            ring.drain([](MdEvent& e) { Use(e); }, 64);  // one
//                                            publish
//
// Design (after rigtorp/SPSCQueue and the LMAX Disruptor):
// - Capacity is a power of two; indices are monotonic 64-bit counters (they never wrap in practice:
//   2^64 pushes at 10^9/s is 584 years), the slot is `index & mask`. Full is `write - read ==
//   capacity`, empty is `write == read`, so no slot is sacrificed and there is no ABA.
// - The producer's block (published `tail_`, its private write position, its cached copy of the
//   consumer's `head_`) and the consumer's block (published `head_`, private read position, cached
//   `tail_`) each sit in their own 128-byte block: x86's adjacent-line prefetcher pairs 64-byte
//   lines, so 64-byte separation still false-shares. The slot array is its own 128-byte-aligned
//   allocation, padded to a 128-byte multiple.
// - Cached remote index: the producer re-reads the consumer's `head_` only when its cached copy
//   says the ring is full; the consumer re-reads `tail_` only when its cached copy says empty. In
//   steady state each side touches the other's cache line once per "lap", not once per item, which
//   is where most of the throughput over boost::lockfree::spsc_queue comes from.
// - Batching: `push_n`, `claim`+`publish` and `drain` move many items per index store, so the
//   other side sees one cache-line transfer per batch.
//
// Memory ordering:
// - Producer: constructs the element in slot `w`, then `tail_.store(w + 1, release)`. The release
//   orders the element's construction before the index becomes visible.
// - Consumer: `tail_.load(acquire)` pairs with that release, so every element below the loaded
//   tail is fully constructed when read. After reading (and destroying) elements it does
//   `head_.store(r + n, release)`.
// - Producer: `head_.load(acquire)` pairs with the consumer's release, so the consumer's reads of
//   a slot happen-before the producer's re-construction of that slot on the next lap.
// - Each side's own published index is written only by that side, so it reads its private copy
//   (no atomic read at all) and stores with release. No read-modify-write, no fence, no lock:
//   on x86 every operation here is a plain mov.
//
// Thread: exactly one producer thread calls the producer methods (try_push, try_emplace, push_n,
// claim, publish) and exactly one consumer thread calls the consumer methods (front, pop, try_pop,
// pop_n, drain). size()/empty() may be called from either side and are approximate.
// Allocates: once, in the constructor. Errors: the producer methods return false / a short count
// when full; the consumer methods return nullptr / false / 0 when empty. Nothing throws unless
// T's constructor does, and the push methods are noexcept when T's is.
#ifndef NZEZA_CORE_SPSC_RING_H_
#define NZEZA_CORE_SPSC_RING_H_

#include <atomic>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "nzeza/core/cpu.h"

namespace nzeza {

template <typename T>
class SpscRing {
  static_assert(std::is_nothrow_destructible_v<T>, "ring elements must not throw on destruction");

  // One slot: the element and the sequence number that says it is there. The consumer polls the
  // sequence in the slot it wants next, so a hand-off costs one cache-line transfer (the slot's)
  // instead of two (a shared tail index, then the slot).
  // Cells never straddle a cache line boundary: small cells are padded to a power of two that
  // divides 64, larger ones start on a line.
  static constexpr size_t kCellAlign =
      std::bit_ceil(sizeof(uint64_t) + sizeof(T)) < kCacheLineSize
          ? std::bit_ceil(sizeof(uint64_t) + sizeof(T))
          : (alignof(T) > kCacheLineSize ? alignof(T) : kCacheLineSize);
  struct alignas(kCellAlign) Cell {
    std::atomic<uint64_t> seq{0};  // w + 1 once the element written at position w is ready
    alignas(T) unsigned char storage[sizeof(T)];
  };

 public:
  using value_type = T;

  // Capacity `min_capacity` rounded up to a power of two (at least 2).
  // Allocates: capacity * sizeof(Cell) bytes, 128-byte aligned.
  explicit SpscRing(size_t min_capacity)
      : mask_(std::bit_ceil(min_capacity < 2 ? size_t{2} : min_capacity) - 1),
        cells_(Allocate(mask_ + 1)) {}

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  // Destroys the elements still queued. Both threads must be done with the ring.
  ~SpscRing() {
    if constexpr (!std::is_trivially_destructible_v<T>) {
      const uint64_t tail = tail_.load(std::memory_order_acquire);
      for (uint64_t i = head_.load(std::memory_order_acquire); i != tail; ++i) Value(i)->~T();
    }
    for (size_t i = 0; i <= mask_; ++i) cells_[i].~Cell();
    ::operator delete (static_cast<void*>(cells_), std::align_val_t{kFalseSharingRange});
  }

  size_t capacity() const noexcept { return mask_ + 1; }

  // ---- producer ----

  // Constructs an element in place. Returns false (constructing nothing) when full.
  template <typename... Args>
  [[nodiscard]] bool try_emplace(Args&&... args) noexcept(
      std::is_nothrow_constructible_v<T, Args&&...>) {
    const uint64_t w = write_;
    if (!HasRoom(w, 1)) [[unlikely]] {
      return false;
    }
    ::new (static_cast<void*>(Value(w))) T(std::forward<Args>(args)...);
    write_ = w + 1;
    PublishUpTo(w + 1);
    return true;
  }

  [[nodiscard]] bool try_push(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    return try_emplace(v);
  }
  [[nodiscard]] bool try_push(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) {
    return try_emplace(std::move(v));
  }

  // Copies up to `n` items. Returns how many were pushed (0..n).
  [[nodiscard]] size_t push_n(const T* items,
                              size_t n) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    const uint64_t w = write_;
    if (!HasRoom(w, n)) {
      const size_t room = capacity() - static_cast<size_t>(w - head_cache_);
      n = n < room ? n : room;
      if (n == 0) return 0;
    }
    for (size_t i = 0; i < n; ++i) ::new (static_cast<void*>(Value(w + i))) T(items[i]);
    write_ = w + n;
    PublishUpTo(w + n);
    return n;
  }

  // Zero-copy production for trivially copyable T: returns the next free slot for the producer to
  // fill, or nullptr when full. The slot holds stale bytes from an earlier lap: assign the whole
  // element (`*slot = MdEvent::Levels(...)`) before touching its fields. Claimed slots become
  // visible only at publish(). A try_push also publishes earlier claims.
  [[nodiscard]] T* claim() noexcept requires std::is_trivially_copyable_v<T> &&
      std::is_trivially_destructible_v<T> {
    const uint64_t w = write_;
    if (!HasRoom(w, 1)) [[unlikely]] {
      return nullptr;
    }
    write_ = w + 1;
    // An implicit-lifetime type: the cell's storage holds a T already (C++20, P0593).
    return Value(w);
  }

  // Makes every claimed slot visible to the consumer.
  void publish() noexcept { PublishUpTo(write_); }

  // Items claimed but not yet published.
  size_t unpublished() const noexcept { return static_cast<size_t>(write_ - published_); }

  // ---- consumer ----

  // The oldest element, or nullptr when empty. Stays valid until pop().
  [[nodiscard]] T* front() noexcept {
    const uint64_t r = read_;
    if (cells_[r & mask_].seq.load(std::memory_order_acquire) != r + 1) return nullptr;
    return Value(r);
  }

  // Destroys the front element and releases its slot. Precondition: front() != nullptr.
  void pop() noexcept {
    const uint64_t r = read_;
    assert(cells_[r & mask_].seq.load(std::memory_order_relaxed) == r + 1 &&
           "pop() on an empty SpscRing");
    Value(r)->~T();
    read_ = r + 1;
    head_.store(r + 1, std::memory_order_release);
  }

  // Moves the oldest element into `out`. Returns false when empty.
  [[nodiscard]] bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>) {
    T* f = front();
    if (f == nullptr) return false;
    out = std::move(*f);
    pop();
    return true;
  }

  // Moves up to `n` elements into `out`, releasing their slots at once. Returns how many.
  [[nodiscard]] size_t pop_n(T* out, size_t n) noexcept(std::is_nothrow_move_assignable_v<T>) {
    return drain([&out](T& v) { *out++ = std::move(v); }, n);
  }

  // Calls `f(T&)` on up to `max` queued elements in order, destroying each after the call, and
  // releases their slots to the producer with one index store. Returns how many were consumed.
  // `f` must not throw.
  template <typename F>
  size_t drain(F&& f, size_t max) noexcept {
    const uint64_t r = read_;
    size_t n = 0;
    while (n < max && cells_[(r + n) & mask_].seq.load(std::memory_order_acquire) == r + n + 1) {
      T* v = Value(r + n);
      f(*v);
      v->~T();
      ++n;
    }
    if (n != 0) {
      read_ = r + n;
      head_.store(r + n, std::memory_order_release);
    }
    return n;
  }

  // ---- either side (approximate while the other side runs) ----
  size_t size() const noexcept {
    const uint64_t head = head_.load(std::memory_order_acquire);
    const uint64_t tail = tail_.load(std::memory_order_acquire);
    return tail > head ? static_cast<size_t>(tail - head) : 0;
  }
  bool empty() const noexcept { return size() == 0; }

 private:
  static Cell* Allocate(size_t capacity) {
    size_t bytes = capacity * sizeof(Cell);
    bytes = (bytes + kFalseSharingRange - 1) / kFalseSharingRange * kFalseSharingRange;
    Cell* cells = static_cast<Cell*>(::operator new (bytes, std::align_val_t{kFalseSharingRange}));
    for (size_t i = 0; i < capacity; ++i) ::new (static_cast<void*>(cells + i)) Cell();
    return cells;
  }
  T* Value(uint64_t index) const noexcept {
    return std::launder(reinterpret_cast<T*>(cells_[index & mask_].storage));
  }
  // Room for `n` more elements at write position `w`? Re-reads the consumer's head only when the
  // cached copy says no.
  bool HasRoom(uint64_t w, size_t n) noexcept {
    if (w + n - head_cache_ <= capacity()) return true;
    head_cache_ = head_.load(std::memory_order_acquire);
    return w + n - head_cache_ <= capacity();
  }
  // Marks positions [published_, end) ready, oldest first.
  void PublishUpTo(uint64_t end) noexcept {
    for (uint64_t i = published_; i < end; ++i) {
      cells_[i & mask_].seq.store(i + 1, std::memory_order_release);
    }
    published_ = end;
    tail_.store(end, std::memory_order_relaxed);  // for size() and the destructor only
  }

  // Read-only after construction: shared by both sides without ping-pong.
  alignas(kFalseSharingRange) const size_t mask_;
  Cell* const cells_;

  // Producer-owned.
  alignas(kFalseSharingRange) uint64_t write_ = 0;  // next position to fill
  uint64_t published_ = 0;                          // positions below are marked ready
  uint64_t head_cache_ = 0;                         // last seen head_
  std::atomic<uint64_t> tail_{0};                   // published_, for size() and ~SpscRing

  // Consumer-owned.
  alignas(kFalseSharingRange) std::atomic<uint64_t> head_{0};  // released positions
  uint64_t read_ = 0;                                          // next position to read

  // Keeps whatever follows this object off the consumer's block.
  alignas(kFalseSharingRange) char end_pad_[1] = {};

  static_assert(std::atomic<uint64_t>::is_always_lock_free);
};

// What a producer does when its ring is full: bounded back-pressure, then an overrun that the
// caller must count and report (DESIGN.md: a full ring is never a silent drop; a slow consumer is
// a risk event).
//
// Spins up to `max_spins` times (PAUSE between tries) waiting for room. Use max_spins = 0 when
// the consumer runs on the same worker thread: waiting would never end.
// Returns true if pushed, false on overrun (nothing was pushed).
template <typename Ring, typename U>
[[nodiscard]] bool PushWithBackpressure(Ring& ring, U&& item, uint32_t max_spins) noexcept {
  if (ring.try_push(item)) [[likely]] {
    return true;
  }
  for (uint32_t i = 0; i < max_spins; ++i) {
    CpuRelax();
    if (ring.try_push(item)) return true;
  }
  return false;
}

}  // namespace nzeza

#endif  // NZEZA_CORE_SPSC_RING_H_
