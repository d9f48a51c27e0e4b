#include <nzeza/oms/journal.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#include <nzeza/oms/crc32c.h>
#include "absl/strings/str_cat.h"

namespace nzeza::oms {
namespace {

constexpr char kMagic[8] = {'N', 'Z', 'J', 'R', 'N', 'L', '\0', '\1'};
constexpr size_t kPage = 4096;
constexpr char kNextSegmentName[] = "journal-next.nzj.tmp";

struct SegmentHeader {
  char magic[8];
  uint32_t version;
  uint32_t header_size;
  int64_t created_unix_ns;
  uint64_t first_sequence;
  uint32_t record_header_size;
  uint8_t reserved[24];
  uint32_t crc;  // CRC-32C of the bytes before it
};
static_assert(sizeof(SegmentHeader) == kSegmentHeaderSize);

struct RecordHeader {
  uint32_t length;  // payload bytes (unpadded)
  uint16_t type;
  uint16_t reserved;
  uint64_t sequence;
  int64_t timestamp_ns;
  uint32_t crc;  // CRC-32C of this header (crc = 0) then the payload
  uint32_t reserved2;
};
static_assert(sizeof(RecordHeader) == kRecordHeaderSize);

constexpr size_t Padded(size_t n) { return (n + 7) & ~size_t{7}; }

uint32_t RecordCrc(const RecordHeader& h, const void* payload) noexcept {
  RecordHeader z = h;
  z.crc = 0;
  return Crc32cExtend(Crc32c(&z, sizeof(z)), payload, h.length);
}

std::string ErrnoText(int err) { return absl::StrCat(std::strerror(err), " (errno ", err, ")"); }

std::string SegmentName(uint64_t first_sequence) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "journal-%020" PRIu64 ".nzj", first_sequence);
  return buf;
}

bool AllZero(const char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

// Outcome of scanning one segment's bytes.
struct SegmentScan {
  bool header_ok = false;
  uint64_t first_sequence = 0;
  size_t end = 0;  // offset after the last complete record (0 if the header is bad)
  uint64_t records = 0;
  uint64_t next_sequence = 0;
  std::string torn;  // empty if the segment ends cleanly
};

SegmentScan ScanSegment(const char* base, size_t size, uint64_t expected_sequence,
                        absl::FunctionRef<void(const JournalRecord&)> visit) {
  SegmentScan s;
  s.next_sequence = expected_sequence;
  SegmentHeader sh;
  if (size < sizeof(sh)) {
    s.torn = "segment shorter than its header";
    return s;
  }
  std::memcpy(&sh, base, sizeof(sh));
  if (std::memcmp(sh.magic, kMagic, sizeof(kMagic)) != 0 || sh.version != kJournalVersion ||
      sh.crc != Crc32c(&sh, offsetof(SegmentHeader, crc))) {
    s.torn = AllZero(base, sizeof(sh)) ? "segment header never written"
                                       : "bad segment header (magic, version or checksum)";
    return s;
  }
  s.header_ok = true;
  s.first_sequence = sh.first_sequence;
  s.next_sequence = sh.first_sequence;
  size_t off = kSegmentHeaderSize;
  s.end = off;
  while (true) {
    if (off + kRecordHeaderSize > size) {
      if (!AllZero(base + off, size - off)) s.torn = "short record header at end of file";
      break;
    }
    RecordHeader h;
    std::memcpy(&h, base + off, sizeof(h));
    if (h.length == 0) {
      // End of data, unless a torn write left bytes behind (payload written, header not).
      const size_t probe = std::min(size - off, kRecordHeaderSize + kMaxRecordPayload);
      if (!AllZero(base + off, probe)) s.torn = "non-zero bytes after the last record";
      break;
    }
    if (h.length > kMaxRecordPayload) {
      s.torn = "record length out of range";
      break;
    }
    if (off + kRecordHeaderSize + Padded(h.length) > size) {
      s.torn = "record extends past the end of the file";
      break;
    }
    const char* payload = base + off + kRecordHeaderSize;
    if (h.crc != RecordCrc(h, payload)) {
      s.torn = "checksum mismatch";
      break;
    }
    if (h.sequence != s.next_sequence) {
      s.torn = absl::StrCat("sequence ", h.sequence, " where ", s.next_sequence, " was expected");
      break;
    }
    visit(JournalRecord{static_cast<RecordType>(h.type), h.sequence, h.timestamp_ns, payload,
                        h.length});
    ++s.records;
    ++s.next_sequence;
    off += kRecordHeaderSize + Padded(h.length);
    s.end = off;
  }
  return s;
}

absl::StatusOr<std::vector<std::string>> ListSegments(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    const int err = errno;
    if (err == ENOENT)
      return absl::NotFoundError(absl::StrCat("journal directory ", dir, " does not exist"));
    return absl::InternalError(
        absl::StrCat("cannot list journal directory ", dir, ": ", ErrnoText(err)));
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    const std::string_view n = e->d_name;
    if (n.size() == 32 && n.substr(0, 8) == "journal-" && n.substr(28) == ".nzj") {
      names.emplace_back(n);
    }
  }
  closedir(d);
  std::sort(names.begin(), names.end());  // zero-padded: name order is sequence order
  return names;
}

