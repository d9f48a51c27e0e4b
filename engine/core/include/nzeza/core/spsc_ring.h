// SpscRing<T>: the bounded single-producer single-consumer queue between pipeline stages.
//
//   SpscRing<MdEvent> ring(4096);
//   // producer thread                      // consumer thread
//   if (!ring.try_push(ev)) { /* full */ }   while (MdEvent* e = ring.front()) { Use(*e);
//   ring.pop(); }
//                                            ring.drain([](MdEvent& e) { Use(e); }, 64);  // one
//                                            release
//
// Design (after rigtorp/SPSCQueue, the LMAX Disruptor and Vyukov's bounded queue):
// - Capacity is a power of two; positions are monotonic 64-bit counters (2^64 pushes at 10^9/s is
//   584 years), the slot is `position & mask`. Full is `write - head == capacity`, so no slot is
//   sacrificed and there is no ABA.
// - Producer state (its write position, its cached copy of the consumer's `head_`, the published
//   `tail_`) and consumer state (`head_`, its read position, its cached copy of `tail_`) sit in
//   separate 128-byte blocks: x86's adjacent-line prefetcher pairs 64-byte lines, so 64 bytes of
//   separation still false-shares. Slots are their own 128-byte-aligned, 128-byte-padded block.
// - Cached remote index: the producer re-reads `head_` only when its cached copy says full.
// - How the consumer learns an element is ready depends on the element's size, because on a
//   cross-core hand-off the cost is the number of cache lines that move (docs/perf-log.md has the
//   measurements that chose this):
//   * small T (sizeof(T) + 8 <= 64): a sequence number inside each slot ("cell", padded to a power
//     of two so it never straddles a line). The consumer polls the cell it wants next and never
//     reads a producer-owned index: one line moves per hand-off, as in a bare cache-line
//     ping-pong, and a streaming consumer never touches the producer's block at all.
//   * larger T: the classic layout. The element fills its own line(s), the producer publishes
//     `tail_`, the consumer caches it and re-reads it only when the cache says empty. An inline
//     sequence would add a line per element, which measured slower at 64 bytes.
// - Batching: `push_n`, `claim` + `publish` and `drain` amortise the index stores; `drain`
//   releases all the slots it consumed with one store.
//
// Memory ordering (the same argument for both layouts):
// - Producer: constructs the element in slot w, then a release store that makes it visible: the
//   cell's `seq = w + 1` (small T) or `tail_ = w + 1` (large T).
// - Consumer: the acquire load of that `seq` / `tail_` pairs with the release, so the element is
//   fully constructed when read. After consuming (and destroying) elements it stores
//   `head_ = r + n` with release.
// - Producer: `head_.load(acquire)` pairs with that, so the consumer's last reads of a slot
//   happen-before the producer reuses the slot on the next lap.
// - Each side keeps its own positions in plain variables and only stores to shared atomics: no
//   read-modify-write, no fence, no lock. On x86 every operation is a plain mov.
//
// Thread: exactly one producer thread calls the producer methods (try_push, try_emplace, push_n,
// claim, publish, unpublished) and exactly one consumer thread the consumer methods (front, pop,
// try_pop, pop_n, drain). size()/empty() may be called from any thread and are approximate.
// Allocates: once, in the constructor. Errors: the producer methods return false / a short count /
// nullptr when full; the consumer methods return nullptr / false / 0 when empty. Nothing throws
// unless T's constructor does; the push methods are noexcept when T's constructor is.
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

// How the consumer learns that an element is ready (see the file comment). kAuto picks by size;
// the others exist so benchmarks can compare layouts on the same element type.
enum class RingLayout : uint8_t {
  kAuto,          // kSlotSequence when sizeof(T) + 8 <= 64, else kCachedIndex
  kSlotSequence,  // a sequence number in every slot
  kCachedIndex,   // a published tail index the consumer caches
};

template <typename T, RingLayout kLayout = RingLayout::kAuto>
class SpscRing {
  static_assert(std::is_nothrow_destructible_v<T>, "ring elements must not throw on destruction");

  static constexpr bool kInlineSeq =
      kLayout == RingLayout::kSlotSequence ||
      (kLayout == RingLayout::kAuto && sizeof(uint64_t) + sizeof(T) <= kCacheLineSize);
  // Small T: sequence + element, padded to a power of two (dividing 64 for small T).
  struct alignas(std::bit_ceil(sizeof(uint64_t) + sizeof(T))) Cell {
    std::atomic<uint64_t> seq{0};  // w + 1 once the element at position w is ready
    alignas(T) unsigned char storage[sizeof(T)];
  };
  // Large T: the element alone.
  struct Slot {
    alignas(T) unsigned char storage[sizeof(T)];
  };
  using Storage = std::conditional_t<kInlineSeq, Cell, Slot>;

 public:
  using value_type = T;

