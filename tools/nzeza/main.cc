// nzeza: the headless engine process.
//
//   nzeza                              # the embedded simulated venue on loopback, 30 s, a summary
//   nzeza --config nzeza.toml --duration 0 --summary-json out.json
//
// Exit status: 0 after a clean run (duration reached, or SIGINT / SIGTERM: signals stopped,
// working orders canceled, journal flushed); 2 for a bad command line or configuration; 1 when
// the engine cannot start (credentials, venue, journal, reconciliation) or the shutdown failed
// (journal flush, summary file); 3 when shutdown could not confirm every cancel within its
// timeout: orders are still working at the venue (listed in the summary and the log; the next
// start reconciles and cancels them). Nothing is sent to a venue before every start-up check
// passed.
#include <signal.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>

#include <absl/strings/numbers.h>
#include <absl/time/clock.h>
#include <nzeza/app/config.h>
#include <nzeza/app/logger.h>
#include <nzeza/app/summary.h>
#include <nzeza/core/cpu.h>

#include "engine.h"

namespace {

constexpr char kUsage[] =
    "usage: nzeza [--config FILE] [--duration SECONDS] [--summary-json PATH]\n"
    "  With no configuration the engine starts the embedded simulated venue on loopback and\n"
    "  trades against it. --duration 0 runs until SIGINT or SIGTERM (default: the config's\n"
    "  engine.duration_s, 30).\n";

struct Flags {
  std::string config;
  int64_t duration_s = -1;
  std::string summary_json;
};

bool ParseFlags(int argc, char** argv, Flags* f, std::string* err) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](std::string_view name) -> const char* {
      if (i + 1 >= argc) {
        *err = std::string(name) + " needs a value";
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      *err = "";
      return false;
    } else if (a == "--config") {
      const char* v = value(a);
      if (v == nullptr) return false;
      f->config = v;
    } else if (a == "--duration") {
      const char* v = value(a);
      if (v == nullptr) return false;
      if (!absl::SimpleAtoi(v, &f->duration_s) || f->duration_s < 0) {
        *err = std::string("--duration: \"") + v + "\" is not a number of seconds >= 0";
        return false;
      }
    } else if (a == "--summary-json") {
      const char* v = value(a);
      if (v == nullptr) return false;
      f->summary_json = v;
    } else {
      *err = std::string("unknown argument \"") + std::string(a) + "\"";
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace nzeza::app;
  // Signals are taken synchronously by the main loop; every thread started later inherits the
  // mask, so none of them is interrupted.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Flags flags;
  std::string err;
  if (!ParseFlags(argc, argv, &flags, &err)) {
    if (err.empty()) {
      std::cout << kUsage;
      return 0;
    }
    std::cerr << "nzeza: " << err << "\n" << kUsage;
    return 2;
  }
  absl::StatusOr<EngineConfig> cfg =
      flags.config.empty() ? absl::StatusOr<EngineConfig>(DefaultEngineConfig(nzeza::AllowedCpus()))
                           : LoadEngineConfigFile(flags.config);
  if (!cfg.ok()) {
    std::cerr << "nzeza: invalid configuration:\n" << cfg.status().message() << "\n";
    return 2;
  }
  if (flags.duration_s >= 0) cfg->engine.duration_s = flags.duration_s;
  if (!flags.summary_json.empty()) cfg->engine.summary_json = flags.summary_json;

  absl::StatusOr<std::unique_ptr<Logger>> log =
      Logger::Start({.level = cfg->log.level, .file = cfg->log.file});
  if (!log.ok()) {
    std::cerr << "nzeza: cannot start the logger: " << log.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(*cfg, log->get());
  if (!engine.ok()) {
    (*log)->Stop(absl::Seconds(1));
    std::cerr << "nzeza: cannot start: " << engine.status().message() << "\n";
    return 1;
  }
  if (absl::Status st = (*engine)->Start(); !st.ok()) {
    (void)(*engine)->Shutdown(absl::Seconds(2));
    (*log)->Stop(absl::Seconds(1));
    std::cerr << "nzeza: cannot start: " << st.message() << "\n";
    return 1;
  }
  if ((*engine)->ops_port() != 0) {
    std::cerr << "nzeza: operations endpoint on " << cfg->ops.listen << ":" << (*engine)->ops_port()
              << "\n";
  }

  const absl::Time start = absl::Now();
  const absl::Duration run =
      cfg->engine.duration_s > 0 ? absl::Seconds(cfg->engine.duration_s) : absl::InfiniteDuration();
  const absl::Duration status_every = cfg->engine.status_interval_ms > 0
                                          ? absl::Milliseconds(cfg->engine.status_interval_ms)
                                          : absl::InfiniteDuration();
  absl::Time next_status = start + status_every;
  RunSummary previous = (*engine)->Snapshot();
  const char* why = "duration reached";
  for (;;) {
    const absl::Time now = absl::Now();
    (*engine)->LogEvents();
    if (now - start >= run) break;
    if (now >= next_status) {
      const RunSummary s = (*engine)->Snapshot();
      std::cout << FormatStatusLine(s, &previous) << std::endl;
      previous = s;
      next_status += status_every;
    }
    const absl::Duration wait =
        std::min({absl::Milliseconds(100), next_status - now, start + run - now});
    const timespec ts = absl::ToTimespec(std::max(wait, absl::Milliseconds(1)));
    const int sig = sigtimedwait(&stop_signals, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM) {
      why = sig == SIGINT ? "SIGINT" : "SIGTERM";
      break;
    }
  }
  std::cerr << "nzeza: stopping (" << why << "): canceling working orders, flushing the journal\n";
  const absl::Status shut =
      (*engine)->Shutdown(absl::Milliseconds(cfg->engine.shutdown_timeout_ms));
  (*engine)->LogEvents();
  const RunSummary summary = (*engine)->Summary();
  std::cout << FormatSummaryText(summary);
  int rc = 0;
  if (!shut.ok()) {
    std::cerr << "nzeza: shutdown: " << shut.message() << "\n";
    rc = 1;
  }
  if (!summary.still_working.empty()) {
    std::cerr << "nzeza: " << summary.still_working.size()
              << " orders still working at the venue: their cancels were not confirmed within "
                 "the shutdown timeout (listed in the summary); exit 3\n";
    rc = 3;
  }
  if (!cfg->engine.summary_json.empty()) {
    if (absl::Status st = WriteSummaryJson(summary, cfg->engine.summary_json); !st.ok()) {
      std::cerr << "nzeza: " << st.message() << "\n";
      rc = 1;
    }
  }
  (*log)->Stop(absl::Seconds(2));
  return rc;
}
