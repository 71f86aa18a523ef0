// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "registrar.hpp"

#include "etcd_client.hpp"
#include "log.hpp"

#include <algorithm>

namespace disagg::memd {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

Registrar::Registrar(Options opt, registry::NodeRecord record, std::function<NodeStats()> stats)
	: opt_(std::move(opt)), record_(std::move(record)), stats_(std::move(stats))
{
}

Registrar::~Registrar()
{
	{
		std::lock_guard<std::mutex> g(lock_);
		stop_ = true;
	}
	cv_.notify_all();
	if (thread_.joinable())
		thread_.join();
}

void Registrar::start()
{
	thread_ = std::thread([this] { run(); });
}

bool Registrar::drain(std::function<void()> on_drained)
{
	{
		std::lock_guard<std::mutex> g(lock_);
		if (draining_)
			return false;
		draining_ = true;
		on_drained_ = std::move(on_drained);
	}
	cv_.notify_all();
	return true;
}

std::int64_t Registrar::lease() const
{
	std::lock_guard<std::mutex> g(lock_);
	return lease_;
}

void Registrar::set_lease(std::int64_t l)
{
	std::lock_guard<std::mutex> g(lock_);
	lease_ = l;
}

void Registrar::run()
{
	const std::string key = this->key();
	const milliseconds keepalive_every(std::max<std::int64_t>(opt_.ttl_s * 1000 / 3, 500));
	std::unique_ptr<etcd::Client> c;
	try {
		c = std::make_unique<etcd::Client>(opt_.endpoints, opt_.timeout);
	} catch (const etcd::Error &e) {
		LOG_ERR("registry: %s; not registering (still serving)", e.what());
		return;
	}
	std::int64_t lease = 0;
	std::string published;		// the record last put under @lease
	std::string published_state;
	Clock::time_point next_keepalive{}, next_refresh{};
	milliseconds backoff = kMinBackoff;
	bool failing = false;
	bool draining = false;
	Clock::time_point drain_start{}, drain_deadline{};
	std::function<void()> on_drained;

	for (;;) {
		{
			std::lock_guard<std::mutex> g(lock_);
			if (stop_)
				break;
			if (draining_ && !draining) {
				draining = true;
				on_drained = std::move(on_drained_);
			}
		}
		const Clock::time_point now = Clock::now();
		const NodeStats st = stats_();
		if (draining && drain_start == Clock::time_point{}) {
			drain_start = now;
			drain_deadline = now + std::chrono::seconds(opt_.drain_timeout_s);
			LOG_INFO("registry: draining: waiting up to %u s for the slabs held to go",
				 opt_.drain_timeout_s);
		}
		// Drained (no slab, as the loop saw it since the drain began) or
		// out of time: leave the registry, whatever etcd's state.
		if (draining && ((st.slabs == 0 && st.at >= drain_start) || now >= drain_deadline)) {
			if (st.slabs)
				LOG_WARN("registry: drain timeout: %zu slabs still held", st.slabs);
			else
				LOG_INFO("registry: drained: no slab held");
			if (lease) {
				try {
					c->revoke(lease);
				} catch (const etcd::Error &e) {
					LOG_WARN("registry: cannot revoke lease %lld (%s); %s goes when it expires",
						 static_cast<long long>(lease), e.what(), key.c_str());
				}
				lease = 0;
				set_lease(0);
			}
			if (on_drained)
				on_drained();
			return;
		}

		record_.capacity = st.capacity;
		record_.free = std::min(st.free, st.capacity);
		record_.state = draining ? "draining" : "up";
		Clock::time_point wake;
		try {
			if (!lease) {
				lease = c->grant(opt_.ttl_s);
				set_lease(lease);
				published.clear();
				next_keepalive = now + keepalive_every;
			}
			const std::string text = registry::to_json(record_);
			// A new state goes out at once, new numbers every kRefresh.
			if (text != published &&
			    (published.empty() || record_.state != published_state || now >= next_refresh)) {
				c->put(key, text, lease);
				if (published.empty())
					LOG_INFO("registry: registered as %s (lease %lld, TTL %u s) at %s",
						 key.c_str(), static_cast<long long>(lease), opt_.ttl_s,
						 c->endpoint().c_str());
				else if (record_.state != published_state)
					LOG_INFO("registry: %s is %s", key.c_str(), record_.state.c_str());
				published = text;
				published_state = record_.state;
				next_refresh = now + kRefresh;
			}
			if (now >= next_keepalive) {
				c->keepalive(lease);
				next_keepalive = now + keepalive_every;
			}
			if (failing)
				LOG_INFO("registry: %s reachable again; %s registered", c->endpoint().c_str(),
					 key.c_str());
			failing = false;
			backoff = kMinBackoff;
			wake = std::min(next_keepalive,
					text != published ? next_refresh : now + kRefresh);
		} catch (const etcd::LeaseGone &e) {
			// Expired while etcd was out of reach, or etcd lost its
			// data: a new lease, the record again.
			LOG_WARN("registry: lease %lld is gone (%s); registering again",
				 static_cast<long long>(lease), e.what());
			lease = 0;
			set_lease(0);
			published.clear();
			wake = now + kMinBackoff;
		} catch (const etcd::Error &e) {
			if (!failing)
				LOG_WARN("registry: %s; retrying (every %lld s at most), serving clients meanwhile",
					 e.what(), static_cast<long long>(kMaxBackoff.count() / 1000));
			failing = true;
			wake = now + backoff;
			backoff = std::min(backoff * 2, kMaxBackoff);
		}
		if (draining)
			wake = std::min(wake, Clock::now() + kDrainPoll);
		std::unique_lock<std::mutex> l(lock_);
		cv_.wait_until(l, wake, [this, draining] { return stop_ || draining_ != draining; });
	}
	// Stopping: leave at once rather than when the TTL runs out.
	if (lease) {
		try {
			c->revoke(lease);
		} catch (const etcd::Error &e) {
			LOG_WARN("registry: cannot revoke lease %lld (%s)", static_cast<long long>(lease),
				 e.what());
		}
		set_lease(0);
	}
}

}  // namespace disagg::memd
