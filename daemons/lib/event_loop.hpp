// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// A single-threaded epoll loop: file descriptors with callbacks, work
// deferred to the end of the current round, and a thread-safe wake-up and
// post() of work from other threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace disagg {

class EventLoop {
public:
	using Handler = std::function<void(std::uint32_t events)>;

	EventLoop();
	~EventLoop();
	EventLoop(const EventLoop &) = delete;
	EventLoop &operator=(const EventLoop &) = delete;

	bool ok() const { return epfd_ >= 0 && wakefd_ >= 0; }

	// Watch @fd for EPOLLIN/EPOLLOUT/...; @h runs with the events seen.
	bool add(int fd, std::uint32_t events, Handler h);
	bool modify(int fd, std::uint32_t events);
	// Stop watching @fd (before closing it). Safe from inside a handler:
	// pending events of a removed fd are dropped.
	void remove(int fd);

	// Run @fn after the handlers of this round.
	void defer(std::function<void()> fn);

	// Wait up to @timeout_ms (-1 forever), run handlers, then deferred work.
	void run_once(int timeout_ms);

	// Run @fn on the loop's thread, in the next round; callable from any
	// thread. Work still posted when the loop is destroyed is dropped.
	void post(std::function<void()> fn);

	// Make a run_once() in progress return; callable from any thread or
	// a signal handler.
	void wake();
	// wake() was called since the last call to this.
	bool woken();

private:
	struct Entry {
		std::uint32_t gen;
		Handler handler;
	};
	int epfd_ = -1;
	int wakefd_ = -1;
	bool woken_ = false;
	std::uint32_t next_gen_ = 1;
	std::map<int, std::shared_ptr<Entry>> entries_;
	std::vector<std::function<void()>> deferred_;
	std::mutex posted_lock_;	// protects posted_
	std::vector<std::function<void()>> posted_;
};

}  // namespace disagg
