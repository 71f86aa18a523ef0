// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Leveled logging to stderr: "[   12.345] memd: warn: message". Nothing is
// logged per message at the default level (info); per-message detail is
// debug. Thread-safe (one write(2) per line). Under systemd, when stderr
// is the journal ($JOURNAL_STREAM), each line is a journal entry instead
// (sd_journal_send(): the message, PRIORITY from the level), so
// "journalctl -p warning" finds warnings and errors.
//
// The call sites keep printf-style formats, which the compiler checks
// (-Wformat, the format attribute below); spdlog or fmt would need every
// one of them rewritten for a format string checked the same way.
#pragma once

#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <mutex>
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

// A budget of log lines: at most @burst per @interval, the rest counted
// and dropped. One per call site (the LOG_*_RL macros keep a static one),
// so a peer that keeps triggering a line cannot flood the log. Thread-safe.
class RateLimit {
public:
	static constexpr unsigned kBurst = 10;
	static constexpr std::chrono::milliseconds kInterval{5000};

	constexpr RateLimit(unsigned burst = kBurst,
			    std::chrono::milliseconds interval = kInterval)
		: burst_(burst), interval_(interval) {}

	// Whether a line may go out at @now. When it may and lines were
	// dropped since the last one that went out, *@suppressed says how
	// many (and the count starts again); else it is 0.
	bool allow(std::chrono::steady_clock::time_point now, std::uint64_t *suppressed);
	bool allow(std::uint64_t *suppressed)
	{
		return allow(std::chrono::steady_clock::now(), suppressed);
	}

private:
	std::mutex lock_;	// protects the fields below
	const unsigned burst_;
	const std::chrono::milliseconds interval_;
	std::chrono::steady_clock::time_point start_{};	// of the current interval
	unsigned used_ = 0;		// lines out in the current interval
	std::uint64_t dropped_ = 0;	// since the last line that went out
};

// The rate-limited logf() behind LOG_*_RL: a line from @file:@line that
// @rl lets through, after a "N messages suppressed" line when some were
// dropped.
void logf_rl(RateLimit &rl, const char *file, int line, Level l, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

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

// For every line a peer can trigger (bad frames, refused connections,
// timeouts, connects and disconnects): at most RateLimit::kBurst lines per
// RateLimit::kInterval from each call site.
#define DG_LOG_RL(lvl, ...)                                                \
	do {                                                               \
		static ::disagg::log::RateLimit dg_rl_;                    \
		if (::disagg::log::enabled(::disagg::log::Level::lvl))     \
			::disagg::log::logf_rl(dg_rl_, __FILE__, __LINE__, \
					       ::disagg::log::Level::lvl,  \
					       __VA_ARGS__);               \
	} while (0)
// The same with a RateLimit of the caller's (its own budget).
#define DG_LOG_LIMITED(rl, lvl, ...)                                       \
	do {                                                               \
		if (::disagg::log::enabled(::disagg::log::Level::lvl))     \
			::disagg::log::logf_rl(rl, __FILE__, __LINE__,     \
					       ::disagg::log::Level::lvl,  \
					       __VA_ARGS__);               \
	} while (0)
#define LOG_ERR_RL(...) DG_LOG_RL(kError, __VA_ARGS__)
#define LOG_WARN_RL(...) DG_LOG_RL(kWarn, __VA_ARGS__)
#define LOG_INFO_RL(...) DG_LOG_RL(kInfo, __VA_ARGS__)
