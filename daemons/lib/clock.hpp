// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Monotonic time, injectable so tests can move it by hand.
#pragma once

#include <atomic>
#include <chrono>

namespace disagg {

using Duration = std::chrono::steady_clock::duration;
using TimePoint = std::chrono::steady_clock::time_point;

class Clock {
public:
	virtual ~Clock() = default;
	virtual TimePoint now() const = 0;
};

class SteadyClock final : public Clock {
public:
	TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

// A clock that moves only when told to. Safe to read from another thread.
class FakeClock final : public Clock {
public:
	TimePoint now() const override { return TimePoint(Duration(ticks_.load())); }
	void advance(Duration d) { ticks_ += d.count(); }

private:
	std::atomic<Duration::rep> ticks_{Duration(std::chrono::hours(1)).count()};
};

}  // namespace disagg
