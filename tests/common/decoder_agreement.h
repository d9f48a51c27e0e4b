// For differential tests of two FeedDecoders given the same call (a decoder with a fast path
// against the same decoder without it): everything observable must be the same; and inputs
// damaged at random.
#ifndef NZEZA_TESTS_COMMON_DECODER_AGREEMENT_H_
#define NZEZA_TESTS_COMMON_DECODER_AGREEMENT_H_

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "nzeza/core/events.h"
#include "nzeza/feeds/common/feed_decoder.h"

namespace nzeza::testing {

// After `a` returned ea into `events_a` and `b` returned eb into `events_b` for the same input
// (`shown` names it in failures): the same result, error place, events (SameMarketData),
// counters, and pending actions (which this pops from both).
inline void ExpectSameOutcome(FeedDecoder& a, FeedDecoder& b, DecodeError ea, DecodeError eb,
                              const std::vector<MdEvent>& events_a,
                              const std::vector<MdEvent>& events_b, const std::string& shown) {
  EXPECT_EQ(ea, eb) << shown;
  EXPECT_STREQ(a.last_error_where(), b.last_error_where()) << shown;
  EXPECT_EQ(events_a.size(), events_b.size()) << shown;
  for (size_t i = 0; i < events_a.size() && i < events_b.size(); ++i) {
    EXPECT_TRUE(SameMarketData(events_a[i], events_b[i])) << "event " << i << " of " << shown;
  }
  const FeedCounters& ca = a.counters();
  const FeedCounters& cb = b.counters();
  EXPECT_EQ(std::memcmp(&ca, &cb, sizeof(FeedCounters)), 0) << shown;
  FeedAction x, y;
  for (;;) {
    const bool more_a = a.PopAction(&x);
    const bool more_b = b.PopAction(&y);
    EXPECT_EQ(more_a, more_b) << shown;
    if (!more_a || !more_b) break;
    EXPECT_EQ(x.type, y.type) << shown;
    EXPECT_EQ(x.instrument, y.instrument) << shown;
  }
}

// `s` after 1 to 3 random edits (a byte replaced, inserted or deleted; new bytes from `alphabet`),
// three in four within the first `hot` bytes, where a message's structure is. With `digit_swaps`,
// half the edits put a digit in place of a byte instead, which often leaves the text valid.
inline std::string Damaged(std::string s, std::mt19937_64& rng, std::string_view alphabet,
                           size_t hot, bool digit_swaps) {
  for (int e = 0, n = 1 + static_cast<int>(rng() % 3); e < n && !s.empty(); ++e) {
    const size_t at = rng() % 4 == 0 ? rng() % s.size() : rng() % std::min(s.size(), hot);
    const bool digit = digit_swaps && rng() % 2 == 0;
    const char c = digit ? static_cast<char>('0' + rng() % 10) : alphabet[rng() % alphabet.size()];
    switch (digit ? 0 : rng() % 3) {
      case 0:
        s[at] = c;
        break;
      case 1:
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(at), c);
        break;
      default:
        s.erase(at, 1);
        break;
    }
  }
  return s;
}

}  // namespace nzeza::testing

#endif  // NZEZA_TESTS_COMMON_DECODER_AGREEMENT_H_
