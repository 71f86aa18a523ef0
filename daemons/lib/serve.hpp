// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// A daemon's main loop and its orderly end, shared by memd and stord.
#pragma once

#include "event_loop.hpp"
#include "transport.hpp"

#include <atomic>
#include <chrono>
#include <functional>

namespace disagg {

// Run @loop, calling @tick about once a second, until @stop_requests is
// nonzero. Then stop listening, call @say_bye (BYE to every client, close
// them) and keep running until the transport has no connections left, at
// most @drain or until a second stop request; drop whatever is left.
void serve(EventLoop &loop, Transport &transport, const std::atomic<int> &stop_requests,
	   const std::function<void()> &tick, const std::function<void()> &say_bye,
	   std::chrono::seconds drain);

// SIGTERM and SIGINT through a signalfd on @loop: @on_signal runs there for
// each; SIGHUP too, running @on_hup (when given; else it is ignored).
// SIGPIPE is ignored. The descriptor (close it after the loop is done with
// it), or -1 with the reason logged.
int watch_stop_signals(EventLoop &loop, std::function<void()> on_signal,
		       std::function<void()> on_hup = {});

}  // namespace disagg
