// BoundedWriter: appends text to a caller's fixed buffer and never past it; an append that does
// not fit sets ok() false (and writes nothing of it). What the JWT and order encoders build their
// bytes with, on the hot path: no allocation, no exception.
#ifndef NZEZA_VENUES_COINBASE_SRC_BOUNDED_WRITER_H_
#define NZEZA_VENUES_COINBASE_SRC_BOUNDED_WRITER_H_

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string_view>

#include <nzeza/core/decimal.h>

namespace nzeza::venues::coinbase {

class BoundedWriter {
 public:
  BoundedWriter(char* p, size_t cap) noexcept : begin_(p), p_(p), end_(p + cap) {}
  void Put(std::string_view s) noexcept {
    if (s.empty()) return;  // (memcpy from a null data() is undefined even for 0 bytes)
    if (static_cast<size_t>(end_ - p_) < s.size()) {
      ok_ = false;
      return;
    }
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  template <typename Int>
  void PutInt(Int v) noexcept {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof(buf), v);
    Put(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
  }
  void PutDecimal(int64_t mantissa, int scale) noexcept {
    char buf[kMaxDecimalChars];
    Put(std::string_view(buf, FormatDecimal(mantissa, scale, buf)));
  }
  size_t size() const noexcept { return static_cast<size_t>(p_ - begin_); }
  bool ok() const noexcept { return ok_; }
  char* data() noexcept { return begin_; }

 private:
  char* begin_;
  char* p_;
  char* end_;
  bool ok_ = true;
};

}  // namespace nzeza::venues::coinbase

#endif  // NZEZA_VENUES_COINBASE_SRC_BOUNDED_WRITER_H_
