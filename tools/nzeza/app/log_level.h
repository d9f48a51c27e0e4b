// Log severities shared by the configuration ([log] level) and the asynchronous logger.
//
//   absl::StatusOr<nzeza::app::LogLevel> l = nzeza::app::ParseLogLevel("warn");
#ifndef NZEZA_APP_LOG_LEVEL_H_
#define NZEZA_APP_LOG_LEVEL_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace nzeza::app {

enum class LogLevel : uint8_t { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// "debug", "info", "warn", "error".
std::string_view LogLevelName(LogLevel level) noexcept;

// The inverse of LogLevelName. Errors: InvalidArgument naming the accepted values.
absl::StatusOr<LogLevel> ParseLogLevel(std::string_view name);

}  // namespace nzeza::app

#endif  // NZEZA_APP_LOG_LEVEL_H_
