// CPU topology and thread pinning.
//
//   if (absl::Status s = PinCurrentThread(3); !s.ok()) { /* "cpu 3 is not available ..." */ }
//
// Control plane only: these make syscalls.
#ifndef NZEZA_CORE_CPU_H_
#define NZEZA_CORE_CPU_H_

#include <new>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace nzeza {

// Size of the unit of false sharing. 64-byte lines, but adjacent-line prefetch on x86 pulls pairs,
// so producer- and consumer-owned data are kept 128 bytes apart.
inline constexpr size_t kCacheLineSize = 64;
inline constexpr size_t kFalseSharingRange = 128;

// The CPUs this process may run on: its affinity mask at start-up (e.g. as set by taskset or a
// cpuset), ascending. Unchanged by later pinning of any thread.
std::vector<int> AllowedCpus();

// Pins the calling thread to `cpu`. Errors: InvalidArgument if `cpu` is negative, beyond
// CPU_SETSIZE or not in AllowedCpus() (the message lists the allowed ones); Internal if the
// kernel refuses.
absl::Status PinCurrentThread(int cpu);

// Names the calling thread (visible in top/perf/gdb). Linux keeps 15 bytes; longer is cut.
void NameCurrentThread(std::string_view name);

// One spin-wait step: PAUSE on x86 (frees the sibling hyperthread, saves power).
inline void CpuRelax() noexcept { __builtin_ia32_pause(); }

}  // namespace nzeza

#endif  // NZEZA_CORE_CPU_H_