  // Capacity `min_capacity` rounded up to a power of two (at least 2).
  // Allocates: capacity slots, 128-byte aligned.
  explicit SpscRing(size_t min_capacity)
      : mask_(std::bit_ceil(min_capacity < 2 ? size_t{2} : min_capacity) - 1),
        slots_(Allocate(mask_ + 1)) {}

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  // Destroys the elements still queued. Both threads must be done with the ring.
  ~SpscRing() {
    if constexpr (!std::is_trivially_destructible_v<T>) {
      const uint64_t tail = tail_.load(std::memory_order_acquire);
      for (uint64_t i = head_.load(std::memory_order_acquire); i != tail; ++i) Value(i)->~T();
    }
    for (size_t i = 0; i <= mask_; ++i) slots_[i].~Storage();
    ::operator delete (static_cast<void*>(slots_), std::align_val_t{kFalseSharingRange});
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

  // Copies up to `n` items and publishes them together. Returns how many were pushed (0..n).
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
  // visible only at publish(); a try_push also publishes earlier claims.
  [[nodiscard]] T* claim() noexcept requires std::is_trivially_copyable_v<T> &&
      std::is_trivially_destructible_v<T> {
    const uint64_t w = write_;
    if (!HasRoom(w, 1)) [[unlikely]] {
      return nullptr;
    }
    write_ = w + 1;
    return Value(w);  // an implicit-lifetime type: the storage holds a T already (P0593)
  }

  // Makes every claimed slot visible to the consumer.
  void publish() noexcept { PublishUpTo(write_); }

  // Slots claimed but not yet published.
  size_t unpublished() const noexcept { return static_cast<size_t>(write_ - published_); }

  // ---- consumer ----

  // The oldest element, or nullptr when empty. Stays valid until pop().
  [[nodiscard]] T* front() noexcept {
    const uint64_t r = read_;
    return Ready(r) ? Value(r) : nullptr;
  }

  // Destroys the front element and releases its slot. Precondition: front() != nullptr.
  void pop() noexcept {
    const uint64_t r = read_;
    assert(Ready(r) && "pop() on an empty SpscRing");
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

  // Moves up to `n` elements into `out`, releasing their slots with one store. Returns how many.
  [[nodiscard]] size_t pop_n(T* out, size_t n) noexcept(std::is_nothrow_move_assignable_v<T>) {
    return drain([&out](T& v) { *out++ = std::move(v); }, n);
  }

  // Calls `f(T&)` on up to `max` queued elements in order, destroying each after the call, then
  // releases their slots to the producer with one store. Returns how many. `f` must not throw.
  template <typename F>
  size_t drain(F&& f, size_t max) noexcept {
    const uint64_t r = read_;
    size_t n = 0;
    if constexpr (kInlineSeq) {
      while (n < max && Ready(r + n)) {
        Consume(r + n, f);
        ++n;
      }
    } else {
      size_t avail = static_cast<size_t>(tail_cache_ - r);
      if (avail < max) {
        tail_cache_ = tail_.load(std::memory_order_acquire);
        avail = static_cast<size_t>(tail_cache_ - r);
      }
      for (const size_t end = avail < max ? avail : max; n < end; ++n) Consume(r + n, f);
    }
    if (n != 0) {
      read_ = r + n;
      head_.store(r + n, std::memory_order_release);
    }
    return n;
  }

  // ---- any thread (approximate while the ring is in use) ----
  size_t size() const noexcept {
    const uint64_t head = head_.load(std::memory_order_acquire);
    const uint64_t tail = tail_.load(std::memory_order_acquire);
    return tail > head ? static_cast<size_t>(tail - head) : 0;
  }
  bool empty() const noexcept { return size() == 0; }

 private:
  static Storage* Allocate(size_t n) {
    size_t bytes = n * sizeof(Storage);
    bytes = (bytes + kFalseSharingRange - 1) / kFalseSharingRange * kFalseSharingRange;
    auto* p = static_cast<Storage*>(::operator new (bytes, std::align_val_t{kFalseSharingRange}));
    for (size_t i = 0; i < n; ++i) ::new (static_cast<void*>(p + i)) Storage();
    return p;
  }
  T* Value(uint64_t position) const noexcept {
    return std::launder(reinterpret_cast<T*>(slots_[position & mask_].storage));
  }
  // Producer: room for `n` more elements at write position `w`? Re-reads the consumer's head
  // only when the cached copy says no.
  bool HasRoom(uint64_t w, size_t n) noexcept {
    if (w + n - head_cache_ <= capacity()) return true;
    head_cache_ = head_.load(std::memory_order_acquire);
    return w + n - head_cache_ <= capacity();
  }
  // Producer: makes positions [published_, end) visible, oldest first.
  void PublishUpTo(uint64_t end) noexcept {
    if constexpr (kInlineSeq) {
      for (uint64_t i = published_; i < end; ++i) {
        slots_[i & mask_].seq.store(i + 1, std::memory_order_release);
      }
      tail_.store(end, std::memory_order_relaxed);  // for size() and the destructor only
    } else {
      tail_.store(end, std::memory_order_release);
    }
    published_ = end;
  }
  // Consumer: is the element at position r ready?
  bool Ready(uint64_t r) noexcept {
    if constexpr (kInlineSeq) {
      return slots_[r & mask_].seq.load(std::memory_order_acquire) == r + 1;
    } else {
      if (r != tail_cache_) return true;
      tail_cache_ = tail_.load(std::memory_order_acquire);
      return r != tail_cache_;
    }
  }
  template <typename F>
  void Consume(uint64_t r, F& f) noexcept {
    T* v = Value(r);
    f(*v);
    v->~T();
  }

  // Read-only after construction: shared by both sides without ping-pong.
  alignas(kFalseSharingRange) const size_t mask_;
  Storage* const slots_;

  // Producer-owned.
  alignas(kFalseSharingRange) std::atomic<uint64_t> tail_{0};  // published write position
  uint64_t write_ = 0;                                         // next position to fill
  uint64_t published_ = 0;                                     // positions below are visible
  uint64_t head_cache_ = 0;                                    // last seen head_

  // Consumer-owned.
  alignas(kFalseSharingRange) std::atomic<uint64_t> head_{0};  // released positions
  uint64_t read_ = 0;                                          // next position to read
  uint64_t tail_cache_ = 0;                                    // last seen tail_ (large T)

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
