// IndexRing<T>: the classic cached-index SPSC ring (rigtorp/SPSCQueue's design: shared head and
// tail indices, each side caching the other's), kept in the benchmark binary as a reference
// design so docs/perf-log.md can show, in one run, why nzeza's SpscRing keeps a sequence number
// in each slot instead (one cache-line transfer per hand-off instead of two). Not for production.
#ifndef NZEZA_BENCH_CORE_INDEX_RING_H_
#define NZEZA_BENCH_CORE_INDEX_RING_H_

#include <atomic>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "nzeza/core/cpu.h"

namespace nzeza::bench {

template <typename T>
class IndexRing {
  static_assert(std::is_nothrow_destructible_v<T>, "ring elements must not throw on destruction");

 public:
  using value_type = T;

  // Capacity `min_capacity` rounded up to a power of two (at least 2).
  // Allocates: capacity * sizeof(T) bytes, 128-byte aligned.
  explicit IndexRing(size_t min_capacity)
      : mask_(std::bit_ceil(min_capacity < 2 ? size_t{2} : min_capacity) - 1),
        slots_(Allocate(mask_ + 1)) {}

  IndexRing(const IndexRing&) = delete;
  IndexRing& operator=(const IndexRing&) = delete;

  // Destroys the elements still queued. Both threads must be done with the ring.
  ~IndexRing() {
    if constexpr (!std::is_trivially_destructible_v<T>) {
      const uint64_t tail = tail_.load(std::memory_order_acquire);
      for (uint64_t i = head_.load(std::memory_order_acquire); i != tail; ++i) {
        Slot(i)->~T();
      }
    }
    ::operator delete (static_cast<void*>(slots_), std::align_val_t{kFalseSharingRange});
  }

  size_t capacity() const noexcept { return mask_ + 1; }

  // ---- producer ----

  // Constructs an element in place. Returns false (constructing nothing) when full.
  template <typename... Args>
  [[nodiscard]] bool try_emplace(Args&&... args) noexcept(
      std::is_nothrow_constructible_v<T, Args&&...>) {
    const uint64_t w = write_;
    if (w - head_cache_ == capacity()) [[unlikely]] {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (w - head_cache_ == capacity()) return false;
    }
    ::new (static_cast<void*>(Slot(w))) T(std::forward<Args>(args)...);
    write_ = w + 1;
    tail_.store(w + 1, std::memory_order_release);
    return true;
  }

  [[nodiscard]] bool try_push(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    return try_emplace(v);
  }
  [[nodiscard]] bool try_push(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) {
    return try_emplace(std::move(v));
  }

  // Copies up to `n` items, publishing once. Returns how many were pushed (0..n).
  [[nodiscard]] size_t push_n(const T* items,
                              size_t n) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    const uint64_t w = write_;
    size_t room = capacity() - static_cast<size_t>(w - head_cache_);
    if (room < n) {
      head_cache_ = head_.load(std::memory_order_acquire);
      room = capacity() - static_cast<size_t>(w - head_cache_);
      if (n > room) n = room;
      if (n == 0) return 0;
    }
    for (size_t i = 0; i < n; ++i) ::new (static_cast<void*>(Slot(w + i))) T(items[i]);
    write_ = w + n;
    tail_.store(w + n, std::memory_order_release);
    return n;
  }

  // ---- consumer ----

  // The oldest element, or nullptr when empty. Stays valid until pop().
  [[nodiscard]] T* front() noexcept {
    const uint64_t r = read_;
    if (r == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (r == tail_cache_) return nullptr;
    }
    return Slot(r);
  }

  // Destroys the front element and releases its slot. Precondition: front() != nullptr.
  void pop() noexcept {
    const uint64_t r = read_;
    assert(r != tail_cache_ && "pop() on an empty SpscRing");
    Slot(r)->~T();
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

  // Moves up to `n` elements into `out`, publishing once. Returns how many.
  [[nodiscard]] size_t pop_n(T* out, size_t n) noexcept(std::is_nothrow_move_assignable_v<T>) {
    return drain([&out](T& v) { *out++ = std::move(v); }, n);
  }

  // Calls `f(T&)` on up to `max` queued elements in order, destroying each after the call, and
  // publishes the new read position once. Returns how many were consumed. `f` must not throw.
  template <typename F>
  size_t drain(F&& f, size_t max) noexcept {
    const uint64_t r = read_;
    size_t avail = static_cast<size_t>(tail_cache_ - r);
    if (avail < max) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      avail = static_cast<size_t>(tail_cache_ - r);
    }
    const size_t n = avail < max ? avail : max;
    for (size_t i = 0; i < n; ++i) {
      T* slot = Slot(r + i);
      f(*slot);
      slot->~T();
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
    return static_cast<size_t>(tail - head);
  }
  bool empty() const noexcept { return size() == 0; }

 private:
  static T* Allocate(size_t capacity) {
    size_t bytes = capacity * sizeof(T);
    bytes = (bytes + kFalseSharingRange - 1) / kFalseSharingRange * kFalseSharingRange;
    return static_cast<T*>(::operator new (bytes, std::align_val_t{kFalseSharingRange}));
  }
  T* Slot(uint64_t index) const noexcept { return slots_ + (index & mask_); }

  // Read-only after construction: shared by both sides without ping-pong.
  alignas(kFalseSharingRange) const size_t mask_;
  T* const slots_;

  // Producer-owned.
  alignas(kFalseSharingRange) std::atomic<uint64_t> tail_{0};  // published write position
  uint64_t write_ = 0;                                         // private write position
  uint64_t head_cache_ = 0;                                    // last seen head_

  // Consumer-owned.
  alignas(kFalseSharingRange) std::atomic<uint64_t> head_{0};  // published read position
  uint64_t read_ = 0;                                          // private read position
  uint64_t tail_cache_ = 0;                                    // last seen tail_

  // Keeps whatever follows this object off the consumer's block.
  alignas(kFalseSharingRange) char end_pad_[1] = {};

  static_assert(std::atomic<uint64_t>::is_always_lock_free);
};

}  // namespace nzeza::bench

#endif  // NZEZA_BENCH_CORE_INDEX_RING_H_
