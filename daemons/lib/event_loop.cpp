// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "event_loop.hpp"

#include "log.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace disagg {

namespace {
constexpr int kWakeFd = -1;	// key of the wake-up eventfd in epoll data
constexpr int kMaxEvents = 64;

std::uint64_t pack(int fd, std::uint32_t gen)
{
	return (static_cast<std::uint64_t>(gen) << 32) | static_cast<std::uint32_t>(fd);
}
}  // namespace

EventLoop::EventLoop()
{
	epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
	wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (epfd_ < 0 || wakefd_ < 0) {
		LOG_ERR("event loop: %s", std::strerror(errno));
		return;
	}
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.u64 = pack(kWakeFd, 0);
	if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev) != 0)
		LOG_ERR("event loop: %s", std::strerror(errno));
}

EventLoop::~EventLoop()
{
	if (wakefd_ >= 0)
		::close(wakefd_);
	if (epfd_ >= 0)
		::close(epfd_);
}

bool EventLoop::add(int fd, std::uint32_t events, Handler h)
{
	auto e = std::make_shared<Entry>(Entry{next_gen_++, std::move(h)});
	epoll_event ev{};
	ev.events = events;
	ev.data.u64 = pack(fd, e->gen);
	if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
		LOG_ERR("epoll add fd %d: %s", fd, std::strerror(errno));
		return false;
	}
	entries_[fd] = std::move(e);
	return true;
}

bool EventLoop::modify(int fd, std::uint32_t events)
{
	auto it = entries_.find(fd);
	if (it == entries_.end())
		return false;
	epoll_event ev{};
	ev.events = events;
	ev.data.u64 = pack(fd, it->second->gen);
	return ::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::remove(int fd)
{
	if (entries_.erase(fd))
		(void)::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::defer(std::function<void()> fn)
{
	deferred_.push_back(std::move(fn));
}

void EventLoop::run_once(int timeout_ms)
{
	epoll_event evs[kMaxEvents];
	if (!deferred_.empty())
		timeout_ms = 0;
	int n = ::epoll_wait(epfd_, evs, kMaxEvents, timeout_ms);
	if (n < 0 && errno != EINTR)
		LOG_ERR("epoll_wait: %s", std::strerror(errno));
	for (int i = 0; i < n; i++) {
		const int fd = static_cast<int>(static_cast<std::uint32_t>(evs[i].data.u64));
		const auto gen = static_cast<std::uint32_t>(evs[i].data.u64 >> 32);
		if (fd == kWakeFd) {
			std::uint64_t v;
			while (::read(wakefd_, &v, sizeof(v)) == sizeof(v))
				;
			woken_ = true;
			std::lock_guard<std::mutex> g(posted_lock_);
			for (auto &fn : posted_)
				deferred_.push_back(std::move(fn));
			posted_.clear();
			continue;
		}
		auto it = entries_.find(fd);
		if (it == entries_.end() || it->second->gen != gen)
			continue;	// removed (and maybe reused) this round
		std::shared_ptr<Entry> e = it->second;	// survives remove()
		e->handler(evs[i].events);
	}
	// Deferred work may defer more; run until none is left.
	while (!deferred_.empty()) {
		std::vector<std::function<void()>> work;
		work.swap(deferred_);
		for (auto &fn : work)
			fn();
	}
}

void EventLoop::post(std::function<void()> fn)
{
	{
		std::lock_guard<std::mutex> g(posted_lock_);
		posted_.push_back(std::move(fn));
	}
	wake();
}

void EventLoop::wake()
{
	const std::uint64_t one = 1;
	ssize_t r = ::write(wakefd_, &one, sizeof(one));
	(void)r;
}

bool EventLoop::woken()
{
	bool w = woken_;
	woken_ = false;
	return w;
}

}  // namespace disagg
