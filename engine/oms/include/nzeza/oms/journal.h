// The order journal: append-only, versioned, checksummed records of every order command before it
// is sent and every venue event after it arrives, in memory-mapped segment files.
//
//   JournalOptions opt{.dir = "/var/lib/nzeza/journal", .fsync = FsyncPolicy::kInterval};
//   RecoveryReport report;
//   absl::StatusOr<std::unique_ptr<Journal>> j = Journal::Open(opt, WallClock::NowNanos(),
//       [&](const JournalRecord& r) { /* replay: see recovery.h */ }, &report);
//   ...
//   if ((*j)->AppendCmd(cmd, now) != AppendResult::kOk) { /* trip the breaker */ }
//   Send(cmd);
//
// ## Format (version 1, little-endian)
// A segment file `journal-<first sequence, 20 digits>.nzj` is pre-sized (ftruncate) to
// `segment_bytes` and mapped MAP_SHARED. It starts with a 64-byte SegmentHeader (magic
// "NZJRNL\0\1", version, created Unix ns, first sequence, CRC-32C of the header), then records,
// each a 32-byte RecordHeader (payload length, type, sequence, timestamp, CRC-32C over the header
// with its crc field zero and then the payload) followed by the payload (the raw OrderCmd or
// ExecEvent bytes) padded to 8 bytes. Sequences start at 1 and continue across segments. The
// unused rest of a segment is zero; a zero length field marks the end.
//
// A record is complete once its checksum matches. A reader stops at the first record that is
// short, fails its checksum, or breaks the sequence, and reports why; the writer (Open) truncates
// the segment there so a torn record is never misread or resurrected.
//
// ## Durability: what each FsyncPolicy survives
// Append is a memcpy into the shared mapping: no syscall per record. The bytes are in the kernel's
// page cache the moment Append returns, so **a killed process (SIGKILL, crash, OOM kill) loses
// nothing it appended, under every policy**. What the policies add is survival of a kernel crash
// or power loss, which needs the pages on the device (msync MS_SYNC):
// - kEveryRecord: msync after each append. Survives power loss for every record whose Append
//   returned kOk. Cost: a syscall and a device flush per record (tens of us to ms): not for the hot
//   path on a slow disk.
// - kInterval: msync when at least `fsync_interval_ns` passed since the last one, checked in
//   Append and in MaybeSync (call it from the stage's idle Poll). Power loss loses at most the
//   records of the last interval (plus, if the stage stopped calling either, those since).
// - kNever: only Sync(), Rotate() and Close() flush. Power loss may lose everything the kernel had
//   not yet written back (by default dirty pages older than ~30 s are written back).
// With any policy the device must honour flushes (no volatile write cache that lies).
//
// ## Costs off the steady state
// The first write to each 4 KiB page takes a page fault (once per ~25 records): ~0.2 us on bare
// metal, ~29 us measured on the development VM (shadow paging). Segments are fallocate'd at
// creation (no block allocation in the fault), and Maintain(), called by the order stage when
// idle, does the rest off the hot path:
// - it touches the pages ahead of the tail (kPrefaultWindow, kPrefaultChunk per call) so appends
//   find them mapped;
// - once the current segment is half full it prepares the next one (create
//   `journal-next.nzj.tmp`, size, fallocate, map, prefault its first window), so rotation inside
//   Append is a header write, one rename() to the segment's real name and a pointer swap instead
//   of file creation and mapping (measured 13-18 ms on the development VM);
// - the segment rotated away is synced (unless kNever) and unmapped by the next Maintain, not by
//   Append (unmapping a dirty 64 MiB mapping alone takes milliseconds).
// Without Maintain calls, rotation does all of it inline (correct, slow). A leftover
// `journal-next.nzj.tmp` (killed between preparing and using it) holds no records and is removed by
// Open. Under kEveryRecord the rename is made durable (directory fsync) before the record that
// needed the new segment is written; under kInterval by the next sync in Maintain. Dirty-page
// writeback can still throttle or re-protect pages under a sustained write rate far above what
// trading produces.
#ifndef NZEZA_OMS_JOURNAL_H_
#define NZEZA_OMS_JOURNAL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include <nzeza/core/events.h>
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace nzeza::oms {

inline constexpr uint32_t kJournalVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 64;
inline constexpr size_t kRecordHeaderSize = 32;
inline constexpr uint32_t kMaxRecordPayload = 4096;

enum class RecordType : uint16_t {
  kOrderCmd = 1,      // payload: OrderCmd, journaled before the command is sent
  kExecEvent = 2,     // payload: ExecEvent, journaled after it arrives, before it is applied
  kVenueOrderId = 3,  // payload: VenueOrderIdRecord, journaled when the venue names an order
  kClockAnchor = 4,   // payload: ClockAnchorRecord, journaled by each run when it opens the journal
};

// The longest venue order id the engine keeps (Coinbase and dYdX: 36-character UUIDs; Binance: a
// decimal of up to 20 digits).
inline constexpr size_t kMaxVenueOrderIdBytes = 48;

// The venue's id for one of our orders, so that a recovered order can be canceled by it.
struct VenueOrderIdRecord {
  uint64_t client_order_id = 0;
  uint32_t length = 0;  // bytes of id used
  uint32_t reserved = 0;
  char id[kMaxVenueOrderIdBytes] = {};
};
static_assert(sizeof(VenueOrderIdRecord) == 64);
static_assert(std::is_trivially_copyable_v<VenueOrderIdRecord>);

// Record timestamps are the writer's monotonic clock (the order stage's TscClock, calibrated
// against CLOCK_MONOTONIC), which means nothing across reboots and is not wall time. Each run
// journals one anchor when it opens the journal: a reader maps the timestamp t of any later
// record (until the next anchor) to Unix time as t - monotonic_ns + unix_ns, e.g. to find the
// fills of today (oms::ReplayDayPnl).
struct ClockAnchorRecord {
  int64_t unix_ns = 0;       // wall clock (CLOCK_REALTIME) ...
  int64_t monotonic_ns = 0;  // ... and the clock that stamps this run's records, read together
};
static_assert(sizeof(ClockAnchorRecord) == 16);
static_assert(std::is_trivially_copyable_v<ClockAnchorRecord>);

enum class FsyncPolicy : uint8_t { kEveryRecord = 0, kInterval = 1, kNever = 2 };

struct JournalOptions {
  std::string dir;                     // created if missing
  size_t segment_bytes = 64ull << 20;  // per segment file; at least 4 KiB
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  int64_t fsync_interval_ns = 10'000'000;  // kInterval
};

// One record as read back. `payload` points into a mapping valid only during the visit.
struct JournalRecord {
  RecordType type;
  uint64_t sequence;
  int64_t timestamp_ns;
  const void* payload;
  uint32_t size;
};

// What a scan found.
struct RecoveryReport {
  uint64_t segments = 0;
  uint64_t records = 0;
  uint64_t last_sequence = 0;  // 0 if the journal is empty
  bool torn_tail = false;      // a torn or corrupt tail was found (and, by Open, truncated)
  std::string tail_reason;     // why the scan stopped early, e.g. "checksum mismatch"
  std::string tail_segment;    // the file it stopped in
  uint64_t tail_offset = 0;    // byte offset of the first bad record in that file
};

enum class AppendResult : uint8_t {
  kOk = 0,
  kTooLarge = 1,      // payload over kMaxRecordPayload: nothing written
  kRotateFailed = 2,  // segment full and the next could not be created: nothing written
  kSyncFailed = 3,    // written (a killed process keeps it) but msync failed: not durable
  kClosed = 4,
};

const char* AppendResultName(AppendResult r) noexcept;

// Reads every complete record of the journal in `dir` in sequence order without modifying
// anything. A torn tail in the last segment is reported in the RecoveryReport (OK status).
// Errors: NotFound (no such directory), DataLoss (a damaged segment followed by later segments,
// or a segment missing from the sequence: the message names the file and offset), Internal
// (open/mmap failed, with errno text). Thread: any. Allocates: file names only.
absl::StatusOr<RecoveryReport> ReadJournal(const std::string& dir,
                                           absl::FunctionRef<void(const JournalRecord&)> visit);

// The writer. Thread: owned by the order stage; every method from that thread.
// Lifetime: owns the fd and mapping of the current segment; the destructor calls Close().
class Journal {
 public:
  // Opens (creating if needed) the journal in options.dir: replays every complete record through
  // `visit`, truncates a torn tail (reported in *report), and positions the writer after the last
  // complete record. `now_unix_ns` stamps new segment headers. Errors: InvalidArgument (bad
  // options), DataLoss (see ReadJournal; nothing is modified then), Internal (syscall failure).
  static absl::StatusOr<std::unique_ptr<Journal>> Open(
      const JournalOptions& options, int64_t now_unix_ns,
      absl::FunctionRef<void(const JournalRecord&)> visit, RecoveryReport* report);

  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Appends one record stamped `now_ns` (the caller's clock). Hot path: memcpy + CRC, no syscall
  // unless the fsync policy or a full segment asks for one. Allocates: never (rotation: a file
  // name). Complexity: O(size).
  [[nodiscard]] AppendResult Append(RecordType type, const void* payload, uint32_t size,
                                    int64_t now_ns) noexcept;
  [[nodiscard]] AppendResult AppendCmd(const OrderCmd& cmd, int64_t now_ns) noexcept {
    return Append(RecordType::kOrderCmd, &cmd, sizeof(cmd), now_ns);
  }
  [[nodiscard]] AppendResult AppendExec(const ExecEvent& ev, int64_t now_ns) noexcept {
    return Append(RecordType::kExecEvent, &ev, sizeof(ev), now_ns);
  }
  // The run's clock anchor (see ClockAnchorRecord), stamped monotonic_ns. Call once after Open,
  // before anything else is appended.
  [[nodiscard]] AppendResult AppendClockAnchor(int64_t unix_ns, int64_t monotonic_ns) noexcept {
    const ClockAnchorRecord r{unix_ns, monotonic_ns};
    return Append(RecordType::kClockAnchor, &r, sizeof(r), monotonic_ns);
  }
  // kTooLarge when the id is empty or longer than kMaxVenueOrderIdBytes (nothing written).
  [[nodiscard]] AppendResult AppendVenueOrderId(uint64_t client_order_id,
                                                std::string_view venue_order_id,
                                                int64_t now_ns) noexcept;

  // kInterval: syncs if the interval has passed. Call when idle. Returns false if msync failed.
  [[nodiscard]] bool MaybeSync(int64_t now_ns) noexcept;
  // Idle-time upkeep, bounded: MaybeSync; then at most one of: retire the segment rotated away
  // (sync unless kNever, unmap, close), prepare the next segment once this one is half full, or
  // fault in (writable) kPrefaultChunk more bytes ahead of the tail (of the prepared segment
  // once the current one's window is ready). An append to a page not yet faulted in costs a page
  // fault (and, on a file system that allocates blocks lazily, block allocation): a few
  // microseconds once per 4 KiB, about 25 records. The order stage calls this when it has
  // nothing else to do, so appends find their pages ready. Returns false if msync failed or the
  // next segment could not be prepared (rotation then does it inline and reports its own error).
  [[nodiscard]] bool Maintain(int64_t now_ns) noexcept;
  static constexpr size_t kPrefaultWindow = 256u << 10;
  static constexpr size_t kPrefaultChunk = 16u << 10;
  // Bytes of the current segment faulted in ahead of the tail (for tests and the bench).
  size_t prefaulted_ahead() const noexcept {
    return prefaulted_ > offset_ ? prefaulted_ - offset_ : 0;
  }
  // Flushes everything appended to the device. Errors: Internal (msync, with errno text).
  absl::Status Sync();
  // Starts a new segment now (the prepared one if Maintain made it). Errors: Internal (file
  // creation, ftruncate, mmap, rename).
  absl::Status Rotate(int64_t now_unix_ns);
  // Whether the next segment is prepared (for tests and the bench).
  bool next_prepared() const noexcept { return next_.base != nullptr; }
  // Syncs (under every policy: closing is off the hot path) and unmaps. Idempotent.
  absl::Status Close();

  uint64_t next_sequence() const noexcept { return next_sequence_; }
  // Bytes used in the current segment (header included).
  size_t segment_offset() const noexcept { return offset_; }
  const std::string& segment_path() const noexcept { return path_; }

 private:
  // A mapped segment file that is not the current one: the prepared next, or the retired last.
  struct Mapping {
    int fd = -1;
    char* base = nullptr;
    size_t capacity = 0;
    size_t prefaulted = 0;
    std::string path;
  };
  explicit Journal(const JournalOptions& options) : options_(options) {}
  absl::Status MapFile(const std::string& path, size_t valid_bytes, Mapping* out);
  absl::Status PrepareNext();
  absl::Status UsePrepared(int64_t now_unix_ns);
  absl::Status Retire();
  void Drop(Mapping* m) noexcept;
  void WriteHeader(uint64_t first_sequence, int64_t now_unix_ns) noexcept;
  void SyncDir() noexcept;
  std::string NextPath() const;
  absl::Status OpenSegment(const std::string& path, size_t valid_bytes, bool fresh,
                           uint64_t first_sequence, int64_t now_unix_ns);
  absl::Status UnmapSegment(bool sync);
  bool SyncRange() noexcept;
  void Prefault(size_t max_bytes) noexcept;

  JournalOptions options_;
  std::string path_;
  int fd_ = -1;
  char* base_ = nullptr;
  size_t capacity_ = 0;
  size_t offset_ = 0;
  size_t synced_offset_ = 0;
  size_t prefaulted_ = 0;  // [0, prefaulted_) of the segment is faulted in writable
  Mapping next_;           // prepared by Maintain: the segment rotation switches to
  Mapping retired_;        // rotated away, not yet synced and unmapped
  bool dir_sync_pending_ = false;
  uint64_t next_sequence_ = 1;
  int64_t last_sync_ns_ = 0;
  int64_t last_now_ns_ = 0;
};

}  // namespace nzeza::oms

#endif  // NZEZA_OMS_JOURNAL_H_
