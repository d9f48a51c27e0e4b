// The allocation counter of tests/common/counting_allocator.cc (link that file into the test).
#ifndef NZEZA_TESTS_COMMON_COUNTING_ALLOCATOR_H_
#define NZEZA_TESTS_COMMON_COUNTING_ALLOCATOR_H_

#include <cstdint>

namespace nzeza::testing {
// Calls of any global operator new so far in this process (all threads).
uint64_t AllocationCount() noexcept;
}  // namespace nzeza::testing

#endif  // NZEZA_TESTS_COMMON_COUNTING_ALLOCATOR_H_