// Internal scan shared by ReadJournal and Open. `last_end`/`last_path`/`last_header_ok` describe
// the final segment, for the writer.
struct JournalScan {
  RecoveryReport report;
  std::string last_path;
  size_t last_end = 0;
  bool last_header_ok = false;
  uint64_t last_first_sequence = 0;
};

absl::StatusOr<JournalScan> Scan(const std::string& dir,
                                 absl::FunctionRef<void(const JournalRecord&)> visit) {
  absl::StatusOr<std::vector<std::string>> names = ListSegments(dir);
  if (!names.ok()) return names.status();
  JournalScan js;
  uint64_t expected = 0;  // 0: take the first segment's first sequence
  for (size_t i = 0; i < names->size(); ++i) {
    const std::string path = absl::StrCat(dir, "/", (*names)[i]);
    const bool last = i + 1 == names->size();
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return absl::InternalError(absl::StrCat("cannot open ", path, ": ", ErrnoText(errno)));
    struct stat st;
    if (fstat(fd, &st) != 0) {
      const int err = errno;
      close(fd);
      return absl::InternalError(absl::StrCat("cannot stat ", path, ": ", ErrnoText(err)));
    }
    const size_t size = static_cast<size_t>(st.st_size);
    void* map = nullptr;
    if (size > 0) {
      map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (map == MAP_FAILED) {
        const int err = errno;
        close(fd);
        return absl::InternalError(absl::StrCat("cannot map ", path, ": ", ErrnoText(err)));
      }
    }
    close(fd);
    const SegmentScan s =
        ScanSegment(static_cast<const char*>(map), size, expected == 0 ? 1 : expected, visit);
    if (map != nullptr) munmap(map, size);
    ++js.report.segments;
    if (s.header_ok && expected != 0 && s.first_sequence != expected) {
      return absl::DataLossError(absl::StrCat(
          "journal segment ", path, " starts at sequence ", s.first_sequence, " but ", expected,
          " was expected: a segment is missing; restore it or move the later segments aside"));
    }
    js.report.records += s.records;
    expected = s.next_sequence;
    if (!s.torn.empty()) {
      if (!last) {
        return absl::DataLossError(absl::StrCat(
            "journal segment ", path, " is damaged at offset ", s.end, " (", s.torn,
            ") but later segments exist; inspect it and move the later segments aside to recover "
            "up to that point"));
      }
      js.report.torn_tail = true;
      js.report.tail_reason = s.torn;
      js.report.tail_segment = path;
      js.report.tail_offset = s.end;
    }
    if (last) {
      js.last_path = path;
      js.last_end = s.end;
      js.last_header_ok = s.header_ok;
      js.last_first_sequence = s.header_ok ? s.first_sequence : s.next_sequence;
    }
  }
  js.report.last_sequence = expected == 0 ? 0 : expected - 1;
  return js;
}

}  // namespace

