// nzeza-decode FILE...: runs a recording through a venue decoder and the engine's books, and
// prints a JSON summary per instrument (docs/tools.md).
// nzeza-decode journal DIR: prints the engine's order journal, one JSON object per record.
//
//   nzeza-decode ../shared/testdata/binance/spot_stream_2021-10-12.txt
//                ../shared/testdata/binance/spot_depth_snapshots_2021-10-12.txt   (one line)
//   nzeza-decode --venue dydx capture.jsonl
//   nzeza-decode journal nzeza-journal
//
// Journal records (engine/oms/journal.h; mantissas as integers, at the instrument's scales):
//   {"seq":1,"ts_ns":..,"type":"cmd","cmd":"new","client_order_id":7,"orig_client_order_id":0,
//    "side":"buy","order_type":"limit","tif":"gtc","flags":1,"origin":"strategy",
//    "instrument":0,"strategy_id":0,"intent_id":3,"price":4999000,"size":100000}
//   {"seq":2,..,"type":"exec","exec":"fill","client_order_id":7,"side":"buy","request":"new",
//    "liquidity":"maker","reject_code":0,"instrument":0,"trade_id":..,"last_price":..,
//    "last_size":..,"cum_size":..,"leaves_size":..,"fee":..,"venue_ns":..,"intent_id":3}
//   {"seq":3,..,"type":"venue_order_id","client_order_id":7,"venue_order_id":"<uuid>"}
// then one last line {"type":"end","records":N,"segments":N,"last_sequence":N,
// "torn_tail":false,"tail_reason":""}. A record whose payload is not the size its type has is
// printed with "error" instead of its fields. Exit status: 0 when the journal was read (a torn
// tail is reported in the last line, not an error), 2 on usage errors or when it cannot be read
// (no such directory, a damaged segment before the last: DataLoss).
//
// Input: the text recording line forms (engine/capture/text_recording.h): `<ts>: <frame>` lines,
// `<url> -> <ts>: <body>` REST snapshot lines (Binance depth snapshots, in the same or another
// file), `<url> <-> <ts>` connection markers, and plain JSON lines. Frames and snapshots from all
// files are merged by timestamp (stable: file order for equal or missing timestamps).
//
// Scales: a decoder never guesses a scale, so the tool gives it a table: with --price-scale and
// --size-scale for every instrument, otherwise from a first pass over the recording that finds,
// per symbol, the smallest scales that hold every price and size exactly (and dYdX's v4_markets
// tick and step sizes where present). The summary says which ("scale_source").
//
// Exit status: 0 when the recording was read (whatever it contained), 1 with --strict when any
// message failed to decode, a gap was seen or a book ended untrusted; 2 on usage or I/O errors.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "nzeza/book/book_set.h"
#include "nzeza/capture/text_recording.h"
#include "nzeza/core/decimal.h"
#include "nzeza/feeds/binance/decoder.h"
#include "nzeza/feeds/coinbase/decoder.h"
#include "nzeza/feeds/common/discovery.h"
#include "nzeza/feeds/common/feed_decoder.h"
#include "nzeza/feeds/dydx/decoder.h"
#include "nzeza/oms/journal.h"

