// DayPnlReplay / ReplayDayPnl: the trading day's realized PnL and fees rebuilt from the journal,
// with record times mapped to wall time by each run's clock anchor.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <nzeza/oms/journal.h>
#include <nzeza/oms/recovery.h>

namespace nzeza::oms {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDay = 86'400'000'000'000;
constexpr int64_t kHour = 3'600'000'000'000;
constexpr int64_t kToday = 20'000 * kDay;  // a UTC midnight
constexpr OrderManager::Options kOmsOptions{.max_orders = 64, .max_instruments = 4};

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/nzeza_daypnl_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes orders and fills into a journal, stamping records with a monotonic time it advances.
class Writer {
 public:
  explicit Writer(const std::string& dir) {
    RecoveryReport rep;
    auto j = Journal::Open(
        {.dir = dir, .segment_bytes = 1 << 16, .fsync = FsyncPolicy::kNever}, kToday,
        [](const JournalRecord&) {}, &rep);
    EXPECT_TRUE(j.ok()) << j.status();
    j_ = std::move(*j);
  }
  // A new run: its clock starts at `mono` when the wall clock reads `unix`.
  void Anchor(int64_t unix_ns, int64_t mono) {
    mono_ = mono;
    ASSERT_EQ(j_->AppendClockAnchor(unix_ns, mono), AppendResult::kOk);
  }
  // One order of `size` at `price`, filled at once by one trade (journaled `repeat` times, as a
  // duplicate delivery would be); the fill is stamped `at` after the anchor's time.
  void Trade(uint64_t id, Side side, int64_t price, int64_t size, int64_t fee, int64_t at,
             int repeat = 1, int64_t venue_ns = 0) {
    OrderCmd c;
    c.type = CmdType::kNew;
    c.side = side;
    c.client_order_id = id;
    c.price = price;
    c.size = size;
    ASSERT_EQ(j_->AppendCmd(c, mono_ + at - 1), AppendResult::kOk);
    ExecEvent f;
    f.type = ExecType::kFill;
    f.side = side;
    f.client_order_id = id;
    f.trade_id = 1000 + id;
    f.last_price = price;
    f.last_size = size;
    f.cum_size = size;
    f.leaves_size = 0;
    f.fee = fee;
    f.venue_ns = venue_ns;
    for (int k = 0; k < repeat; ++k) {
      ASSERT_EQ(j_->AppendExec(f, mono_ + at), AppendResult::kOk);
    }
  }
  Journal& journal() { return *j_; }

 private:
  std::unique_ptr<Journal> j_;
  int64_t mono_ = 0;
};

// A restart on a journal with yesterday's and today's fills: only today's count.
TEST(ReplayDayPnl, OnlyTodaysFillsCount) {
  TempDir dir;
  {
    Writer w(dir.path());
    w.Anchor(kToday - 10 * kHour, 5'000'000);  // yesterday 14:00
    w.Trade(1, Side::kBuy, 1000, 100, 7, kHour);
    w.Trade(2, Side::kSell, 950, 100, 5, 2 * kHour);  // -5000 realized, yesterday 16:00
    // Today, after a reboot: the monotonic clock started again from a small value.
    w.Anchor(kToday + 9 * kHour, 1'000);
    w.Trade(3, Side::kBuy, 1000, 100, 3, kHour);
    w.Trade(4, Side::kSell, 900, 60, 2, 2 * kHour, /*repeat=*/2);  // delivered twice: once
  }
  absl::StatusOr<DayPnlReport> r = ReplayDayPnl(dir.path(), kToday, kOmsOptions);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->instruments.size(), 4u);
  EXPECT_EQ(r->instruments[0].realized, -100 * 60);
  EXPECT_EQ(r->instruments[0].fees, 3 + 2);
  EXPECT_EQ(r->instruments[0].fills, 2u);
  EXPECT_EQ(r->fills_today, 2u);
  EXPECT_EQ(r->fills_earlier, 2u);
  EXPECT_EQ(r->fills_undated, 0u);
  EXPECT_EQ(r->anchors, 2u);
  // The day before: yesterday's two and today's two.
  r = ReplayDayPnl(dir.path(), kToday - kDay, kOmsOptions);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->instruments[0].realized, -5000 - 6000);
  EXPECT_EQ(r->fills_today, 4u);
}

// A fill's time is when it arrived (its record, through the anchor), not when the venue traded:
// risk counted it then, so a restart counts it the same way.
TEST(ReplayDayPnl, ArrivalTimeDecidesTheDayNearMidnight) {
  TempDir dir;
  {
    Writer w(dir.path());
    w.Anchor(kToday - kHour, 0);
    w.Trade(1, Side::kBuy, 1000, 10, 0, kHour - 1, 1, /*venue_ns=*/kToday - 2);  // 23:59:59.99
    w.Trade(2, Side::kSell, 990, 10, 0, kHour + 5, 1, /*venue_ns=*/kToday - 1);  // arrives 00:00
  }
  absl::StatusOr<DayPnlReport> r = ReplayDayPnl(dir.path(), kToday, kOmsOptions);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->fills_earlier, 1u);
  EXPECT_EQ(r->fills_today, 1u);
  EXPECT_EQ(r->instruments[0].realized, -10 * 10);
}

// Journals written before clock anchors: the venue's time where there is one; else the fill is
// counted toward today (a loss is never forgotten) and reported as undated.
TEST(ReplayDayPnl, WithoutAnchorsVenueTimeElseUndatedCounts) {
  TempDir dir;
  {
    Writer w(dir.path());
    w.Trade(1, Side::kBuy, 1000, 10, 1, 0, 1, /*venue_ns=*/kToday - kHour);
    w.Trade(2, Side::kSell, 900, 5, 1, 0, 1, /*venue_ns=*/kToday + kHour);
    w.Trade(3, Side::kSell, 800, 5, 1, 0, 1, /*venue_ns=*/0);
  }
  absl::StatusOr<DayPnlReport> r = ReplayDayPnl(dir.path(), kToday, kOmsOptions);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->fills_earlier, 1u);
  EXPECT_EQ(r->fills_today, 2u);
  EXPECT_EQ(r->fills_undated, 1u);
  EXPECT_EQ(r->instruments[0].realized, -100 * 5 - 200 * 5);
  EXPECT_EQ(r->instruments[0].fees, 2);
}

TEST(ReplayDayPnl, MissingDirectoryIsNotFound) {
  EXPECT_EQ(ReplayDayPnl("/nonexistent/nzeza-journal", kToday, kOmsOptions).status().code(),
            absl::StatusCode::kNotFound);
}

// The anchor record round-trips and the order manager's replay accepts it.
TEST(Journal, ClockAnchorRoundTrips) {
  TempDir dir;
  {
    Writer w(dir.path());
    w.Anchor(kToday + 123, 456);
  }
  int seen = 0;
  absl::StatusOr<RecoveryReport> rep = ReadJournal(dir.path(), [&](const JournalRecord& r) {
    ASSERT_EQ(r.type, RecordType::kClockAnchor);
    ASSERT_EQ(r.size, sizeof(ClockAnchorRecord));
    ClockAnchorRecord a;
    std::memcpy(&a, r.payload, sizeof(a));
    EXPECT_EQ(a.unix_ns, kToday + 123);
    EXPECT_EQ(a.monotonic_ns, 456);
    EXPECT_EQ(r.timestamp_ns, 456);
    OrderManager oms(kOmsOptions);
    EXPECT_EQ(ReplayRecord(r, &oms), OmsResult::kApplied);
    ++seen;
  });
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(seen, 1);
}

}  // namespace
}  // namespace nzeza::oms
