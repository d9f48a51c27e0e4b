// Builders shared by the risk tests.
#ifndef NZEZA_TESTS_ENGINE_RISK_TEST_UTIL_H_
#define NZEZA_TESTS_ENGINE_RISK_TEST_UTIL_H_

#include <nzeza/core/events.h>
#include <nzeza/risk/risk_config.h>

namespace nzeza::risk_test {

// One instrument, BTC-like: price scale 2 (tick 0.01 -> mantissa 1), size scale 4, lot 10.
inline RiskConfig BaseConfig() {
  RiskConfig c;
  c.notional_scale = 8;
  InstrumentRisk& in = c.instruments.emplace_back();
  in.price_scale = 2;
  in.size_scale = 4;
  in.fee_scale = 8;
  in.tick_size = 5;
  in.lot_size = 10;
  return c;
}

inline OrderIntent Buy(int64_t price, int64_t size, InstrumentId id = 0) {
  OrderIntent it;
  it.type = IntentType::kNew;
  it.side = Side::kBuy;
  it.instrument = id;
  it.price = price;
  it.size = size;
  return it;
}
inline OrderIntent Sell(int64_t price, int64_t size, InstrumentId id = 0) {
  OrderIntent it = Buy(price, size, id);
  it.side = Side::kSell;
  return it;
}
inline OrderIntent CancelOf(uint64_t id) {
  OrderIntent it;
  it.type = IntentType::kCancel;
  it.target_order_id = id;
  return it;
}

inline ExecEvent Exec(ExecType t, const OrderCmd& cmd) {
  ExecEvent e;
  e.type = t;
  e.side = cmd.side;
  e.instrument = cmd.instrument;
  e.client_order_id = cmd.client_order_id;
  e.leaves_size = cmd.size;
  return e;
}
inline ExecEvent Fill(const OrderCmd& cmd, int64_t price, int64_t size, int64_t leaves) {
  ExecEvent e = Exec(ExecType::kFill, cmd);
  e.last_price = price;
  e.last_size = size;
  e.leaves_size = leaves;
  e.cum_size = cmd.size - leaves;
  return e;
}

inline MdEvent Bbo(int64_t bid, int64_t ask, InstrumentId id = 0) {
  return MdEvent::Bbo(Venue::kSim, id, MdBbo{bid, 1, ask, 1});
}
inline MdEvent Trade(int64_t price, InstrumentId id = 0) {
  return MdEvent::Trade(Venue::kSim, id, MdTrade{price, 1, 0, Side::kBuy});
}
inline MdEvent Status(MdStatus s, InstrumentId id = 0) {
  MdStatusInfo info;
  info.code = s;
  return MdEvent::Status(Venue::kSim, id, info);
}

}  // namespace nzeza::risk_test

#endif  // NZEZA_TESTS_ENGINE_RISK_TEST_UTIL_H_
