// Text recordings: the line formats of the venue captures in ../shared/testdata (cryptofeed's
// sample_data) and of plain JSON-lines files, read into typed records.
//
//   for (std::string_view line : lines) {
//     nzeza::RecordingLine r = nzeza::ParseRecordingLine(line);
//     switch (r.kind) { case nzeza::RecordingLineKind::kFrame: Decode(r.payload); ... }
//   }
//
// Line forms (the timestamp is Unix seconds with a fraction, as recorded at receive time):
//   `<url> <-> <ts>`            a connection was opened to url            (kConnect)
//   `<url> <- <ts>: <frame>`    the client sent frame (a subscription)    (kClientFrame)
//   `<url> -> <ts>: <body>`     a REST response body fetched from url     (kRestResponse)
//   `<ts>: <frame>`             a frame received on the open connection   (kFrame)
//   `{...}` / `[...]`           a frame with no timestamp (JSON lines)    (kFrame, ts_ns 0)
// A JSON-lines object of the form {"_doc": ..., "msg": {...}} (the Advanced Trade doc examples)
// is not unwrapped here: callers that know the form take its "msg".
// Anything else (blank lines, '#' comments) is kSkip; a line that starts like a record but is
// broken (bad timestamp, missing ": ") is kMalformed, never guessed.
//
// Thread: pure functions. Allocates: never (views into the line).
#ifndef NZEZA_CAPTURE_TEXT_RECORDING_H_
#define NZEZA_CAPTURE_TEXT_RECORDING_H_

#include <cstdint>
#include <string_view>

namespace nzeza {

enum class RecordingLineKind : uint8_t {
  kSkip,
  kMalformed,
  kConnect,
  kClientFrame,
  kRestResponse,
  kFrame,
};

struct RecordingLine {
  RecordingLineKind kind = RecordingLineKind::kSkip;
  int64_t ts_ns = 0;         // Unix ns; 0 when the line has none
  std::string_view url;      // kConnect, kClientFrame, kRestResponse
  std::string_view payload;  // kClientFrame, kRestResponse, kFrame
};

RecordingLine ParseRecordingLine(std::string_view line) noexcept;

// Unix seconds with up to 9 fractional digits ("1633998512.0633569") to ns; false if malformed.
bool ParseUnixSecondsNanos(std::string_view s, int64_t* ns) noexcept;

// The value of query parameter `key` in url ("...?symbol=BTCUSDT&limit=1000", "symbol" ->
// "BTCUSDT"); empty if absent.
std::string_view QueryParam(std::string_view url, std::string_view key) noexcept;

}  // namespace nzeza

#endif  // NZEZA_CAPTURE_TEXT_RECORDING_H_
