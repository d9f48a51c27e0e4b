// Journal tests: round trip, torn tails at every record boundary and mid-record, corruption,
// rotation, and a child process killed with SIGKILL mid-stream.
#include <nzeza/oms/journal.h>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nzeza/oms/client_order_id.h>
#include <nzeza/oms/crc32c.h>
#include <nzeza/oms/order_manager.h>
#include <nzeza/oms/recovery.h>
#include "absl/strings/str_cat.h"

namespace nzeza::oms {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/nzeza_oms_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Rec {
  RecordType type;
  OrderCmd cmd;
  ExecEvent ev;
};

// A deterministic mix of commands and venue events touching every state.
std::vector<Rec> Scenario(int orders) {
  std::vector<Rec> r;
  std::mt19937_64 rng(42);
  for (int i = 1; i <= orders; ++i) {
    const uint64_t id = 1000 + i;
    Rec n{RecordType::kOrderCmd, {}, {}};
    n.cmd.type = CmdType::kNew;
    n.cmd.client_order_id = id;
    n.cmd.side = (i % 2) ? Side::kBuy : Side::kSell;
    n.cmd.price = 100'00 + static_cast<int64_t>(rng() % 50);
    n.cmd.size = 10;
    n.cmd.instrument = i % 3;
    n.cmd.intent_id = static_cast<uint64_t>(i);
    r.push_back(n);
    auto exec = [&](ExecType t) {
      Rec e{RecordType::kExecEvent, {}, {}};
      e.ev.type = t;
      e.ev.client_order_id = id;
      return e;
    };
    r.push_back(exec(ExecType::kAck));
    switch (rng() % 4) {
      case 0: {
        Rec f = exec(ExecType::kFill);
        f.ev.trade_id = id * 10;
        f.ev.last_price = n.cmd.price;
        f.ev.last_size = 4;
        f.ev.fee = 1;
        r.push_back(f);
        f.ev.trade_id = id * 10 + 1;
        f.ev.last_size = 6;
        r.push_back(f);
        break;
      }
      case 1: {
        Rec c{RecordType::kOrderCmd, {}, {}};
        c.cmd.type = CmdType::kCancel;
        c.cmd.orig_client_order_id = id;
        r.push_back(c);
        r.push_back(exec(ExecType::kCanceled));
        break;
      }
      case 2: {
        Rec f = exec(ExecType::kFill);
        f.ev.trade_id = id * 10;
        f.ev.last_price = n.cmd.price + 1;
        f.ev.last_size = 3;
        r.push_back(f);
        break;
      }
      default:
        r.push_back(exec(ExecType::kExpired));
    }
  }
  return r;
}

AppendResult AppendRec(Journal& j, const Rec& r, int64_t now) {
  return r.type == RecordType::kOrderCmd ? j.AppendCmd(r.cmd, now) : j.AppendExec(r.ev, now);
}

void ApplyRec(OrderManager& oms, const Rec& r) {
  if (r.type == RecordType::kOrderCmd) {
    static_cast<void>(oms.OnCmd(r.cmd));
  } else {
    static_cast<void>(oms.OnExec(r.ev));
  }
}

// Canonical text of everything the OMS knows.
std::string Digest(const OrderManager& oms) {
  std::vector<std::string> lines;
  oms.ForEachOrder([&](const Order& o) {
    lines.push_back(absl::StrCat(o.client_order_id, " ", OrderStateName(o.state), " ",
                                 OrderStateName(o.resume), " ", o.price, " ", o.size, " ",
                                 o.cum_size, " ", o.fees, " ", o.num_fills));
  });
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) absl::StrAppend(&out, l, "\n");
  for (InstrumentId i = 0; i < oms.max_instruments(); ++i) {
    const Position& p = oms.position(i);
    absl::StrAppend(&out, "pos ", i, " ", p.qty, " ", static_cast<int64_t>(p.cost), " ",
                    static_cast<int64_t>(p.realized), " ", p.fees, "\n");
  }
  absl::StrAppend(&out, "max_id ", oms.max_client_order_id(), "\n");
  return out;
}

constexpr OrderManager::Options kOmsOpts{.max_orders = 1024, .max_instruments = 4};

void NoVisit(const JournalRecord&) {}