const char* AppendResultName(AppendResult r) noexcept {
  switch (r) {
    case AppendResult::kOk:
      return "ok";
    case AppendResult::kTooLarge:
      return "too_large";
    case AppendResult::kRotateFailed:
      return "rotate_failed";
    case AppendResult::kSyncFailed:
      return "sync_failed";
    case AppendResult::kClosed:
      return "closed";
  }
  return "?";
}

absl::StatusOr<RecoveryReport> ReadJournal(const std::string& dir,
                                           absl::FunctionRef<void(const JournalRecord&)> visit) {
  absl::StatusOr<JournalScan> js = Scan(dir, visit);
  if (!js.ok()) return js.status();
  return js->report;
}

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(
    const JournalOptions& options, int64_t now_unix_ns,
    absl::FunctionRef<void(const JournalRecord&)> visit, RecoveryReport* report) {
  if (options.dir.empty()) return absl::InvalidArgumentError("journal dir is empty");
  if (options.segment_bytes < kPage || options.segment_bytes % kPage != 0) {
    return absl::InvalidArgumentError(absl::StrCat("journal segment_bytes ", options.segment_bytes,
                                                   " must be a multiple of 4096, >= 4096"));
  }
  if (options.fsync == FsyncPolicy::kInterval && options.fsync_interval_ns <= 0) {
    return absl::InvalidArgumentError("journal fsync_interval_ns must be > 0 with kInterval");
  }
  if (mkdir(options.dir.c_str(), 0750) != 0 && errno != EEXIST) {
    return absl::InternalError(
        absl::StrCat("cannot create journal directory ", options.dir, ": ", ErrnoText(errno)));
  }
  absl::StatusOr<JournalScan> js = Scan(options.dir, visit);
  if (!js.ok()) return js.status();
  if (report != nullptr) *report = js->report;
  // A segment prepared by a process killed before it rotated into it: no records, no name.
  if (const std::string next = absl::StrCat(options.dir, "/", kNextSegmentName);
      unlink(next.c_str()) != 0 && errno != ENOENT) {
    return absl::InternalError(
        absl::StrCat("cannot remove the unused prepared segment ", next, ": ", ErrnoText(errno)));
  }

  std::unique_ptr<Journal> j(new Journal(options));
  j->next_sequence_ = js->report.last_sequence + 1;
  j->last_sync_ns_ = 0;
  absl::Status st;
  if (js->last_path.empty()) {
    st = j->OpenSegment(absl::StrCat(options.dir, "/", SegmentName(1)), 0, true, 1, now_unix_ns);
  } else if (!js->last_header_ok) {
    // Killed while creating the segment: rewrite it from scratch under its own name.
    if (unlink(js->last_path.c_str()) != 0) {
      return absl::InternalError(
          absl::StrCat("cannot remove torn segment ", js->last_path, ": ", ErrnoText(errno)));
    }
    st = j->OpenSegment(absl::StrCat(options.dir, "/", SegmentName(j->next_sequence_)), 0, true,
                        j->next_sequence_, now_unix_ns);
  } else {
    st = j->OpenSegment(js->last_path, js->last_end, false, js->last_first_sequence, now_unix_ns);
  }
  if (!st.ok()) return st;
  return j;
}