namespace nzeza {
namespace {

constexpr const char* kUsage =
    "usage: nzeza-decode [--venue binance|coinbase|coinbase-exchange|dydx] [--depth N]\n"
    "                    [--price-scale N --size-scale N] [--strict] FILE...\n"
    "Runs a recording through the venue decoder and books; prints a JSON summary.\n"
    "   or: nzeza-decode journal DIR\n"
    "Prints the order journal in DIR, one JSON object per record.\n";

struct Record {
  RecordingLineKind kind;
  int64_t ts_ns;
  size_t order;        // stable tie-break: position in the input
  std::string symbol;  // kRestResponse: from the URL's symbol= parameter
  std::string text;    // payload, with kFeedPadding spare bytes reserved after it
};

// The JSON-lines doc form {"_doc": ..., "msg": {...}}: returns the "msg" object text.
std::string_view UnwrapDoc(std::string_view s) {
  if (s.substr(0, 8) != "{\"_doc\":") return s;
  const size_t m = s.find("\"msg\": ");
  const size_t m2 = s.find("\"msg\":");
  size_t start = m != std::string_view::npos ? m + 7 : (m2 != std::string_view::npos ? m2 + 6 : 0);
  if (start == 0) return s;
  std::string_view rest = s.substr(start);
  while (!rest.empty() && rest.back() != '}') rest.remove_suffix(1);
  if (!rest.empty()) rest.remove_suffix(1);  // the wrapper's closing brace
  return rest;
}

Venue DetectVenue(std::string_view frame) {
  if (frame.find("\"depthUpdate\"") != std::string_view::npos ||
      frame.find("\"stream\":") != std::string_view::npos ||
      frame.find("\"lastUpdateId\"") != std::string_view::npos) {
    return Venue::kBinance;
  }
  if (frame.find("\"channel\":\"v4_") != std::string_view::npos ||
      frame.find("\"channel\": \"v4_") != std::string_view::npos) {
    return Venue::kDydx;
  }
  if (frame.find("\"channel\":") != std::string_view::npos &&
      frame.find("\"events\"") != std::string_view::npos) {
    return Venue::kCoinbase;
  }
  if (frame.find("\"type\":\"l2update\"") != std::string_view::npos ||
      frame.find("\"type\":\"snapshot\"") != std::string_view::npos ||
      frame.find("\"type\":\"match\"") != std::string_view::npos ||
      frame.find("\"type\":\"last_match\"") != std::string_view::npos ||
      frame.find("\"type\":\"ticker\"") != std::string_view::npos) {
    return Venue::kCoinbaseExchange;
  }
  return Venue::kUnknown;
}

std::optional<Venue> ParseVenue(std::string_view s) {
  for (Venue v : {Venue::kBinance, Venue::kCoinbase, Venue::kCoinbaseExchange, Venue::kDydx}) {
    if (s == VenueName(v)) return v;
  }
  return std::nullopt;
}

void Discover(Venue v, std::string_view frame, InstrumentDiscovery* d) {
  switch (v) {
    case Venue::kBinance:
      DiscoverBinanceInstruments(frame, d);
      break;
    case Venue::kCoinbase:
    case Venue::kCoinbaseExchange:
      DiscoverCoinbaseInstruments(frame, d);
      break;
    case Venue::kDydx:
      DiscoverDydxInstruments(frame, d);
      break;
    default:
      break;
  }
}

// REST depth snapshot bodies carry no symbol: note their numbers for the URL's symbol.
void DiscoverSnapshot(std::string_view symbol, std::string_view body, InstrumentDiscovery* d) {
  d->NoteSymbol(symbol);
  // [["price","qty"],...]: every quoted string inside "bids"/"asks" alternates price, qty.
  for (const char* key : {"\"bids\":", "\"asks\":"}) {
    size_t p = body.find(key);
    if (p == std::string_view::npos) continue;
    p += std::strlen(key);
    int depth = 0;
    bool price = true;
    for (; p < body.size(); ++p) {
      const char c = body[p];
      if (c == '[') ++depth;
      if (c == ']' && --depth == 0) break;
      if (c == '"') {
        const size_t e = body.find('"', p + 1);
        if (e == std::string_view::npos) return;
        const std::string_view num = body.substr(p + 1, e - p - 1);
        if (price) {
          d->NotePrice(symbol, num);
        } else {
          d->NoteSize(symbol, num);
        }
        price = !price;
        p = e;
      }
    }
  }
}

std::unique_ptr<FeedDecoder> MakeDecoder(Venue v, SymbolTable table) {
  switch (v) {
    case Venue::kBinance: {
      BinanceDecoderOptions o;
      return MakeBinanceDecoder(std::move(table), o);
    }
    case Venue::kCoinbase:
      return MakeCoinbaseAdvancedDecoder(std::move(table), CoinbaseDecoderOptions{});
    case Venue::kCoinbaseExchange:
      return MakeCoinbaseExchangeDecoder(std::move(table), CoinbaseDecoderOptions{});
    case Venue::kDydx:
      return MakeDydxDecoder(std::move(table), DydxDecoderOptions{});
    default:
      return nullptr;
  }
}

// Applies every event to the books, counting refusals and crossings per instrument.
class BookSink final : public MdSink {
 public:
  BookSink(BookSet& books, size_t n) : books_(books), refused_(n, 0), crossed_(n, 0) {}
  void Push(const MdEvent& ev) noexcept override {
    const ApplyResult r = books_.Apply(ev);
    if (ev.instrument >= refused_.size()) return;
    if (!r.ok()) ++refused_[ev.instrument];
    if (ev.type == MdType::kLevels && (ev.flags & kMdMessageEnd) != 0) {
      const OrderBook* b = books_.Find(ev.instrument);
      if (b != nullptr && b->crossed()) ++crossed_[ev.instrument];
    }
  }
  uint64_t refused(size_t i) const { return refused_[i]; }
  uint64_t crossed(size_t i) const { return crossed_[i]; }