TEST(Crc32c, KnownAnswerAndPortableMatchesHardware) {
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);
  std::mt19937 rng(1);
  std::vector<unsigned char> buf(1000);
  for (auto& b : buf) b = static_cast<unsigned char>(rng());
  for (size_t n : {0u, 1u, 7u, 8u, 9u, 160u, 999u}) {
    EXPECT_EQ(Crc32cExtend(5, buf.data(), n), Crc32cExtendPortable(5, buf.data(), n)) << n;
  }
}

TEST(Journal, RoundTripAndSequenceContinues) {
  TempDir dir;
  const std::vector<Rec> recs = Scenario(20);
  JournalOptions opt{.dir = dir.path(), .segment_bytes = 1 << 20, .fsync = FsyncPolicy::kNever};
  {
    RecoveryReport rep;
    auto j = Journal::Open(opt, 1, NoVisit, &rep);
    ASSERT_TRUE(j.ok()) << j.status();
    EXPECT_EQ(rep.records, 0u);
    for (size_t i = 0; i < recs.size(); ++i)
      ASSERT_EQ(AppendRec(**j, recs[i], i), AppendResult::kOk);
  }
  OrderManager expected(kOmsOpts);
  for (const Rec& r : recs) ApplyRec(expected, r);
  OrderManager got(kOmsOpts);
  RecoveryReport rep;
  auto j = OpenAndRecover(opt, 2, &got, &rep);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(rep.records, recs.size());
  EXPECT_EQ(rep.last_sequence, recs.size());
  EXPECT_FALSE(rep.torn_tail) << rep.tail_reason;
  EXPECT_EQ(Digest(got), Digest(expected));
  EXPECT_EQ((*j)->next_sequence(), recs.size() + 1);
  ClientOrderIdGenerator ids(0, got.max_client_order_id());
  EXPECT_EQ(ids.Next(), 1000u + 20 + 1);
}

// Maintain() keeps pages faulted in ahead of the tail and never disturbs what was written: records
// interleaved with upkeep recover exactly.
TEST(Journal, MaintainPrefaultsAheadAndRecordsStillRecover) {
  TempDir dir;
  const std::vector<Rec> recs = Scenario(2000);
  JournalOptions opt{.dir = dir.path(), .segment_bytes = 1 << 20, .fsync = FsyncPolicy::kNever};
  {
    auto j = Journal::Open(opt, 1, NoVisit, nullptr);
    ASSERT_TRUE(j.ok()) << j.status();
    EXPECT_GE((*j)->prefaulted_ahead() + (*j)->segment_offset(), Journal::kPrefaultWindow);
    for (size_t i = 0; i < recs.size(); ++i) {
      ASSERT_EQ(AppendRec(**j, recs[i], i), AppendResult::kOk);
      if (i % 7 == 0) {
        ASSERT_TRUE((*j)->Maintain(static_cast<int64_t>(i)));
      }
    }
    // Upkeep catches up by kPrefaultChunk per call until the window ahead is mapped.
    for (int k = 0; k < 64; ++k) ASSERT_TRUE((*j)->Maintain(1));
    const size_t want =
        std::min(Journal::kPrefaultWindow, size_t{1 << 20} - (*j)->segment_offset());
    EXPECT_GE((*j)->prefaulted_ahead(), want);
    EXPECT_LT((*j)->prefaulted_ahead(), want + 4096);
  }
  OrderManager expected(kOmsOpts);
  for (const Rec& r : recs) ApplyRec(expected, r);
  OrderManager got(kOmsOpts);
  RecoveryReport rep;
  auto j = OpenAndRecover(opt, 2, &got, &rep);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(rep.records, recs.size());
  EXPECT_FALSE(rep.torn_tail) << rep.tail_reason;
  EXPECT_EQ(Digest(got), Digest(expected));
}

