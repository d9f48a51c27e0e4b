// The logger's hot path allocates nothing after warm-up (producer and logger thread both).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "../../common/counting_allocator.h"
#include "nzeza/app/logger.h"

namespace nzeza::app {
namespace {

TEST(LoggerAlloc, LogDoesNotAllocateAfterWarmUp) {
  const int null = open("/dev/null", O_WRONLY);
  ASSERT_GE(null, 0);
  absl::StatusOr<std::unique_ptr<Logger>> log = Logger::Start({.fd = null, .capacity = 1 << 15});
  ASSERT_TRUE(log.ok());
  absl::StatusOr<LogProducer> p = (*log)->MakeProducer("hot");
  ASSERT_TRUE(p.ok());
  // Warm-up: the first records take blocks from the preallocated pool; the logger thread's
  // buffers are sized at start.
  for (int i = 0; i < 1000; ++i) (void)p->Log(LogLevel::kInfo, "warm {} {s}", i, "text");
  ASSERT_TRUE((*log)->Flush(absl::Seconds(10)));

  const uint64_t before = nzeza::testing::AllocationCount();
  int accepted = 0;
  for (int i = 0; i < 20'000; ++i) {
    accepted += p->Log(LogLevel::kInfo, "order {} price {.2} {s}", i, int64_t{4325123},
                       std::string_view("a text argument"));
  }
  ASSERT_TRUE((*log)->Flush(absl::Seconds(10)));
  const uint64_t after = nzeza::testing::AllocationCount();
  EXPECT_EQ(after - before, 0u) << "allocations while logging " << accepted << " records";
  EXPECT_GT(accepted, 0);
  (*log)->Stop();
  close(null);
}

}  // namespace
}  // namespace nzeza::app
