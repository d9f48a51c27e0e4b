// RiskConfig::Validate: bad configs are refused with a message naming the field.
#include <gtest/gtest.h>

#include <nzeza/risk/risk_config.h>

#include "test_util.h"

namespace nzeza {
namespace {

void ExpectBad(const RiskConfig& c, const std::string& field) {
  absl::Status s = c.Validate();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
  EXPECT_NE(s.message().find(field), std::string::npos) << s.message();
}

TEST(RiskConfig, BaseIsValid) { EXPECT_TRUE(risk_test::BaseConfig().Validate().ok()); }

TEST(RiskConfig, BadFieldsNamed) {
  RiskConfig c;
  ExpectBad(c, "instruments");
  c = risk_test::BaseConfig();
  c.instruments[0].tick_size = 0;
  ExpectBad(c, "instruments[0].tick_size");
  EXPECT_NE(c.Validate().message().find("got 0"), std::string::npos);
  c = risk_test::BaseConfig();
  c.instruments[0].lot_size = -1;
  ExpectBad(c, "instruments[0].lot_size");
  c = risk_test::BaseConfig();
  c.instruments[0].price_scale = 6;  // 6 + 4 > notional_scale 8
  ExpectBad(c, "instruments[0].price_scale");
  c = risk_test::BaseConfig();
  c.instruments[0].max_long = -5;
  ExpectBad(c, "instruments[0].max_long");
  c = risk_test::BaseConfig();
  c.instruments[0].collar_bps = -1;
  ExpectBad(c, "instruments[0].collar_bps");
  c = risk_test::BaseConfig();
  c.throttle_max_msgs = 0;
  ExpectBad(c, "throttle_max_msgs");
  c = risk_test::BaseConfig();
  c.day_boundary_ns = kNanosPerDay;
  ExpectBad(c, "day_boundary_ns");
  c.day_boundary_ns = -1;
  ExpectBad(c, "day_boundary_ns");
  c.day_boundary_ns = kNanosPerDay - 1;
  EXPECT_TRUE(c.Validate().ok());
  c = risk_test::BaseConfig();
  c.working_capacity = 0;
  ExpectBad(c, "working_capacity");
  c = risk_test::BaseConfig();
  c.first_client_order_id = 0;
  ExpectBad(c, "first_client_order_id");
  c = risk_test::BaseConfig();
  c.max_daily_loss = 0;
  ExpectBad(c, "max_daily_loss");
  c = risk_test::BaseConfig();
  c.breaker.probe_orders = 0;
  ExpectBad(c, "breaker.probe_orders");
  c = risk_test::BaseConfig();
  c.breaker.reject_burst_count = 0;
  ExpectBad(c, "breaker.reject_burst_count");
  c = risk_test::BaseConfig();
  c.breaker.cooldown_ns = -1;
  ExpectBad(c, "breaker.cooldown_ns");
  c = risk_test::BaseConfig();
  c.notional_scale = 31;
  ExpectBad(c, "notional_scale");
}

}  // namespace
}  // namespace nzeza
