// nzeza-sim's TOML configuration: SimVenueOptions from a file, validated with errors that name
// the key and the problem ("sim.toml: products[1].price_increment: expected a decimal string
// like \"0.01\", got a floating-point number").
//
//   seed = 42
//   maker_fee_bps = 0
//   taker_fee_bps = 5
//   rest_rate_limit_per_sec = 30
//   heartbeat_interval_ms = 1000
//   model_step_us = 1000
//   [server]
//   ws_port = 0            # 0: ephemeral; the ports are printed at start
//   rest_port = 0
//   admin_port = 0
//   cert_file = "cert.pem" # with key_file; otherwise a self-signed certificate is generated
//   key_file = "key.pem"
//   cert_out = "ca.pem"    # where to write the certificate clients trust (--cert-out wins)
//   jwt_host = ""          # the host a REST JWT's uri must name; "" = 127.0.0.1:<rest_port>
//   tick_us = 1000
//   [[products]]
//   product_id = "BTC-USD"
//   price_increment = "0.01"       # decimals as strings; every field optional
//   start_price = "50000.00"
//   volatility_bps = 20
//   [[api_keys]]
//   key_name = "organizations/.../apiKeys/..."
//   public_key_file = "key.pub.pem"  # relative to the config file; or public_key_pem = "..."
//   quote_balance = "1000000"
//   base_balance = "10"
//   [faults]
//   latency_ms = 0
//   list_lag_ms = 0        # orders hidden from List Orders this long after creation
//   reject_next_orders = 0
//   gap_every_n = 0        # recurring (0: off): every n-th market-data frame of a connection is
//   duplicate_every_n = 0  # dropped / sent twice / preceded by a truncated copy; every n-th
//   malformed_every_n = 0  # create-order request fails (RecurringFaults)
//   reject_every_n = 0
//   [[faults.schedule]]
//   type = "disconnect"    # any FaultType name (sim_server.h): disconnect, stall, gap, duplicate,
//   at_ms = 5000           # malformed, reject, latency, withhold_create, withhold_cancel,
//   every_ms = 0           # error_after_accept, user_disconnect, duplicate_user, reorder_user,
//   ms = 1000              # foreign_order, list_lag, clear
//   count = 0
//   key = ""               # user_disconnect, foreign_order: the API key's name
//
// Relative paths (cert_file, key_file, cert_out, public_key_file) are relative to the
// configuration file's directory.
//
// Unknown keys are errors (a typo must not silently fall back to a default).
#ifndef NZEZA_TOOLS_SIM_SIM_CONFIG_H_
#define NZEZA_TOOLS_SIM_SIM_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "nzeza/venues/sim/sim_venue.h"

namespace nzeza::sim {

// Reads and validates `path`. Errors: InvalidArgument "<path>: <key>: <problem>" (or a TOML
// syntax error with its line), NotFound for a missing file or key file.
absl::StatusOr<SimVenueOptions> LoadSimConfigFile(const std::string& path);

}  // namespace nzeza::sim

#endif  // NZEZA_TOOLS_SIM_SIM_CONFIG_H_
