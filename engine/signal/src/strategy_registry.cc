// The built-in strategies. Adding one: write the class (a Strategy with a static Create), then
// add its line to kStrategies.
#include <iterator>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nzeza/signal/book_imbalance_taker.h"
#include "nzeza/signal/market_maker.h"
#include "nzeza/signal/strategy.h"

namespace nzeza {
namespace {

struct StrategyEntry {
  std::string_view name;
  absl::StatusOr<std::unique_ptr<Strategy>> (*create)(const StrategyConfig&);
};

constexpr StrategyEntry kStrategies[] = {
    {"market_maker", &MarketMaker::Create},
    {"book_imbalance_taker", &BookImbalanceTaker::Create},
};

}  // namespace

absl::StatusOr<std::unique_ptr<Strategy>> MakeStrategy(const StrategyConfig& config) {
  for (const StrategyEntry& e : kStrategies) {
    if (e.name == config.type) return e.create(config);
  }
  std::vector<std::string> known;
  for (const StrategyEntry& e : kStrategies) known.emplace_back(e.name);
  return absl::NotFoundError(absl::StrFormat("unknown strategy type \"%s\"; known: %s", config.type,
                                             absl::StrJoin(known, ", ")));
}

std::vector<std::string_view> StrategyNames() {
  std::vector<std::string_view> names;
  for (const StrategyEntry& e : kStrategies) names.push_back(e.name);
  return names;
}

}  // namespace nzeza
