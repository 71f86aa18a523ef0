// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// A fake kernel node list for `disaggctl agent`'s tests: add() makes a
// node "up" (or fails with the errno set in @refuse), drain() makes it
// "draining" until finish_drains() (or at once with @instant_drain).
// Thread-safe: the scale test reads it while the agent's loop runs.
#pragma once

#include "pool.hpp"

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace disagg::ctl {

class FakeKernel : public NodeTable {
public:
	std::map<std::string, std::string> nodes() const override
	{
		std::lock_guard<std::mutex> l(mu_);
		return nodes_;
	}
	void add(const NodeConf &n) override
	{
		std::lock_guard<std::mutex> l(mu_);
		tries[n.name]++;
		if (auto r = refuse.find(n.name); r != refuse.end())
			throw Error("cannot write to memory_nodes/add: " + errno_text(r->second),
				    r->second);
		if (nodes_.count(n.name))
			throw Error("cannot write to memory_nodes/add: " + errno_text(EEXIST), EEXIST);
		nodes_[n.name] = "up";
		adds.push_back(n);
	}
	void drain(const std::string &name) override
	{
		std::lock_guard<std::mutex> l(mu_);
		auto it = nodes_.find(name);
		if (it == nodes_.end())
			throw Error("cannot write to memory_nodes/remove: " + errno_text(ENOENT), ENOENT);
		drains.push_back(name);
		if (instant_drain)
			nodes_.erase(it);
		else
			it->second = "draining";
	}
	void finish_drains()
	{
		std::lock_guard<std::mutex> l(mu_);
		for (auto it = nodes_.begin(); it != nodes_.end();)
			it = it->second == "draining" ? nodes_.erase(it) : std::next(it);
	}
	std::vector<std::string> names() const
	{
		std::lock_guard<std::mutex> l(mu_);
		std::vector<std::string> v;
		for (const auto &[n, s] : nodes_)
			v.push_back(n);
		return v;
	}
	std::string state(const std::string &name) const
	{
		std::lock_guard<std::mutex> l(mu_);
		auto it = nodes_.find(name);
		return it == nodes_.end() ? "" : it->second;
	}

	// Direct access for single-threaded tests.
	std::map<std::string, std::string> nodes_;
	std::vector<NodeConf> adds;
	std::vector<std::string> drains;
	std::map<std::string, int> tries;
	std::map<std::string, int> refuse;
	bool instant_drain = false;

private:
	mutable std::mutex mu_;
};

}  // namespace disagg::ctl
