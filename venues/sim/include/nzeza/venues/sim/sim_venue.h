// SimVenue: the whole simulated venue, started in-process: certificate, Exchange, servers and
// their I/O thread. The engine embeds it as its default venue; the nzeza-sim program and the
// tests use it too.
//
//   SimVenueOptions o;
//   o.config.api_keys.push_back({.key_name = name, .public_key_pem = pem});
//   o.ca_out_path = "/tmp/sim-ca.pem";                  // for a client in another process
//   absl::StatusOr<std::unique_ptr<sim::SimVenue>> v = sim::SimVenue::Start(std::move(o));
//   TlsClientOptions trust{.ca_pem = (*v)->ca_cert_pem()};
//   // wss://127.0.0.1:(*v)->ws_port()/  https://127.0.0.1:(*v)->rest_port()/api/v3/brokerage/...
//   (*v)->Stop();                                       // or let the destructor do it
//
// JWT `uri` host: the Exchange checks that a REST JWT's uri claim names "<METHOD> <host><path>".
// `jwt_host` sets <host>; empty (the default) means "<bind_address>:<rest_port>"
// ("127.0.0.1:8443"; an IPv6 address in brackets), the address the REST listener is bound to.
// Whatever SimConfig.rest_host says is replaced by it.
//
// Thread: Start/Stop/accessors from any thread; the venue runs on its own I/O thread (see
// sim_server.h). Allocates: at start, and on its I/O thread.
#ifndef NZEZA_VENUES_SIM_SIM_VENUE_H_
#define NZEZA_VENUES_SIM_SIM_VENUE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nzeza/venues/sim/cert.h"
#include "nzeza/venues/sim/exchange.h"
#include "nzeza/venues/sim/sim_server.h"

namespace nzeza::sim {

struct SimVenueOptions {
  SimConfig config = {};
  std::string bind_address = "127.0.0.1";
  uint16_t ws_port = 0;  // 0: ephemeral; rest_port == ws_port (non-zero): one listener
  uint16_t rest_port = 0;
  uint16_t admin_port = 0;
  SimCertOptions cert = {};      // all empty: a generated self-signed certificate
  std::string ca_out_path = {};  // non-empty: the certificate PEM is written there at start
  std::string jwt_host = {};     // see the file comment
  std::vector<ScheduledFault> faults = {};
  RecurringFaults recurring = {};
  int64_t tick_ns = 1'000'000;
};

class SimVenue {
 public:
  // Errors: the certificate's (MakeSimCert, WriteCaFile), the Exchange's (InvalidArgument naming
  // the config field), the servers' (Unavailable naming a port that cannot be bound).
  static absl::StatusOr<std::unique_ptr<SimVenue>> Start(SimVenueOptions options);
  ~SimVenue();  // Stop()
  SimVenue(const SimVenue&) = delete;
  SimVenue& operator=(const SimVenue&) = delete;

  uint16_t ws_port() const;
  uint16_t rest_port() const;
  uint16_t admin_port() const;
  const std::string& ca_cert_pem() const;  // the certificate clients must trust
  const std::string& jwt_host() const;     // what the REST JWT uri must name as host

  // See SimServer::InjectFault / Account / stats.
  absl::StatusOr<int> InjectFault(const SimFault& fault);
  absl::StatusOr<AccountView> Account(std::string_view key_name);
  SimServerStats stats() const;

  // Closes every connection and joins the I/O thread; bounded (~2 s at worst). Idempotent.
  void Stop();

 private:
  SimVenue() = default;
  SimCert cert_;
  std::string jwt_host_;
  std::unique_ptr<SimServer> server_;
};

}  // namespace nzeza::sim

#endif  // NZEZA_VENUES_SIM_SIM_VENUE_H_