// Rotation into a segment Maintain() prepared (and retiring the old one later), under each fsync
// policy: every record recovers in order across many segments, and no prepared file is left
// behind after Close.
TEST(Journal, RotationIntoPreparedSegmentsRecoversEverything) {
  for (FsyncPolicy policy :
       {FsyncPolicy::kNever, FsyncPolicy::kInterval, FsyncPolicy::kEveryRecord}) {
    TempDir dir;
    const std::vector<Rec> recs = Scenario(policy == FsyncPolicy::kEveryRecord ? 100 : 1500);
    JournalOptions opt{
        .dir = dir.path(), .segment_bytes = 16 << 10, .fsync = policy, .fsync_interval_ns = 20000};
    int prepared_rotations = 0;
    {
      auto j = Journal::Open(opt, 1, NoVisit, nullptr);
      ASSERT_TRUE(j.ok()) << j.status();
      for (size_t i = 0; i < recs.size(); ++i) {
        const std::string before = (*j)->segment_path();
        const bool was_prepared = (*j)->next_prepared();
        ASSERT_EQ(AppendRec(**j, recs[i], i), AppendResult::kOk);
        if ((*j)->segment_path() != before) {
          EXPECT_TRUE(was_prepared) << "rotation at record " << i << " did not find a prepared "
                                    << "segment although Maintain ran between appends";
          prepared_rotations += was_prepared ? 1 : 0;
        }
        for (int k = 0; k < 3; ++k) ASSERT_TRUE((*j)->Maintain(static_cast<int64_t>(i * 100)));
      }
      ASSERT_TRUE((*j)->Close().ok());
    }
    EXPECT_GE(prepared_rotations, 3);
    EXPECT_FALSE(fs::exists(fs::path(dir.path()) / "journal-next.nzj.tmp"));
    OrderManager expected(kOmsOpts);
    for (const Rec& r : recs) ApplyRec(expected, r);
    OrderManager got(kOmsOpts);
    RecoveryReport rep;
    auto j = OpenAndRecover(opt, 2, &got, &rep);
    ASSERT_TRUE(j.ok()) << j.status();
    EXPECT_EQ(rep.records, recs.size());
    EXPECT_EQ(rep.segments, static_cast<uint64_t>(prepared_rotations) + 1);
    EXPECT_FALSE(rep.torn_tail) << rep.tail_reason;
    EXPECT_EQ(Digest(got), Digest(expected));
  }
}

// A writer killed while holding a prepared (unnamed, empty) next segment: Open removes it, every
// record is there, and appending continues in sequence.
TEST(Journal, KilledWithPreparedSegmentRecovers) {
  TempDir dir;
  const std::vector<Rec> recs = Scenario(400);
  JournalOptions opt{.dir = dir.path(), .segment_bytes = 64 << 10, .fsync = FsyncPolicy::kNever};
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto j = Journal::Open(opt, 1, NoVisit, nullptr);
    if (!j.ok()) _exit(2);
    for (size_t i = 0; i < recs.size(); ++i) {
      if (AppendRec(**j, recs[i], i) != AppendResult::kOk) _exit(3);
      for (int k = 0; k < 3; ++k) (void)(*j)->Maintain(1);
      if (i > 100 && (*j)->next_prepared()) {
        kill(getpid(), SIGKILL);  // no Close, no destructor
      }
    }
    _exit(4);  // never prepared: the test fails below
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  ASSERT_TRUE(fs::exists(fs::path(dir.path()) / "journal-next.nzj.tmp"));
  uint64_t seen = 0;
  RecoveryReport rep;
  auto j = Journal::Open(
      opt, 2, [&](const JournalRecord&) { ++seen; }, &rep);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_FALSE(fs::exists(fs::path(dir.path()) / "journal-next.nzj.tmp"));
  EXPECT_GT(seen, 100u);
  EXPECT_EQ(rep.records, seen);
  EXPECT_EQ((*j)->next_sequence(), seen + 1);
  ASSERT_EQ(AppendRec(**j, recs[0], 0), AppendResult::kOk);
}

