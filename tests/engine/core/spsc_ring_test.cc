#include "nzeza/core/spsc_ring.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "nzeza/core/events.h"

namespace nzeza {
namespace {

TEST(SpscRing, CapacityRoundsUpToPowerOfTwo) {
  EXPECT_EQ(SpscRing<int>(0).capacity(), 2u);
  EXPECT_EQ(SpscRing<int>(1).capacity(), 2u);
  EXPECT_EQ(SpscRing<int>(5).capacity(), 8u);
  EXPECT_EQ(SpscRing<int>(1024).capacity(), 1024u);
  EXPECT_EQ(SpscRing<int>(1025).capacity(), 2048u);
}

TEST(SpscRing, LayoutKeepsSidesOnSeparateBlocks) {
  EXPECT_EQ(alignof(SpscRing<int>), kFalseSharingRange);
  EXPECT_EQ(sizeof(SpscRing<int>) % kFalseSharingRange, 0u);
  EXPECT_GE(sizeof(SpscRing<int>), 4 * kFalseSharingRange);  // config, producer, consumer, pad
}

TEST(SpscRing, FifoAndFullEmpty) {
  SpscRing<int> ring(4);
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.front(), nullptr);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(ring.try_push(i));
  EXPECT_FALSE(ring.try_push(99)) << "a full ring must refuse, not overwrite";
  EXPECT_EQ(ring.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    int* f = ring.front();
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(*f, i);
    ring.pop();
  }
  EXPECT_EQ(ring.front(), nullptr);
  int out = -1;
  EXPECT_FALSE(ring.try_pop(out));
  EXPECT_EQ(out, -1);
}

TEST(SpscRing, WrapsAroundManyLaps) {
  SpscRing<uint64_t> ring(8);
  uint64_t next_in = 0, next_out = 0;
  for (int lap = 0; lap < 1000; ++lap) {
    while (ring.try_push(next_in)) ++next_in;
    uint64_t v;
    for (int k = 0; k < 5 && ring.try_pop(v); ++k) EXPECT_EQ(v, next_out++);
  }
  uint64_t v;
  while (ring.try_pop(v)) EXPECT_EQ(v, next_out++);
  EXPECT_EQ(next_in, next_out);
  EXPECT_GT(next_in, 8u * 500);
}

// Every layout is the same queue: FIFO, capacity, wrap-around, batch.
template <typename Ring>
void ExerciseLayout() {
  Ring ring(8);
  uint64_t in = 0, out = 0;
  for (int lap = 0; lap < 100; ++lap) {
    while (ring.try_push(in)) ++in;
    EXPECT_EQ(ring.size(), 8u);
    uint64_t v;
    for (int k = 0; k < 3 && ring.try_pop(v); ++k) EXPECT_EQ(v, out++);
    EXPECT_EQ(ring.drain([&](uint64_t& x) { EXPECT_EQ(x, out++); }, 2), 2u);
  }
  uint64_t rest[8];
  const size_t n = ring.pop_n(rest, 8);
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(rest[i], out++);
  EXPECT_EQ(in, out);
  EXPECT_TRUE(ring.empty());
}

TEST(SpscRing, EveryLayoutBehavesAlike) {
  ExerciseLayout<SpscRing<uint64_t>>();
  ExerciseLayout<SpscRing<uint64_t, RingLayout::kSlotSequence>>();
  ExerciseLayout<SpscRing<uint64_t, RingLayout::kCachedIndex>>();
}

TEST(SpscRing, PushNStopsAtCapacityAndDrainPublishesOnce) {
  SpscRing<int> ring(8);
  int in[12];
  for (int i = 0; i < 12; ++i) in[i] = i;
  EXPECT_EQ(ring.push_n(in, 12), 8u);
  EXPECT_EQ(ring.push_n(in, 1), 0u);
  std::vector<int> seen;
  EXPECT_EQ(ring.drain([&](int& v) { seen.push_back(v); }, 5), 5u);
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(ring.size(), 3u);
  EXPECT_EQ(ring.push_n(in + 8, 4), 4u);  // wraps
  int out[16];
  EXPECT_EQ(ring.pop_n(out, 16), 7u);
  EXPECT_EQ((std::vector<int>(out, out + 7)), (std::vector<int>{5, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(ring.drain([](int&) {}, 4), 0u);
}

TEST(SpscRing, ClaimIsInvisibleUntilPublish) {
  SpscRing<MdEvent> ring(4);
  MdEvent* a = ring.claim();
  ASSERT_NE(a, nullptr);
  *a = MdEvent::Levels(Venue::kSim, 0, 7);
  MdEvent* b = ring.claim();
  ASSERT_NE(b, nullptr);
  *b = MdEvent::Levels(Venue::kSim, 0, 8);
  EXPECT_EQ(ring.unpublished(), 2u);
  EXPECT_EQ(ring.front(), nullptr) << "claimed slots must not be visible before publish()";
  ring.publish();
  EXPECT_EQ(ring.unpublished(), 0u);
  ASSERT_NE(ring.front(), nullptr);
  EXPECT_EQ(ring.front()->venue_seq, 7u);
  ring.pop();
  EXPECT_EQ(ring.front()->venue_seq, 8u);
  ring.pop();
  for (int i = 0; i < 4; ++i) EXPECT_NE(ring.claim(), nullptr);
  EXPECT_EQ(ring.claim(), nullptr) << "claim must respect capacity";
}

TEST(SpscRing, BackpressureGivesUpAfterBoundedSpins) {
  SpscRing<int> ring(2);
  EXPECT_TRUE(PushWithBackpressure(ring, 1, 0));
  EXPECT_TRUE(PushWithBackpressure(ring, 2, 0));
  EXPECT_FALSE(PushWithBackpressure(ring, 3, 100));
  EXPECT_EQ(ring.size(), 2u);
}

// Counts live objects and checks each is constructed/destroyed exactly once.
struct Tracked {
  static std::atomic<int64_t> live;
  static std::atomic<int64_t> constructed;
  uint64_t value = 0;
  uint64_t check = 0;  // value ^ kMagic while alive, 0 after destruction
  static constexpr uint64_t kMagic = 0x9e3779b97f4a7c15ull;

  explicit Tracked(uint64_t v) : value(v), check(v ^ kMagic) {
    live.fetch_add(1, std::memory_order_relaxed);
    constructed.fetch_add(1, std::memory_order_relaxed);
  }
  Tracked(const Tracked& o) : value(o.value), check(o.check) {
    live.fetch_add(1, std::memory_order_relaxed);
    constructed.fetch_add(1, std::memory_order_relaxed);
  }
  Tracked& operator=(const Tracked& o) {
    value = o.value;
    check = o.check;
    return *this;
  }
  ~Tracked() {
    check = 0;
    live.fetch_sub(1, std::memory_order_relaxed);
  }
  bool alive() const { return check == (value ^ kMagic); }
};
std::atomic<int64_t> Tracked::live{0};
std::atomic<int64_t> Tracked::constructed{0};

TEST(SpscRing, DestructorDestroysQueuedElements) {
  Tracked::live = 0;
  {
    SpscRing<Tracked> ring(8);
    for (uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(ring.try_emplace(i));
    ring.pop();
    EXPECT_EQ(Tracked::live.load(), 4);
  }
  EXPECT_EQ(Tracked::live.load(), 0);
}

// Two threads, a small ring (so it is full and empty often), a tracked type, every API mixed:
// order, exactly-once construction/destruction and no torn element. Run under TSan in CI.
template <RingLayout kLayout>
void StressTracked() {
#if defined(NZEZA_SANITIZED)
  constexpr uint64_t kItems = 200'000;
#else
  constexpr uint64_t kItems = 2'000'000;
#endif
  Tracked::live = 0;
  Tracked::constructed = 0;
  {
    SpscRing<Tracked, kLayout> ring(64);
    std::atomic<bool> failed{false};
    std::thread producer([&] {
      uint64_t next = 0;
      std::vector<Tracked> batch;
      while (next < kItems) {
        if (next % 3 == 0) {
          // Batch of up to 7, published once.
          batch.clear();
          for (uint64_t k = 0; k < 7 && next + k < kItems; ++k) batch.emplace_back(next + k);
          size_t pushed = ring.push_n(batch.data(), batch.size());
          next += pushed;
        } else if (ring.try_emplace(next)) {
          ++next;
        }
      }
    });
    uint64_t expect = 0;
    while (expect < kItems) {
      switch (expect % 4) {
        case 0: {
          size_t n = ring.drain(
              [&](Tracked& t) {
                if (!t.alive() || t.value != expect) failed = true;
                ++expect;
              },
              5);
          (void)n;
          break;
        }
        case 1: {
          if (Tracked* f = ring.front()) {
            if (!f->alive() || f->value != expect) failed = true;
            ++expect;
            ring.pop();
          }
          break;
        }
        default: {
          Tracked out(~0ull);
          if (ring.try_pop(out)) {
            if (!out.alive() || out.value != expect) failed = true;
            ++expect;
          }
          break;
        }
      }
      if (failed) break;
    }
    producer.join();
    EXPECT_FALSE(failed.load()) << "element out of order or torn near " << expect;
    EXPECT_EQ(expect, kItems);
  }
  EXPECT_EQ(Tracked::live.load(), 0) << "every constructed element destroyed exactly once";
}

TEST(SpscRing, TwoThreadStressWithTrackedTypeSlotSequence) {
  static_assert(sizeof(Tracked) + 8 <= 64, "Tracked exercises the slot-sequence layout by default");
  StressTracked<RingLayout::kAuto>();
}
TEST(SpscRing, TwoThreadStressWithTrackedTypeCachedIndex) {
  StressTracked<RingLayout::kCachedIndex>();
}

// MdEvent (256 bytes) takes the cached-index layout: stress it with claim/publish batches.
TEST(SpscRing, TwoThreadStressLargeEventsClaimPublish) {
#if defined(NZEZA_SANITIZED)
  constexpr uint64_t kItems = 100'000;
#else
  constexpr uint64_t kItems = 1'000'000;
#endif
  SpscRing<MdEvent> ring(32);
  std::thread producer([&] {
    uint64_t next = 0;
    while (next < kItems) {
      int claimed = 0;
      while (claimed < 5 && next < kItems) {
        MdEvent* slot = ring.claim();
        if (slot == nullptr) break;
        *slot = MdEvent::Levels(Venue::kSim, static_cast<InstrumentId>(next % 7), next);
        slot->times.recv_ns = static_cast<int64_t>(next * 3);
        ++next;
        ++claimed;
      }
      ring.publish();
    }
  });
  uint64_t expect = 0;
  bool ok = true;
  while (expect < kItems && ok) {
    ring.drain(
        [&](MdEvent& e) {
          ok &= e.venue_seq == expect && e.instrument == expect % 7 &&
                e.times.recv_ns == static_cast<int64_t>(expect * 3);
          ++expect;
        },
        16);
  }
  producer.join();
  EXPECT_TRUE(ok) << "torn or reordered event near " << expect;
  EXPECT_EQ(expect, kItems);
}

}  // namespace
}  // namespace nzeza
