#include "nzeza/venues/sim/sim_venue.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "nzeza/net/tls.h"

namespace nzeza::sim {

absl::StatusOr<std::unique_ptr<SimVenue>> SimVenue::Start(SimVenueOptions options) {
  std::unique_ptr<SimVenue> v(new SimVenue());
  absl::StatusOr<SimCert> cert = MakeSimCert(options.cert);
  if (!cert.ok()) return cert.status();
  v->cert_ = std::move(*cert);
  absl::StatusOr<TlsContext> tls = MakeServerTlsContext(v->cert_.cert_pem, v->cert_.key_pem);
  if (!tls.ok()) return tls.status();
  if (!options.ca_out_path.empty()) {
    if (absl::Status s = WriteCaFile(options.ca_out_path, v->cert_.cert_pem); !s.ok()) return s;
  }

  SimServerOptions so;
  so.bind_address = options.bind_address;
  so.ws_port = options.ws_port;
  so.rest_port = options.rest_port;
  so.admin_port = options.admin_port;
  so.tls = std::move(*tls);
  so.tick_ns = options.tick_ns;
  so.faults = std::move(options.faults);
  so.recurring = options.recurring;
  SimConfig config = std::move(options.config);
  const std::string jwt_host = std::move(options.jwt_host);
  const std::string bind = options.bind_address.find(':') == std::string::npos
                               ? options.bind_address
                               : absl::StrCat("[", options.bind_address, "]");
  SimVenue* raw = v.get();
  absl::StatusOr<std::unique_ptr<SimServer>> server = SimServer::Start(
      std::move(so),
      [&config, &jwt_host, &bind,
       raw](const SimServerPorts& ports) -> absl::StatusOr<std::unique_ptr<Exchange>> {
        raw->jwt_host_ = jwt_host.empty() ? absl::StrCat(bind, ":", ports.rest) : jwt_host;
        config.rest_host = raw->jwt_host_;
        return Exchange::Create(config);
      });
  if (!server.ok()) return server.status();
  v->server_ = std::move(*server);
  return v;
}

SimVenue::~SimVenue() { Stop(); }

uint16_t SimVenue::ws_port() const { return server_->ports().ws; }
uint16_t SimVenue::rest_port() const { return server_->ports().rest; }
uint16_t SimVenue::admin_port() const { return server_->ports().admin; }
const std::string& SimVenue::ca_cert_pem() const { return cert_.cert_pem; }
const std::string& SimVenue::jwt_host() const { return jwt_host_; }

absl::StatusOr<int> SimVenue::InjectFault(const SimFault& fault) {
  return server_->InjectFault(fault);
}

absl::StatusOr<AccountView> SimVenue::Account(std::string_view key_name) {
  return server_->Account(key_name);
}

SimServerStats SimVenue::stats() const { return server_->stats(); }

void SimVenue::Stop() {
  if (server_) server_->Stop();
}

}  // namespace nzeza::sim
