// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Leveled logging to stderr: "[   12.345] memd: warn: message". Nothing is
// logged per message at the default level (info); per-message detail is
// debug. Thread-safe (one write(2) per line).
#pragma once

#include <cstdarg>
#include <optional>
#include <string>
#include <string_view>

namespace disagg::log {

enum class Level { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

void set_level(Level l);
Level level();
bool enabled(Level l);
// "error", "warn", "info", "debug" (or 0..3).
std::optional<Level> parse_level(std::string_view s);
// Program name put in front of every line ("memd").
void set_ident(std::string_view ident);

void logf(Level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Bytes from the network made printable: non-printing bytes, quotes and
// backslashes become \xNN.
std::string escape(std::string_view bytes);

}  // namespace disagg::log

#define DG_LOG(lvl, ...)                                                   \
	do {                                                               \
		if (::disagg::log::enabled(::disagg::log::Level::lvl))     \
			::disagg::log::logf(::disagg::log::Level::lvl,     \
					    __VA_ARGS__);                  \
	} while (0)
#define LOG_ERR(...) DG_LOG(kError, __VA_ARGS__)
#define LOG_WARN(...) DG_LOG(kWarn, __VA_ARGS__)
#define LOG_INFO(...) DG_LOG(kInfo, __VA_ARGS__)
#define LOG_DBG(...) DG_LOG(kDebug, __VA_ARGS__)
