#include "nzeza/app/logger.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace nzeza::app {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

class TempPath {
 public:
  TempPath() {
    char dir[] = "/tmp/nzeza_logger_test_XXXXXX";
    dir_ = mkdtemp(dir);
    path_ = dir_ + "/log";
  }
  ~TempPath() {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
};

LogRecord Record(const char* fmt, std::initializer_list<int64_t> args, std::string_view text = {}) {
  LogRecord r;
  r.fmt = fmt;
  for (int64_t a : args) r.args[r.nargs++] = a;
  if (!text.empty()) std::memcpy(r.text, text.data(), text.size());
  r.text_len = static_cast<uint8_t>(text.size());
  return r;
}

std::string Format(const LogRecord& r) {
  char buf[256];
  return std::string(buf, FormatLogMessage(r, buf, sizeof(buf)));
}

TEST(LogFormat, Placeholders) {
  EXPECT_EQ(Format(Record("order {} at {.2} x {.8}", {7, 4325123, 150000})),
            "order 7 at 43251.23 x 0.00150000");
  EXPECT_EQ(Format(Record("neg {} hex {x}", {-5, 255})), "neg -5 hex ff");
  EXPECT_EQ(Format(Record("venue said {s}!", {}, "rate limited")), "venue said rate limited!");
  EXPECT_EQ(Format(Record("braces {{}} and {} missing {}", {1})), "braces {} and 1 missing <?>");
  EXPECT_EQ(Format(Record("bad {.99} spec {q}", {1, 2})), "bad <?> spec <?>");
  EXPECT_EQ(Format(Record("unterminated {", {})), "unterminated {");
  EXPECT_EQ(Format(Record("price {.2}", {-5})), "price -0.05");
  char small[5];
  EXPECT_EQ(FormatLogMessage(Record("0123456789", {}), small, sizeof(small)), 5u);
}

TEST(Logger, WritesLinesWithLevelAndProducerName) {
  TempPath tmp;
  absl::StatusOr<std::unique_ptr<Logger>> log = Logger::Start({.file = tmp.path()});
  ASSERT_TRUE(log.ok()) << log.status();
  absl::StatusOr<LogProducer> p = (*log)->MakeProducer("risk");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->Log(LogLevel::kWarn, "refused order {} price {.2}", 42, int64_t{123456}));
  EXPECT_FALSE(p->Log(LogLevel::kDebug, "below the level {}", 1));
  EXPECT_TRUE(p->Log(LogLevel::kInfo, "empty text [{s}]", std::string_view()));
  EXPECT_TRUE((*log)->LogText(LogLevel::kError, std::string(300, 'z')));
  ASSERT_TRUE((*log)->Flush(absl::Seconds(10)));
  const std::vector<std::string> lines = Lines(ReadFile(tmp.path()));
  ASSERT_EQ(lines.size(), 3u) << ReadFile(tmp.path());
  // Two producers ("risk" and the control plane's "nzeza"): their lines may interleave in any
  // order; each producer's own lines keep theirs.
  auto find = [&](std::string_view text) -> const std::string* {
    for (const std::string& l : lines) {
      if (l.find(text) != std::string::npos) return &l;
    }
    return nullptr;
  };
  // "2025-11-25T05:02:00.123456Z WARN  risk: refused order 42 price 1234.56"
  const std::string* warn = find(" WARN  risk: refused order 42 price 1234.56");
  ASSERT_NE(warn, nullptr) << ReadFile(tmp.path());
  EXPECT_EQ(warn->size(), 27 + std::string(" WARN  risk: refused order 42 price 1234.56").size());
  EXPECT_EQ((*warn)[4], '-');
  EXPECT_EQ((*warn)[10], 'T');
  EXPECT_EQ((*warn)[26], 'Z');
  const std::string* info = find(" INFO  risk: empty text []");
  ASSERT_NE(info, nullptr);
  EXPECT_LT(warn, info) << "one producer's records keep their order";
  EXPECT_NE(find(" ERROR nzeza: " + std::string(300, 'z')), nullptr);
  EXPECT_EQ((*log)->dropped(), 0u);
  (*log)->Stop();
  EXPECT_FALSE(p->Log(LogLevel::kError, "after stop")) << "a stopped logger takes nothing";
}

// Several producers at once: nothing lost (the queue is large enough), each producer's records
// in its own order.
TEST(Logger, ConcurrentProducersKeepTheirOrder) {
  TempPath tmp;
  absl::StatusOr<std::unique_ptr<Logger>> log =
      Logger::Start({.file = tmp.path(), .capacity = 1 << 16});
  ASSERT_TRUE(log.ok());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<LogProducer> producers;
  for (int t = 0; t < kThreads; ++t) {
    absl::StatusOr<LogProducer> p = (*log)->MakeProducer("t" + std::to_string(t));
    ASSERT_TRUE(p.ok());
    producers.push_back(std::move(*p));
  }
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!producers[t].Log(LogLevel::kInfo, "thread {} seq {}", t, i)) ++refused;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(refused.load(), 0);
  ASSERT_TRUE((*log)->Flush(absl::Seconds(30)));
  (*log)->Stop();
  EXPECT_EQ((*log)->dropped(), 0u);

  std::vector<int> next(kThreads, 0);
  int total = 0;
  for (const std::string& line : Lines(ReadFile(tmp.path()))) {
    int t = -1;
    int seq = -1;
    const size_t at = line.find(": thread ");
    ASSERT_NE(at, std::string::npos) << line;
    ASSERT_EQ(std::sscanf(line.c_str() + at, ": thread %d seq %d", &t, &seq), 2) << line;
    ASSERT_GE(t, 0);
    ASSERT_LT(t, kThreads);
    EXPECT_NE(line.find(" t" + std::to_string(t) + ": "), std::string::npos) << line;
    ASSERT_EQ(seq, next[t]) << "thread " << t << " out of order";
    ++next[t];
    ++total;
  }
  EXPECT_EQ(total, kThreads * kPerThread);
}