TEST(Journal, TruncationAtEveryBoundaryAndMidRecordRecoversLastCompleteRecord) {
  TempDir src;
  const std::vector<Rec> recs = Scenario(12);
  JournalOptions opt{.dir = src.path(), .segment_bytes = 1 << 16, .fsync = FsyncPolicy::kNever};
  std::vector<size_t> ends;  // file offset after record k (ends[0] = after header)
  {
    auto j = Journal::Open(opt, 1, NoVisit, nullptr);
    ASSERT_TRUE(j.ok()) << j.status();
    ends.push_back((*j)->segment_offset());
    for (size_t i = 0; i < recs.size(); ++i) {
      ASSERT_EQ(AppendRec(**j, recs[i], i), AppendResult::kOk);
      ends.push_back((*j)->segment_offset());
    }
  }
  const std::string seg = src.path() + "/journal-00000000000000000001.nzj";
  std::vector<char> bytes(fs::file_size(seg));
  std::ifstream(seg, std::ios::binary)
      .read(bytes.data(), static_cast<std::streamsize>(bytes.size()));

  std::vector<std::string> expected;  // digest after k records
  {
    OrderManager oms(kOmsOpts);
    expected.push_back(Digest(oms));
    for (const Rec& r : recs) {
      ApplyRec(oms, r);
      expected.push_back(Digest(oms));
    }
  }
  std::vector<size_t> cuts(ends.begin(), ends.end());
  std::mt19937_64 rng(7);
  for (size_t k = 0; k + 1 < ends.size(); ++k) {
    for (int n = 0; n < 3; ++n) cuts.push_back(ends[k] + 1 + rng() % (ends[k + 1] - ends[k] - 1));
  }
  int checked = 0;
  for (size_t cut : cuts) {
    const size_t k =
        static_cast<size_t>(std::upper_bound(ends.begin(), ends.end(), cut) - ends.begin()) - 1;
    const bool boundary = ends[k] == cut;
    TempDir dst;
    std::ofstream(dst.path() + "/journal-00000000000000000001.nzj", std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(cut));
    OrderManager oms(kOmsOpts);
    RecoveryReport rep;
    JournalOptions o2 = opt;
    o2.dir = dst.path();
    auto j = OpenAndRecover(o2, 2, &oms, &rep);
    ASSERT_TRUE(j.ok()) << j.status();
    ASSERT_EQ(rep.records, k) << "cut " << cut;
    EXPECT_EQ(rep.torn_tail, !boundary) << "cut " << cut << " " << rep.tail_reason;
    ASSERT_EQ(Digest(oms), expected[k]) << "cut " << cut;
    // Appending after the truncation continues cleanly: reopen sees k + 1 records, no torn tail.
    ASSERT_EQ(AppendRec(**j, recs[k < recs.size() ? k : 0], 99), AppendResult::kOk);
    j->reset();
    auto again = ReadJournal(dst.path(), NoVisit);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->records, k + 1);
    EXPECT_FALSE(again->torn_tail) << again->tail_reason;
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(ends.size() + 3 * (ends.size() - 1)));
}

TEST(Journal, CorruptByteStopsAtThatRecord) {
  TempDir dir;
  const std::vector<Rec> recs = Scenario(5);
  JournalOptions opt{.dir = dir.path(), .segment_bytes = 1 << 16, .fsync = FsyncPolicy::kNever};
  std::vector<size_t> ends;
  {
    auto j = Journal::Open(opt, 1, NoVisit, nullptr);
    ASSERT_TRUE(j.ok());
    for (const Rec& r : recs) {
      ends.push_back((*j)->segment_offset());
      ASSERT_EQ(AppendRec(**j, r, 0), AppendResult::kOk);
    }
  }
  const std::string seg = dir.path() + "/journal-00000000000000000001.nzj";
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(ends[3] + 40));
    f.put('\x5a');
  }
  RecoveryReport rep;
  OrderManager oms(kOmsOpts);
  auto j = OpenAndRecover(opt, 2, &oms, &rep);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(rep.records, 3u);
  EXPECT_TRUE(rep.torn_tail);
  EXPECT_EQ(rep.tail_reason, "checksum mismatch");
  EXPECT_EQ(rep.tail_offset, ends[3]);
  EXPECT_EQ((*j)->next_sequence(), 4u);
}

