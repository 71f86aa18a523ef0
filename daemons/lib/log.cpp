// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "log.hpp"

#include <sys/stat.h>
#include <syslog.h>
// Our CODE_FILE would always be this file.
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace disagg::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::mutex g_ident_lock;	// protects g_ident
std::string g_ident = "disagg";
const auto g_start = std::chrono::steady_clock::now();

const char *level_name(Level l)
{
	switch (l) {
	case Level::kError: return "error";
	case Level::kWarn: return "warn";
	case Level::kInfo: return "info";
	case Level::kDebug: return "debug";
	}
	return "?";
}

}  // namespace

void set_level(Level l) { g_level.store(static_cast<int>(l)); }
Level level() { return static_cast<Level>(g_level.load()); }
bool enabled(Level l) { return static_cast<int>(l) <= g_level.load(); }

std::optional<Level> parse_level(std::string_view s)
{
	if (s == "error" || s == "err" || s == "0")
		return Level::kError;
	if (s == "warn" || s == "warning" || s == "1")
		return Level::kWarn;
	if (s == "info" || s == "2")
		return Level::kInfo;
	if (s == "debug" || s == "3")
		return Level::kDebug;
	return std::nullopt;
}

void set_ident(std::string_view ident)
{
	std::lock_guard<std::mutex> g(g_ident_lock);
	g_ident = ident;
}

namespace {

// Whether stderr is the journal's stream (systemd set $JOURNAL_STREAM to
// its device and inode for us) and the journal's socket is there: then
// lines go to the journal as entries with their priority instead, and
// without our timestamp. (sd_journal_send() drops entries silently when
// there is no journal, so that is checked once here.)
bool stderr_is_journal()
{
	static const bool yes = [] {
		const char *js = std::getenv("JOURNAL_STREAM");
		unsigned long long dev = 0, ino = 0;
		struct stat st;
		return js && std::sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
		       ::fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev &&
		       st.st_ino == ino && ::access("/run/systemd/journal/socket", W_OK) == 0;
	}();
	return yes;
}

int syslog_priority(Level l)
{
	switch (l) {
	case Level::kError: return LOG_ERR;
	case Level::kWarn: return LOG_WARNING;
	case Level::kInfo: return LOG_INFO;
	case Level::kDebug: return LOG_DEBUG;
	}
	return LOG_INFO;
}

void write_line(Level l, const char *msg)
{
	// libsystemd's native protocol; if the journal does not take it, the
	// line goes to stderr as usual.
	if (stderr_is_journal() &&
	    sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", syslog_priority(l),
			    "DISAGG_LEVEL=%s", level_name(l), nullptr) == 0)
		return;

	const double t = std::chrono::duration<double>(
		std::chrono::steady_clock::now() - g_start).count();
	std::string ident;
	{
		std::lock_guard<std::mutex> g(g_ident_lock);
		ident = g_ident;
	}
	char line[1200];
	int n = std::snprintf(line, sizeof(line), "[%9.3f] %s: %s: %s\n", t,
			      ident.c_str(), level_name(l), msg);
	if (n < 0)
		return;
	if (static_cast<std::size_t>(n) >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	// One write per line so lines from threads do not interleave.
	ssize_t r = ::write(STDERR_FILENO, line, static_cast<std::size_t>(n));
	(void)r;
}

}  // namespace

void logf(Level l, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	std::vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	write_line(l, msg);
}

bool RateLimit::allow(std::chrono::steady_clock::time_point now, std::uint64_t *suppressed)
{
	std::lock_guard<std::mutex> g(lock_);
	*suppressed = 0;
	if (used_ == 0 || now - start_ >= interval_ || now < start_) {
		start_ = now;
		used_ = 0;
	}
	if (used_ >= burst_) {
		dropped_++;
		return false;
	}
	used_++;
	*suppressed = dropped_;
	dropped_ = 0;
	return true;
}

void logf_rl(RateLimit &rl, const char *file, int line, Level l, const char *fmt, ...)
{
	std::uint64_t dropped = 0;
	if (!rl.allow(&dropped))
		return;
	if (dropped) {
		const char *base = std::strrchr(file, '/');
		char note[256];
		std::snprintf(note, sizeof(note), "%s:%d: %llu messages suppressed",
			      base ? base + 1 : file, line,
			      static_cast<unsigned long long>(dropped));
		write_line(l, note);
	}
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	std::vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	write_line(l, msg);
}

}  // namespace disagg::log
