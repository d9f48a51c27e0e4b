#include "nzeza/core/cpu.h"

#include <pthread.h>
#include <sched.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace nzeza {

namespace {

// The process's affinity mask as it was at start-up, before any thread pinned itself. A thread
// inherits its creator's mask, so asking sched_getaffinity() from a thread spawned by a pinned
// thread would report one CPU and wrongly refuse every other.
cpu_set_t ReadAffinity() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) CPU_SET(0, &set);
  return set;
}
const cpu_set_t kStartupAffinity = ReadAffinity();

}  // namespace

std::vector<int> AllowedCpus() {
  std::vector<int> cpus;
  for (int i = 0; i < CPU_SETSIZE; ++i) {
    if (CPU_ISSET(i, &kStartupAffinity)) cpus.push_back(i);
  }
  return cpus;
}

absl::Status PinCurrentThread(int cpu) {
  const std::vector<int> allowed = AllowedCpus();
  bool ok = cpu >= 0 && cpu < CPU_SETSIZE;
  if (ok) {
    ok = false;
    for (int c : allowed) ok |= (c == cpu);
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrFormat("cannot pin to cpu %d: this process may run on cpus [%s] only", cpu,
                        absl::StrJoin(allowed, ",")));
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  const int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  if (rc != 0) {
    return absl::InternalError(
        absl::StrFormat("pthread_setaffinity_np(cpu %d) failed: %s", cpu, std::strerror(rc)));
  }
  return absl::OkStatus();
}

void NameCurrentThread(std::string_view name) {
  char buf[16];
  const size_t n = std::min(name.size(), sizeof(buf) - 1);
  std::memcpy(buf, name.data(), n);
  buf[n] = '\0';
  pthread_setname_np(pthread_self(), buf);
}

}  // namespace nzeza