// A sink nobody reads: the queue fills, records are dropped and counted, and the producer never
// waits. Then the reader drains the pipe: what was written plus what was dropped is everything.
TEST(Logger, FullQueueDropsAndCountsWithoutBlocking) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  absl::StatusOr<std::unique_ptr<Logger>> log = Logger::Start({.fd = fds[1], .capacity = 1024});
  ASSERT_TRUE(log.ok());
  absl::StatusOr<LogProducer> p = (*log)->MakeProducer("hot");
  ASSERT_TRUE(p.ok());
  constexpr int kRecords = 50'000;
  int refused = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRecords; ++i) {
    if (!p->Log(LogLevel::kInfo, "record {} with some padding text to fill the pipe", i)) {
      ++refused;
    }
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(20)) << "the producer must never wait on the sink";
  EXPECT_GT(refused, 0);
  EXPECT_EQ(p->dropped(), static_cast<uint64_t>(refused));
  EXPECT_GE((*log)->dropped(), static_cast<uint64_t>(refused));
  EXPECT_EQ(p->enqueued() + p->dropped(), static_cast<uint64_t>(kRecords));

  std::string received;
  std::thread reader([&] {
    char buf[65536];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof(buf))) > 0) received.append(buf, static_cast<size_t>(n));
  });
  (*log)->Stop(absl::Seconds(30));
  close(fds[1]);
  reader.join();
  close(fds[0]);

  int data_lines = 0;
  int last = -1;
  bool reported = false;
  for (const std::string& line : Lines(received)) {
    if (line.rfind("logger: ", 0) == 0) {
      reported = true;
      continue;
    }
    int seq = -1;
    const size_t at = line.find("hot: record ");
    ASSERT_NE(at, std::string::npos) << line;
    ASSERT_EQ(std::sscanf(line.c_str() + at, "hot: record %d", &seq), 1);
    EXPECT_GT(seq, last) << "order kept across drops";
    last = seq;
    ++data_lines;
  }
  EXPECT_TRUE(reported) << "the logger reports drops in the output";
  EXPECT_EQ(static_cast<uint64_t>(data_lines) + (*log)->dropped(), static_cast<uint64_t>(kRecords));
}

// Stop() returns within its bound even when the sink never drains.
TEST(Logger, StopIsBoundedWithAStuckSink) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  absl::StatusOr<std::unique_ptr<Logger>> log = Logger::Start({.fd = fds[1], .capacity = 4096});
  ASSERT_TRUE(log.ok());
  absl::StatusOr<LogProducer> p = (*log)->MakeProducer("hot");
  ASSERT_TRUE(p.ok());
  for (int i = 0; i < 20'000; ++i) (void)p->Log(LogLevel::kInfo, "record {} padding padding", i);
  EXPECT_FALSE((*log)->Flush(absl::Milliseconds(100))) << "cannot flush into a full pipe";
  const auto start = std::chrono::steady_clock::now();
  (*log)->Stop(absl::Milliseconds(200));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(p->enqueued() + p->dropped(), 20'000u);
  EXPECT_GT((*log)->dropped(), p->dropped()) << "records left at the deadline count as dropped";
  close(fds[0]);
  close(fds[1]);
}

TEST(Logger, ProducerLimitAndBadFile) {
  absl::StatusOr<std::unique_ptr<Logger>> bad =
      Logger::Start({.file = "/nonexistent/dir/nzeza.log"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("/nonexistent/dir/nzeza.log"),
            std::string::npos);

  int null = open("/dev/null", O_WRONLY);
  absl::StatusOr<std::unique_ptr<Logger>> log = Logger::Start({.fd = null, .capacity = 1024});
  ASSERT_TRUE(log.ok());
  std::vector<LogProducer> ps;
  for (size_t i = 1; i < kLogMaxProducers; ++i) {  // one slot is the control plane's
    absl::StatusOr<LogProducer> p = (*log)->MakeProducer("p");
    ASSERT_TRUE(p.ok()) << i;
    ps.push_back(std::move(*p));
  }
  absl::StatusOr<LogProducer> extra = (*log)->MakeProducer("p");
  EXPECT_EQ(extra.status().code(), absl::StatusCode::kResourceExhausted);
  (*log)->Stop();
  close(null);
}

}  // namespace
}  // namespace nzeza::app