absl::Status Journal::MapFile(const std::string& path, size_t valid_bytes, Mapping* out) {
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0)
    return absl::InternalError(absl::StrCat("cannot open ", path, ": ", ErrnoText(errno)));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return absl::InternalError(absl::StrCat("cannot stat ", path, ": ", ErrnoText(err)));
  }
  size_t capacity = std::max(options_.segment_bytes, static_cast<size_t>(st.st_size));
  capacity = (capacity + kPage - 1) & ~(kPage - 1);
  // Truncating to the last complete record and growing again zero-fills whatever torn bytes lay
  // beyond it, so they can never be read back as a record.
  if (ftruncate(fd, static_cast<off_t>(valid_bytes)) != 0 ||
      ftruncate(fd, static_cast<off_t>(capacity)) != 0) {
    const int err = errno;
    close(fd);
    return absl::InternalError(absl::StrCat("cannot size ", path, " to ", capacity,
                                            " bytes (disk full?): ", ErrnoText(err)));
  }
  // Allocate the segment's blocks now: a write fault on a sparse page would allocate them on the
  // hot path (ext4: delayed allocation in page_mkwrite). ENOSPC here is the disk-full error, at
  // open/rotation instead of as SIGBUS mid-append.
  if (const int err = posix_fallocate(fd, static_cast<off_t>(valid_bytes),
                                      static_cast<off_t>(capacity - valid_bytes));
      err != 0 && err != EOPNOTSUPP && err != EINVAL) {
    close(fd);
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate ", capacity, " bytes for ", path, ": ", ErrnoText(err)));
  }
  void* map = mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    const int err = errno;
    close(fd);
    return absl::InternalError(absl::StrCat("cannot map ", path, ": ", ErrnoText(err)));
  }
  out->fd = fd;
  out->base = static_cast<char*>(map);
  out->capacity = capacity;
  out->prefaulted = valid_bytes & ~(kPage - 1);
  out->path = path;
  return absl::OkStatus();
}

void Journal::WriteHeader(uint64_t first_sequence, int64_t now_unix_ns) noexcept {
  SegmentHeader h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.version = kJournalVersion;
  h.header_size = kSegmentHeaderSize;
  h.created_unix_ns = now_unix_ns;
  h.first_sequence = first_sequence;
  h.record_header_size = kRecordHeaderSize;
  h.crc = Crc32c(&h, offsetof(SegmentHeader, crc));
  std::memcpy(base_, &h, sizeof(h));
  offset_ = kSegmentHeaderSize;
}

absl::Status Journal::OpenSegment(const std::string& path, size_t valid_bytes, bool fresh,
                                  uint64_t first_sequence, int64_t now_unix_ns) {
  Mapping m;
  if (absl::Status st = MapFile(path, valid_bytes, &m); !st.ok()) return st;
  fd_ = m.fd;
  base_ = m.base;
  capacity_ = m.capacity;
  path_ = m.path;
  offset_ = valid_bytes;
  synced_offset_ = 0;
  prefaulted_ = m.prefaulted;
  Prefault(kPrefaultWindow);  // the first window now, the rest in Maintain()
  if (fresh) {
    WriteHeader(first_sequence, now_unix_ns);
    // The new file's name and size must survive power loss too.
    if (msync(base_, kPage, MS_SYNC) != 0 || fsync(fd_) != 0) {
      return absl::InternalError(
          absl::StrCat("cannot sync new segment ", path, ": ", ErrnoText(errno)));
    }
    SyncDir();
  }
  return absl::OkStatus();
}

