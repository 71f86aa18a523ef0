// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// `disaggctl agent`: the compute node follows the memory pool. Memory
// nodes register themselves in etcd (disagg-memd --registry, one record
// per node under the [pool] prefix, kept alive by a lease); the agent
// watches that prefix and changes the kernel's node list through sysfs
// only:
//   - a node that is "up", carries every label of [pool] match and offers
//     the [pool] transport is added (with [pool]'s key, src, queues and
//     timeout_ms);
//   - a node the agent added whose record says "draining", disappears
//     (SIGTERM's revoke or an expired lease), stops matching or moves to
//     another address is drained (memory_nodes/remove NAME, never force:
//     copies move first, a node holding the only copy of a slab stays
//     until the operator decides);
//   - nodes the agent did not add (the operator's, swap.conf's [node.*])
//     are never touched; the ones it added are remembered in [pool]
//     state_file across restarts of the agent.
// A registry that cannot be reached changes nothing: the agent keeps the
// last view, retries with backoff and resynchronises when it is back.
#pragma once

#include "config.hpp"
#include "sysfs.hpp"

#include <etcd_client.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace disagg::ctl {

// The kernel's list of memory nodes as the agent sees and changes it:
// SysfsNodes in production, a fake kernel in tests.
class NodeTable {
public:
	virtual ~NodeTable() = default;
	// Name -> state (connecting, up, draining, down).
	virtual std::map<std::string, std::string> nodes() const = 0;
	// memory_nodes/add; Error when the kernel refuses.
	virtual void add(const NodeConf &n) = 0;
	// memory_nodes/remove NAME (drain); Error when the kernel refuses.
	virtual void drain(const std::string &name) = 0;
};

class SysfsNodes : public NodeTable {
public:
	explicit SysfsNodes(const Sysfs &fs) : fs_(fs) {}
	std::map<std::string, std::string> nodes() const override;
	void add(const NodeConf &n) override;
	void drain(const std::string &name) override;

private:
	const Sysfs &fs_;
	bool key_installed_ = false;
};

class Agent {
public:
	using Clock = std::chrono::steady_clock;

	Agent(const PoolConf &c, NodeTable &t, std::ostream &log);

	// The registry's whole prefix (after a range request): replaces the
	// view.
	void resync(const std::vector<etcd::KeyValue> &kvs);
	// A watch's events.
	void update(const std::vector<etcd::Event> &evs);
	// Brings the kernel's list to the view: adds what is wanted (an add
	// that fails is retried, 1 s doubling up to 30 s), drains what the
	// agent added and is no longer wanted, forgets nodes that are gone.
	void reconcile(Clock::time_point now);

	// Names the agent added, with "ADDR PORT".
	const std::map<std::string, std::string> &owned() const { return owned_; }
	// Names the view wants now.
	std::vector<std::string> wanted() const;

private:
	struct Want {
		std::string name;
		std::string addr;
		unsigned port = 0;
	};
	struct Retry {
		Clock::time_point next;
		std::chrono::milliseconds wait{0};
		std::string last_error;
	};

	void consider(const std::string &key, const std::string &value);
	void load_state();
	void save_state();
	// Each distinct message once (until forget_note(@topic)).
	void note(const std::string &topic, const std::string &msg);
	void forget_note(const std::string &topic);

	const PoolConf &conf_;
	NodeTable &table_;
	std::ostream &log_;
	std::map<std::string, Want> view_;	// etcd key -> wanted node
	std::map<std::string, std::string> owned_;	// name -> "ADDR PORT"
	std::map<std::string, Retry> retry_;
	std::map<std::string, std::string> notes_;
};

// The loop of `disaggctl agent`: range, reconcile, watch, a full resync
// every @resync and after every registry failure (backoff 1 s doubling up
// to 30 s); reconcile at least every second. Returns when @stop is set.
void run_agent(const PoolConf &c, NodeTable &t, std::ostream &log, const std::atomic<bool> &stop,
	       std::chrono::seconds resync = std::chrono::seconds(60));

}  // namespace disagg::ctl