TEST(Journal, RotationBySizeAndRecoveryAcrossSegments) {
  TempDir dir;
  const std::vector<Rec> recs = Scenario(60);
  JournalOptions opt{.dir = dir.path(),
                     .segment_bytes = 4096,
                     .fsync = FsyncPolicy::kInterval,
                     .fsync_interval_ns = 1000};
  {
    auto j = Journal::Open(opt, 1, NoVisit, nullptr);
    ASSERT_TRUE(j.ok());
    for (size_t i = 0; i < recs.size(); ++i) {
      ASSERT_EQ(AppendRec(**j, recs[i], static_cast<int64_t>(i) * 300), AppendResult::kOk);
    }
    EXPECT_TRUE((*j)->MaybeSync(1'000'000'000));
  }
  OrderManager expected(kOmsOpts);
  for (const Rec& r : recs) ApplyRec(expected, r);
  OrderManager got(kOmsOpts);
  RecoveryReport rep;
  auto j = OpenAndRecover(opt, 2, &got, &rep);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_GT(rep.segments, 5u);
  EXPECT_EQ(rep.records, recs.size());
  EXPECT_EQ(Digest(got), Digest(expected));
  j->reset();
  // Damage in a middle segment is data loss, never silently skipped.
  std::vector<std::string> segs;
  for (const auto& e : fs::directory_iterator(dir.path())) segs.push_back(e.path());
  std::sort(segs.begin(), segs.end());
  {
    // A byte every reader checks: inside the first record's header (a fixed offset further in
    // can land in a record's padding, which no checksum covers), inverted so it surely changes.
    std::fstream f(segs[2], std::ios::in | std::ios::out | std::ios::binary);
    const std::streamoff at = static_cast<std::streamoff>(kSegmentHeaderSize + 8);
    f.seekg(at);
    const char was = static_cast<char>(f.get());
    f.seekp(at);
    f.put(static_cast<char>(~was));
  }
  auto bad = ReadJournal(dir.path(), NoVisit);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss) << bad.status();
}

TEST(Journal, EveryRecordPolicyAndBadOptions) {
  TempDir dir;
  JournalOptions opt{.dir = dir.path(), .segment_bytes = 4096, .fsync = FsyncPolicy::kEveryRecord};
  auto j = Journal::Open(opt, 1, NoVisit, nullptr);
  ASSERT_TRUE(j.ok());
  OrderCmd c;
  EXPECT_EQ((*j)->AppendCmd(c, 1), AppendResult::kOk);
  EXPECT_EQ((*j)->Append(RecordType::kOrderCmd, &c, kMaxRecordPayload + 1, 1),
            AppendResult::kTooLarge);
  EXPECT_TRUE((*j)->Sync().ok());
  EXPECT_TRUE((*j)->Close().ok());
  EXPECT_EQ((*j)->AppendCmd(c, 1), AppendResult::kClosed);
  opt.segment_bytes = 1000;
  EXPECT_EQ(Journal::Open(opt, 1, NoVisit, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadJournal(dir.path() + "/nope", NoVisit).status().code(),
            absl::StatusCode::kNotFound);
}

// A child appends records and publishes, after each, how many it has fully appended; the parent
// kills it with SIGKILL at a random point. Everything reported must be there and intact.
TEST(Journal, SigkilledWriterLosesNothingItAppended) {
  std::mt19937_64 rng(static_cast<uint64_t>(getpid()));
  for (int round = 0; round < 5; ++round) {
    TempDir dir;
    auto* progress = static_cast<std::atomic<uint64_t>*>(
        mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(progress, MAP_FAILED);
    new (progress) std::atomic<uint64_t>(0);
    JournalOptions opt{.dir = dir.path(), .segment_bytes = 1 << 16, .fsync = FsyncPolicy::kNever};
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto j = Journal::Open(opt, 1, NoVisit, nullptr);
      if (!j.ok()) _exit(2);
      for (uint64_t i = 1;; ++i) {
        OrderCmd c;
        c.client_order_id = i;
        c.intent_id = i * 7;
        if ((*j)->AppendCmd(c, static_cast<int64_t>(i)) != AppendResult::kOk) _exit(3);
        progress->store(i, std::memory_order_release);
      }
    }
    const uint64_t target = 100 + rng() % 3000;  // crosses several segment rotations
    while (progress->load(std::memory_order_acquire) < target) usleep(50);
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << status;
    const uint64_t reported = progress->load(std::memory_order_acquire);
    uint64_t seen = 0;
    bool intact = true;
    auto rep = ReadJournal(dir.path(), [&](const JournalRecord& r) {
      ++seen;
      OrderCmd c;
      std::memcpy(&c, r.payload, sizeof(c));
      intact = intact && r.size == sizeof(c) && r.sequence == seen && c.client_order_id == seen &&
               c.intent_id == seen * 7;
    });
    ASSERT_TRUE(rep.ok()) << rep.status();
    EXPECT_TRUE(intact);
    EXPECT_GE(seen, reported) << "round " << round;
    EXPECT_LE(seen, reported + 1);  // at most the one it was writing when killed
    munmap(progress, 4096);
  }
}

}  // namespace
}  // namespace nzeza::oms