void Journal::SyncDir() noexcept {
  const int dfd = open(options_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
}

std::string Journal::NextPath() const { return absl::StrCat(options_.dir, "/", kNextSegmentName); }

absl::Status Journal::PrepareNext() {
  if (next_.base != nullptr) return absl::OkStatus();
  const std::string path = NextPath();
  if (absl::Status st = MapFile(path, 0, &next_); !st.ok()) {
    unlink(path.c_str());
    return st;
  }
  return absl::OkStatus();
}

absl::Status Journal::UsePrepared(int64_t now_unix_ns) {
  const std::string path = absl::StrCat(options_.dir, "/", SegmentName(next_sequence_));
  // The prepared file has a name no reader lists; it becomes a segment by the rename, after its
  // header is in place (in the shared mapping, so the renamed file has it).
  if (rename(next_.path.c_str(), path.c_str()) != 0) {
    const int err = errno;
    Drop(&next_);
    unlink(NextPath().c_str());
    return absl::InternalError(
        absl::StrCat("cannot rename the prepared segment to ", path, ": ", ErrnoText(err)));
  }
  if (retired_.base != nullptr) {
    if (absl::Status st = Retire(); !st.ok()) return st;  // only with tiny segments
  }
  retired_ = Mapping{
      .fd = fd_, .base = base_, .capacity = capacity_, .prefaulted = prefaulted_, .path = path_};
  fd_ = next_.fd;
  base_ = next_.base;
  capacity_ = next_.capacity;
  prefaulted_ = next_.prefaulted;
  path_ = path;
  next_ = Mapping{};
  synced_offset_ = 0;
  WriteHeader(next_sequence_, now_unix_ns);
  if (options_.fsync == FsyncPolicy::kEveryRecord) {
    // Every record must survive power loss once appended: the old segment's records were synced
    // one by one; the new name must be too before a record lands in it.
    SyncDir();
  } else {
    dir_sync_pending_ = options_.fsync == FsyncPolicy::kInterval;
  }
  return absl::OkStatus();
}

absl::Status Journal::Retire() {
  if (retired_.base == nullptr) return absl::OkStatus();
  absl::Status st;
  if (options_.fsync != FsyncPolicy::kNever &&
      msync(retired_.base, retired_.capacity, MS_SYNC) != 0) {
    st = absl::InternalError(
        absl::StrCat("msync of ", retired_.path, " failed: ", ErrnoText(errno)));
  }
  Drop(&retired_);
  return st;
}

void Journal::Drop(Mapping* m) noexcept {
  if (m->base != nullptr) munmap(m->base, m->capacity);
  if (m->fd >= 0) close(m->fd);
  *m = Mapping{};
}

absl::Status Journal::UnmapSegment(bool sync) {
  if (base_ == nullptr) return absl::OkStatus();
  absl::Status st;
  if (sync && msync(base_, capacity_, MS_SYNC) != 0) {
    st = absl::InternalError(absl::StrCat("msync of ", path_, " failed: ", ErrnoText(errno)));
  }
  munmap(base_, capacity_);
  close(fd_);
  base_ = nullptr;
  fd_ = -1;
  return st;
}

Journal::~Journal() { Close().IgnoreError(); }

absl::Status Journal::Close() {
  absl::Status st = Retire();
  if (next_.base != nullptr) {
    Drop(&next_);
    unlink(NextPath().c_str());
  }
  if (absl::Status u = UnmapSegment(true); st.ok()) st = u;
  if (st.ok() && dir_sync_pending_) SyncDir();
  dir_sync_pending_ = false;
  return st;
}

absl::Status Journal::Sync() {
  if (base_ == nullptr) return absl::FailedPreconditionError("journal is closed");
  if (!SyncRange()) {
    return absl::InternalError(absl::StrCat("msync of ", path_, " failed: ", ErrnoText(errno)));
  }
  return absl::OkStatus();
}

bool Journal::SyncRange() noexcept {
  const size_t from = synced_offset_ & ~(kPage - 1);
  if (offset_ > from && msync(base_ + from, offset_ - from, MS_SYNC) != 0) return false;
  synced_offset_ = offset_;
  last_sync_ns_ = last_now_ns_;
  return true;
}

bool Journal::MaybeSync(int64_t now_ns) noexcept {
  if (base_ == nullptr || options_.fsync != FsyncPolicy::kInterval) return true;
  last_now_ns_ = now_ns;
  if (offset_ == synced_offset_ || now_ns - last_sync_ns_ < options_.fsync_interval_ns) return true;
  return SyncRange();
}

void Journal::Prefault(size_t max_bytes) noexcept {
  // Touch (write the zero it already holds to) each page ahead of the tail. The touch is what
  // costs: a page fault, block bookkeeping, and on a virtual machine with shadow paging a VM exit
  // (measured ~29 us per page on the development VM, where MADV_POPULATE_WRITE did not remove
  // the user-mode first-touch cost). The pages are past the tail and this thread is the only
  // writer, so nothing else reads or writes them.
  const size_t target = std::min(capacity_, offset_ + kPrefaultWindow);
  if (prefaulted_ < (offset_ & ~(kPage - 1))) prefaulted_ = offset_ & ~(kPage - 1);
  const size_t end = std::min(target, prefaulted_ + max_bytes);
  if (offset_ >= capacity_) return;
  for (size_t p = prefaulted_; p < end; p += kPage) {
    // Never below the tail: the page holding the tail also holds records.
    *reinterpret_cast<volatile char*>(base_ + std::max(p, offset_)) = 0;
  }
  if (end > prefaulted_) prefaulted_ = (end + kPage - 1) & ~(kPage - 1);
}

bool Journal::Maintain(int64_t now_ns) noexcept {
  if (base_ == nullptr) return true;
  bool ok = MaybeSync(now_ns);
  if (dir_sync_pending_ && options_.fsync == FsyncPolicy::kInterval && synced_offset_ == offset_) {
    SyncDir();  // the rotated-to segment's name, with the first sync of its records
    dir_sync_pending_ = false;
  }
  // One step per call, cheapest-to-delay last.
  if (retired_.base != nullptr) return Retire().ok() && ok;
  if (prefaulted_ < std::min(capacity_, offset_ + kPrefaultWindow)) {
    Prefault(kPrefaultChunk);
    return ok;
  }
  if (next_.base == nullptr) {
    if (offset_ >= capacity_ / 2) ok = PrepareNext().ok() && ok;
    return ok;
  }
  // The prepared segment's first window, a chunk at a time (nothing is written there yet).
  const size_t end =
      std::min({next_.capacity, size_t{kPrefaultWindow}, next_.prefaulted + kPrefaultChunk});
  for (size_t p = next_.prefaulted; p < end; p += kPage) {
    *reinterpret_cast<volatile char*>(next_.base + p) = 0;
  }
  if (end > next_.prefaulted) next_.prefaulted = end;
  return ok;
}

absl::Status Journal::Rotate(int64_t now_unix_ns) {
  if (base_ == nullptr) return absl::FailedPreconditionError("journal is closed");
  if (next_.base != nullptr) return UsePrepared(now_unix_ns);
  if (absl::Status st = Retire(); !st.ok()) return st;
  absl::Status st = UnmapSegment(options_.fsync != FsyncPolicy::kNever);
  if (!st.ok()) return st;
  return OpenSegment(absl::StrCat(options_.dir, "/", SegmentName(next_sequence_)), 0, true,
                     next_sequence_, now_unix_ns);
}

AppendResult Journal::Append(RecordType type, const void* payload, uint32_t size,
                             int64_t now_ns) noexcept {
  if (base_ == nullptr) [[unlikely]]
    return AppendResult::kClosed;
  if (size == 0 || size > kMaxRecordPayload) [[unlikely]]
    return AppendResult::kTooLarge;
  const size_t total = kRecordHeaderSize + Padded(size);
  if (offset_ + total > capacity_) [[unlikely]] {
    if (!Rotate(now_ns).ok()) return AppendResult::kRotateFailed;
  }
  RecordHeader h{};
  h.length = size;
  h.type = static_cast<uint16_t>(type);
  h.sequence = next_sequence_;
  h.timestamp_ns = now_ns;
  h.crc = Crc32cExtend(Crc32c(&h, sizeof(h)), payload, size);
  char* dst = base_ + offset_;
  std::memcpy(dst + kRecordHeaderSize, payload, size);
  std::memcpy(dst, &h, sizeof(h));
  offset_ += total;
  ++next_sequence_;
  last_now_ns_ = now_ns;
  switch (options_.fsync) {
    case FsyncPolicy::kNever:
      break;
    case FsyncPolicy::kEveryRecord:
      if (!SyncRange()) return AppendResult::kSyncFailed;
      break;
    case FsyncPolicy::kInterval:
      if (now_ns - last_sync_ns_ >= options_.fsync_interval_ns && !SyncRange()) {
        return AppendResult::kSyncFailed;
      }
      break;
  }
  return AppendResult::kOk;
}

AppendResult Journal::AppendVenueOrderId(uint64_t client_order_id, std::string_view venue_order_id,
                                         int64_t now_ns) noexcept {
  if (venue_order_id.empty() || venue_order_id.size() > kMaxVenueOrderIdBytes) {
    return AppendResult::kTooLarge;
  }
  VenueOrderIdRecord r;
  r.client_order_id = client_order_id;
  r.length = static_cast<uint32_t>(venue_order_id.size());
  std::memcpy(r.id, venue_order_id.data(), venue_order_id.size());
  return Append(RecordType::kVenueOrderId, &r, sizeof(r), now_ns);
}

}  // namespace nzeza::oms
