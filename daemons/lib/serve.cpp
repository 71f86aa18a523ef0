// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "serve.hpp"

#include "log.hpp"

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace disagg {

void serve(EventLoop &loop, Transport &transport, const std::atomic<int> &stop_requests,
	   const std::function<void()> &tick, const std::function<void()> &say_bye,
	   std::chrono::seconds drain)
{
	auto next_tick = std::chrono::steady_clock::now();
	auto wait_ms = [&next_tick] {
		auto d = next_tick - std::chrono::steady_clock::now();
		auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
		return static_cast<int>(std::clamp<long long>(ms, 0, 1000));
	};
	auto step = [&] {
		loop.run_once(wait_ms());
		if (std::chrono::steady_clock::now() >= next_tick) {
			tick();
			next_tick = std::chrono::steady_clock::now() + std::chrono::seconds(1);
		}
	};
	while (stop_requests == 0)
		step();

	LOG_INFO("shutting down: saying bye to %zu connections", transport.connections());
	transport.stop_listening();
	say_bye();
	const auto deadline = std::chrono::steady_clock::now() + drain;
	while (transport.connections() > 0 && stop_requests < 2 &&
	       std::chrono::steady_clock::now() < deadline)
		step();
	if (std::size_t n = transport.connections(); n > 0) {
		LOG_WARN("%zu connections did not close in time; dropping them", n);
		transport.close_all_now();
		loop.run_once(0);
	}
}

int watch_stop_signals(EventLoop &loop, std::function<void()> on_signal,
		       std::function<void()> on_hup)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) {
		LOG_ERR("sigprocmask: %s", std::strerror(errno));
		return -1;
	}
	std::signal(SIGPIPE, SIG_IGN);
	const int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		LOG_ERR("signalfd: %s", std::strerror(errno));
		return -1;
	}
	if (!loop.add(sfd, EPOLLIN, [sfd, fn = std::move(on_signal),
				     hup = std::move(on_hup)](std::uint32_t) {
		    signalfd_siginfo si;
		    while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			    LOG_INFO("signal %u received", si.ssi_signo);
			    if (si.ssi_signo != SIGHUP)
				    fn();
			    else if (hup)
				    hup();
		    }
	    })) {
		close(sfd);
		return -1;
	}
	return sfd;
}

}  // namespace disagg
