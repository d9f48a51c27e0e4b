// nzeza-sim: the simulated venue as a process. It prints one JSON line with its ports on stdout,
// then serves until --duration runs out or SIGINT/SIGTERM (exit 0).
//
//   nzeza-sim [--config sim.toml] [--port N] [--rest-port N] [--admin-port N] [--seed N]
//             [--cert FILE --key FILE] [--cert-out PATH] [--jwt-host HOST] [--duration SECONDS]
//
//   {"ws_port":43211,"rest_port":43212,"admin_port":43213,"jwt_host":"127.0.0.1:43212",
//    "ca_file":"/tmp/sim-ca.pem","pid":1234}
//
// "ca_file" names the certificate file written (--cert-out, else [server] cert_out; "" when
// neither). Flags override the config file (sim_config.h). Exit status: 0 after a clean stop, 2 for
// a bad flag or configuration (the message names the flag or key), 1 when the venue cannot start
// (e.g. a port in use).
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nzeza/venues/sim/sim_venue.h"
#include "sim_config.h"

namespace {

constexpr char kUsage[] =
    "usage: nzeza-sim [--config FILE] [--port N] [--rest-port N] [--admin-port N] [--seed N]\n"
    "                 [--cert FILE --key FILE] [--cert-out PATH] [--jwt-host HOST]\n"
    "                 [--duration SECONDS]\n"
    "  --config FILE      TOML configuration (products, api keys, fees, rate limits, faults)\n"
    "  --port N           WebSocket port (0: ephemeral; default from config or 0)\n"
    "  --rest-port N      REST port (may equal --port: one listener)\n"
    "  --admin-port N     plain-HTTP admin port (fault injection, accounts)\n"
    "  --seed N           the market model's seed\n"
    "  --cert/--key FILE  serve this certificate instead of a generated one\n"
    "  --cert-out PATH    write the certificate clients must trust (their CA file);\n"
    "                     overrides [server] cert_out\n"
    "  --jwt-host HOST    the host a REST JWT's uri must name (default 127.0.0.1:<rest port>)\n"
    "  --duration SECONDS run this long, then exit 0 (0: until SIGINT/SIGTERM; default 0)\n"
    "Prints one JSON line with the ports on stdout once listening.\n";

int Fail(int code, const std::string& msg) {
  std::fprintf(stderr, "nzeza-sim: %s\n", msg.c_str());
  return code;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  using nzeza::sim::SimVenue;
  using nzeza::sim::SimVenueOptions;

  // Flags: collected first, applied over the config file.
  std::string config_path, cert_file, key_file, cert_out, jwt_host;
  int64_t port = -1, rest_port = -1, admin_port = -1, seed = -1, duration_s = 0;
  bool have_jwt_host = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= argc) return Fail(2, absl::StrCat(a, ": unknown flag or missing value\n", kUsage));
    const std::string v = argv[++i];
    auto num = [&](int64_t lo, int64_t hi, int64_t* out) -> bool {
      return absl::SimpleAtoi(v, out) && *out >= lo && *out <= hi;
    };
    if (a == "--config") {
      config_path = v;
    } else if (a == "--port") {
      if (!num(0, 65535, &port)) return Fail(2, "--port: expected a port 0..65535, got " + v);
    } else if (a == "--rest-port") {
      if (!num(0, 65535, &rest_port)) {
        return Fail(2, "--rest-port: expected a port 0..65535, got " + v);
      }
    } else if (a == "--admin-port") {
      if (!num(0, 65535, &admin_port)) {
        return Fail(2, "--admin-port: expected a port 0..65535, got " + v);
      }
    } else if (a == "--seed") {
      if (!num(0, INT64_MAX, &seed)) return Fail(2, "--seed: expected an integer >= 0, got " + v);
    } else if (a == "--duration") {
      if (!num(0, 10LL * 365 * 86400, &duration_s)) {
        return Fail(2, "--duration: expected seconds >= 0, got " + v);
      }
    } else if (a == "--cert") {
      cert_file = v;
    } else if (a == "--key") {
      key_file = v;
    } else if (a == "--cert-out") {
      cert_out = v;
    } else if (a == "--jwt-host") {
      jwt_host = v;
      have_jwt_host = true;
    } else {
      return Fail(2, absl::StrCat(a, ": unknown flag\n", kUsage));
    }
  }
  if (cert_file.empty() != key_file.empty()) {
    return Fail(2, "--cert and --key go together");
  }

  SimVenueOptions options;
  if (!config_path.empty()) {
    absl::StatusOr<SimVenueOptions> loaded = nzeza::sim::LoadSimConfigFile(config_path);
    if (!loaded.ok()) return Fail(2, std::string(loaded.status().message()));
    options = std::move(*loaded);
  }
  if (port >= 0) options.ws_port = static_cast<uint16_t>(port);
  if (rest_port >= 0) options.rest_port = static_cast<uint16_t>(rest_port);
  if (admin_port >= 0) options.admin_port = static_cast<uint16_t>(admin_port);
  if (seed >= 0) options.config.seed = static_cast<uint64_t>(seed);
  if (!cert_file.empty()) {
    options.cert = {};
    options.cert.cert_file = cert_file;
    options.cert.key_file = key_file;
  }
  if (!cert_out.empty()) options.ca_out_path = cert_out;  // the flag wins over [server] cert_out
  const std::string ca_file = options.ca_out_path;
  if (have_jwt_host) options.jwt_host = jwt_host;

  // SIGINT/SIGTERM are taken by sigtimedwait below; blocked before the venue's thread starts,
  // so that thread inherits the mask and never receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::unique_ptr<SimVenue>> venue = SimVenue::Start(std::move(options));
  if (!venue.ok()) {
    const absl::StatusCode code = venue.status().code();
    return Fail(code == absl::StatusCode::kInvalidArgument ? 2 : 1,
                std::string(venue.status().message()));
  }
  SimVenue& v = **venue;
  const std::string ports_line =
      absl::StrCat(R"({"ws_port":)", v.ws_port(), R"(,"rest_port":)", v.rest_port(),
                   R"(,"admin_port":)", v.admin_port(), R"(,"jwt_host":)", JsonString(v.jwt_host()),
                   R"(,"ca_file":)", JsonString(ca_file), R"(,"pid":)", ::getpid(), "}\n");
  std::fputs(ports_line.c_str(), stdout);
  std::fflush(stdout);

  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::seconds(duration_s);
  int signo = 0;
  for (;;) {
    if (duration_s > 0 && std::chrono::steady_clock::now() >= end) break;
    timespec ts{0, 100'000'000};
    const int s = sigtimedwait(&stop_signals, nullptr, &ts);
    if (s == SIGINT || s == SIGTERM) {
      signo = s;
      break;
    }
  }
  v.Stop();
  const nzeza::sim::SimServerStats st = v.stats();
  std::fprintf(stderr,
               "nzeza-sim: stopped (%s) after %.1f s: %llu WebSocket sessions, %llu frames out, "
               "%llu REST requests, %llu faults\n",
               signo == SIGTERM  ? "SIGTERM"
               : signo == SIGINT ? "SIGINT"
                                 : "duration",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
               static_cast<unsigned long long>(st.ws_accepted),
               static_cast<unsigned long long>(st.ws_frames_out),
               static_cast<unsigned long long>(st.rest_requests),
               static_cast<unsigned long long>(st.faults_applied));
  return 0;
}
