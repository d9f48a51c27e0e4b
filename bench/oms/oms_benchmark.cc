// OMS update cost and journal append cost. Target: journal append <= 100 ns median.
//   nzeza_bench_oms --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <benchmark/benchmark.h>

#include <nzeza/oms/crc32c.h>
#include <nzeza/oms/journal.h>
#include <nzeza/oms/order_manager.h>

namespace nzeza::oms {
namespace {

// New → ack → fill → fill per order: four OMS updates per iteration; the table is recycled by
// erasing the filled order so it never fills up.
void BM_OmsNewAckFillFill(benchmark::State& state) {
  OrderManager oms({.max_orders = 1 << 12, .max_instruments = 4});
  uint64_t id = 1;
  for (auto _ : state) {
    OrderCmd c;
    c.type = CmdType::kNew;
    c.client_order_id = id;
    c.price = 100'00;
    c.size = 10;
    ExecEvent e;
    e.client_order_id = id;
    e.type = ExecType::kAck;
    OmsResult r1 = oms.OnCmd(c);
    OmsResult r2 = oms.OnExec(e);
    e.type = ExecType::kFill;
    e.trade_id = id * 2;
    e.last_price = 100'00;
    e.last_size = 4;
    OmsResult r3 = oms.OnExec(e);
    e.trade_id = id * 2 + 1;
    e.last_size = 6;
    OmsResult r4 = oms.OnExec(e);
    if (r1 != OmsResult::kApplied || r2 != OmsResult::kApplied || r3 != OmsResult::kApplied ||
        r4 != OmsResult::kApplied) {
      state.SkipWithError("unexpected OMS result");
      break;
    }
    benchmark::DoNotOptimize(oms.EraseTerminal(id));
    ++id;
  }
  state.SetItemsProcessed(state.iterations() * 4);
}
BENCHMARK(BM_OmsNewAckFillFill);

void BM_Crc32c160Bytes(benchmark::State& state) {
  char buf[160] = {1, 2, 3};
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf);
    benchmark::DoNotOptimize(Crc32c(buf, sizeof(buf)));
  }
}
BENCHMARK(BM_Crc32c160Bytes);

// Journal append of a 128-byte ExecEvent (160 bytes with its header), fsync policy kNever (the
// hot-path cost; the other policies add an msync). Each iteration appends a burst of kBurst
// records (timed by hand: UseManualTime, per record), then, with upkeep, runs the order stage's
// idle-time Journal::Maintain, untimed, as the engine does between bursts: it faults in the pages
// ahead, prepares the next segment and retires the last one. BM_JournalAppendExecNoUpkeep is the
// same without it (every 4 KiB page faulted in by an append, every rotation done inline).
// Segments of 64 MiB (the default); the run is a fixed 100,000 bursts = 3.2 M records = 512 MB,
// so it includes 7 rotations (as production would, once per ~420 k records) without turning into
// a test of the disk's sustained write bandwidth, which an unbounded run at millions of records
// a second becomes (writeback throttling; an engine journals thousands per second).
void JournalAppend(benchmark::State& state, bool upkeep) {
  constexpr int kBurst = 32;
  char tmpl[] = "/tmp/nzeza_bench_oms_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  {
    JournalOptions opt{.dir = dir, .segment_bytes = 64ull << 20, .fsync = FsyncPolicy::kNever};
    auto j = Journal::Open(
        opt, 1, [](const JournalRecord&) {}, nullptr);
    if (!j.ok()) {
      state.SkipWithError(std::string(j.status().message()).c_str());
      return;
    }
    ExecEvent e;
    e.type = ExecType::kFill;
    int64_t now = 0;
    for (auto _ : state) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int k = 0; k < kBurst; ++k) {
        e.trade_id = static_cast<uint64_t>(++now);
        if ((*j)->AppendExec(e, now) != AppendResult::kOk) {
          state.SkipWithError("append failed");
          break;
        }
      }
      const auto t1 = std::chrono::steady_clock::now();
      state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count() / kBurst);
      if (upkeep) (void)(*j)->Maintain(now);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(sizeof(e) + 32));
  }
  std::filesystem::remove_all(dir);
}

void BM_JournalAppendExec(benchmark::State& state) { JournalAppend(state, true); }
BENCHMARK(BM_JournalAppendExec)->UseManualTime()->Iterations(100'000);
void BM_JournalAppendExecNoUpkeep(benchmark::State& state) { JournalAppend(state, false); }
BENCHMARK(BM_JournalAppendExecNoUpkeep)->UseManualTime()->Iterations(100'000);

}  // namespace
}  // namespace nzeza::oms