 private:
  BookSet& books_;
  std::vector<uint64_t> refused_;
  std::vector<uint64_t> crossed_;
};

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Dec(int64_t m, int scale) {
  char buf[kMaxDecimalChars];
  return JsonString(std::string_view(buf, FormatDecimal(m, scale, buf)));
}

// ---------------------------------------------------------------------------------------------
// nzeza-decode journal DIR

// Names of the event enums as the journal lines spell them; a value this tool does not know
// (a newer engine's) prints as its number, e.g. "exec_type_9", rather than being guessed.
std::string Unknown(const char* what, int v) { return std::string(what) + "_" + std::to_string(v); }

std::string CmdTypeText(CmdType t) {
  switch (t) {
    case CmdType::kNew:
      return "new";
    case CmdType::kCancel:
      return "cancel";
    case CmdType::kReplace:
      return "replace";
    case CmdType::kCancelAll:
      return "cancel_all";
  }
  return Unknown("cmd_type", static_cast<int>(t));
}

std::string ExecTypeText(ExecType t) {
  switch (t) {
    case ExecType::kPendingNew:
      return "pending_new";
    case ExecType::kAck:
      return "ack";
    case ExecType::kReject:
      return "reject";
    case ExecType::kFill:
      return "fill";
    case ExecType::kCanceled:
      return "canceled";
    case ExecType::kExpired:
      return "expired";
    case ExecType::kReplaced:
      return "replaced";
    case ExecType::kCancelReject:
      return "cancel_reject";
    case ExecType::kInDoubt:
      return "in_doubt";
    default:
      break;
  }
  return Unknown("exec_type", static_cast<int>(t));
}

std::string SideText(Side s) {
  switch (s) {
    case Side::kBuy:
      return "buy";
    case Side::kSell:
      return "sell";
  }
  return Unknown("side", static_cast<int>(s));
}

std::string OrderTypeText(OrderType t) {
  switch (t) {
    case OrderType::kLimit:
      return "limit";
    case OrderType::kMarket:
      return "market";
  }
  return Unknown("order_type", static_cast<int>(t));
}

std::string TifText(TimeInForce t) {
  switch (t) {
    case TimeInForce::kGtc:
      return "gtc";
    case TimeInForce::kIoc:
      return "ioc";
    case TimeInForce::kFok:
      return "fok";
  }
  return Unknown("tif", static_cast<int>(t));
}

std::string OriginText(CmdOrigin o) {
  switch (o) {
    case CmdOrigin::kStrategy:
      return "strategy";
    case CmdOrigin::kBreaker:
      return "breaker";
    case CmdOrigin::kKillSwitch:
      return "kill_switch";
    case CmdOrigin::kShutdown:
      return "shutdown";
  }
  return Unknown("origin", static_cast<int>(o));
}

std::string LiquidityText(Liquidity l) {
  switch (l) {
    case Liquidity::kUnknown:
      return "unknown";
    case Liquidity::kMaker:
      return "maker";
    case Liquidity::kTaker:
      return "taker";
  }
  return Unknown("liquidity", static_cast<int>(l));
}

// One journal record as a JSON object (no newline).
std::string JournalRecordJson(const oms::JournalRecord& r) {
  std::ostringstream o;
  o << "{\"seq\":" << r.sequence << ",\"ts_ns\":" << r.timestamp_ns << ",\"type\":";
  // The payload is copied out: the mapping gives no alignment guarantee for these structs.
  auto size_error = [&](size_t want) {
    o << ",\"error\":"
      << JsonString("payload size " + std::to_string(r.size) + ", expected " + std::to_string(want))
      << "}";
    return o.str();
  };
  switch (r.type) {
    case oms::RecordType::kOrderCmd: {
      o << "\"cmd\"";
      if (r.size != sizeof(OrderCmd)) return size_error(sizeof(OrderCmd));
      OrderCmd c;
      std::memcpy(&c, r.payload, sizeof c);
      o << ",\"cmd\":" << JsonString(CmdTypeText(c.type))
        << ",\"client_order_id\":" << c.client_order_id
        << ",\"orig_client_order_id\":" << c.orig_client_order_id
        << ",\"side\":" << JsonString(SideText(c.side))
        << ",\"order_type\":" << JsonString(OrderTypeText(c.order_type))
        << ",\"tif\":" << JsonString(TifText(c.tif)) << ",\"flags\":" << int{c.flags}
        << ",\"origin\":" << JsonString(OriginText(c.origin)) << ",\"instrument\":" << c.instrument
        << ",\"strategy_id\":" << c.strategy_id << ",\"intent_id\":" << c.intent_id
        << ",\"price\":" << c.price << ",\"size\":" << c.size << "}";
      return o.str();
    }
    case oms::RecordType::kExecEvent: {
      o << "\"exec\"";
      if (r.size != sizeof(ExecEvent)) return size_error(sizeof(ExecEvent));
      ExecEvent e;
      std::memcpy(&e, r.payload, sizeof e);
      o << ",\"exec\":" << JsonString(ExecTypeText(e.type))
        << ",\"client_order_id\":" << e.client_order_id
        << ",\"side\":" << JsonString(SideText(e.side))
        << ",\"request\":" << JsonString(CmdTypeText(e.request))
        << ",\"liquidity\":" << JsonString(LiquidityText(e.liquidity))
        << ",\"reject_code\":" << e.reject_code << ",\"instrument\":" << e.instrument
        << ",\"strategy_id\":" << e.strategy_id << ",\"trade_id\":" << e.trade_id
        << ",\"last_price\":" << e.last_price << ",\"last_size\":" << e.last_size
        << ",\"cum_size\":" << e.cum_size << ",\"leaves_size\":" << e.leaves_size
        << ",\"fee\":" << e.fee << ",\"venue_ns\":" << e.venue_ns
        << ",\"intent_id\":" << e.intent_id << "}";
      return o.str();
    }
    case oms::RecordType::kVenueOrderId: {
      o << "\"venue_order_id\"";
      if (r.size != sizeof(oms::VenueOrderIdRecord)) {
        return size_error(sizeof(oms::VenueOrderIdRecord));
      }
      oms::VenueOrderIdRecord v;
      std::memcpy(&v, r.payload, sizeof v);
      const size_t n = std::min<size_t>(v.length, sizeof v.id);
      o << ",\"client_order_id\":" << v.client_order_id
        << ",\"venue_order_id\":" << JsonString(std::string_view(v.id, n)) << "}";
      return o.str();
    }
    case oms::RecordType::kClockAnchor: {
      o << "\"clock_anchor\"";
      if (r.size != sizeof(oms::ClockAnchorRecord))
        return size_error(sizeof(oms::ClockAnchorRecord));
      oms::ClockAnchorRecord a;
      std::memcpy(&a, r.payload, sizeof a);
      o << ",\"unix_ns\":" << a.unix_ns << ",\"monotonic_ns\":" << a.monotonic_ns << "}";
      return o.str();
    }
  }
  o << JsonString(Unknown("record_type", static_cast<int>(r.type))) << ",\"size\":" << r.size
    << "}";
  return o.str();
}

// `nzeza-decode journal DIR`: reads the journal without modifying it (oms::ReadJournal), so it is
// safe on the journal of a running or killed engine.
int RunJournal(int argc, char** argv) {
  if (argc != 3 || argv[2][0] == '-') {
    std::fputs(kUsage, stderr);
    return 2;
  }
  absl::StatusOr<oms::RecoveryReport> report =
      oms::ReadJournal(argv[2], [](const oms::JournalRecord& r) {
        const std::string line = JournalRecordJson(r);
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fputc('\n', stdout);
      });
  if (!report.ok()) {
    std::fprintf(stderr, "nzeza-decode: journal %s: %s\n", argv[2],
                 report.status().ToString().c_str());
    return 2;
  }
  std::printf(
      "{\"type\":\"end\",\"records\":%llu,\"segments\":%llu,\"last_sequence\":%llu,"
      "\"torn_tail\":%s,\"tail_reason\":%s}\n",
      static_cast<unsigned long long>(report->records),
      static_cast<unsigned long long>(report->segments),
      static_cast<unsigned long long>(report->last_sequence), report->torn_tail ? "true" : "false",
      JsonString(report->tail_reason).c_str());
  return 0;
}

int Run(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "journal") return RunJournal(argc, argv);
  std::optional<Venue> venue;
  uint32_t depth = 5000;
  int price_scale = -1, size_scale = -1;
  bool strict = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](const char* name) -> std::optional<std::string_view> {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "nzeza-decode: %s needs a value\n%s", name, kUsage);
        return std::nullopt;
      }
      return std::string_view(argv[++i]);
    };
    auto integer = [&](const char* name, int lo, int hi, int* out) {
      auto v = value(name);
      if (!v) return false;
      int x = 0;
      auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
      if (ec != std::errc() || p != v->data() + v->size() || x < lo || x > hi) {
        std::fprintf(stderr, "nzeza-decode: %s must be an integer in [%d, %d], got '%.*s'\n", name,
                     lo, hi, static_cast<int>(v->size()), v->data());
        return false;
      }
      *out = x;
      return true;
    };
    if (a == "--venue") {
      auto v = value("--venue");
      if (!v) return 2;
      venue = ParseVenue(*v);
      if (!venue) {
        std::fprintf(stderr, "nzeza-decode: unknown venue '%.*s'\n%s", static_cast<int>(v->size()),
                     v->data(), kUsage);
        return 2;
      }
    } else if (a == "--depth") {
      int d = 0;
      if (!integer("--depth", 1, static_cast<int>(kMaxBookDepth), &d)) return 2;
      depth = static_cast<uint32_t>(d);
    } else if (a == "--price-scale") {
      if (!integer("--price-scale", 0, 18, &price_scale)) return 2;
    } else if (a == "--size-scale") {
      if (!integer("--size-scale", 0, 18, &size_scale)) return 2;
    } else if (a == "--strict") {
      strict = true;
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "nzeza-decode: unknown option '%s'\n%s", argv[i], kUsage);
      return 2;
    } else {
      files.emplace_back(a);
    }
  }
  if (files.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if ((price_scale < 0) != (size_scale < 0)) {
    std::fprintf(stderr, "nzeza-decode: give both --price-scale and --size-scale, or neither\n");
    return 2;
  }

  // Read every file.
  std::vector<Record> records;
  uint64_t lines = 0, malformed_lines = 0, client_frames = 0, connects = 0;
  for (const std::string& path : files) {
    std::ifstream in(path);
    if (!in) {
      std::fprintf(stderr, "nzeza-decode: cannot read %s: %s\n", path.c_str(),
                   std::strerror(errno));
      return 2;
    }
    std::string line;
    while (std::getline(in, line)) {
      ++lines;
      const RecordingLine r = ParseRecordingLine(line);
      switch (r.kind) {
        case RecordingLineKind::kSkip:
          break;
        case RecordingLineKind::kMalformed:
          ++malformed_lines;
          break;
        case RecordingLineKind::kClientFrame:
          ++client_frames;
          break;
        case RecordingLineKind::kConnect:
          ++connects;
          records.push_back(Record{r.kind, r.ts_ns, records.size(), {}, {}});
          break;
        case RecordingLineKind::kRestResponse:
        case RecordingLineKind::kFrame: {
          Record rec{r.kind, r.ts_ns, records.size(), std::string(QueryParam(r.url, "symbol")),
                     std::string(UnwrapDoc(r.payload))};
          if (!venue) {
            const Venue v = DetectVenue(rec.text);
            if (v != Venue::kUnknown) venue = v;
          }
          rec.text.reserve(rec.text.size() + kFeedPadding);
          records.push_back(std::move(rec));
          break;
        }
      }
    }
  }
  if (!venue) {
    std::fprintf(stderr, "nzeza-decode: could not detect the venue; give --venue\n");
    return 2;
  }
  std::stable_sort(records.begin(), records.end(), [](const Record& a, const Record& b) {
    if (a.ts_ns == 0 || b.ts_ns == 0) return false;  // untimed: keep file order
    return a.ts_ns < b.ts_ns;
  });

  // Instrument table.
  InstrumentDiscovery discovery;
  for (const Record& r : records) {
    if (r.kind == RecordingLineKind::kFrame) Discover(*venue, r.text, &discovery);
    if (r.kind == RecordingLineKind::kRestResponse && !r.symbol.empty()) {
      DiscoverSnapshot(r.symbol, r.text, &discovery);
    }
  }
  std::vector<FeedInstrument> instruments = discovery.Build();
  const char* scale_source = "scan";
  if (price_scale >= 0) {
    scale_source = "flags";
    for (FeedInstrument& in : instruments) {
      in.price_scale = price_scale;
      in.size_scale = size_scale;
    }
  }
  absl::StatusOr<SymbolTable> table = SymbolTable::Create(instruments);
  if (!table.ok()) {
    std::fprintf(stderr, "nzeza-decode: %s\n", table.status().ToString().c_str());
    return 2;
  }
  std::vector<BookConfig> configs;
  for (const FeedInstrument& in : instruments) configs.push_back(BookConfig{in.id, depth});
  absl::StatusOr<BookSet> books = BookSet::Create(configs);
  if (!books.ok()) {
    std::fprintf(stderr, "nzeza-decode: %s\n", books.status().ToString().c_str());
    return 2;
  }
  std::unique_ptr<FeedDecoder> decoder = MakeDecoder(*venue, *table);
  BookSink sink(*books, instruments.size() + 1);

  // Replay. A recording starts on an open connection even without a marker.
  uint64_t frames = 0, snapshots = 0, actions = 0;
  bool open = false;
  for (const Record& r : records) {
    if (r.kind == RecordingLineKind::kConnect || !open) {
      if (open) decoder->OnClose(r.ts_ns, sink);
      decoder->OnOpen(r.ts_ns, sink);
      open = true;
      if (r.kind == RecordingLineKind::kConnect) continue;
    }
    if (r.kind == RecordingLineKind::kFrame) {
      ++frames;
      (void)decoder->OnMessage(r.text.data(), r.text.size(), r.ts_ns, sink);
    } else if (r.kind == RecordingLineKind::kRestResponse) {
      const FeedInstrument* in = table->Find(r.symbol);
      if (in == nullptr) continue;
      ++snapshots;
      (void)decoder->OnSnapshot(in->id, r.text.data(), r.text.size(), r.ts_ns, sink);
    }
    FeedAction a;
    while (decoder->PopAction(&a)) ++actions;  // answered only by what the recording holds
  }

  // Summary.
  const FeedCounters& c = decoder->counters();
  bool clean = c.decode_errors == 0 && c.gaps == 0;
  std::ostringstream o;
  o << "{\n  \"venue\": " << JsonString(VenueName(*venue)) << ",\n  \"files\": [";
  for (size_t i = 0; i < files.size(); ++i) o << (i ? ", " : "") << JsonString(files[i]);
  o << "],\n  \"lines\": " << lines << ",\n  \"malformed_lines\": " << malformed_lines
    << ",\n  \"connections\": " << connects << ",\n  \"client_frames\": " << client_frames
    << ",\n  \"frames\": " << frames << ",\n  \"rest_snapshots\": " << snapshots
    << ",\n  \"decode_errors\": " << c.decode_errors
    << ",\n  \"unknown_messages\": " << c.unknown_messages
    << ",\n  \"unknown_instrument\": " << c.unknown_instrument
    << ",\n  \"venue_errors\": " << c.venue_errors << ",\n  \"duplicates\": " << c.duplicates
    << ",\n  \"gaps\": " << c.gaps << ",\n  \"resyncs\": " << c.resyncs
    << ",\n  \"decoder_requests\": " << actions << ",\n  \"depth\": " << depth
    << ",\n  \"scale_source\": " << JsonString(scale_source) << ",\n  \"instruments\": [";
  for (size_t i = 0; i < instruments.size(); ++i) {
    const FeedInstrument& in = instruments[i];
    const InstrumentFeedCounters* ic = decoder->instrument_counters(in.id);
    const OrderBook* b = books->Find(in.id);
    if (!b->trusted()) clean = false;
    o << (i ? "," : "") << "\n    {\"symbol\": " << JsonString(in.symbol)
      << ", \"price_scale\": " << in.price_scale << ", \"size_scale\": " << in.size_scale
      << ", \"messages\": " << ic->messages << ", \"updates\": " << ic->updates
      << ", \"trades\": " << ic->trades << ", \"gaps\": " << ic->gaps
      << ", \"decode_errors\": " << ic->decode_errors << ", \"resyncs\": " << ic->resyncs
      << ", \"book_state\": " << JsonString(BookStateName(b->state()))
      << ", \"book_refused\": " << sink.refused(in.id)
      << ", \"crossed_messages\": " << sink.crossed(in.id)
      << ", \"best_bid\": " << (b->best_bid() ? Dec(b->best_bid()->price, in.price_scale) : "null")
      << ", \"best_ask\": " << (b->best_ask() ? Dec(b->best_ask()->price, in.price_scale) : "null")
      << ", \"bid_levels\": " << b->bids().size() << ", \"ask_levels\": " << b->asks().size()
      << ", \"truncated_levels\": " << b->dropped() << "}";
  }
  o << "\n  ]\n}\n";
  std::fputs(o.str().c_str(), stdout);
  return strict && !clean ? 1 : 0;
}

}  // namespace
}  // namespace nzeza

int main(int argc, char** argv) { return nzeza::Run(argc, argv); }
