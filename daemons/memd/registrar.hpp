// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-memd --registry: the node's record in etcd (registry.hpp), kept
// by a thread of its own so that etcd's trouble never reaches the event
// loop that serves clients.
//
// The thread grants a lease of --registry-ttl seconds, puts the record
// under --registry-prefix + --registry-name attached to it, renews the
// lease every TTL/3 and puts the record again when free bytes, capacity
// or state changed (looked at every kRefresh). On an etcd error it retries
// with a backoff doubling from 250 ms to kMaxBackoff, logging the failure
// once and the recovery once; a lease that etcd no longer knows (it
// expired during a long partition, or etcd lost its data) is granted
// again and the record put again.
//
// drain() (SIGTERM): the record says "draining"; once the node holds no
// slab, or --drain-timeout passed, the lease is revoked (the record goes
// at once) and @on_drained runs. The destructor revokes the lease too
// (best effort), so a stopping node leaves the registry without waiting
// for its TTL.
#pragma once

#include "registry.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace disagg::memd {

// What the record reports, as the event loop last saw it.
struct NodeStats {
	std::uint64_t capacity = 0;
	std::uint64_t free = 0;
	std::size_t slabs = 0;	// slabs held, grace-period ones included
	// When the event loop took these numbers: a drain ends on numbers
	// taken after it began.
	std::chrono::steady_clock::time_point at{};
};

class Registrar {
public:
	static constexpr std::chrono::milliseconds kRefresh{2000};
	static constexpr std::chrono::milliseconds kMinBackoff{250};
	static constexpr std::chrono::milliseconds kMaxBackoff{5000};
	// While draining: how often the slab count is looked at.
	static constexpr std::chrono::milliseconds kDrainPoll{250};

	struct Options {
		std::vector<std::string> endpoints;
		std::string prefix = registry::kDefaultPrefix;
		unsigned ttl_s = 10;
		unsigned drain_timeout_s = 60;
		// Each etcd request (per endpoint).
		std::chrono::milliseconds timeout{2000};
	};

	// @record: everything but capacity, free and state, which come from
	// @stats (called on the registrar's thread: it must be thread-safe
	// and not block).
	Registrar(Options opt, registry::NodeRecord record, std::function<NodeStats()> stats);
	~Registrar();
	Registrar(const Registrar &) = delete;
	Registrar &operator=(const Registrar &) = delete;

	void start();
	// Mark the node draining; @on_drained runs on the registrar's thread
	// once it holds no slab (or the drain timeout passed) and the lease
	// is revoked. False when already draining.
	bool drain(std::function<void()> on_drained);

	std::string key() const { return registry::record_key(opt_.prefix, record_.name); }
	// The lease held now, 0 none (tests).
	std::int64_t lease() const;

private:
	void run();
	void set_lease(std::int64_t l);

	const Options opt_;
	registry::NodeRecord record_;	// the registrar thread's, after start()
	const std::function<NodeStats()> stats_;

	mutable std::mutex lock_;	// protects the fields below
	std::condition_variable cv_;
	bool stop_ = false;
	bool draining_ = false;
	std::function<void()> on_drained_;
	std::int64_t lease_ = 0;

	std::thread thread_;
};

}  // namespace disagg::memd
