#include "nzeza/signal/strategy.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nzeza/core/decimal.h"

namespace nzeza {

const std::string* ParamReader::Find(std::string_view key) {
  read_.emplace_back(key);
  auto it = config_.params.find(std::string(key));
  return it == config_.params.end() ? nullptr : &it->second;
}

void ParamReader::Fail(std::string_view key, std::string_view problem) {
  if (!status_.ok()) return;  // keep the first problem
  status_ =
      absl::InvalidArgumentError(absl::StrFormat("strategy %s (id %d): parameter \"%s\": %s",
                                                 config_.type, config_.strategy_id, key, problem));
}

int64_t ParamReader::Decimal(std::string_view key, int scale, bool allow_zero) {
  const std::string* v = Find(key);
  if (v == nullptr) {
    Fail(key, "missing");
    return 0;
  }
  int64_t m = 0;
  const DecimalError e = ParseDecimal(v->data(), v->size(), scale, Signedness::kUnsigned, &m);
  if (e != DecimalError::kOk) {
    Fail(key, absl::StrFormat("\"%s\" is not a decimal with at most %d decimals (%s)", *v, scale,
                              DecimalErrorName(e)));
    return 0;
  }
  if (m == 0 && !allow_zero) Fail(key, "must be greater than 0");
  return m;
}

int64_t ParamReader::Decimal(std::string_view key, int scale, int64_t fallback, bool allow_zero) {
  if (config_.params.find(std::string(key)) == config_.params.end()) {
    read_.emplace_back(key);
    return fallback;
  }
  return Decimal(key, scale, allow_zero);
}

int64_t ParamReader::Integer(std::string_view key, int64_t min, int64_t max) {
  const std::string* v = Find(key);
  if (v == nullptr) {
    Fail(key, "missing");
    return min;
  }
  int64_t m = 0;
  if (ParseDecimal(v->data(), v->size(), 0, Signedness::kSigned, &m) != DecimalError::kOk ||
      m < min || m > max) {
    Fail(key, absl::StrFormat("\"%s\" is not an integer in [%d, %d]", *v, min, max));
    return min;
  }
  return m;
}

int64_t ParamReader::Integer(std::string_view key, int64_t min, int64_t max, int64_t fallback) {
  if (config_.params.find(std::string(key)) == config_.params.end()) {
    read_.emplace_back(key);
    return fallback;
  }
  return Integer(key, min, max);
}

bool ParamReader::Boolean(std::string_view key, bool fallback) {
  auto it = config_.params.find(std::string(key));
  read_.emplace_back(key);
  if (it == config_.params.end()) return fallback;
  if (it->second == "true") return true;
  if (it->second == "false") return false;
  Fail(key, absl::StrFormat("\"%s\" is not true or false", it->second));
  return fallback;
}

absl::Status ParamReader::Finish() const {
  if (!status_.ok()) return status_;
  std::vector<std::string> unknown;
  for (const auto& [key, value] : config_.params) {
    if (std::find(read_.begin(), read_.end(), key) == read_.end()) unknown.push_back(key);
  }
  if (!unknown.empty()) {
    std::sort(unknown.begin(), unknown.end());
    std::vector<std::string> known = read_;
    std::sort(known.begin(), known.end());
    return absl::InvalidArgumentError(absl::StrFormat(
        "strategy %s (id %d): unknown parameter(s) %s; known: %s", config_.type,
        config_.strategy_id, absl::StrJoin(unknown, ", "), absl::StrJoin(known, ", ")));
  }
  return absl::OkStatus();
}

absl::Status ParamReader::FinishWithOrderSize(int64_t order_size) const {
  if (absl::Status s = Finish(); !s.ok()) return s;
  if (config_.instrument.tick <= 0 || config_.instrument.lot <= 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "strategy %s (id %d): instrument tick and lot must be positive (got %d, %d)", config_.type,
        config_.strategy_id, config_.instrument.tick, config_.instrument.lot));
  }
  if (order_size % config_.instrument.lot != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "strategy %s (id %d): parameter \"order_size\" is not a whole number of "
        "lots (lot %d at size scale %d)",
        config_.type, config_.strategy_id, config_.instrument.lot, config_.instrument.size_scale));
  }
  return absl::OkStatus();
}

}  // namespace nzeza
