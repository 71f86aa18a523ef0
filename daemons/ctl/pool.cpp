// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "pool.hpp"

#include "ops.hpp"

#include <registry.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace disagg::ctl {

namespace {

constexpr const char *kNodesDir = "kernel/disagg/memory_nodes";
constexpr std::chrono::milliseconds kRetryFirst{1000};
constexpr std::chrono::milliseconds kRetryMax{30000};

std::string addr_port(const std::string &addr, unsigned port)
{
	return addr + " " + std::to_string(port);
}

}  // namespace

std::map<std::string, std::string> SysfsNodes::nodes() const
{
	std::map<std::string, std::string> out;
	for (const std::string &name : fs_.list(kNodesDir)) {
		if (name == "add" || name == "remove")
			continue;
		// A node that goes while we look is simply not there.
		std::optional<std::string> st;
		try {
			st = fs_.read_opt(std::string(kNodesDir) + "/" + name + "/state");
		} catch (const Error &) {
		}
		if (st)
			out.emplace(name, *st);
	}
	return out;
}

void SysfsNodes::add(const NodeConf &n)
{
	// The pool's key (one for every pool node) goes into the keyrings
	// once; node_add() then finds it.
	if (!key_installed_ && !n.key_file.empty()) {
		std::ostringstream quiet;
		install_key(n, quiet);
		key_installed_ = true;
	}
	NodeConf bare = n;
	bare.key_file.clear();
	std::ostringstream quiet;
	node_add(fs_, bare, quiet);
}

void SysfsNodes::drain(const std::string &name)
{
	std::ostringstream quiet;
	node_remove(fs_, name, false, quiet);
}

Agent::Agent(const PoolConf &c, NodeTable &t, std::ostream &log) : conf_(c), table_(t), log_(log)
{
	load_state();
}

void Agent::note(const std::string &topic, const std::string &msg)
{
	auto [it, fresh] = notes_.try_emplace(topic, msg);
	if (!fresh && it->second == msg)
		return;
	it->second = msg;
	log_ << "disaggctl agent: " << msg << "\n" << std::flush;
}

void Agent::forget_note(const std::string &topic)
{
	notes_.erase(topic);
}

// A record from the registry: untrusted (anyone who can write to etcd
// wrote it), so it is parsed strictly and only what it names is used.
void Agent::consider(const std::string &key, const std::string &value)
{
	view_.erase(key);
	std::string why;
	const std::optional<registry::NodeRecord> r = registry::parse_record(value, &why);
	if (!r) {
		note("key " + key, "ignoring " + key + ": " + why);
		return;
	}
	forget_note("key " + key);
	if (registry::record_key(conf_.prefix, r->name) != key) {
		note("key " + key, "ignoring " + key + ": it names node " + r->name);
		return;
	}
	if (r->state != "up")
		return;
	for (const auto &[k, v] : conf_.match) {
		auto l = r->labels.find(k);
		if (l == r->labels.end() || l->second != v)
			return;
	}
	if (std::find(r->transports.begin(), r->transports.end(), conf_.node.transport) ==
	    r->transports.end()) {
		note("key " + key, "ignoring " + r->name + ": it offers no " +
					   conf_.node.transport + " transport");
		return;
	}
	view_[key] = Want{r->name, r->addr, r->port};
}

void Agent::resync(const std::vector<etcd::KeyValue> &kvs)
{
	view_.clear();
	for (const etcd::KeyValue &kv : kvs)
		consider(kv.key, kv.value);
}

void Agent::update(const std::vector<etcd::Event> &evs)
{
	for (const etcd::Event &e : evs) {
		if (e.type == etcd::Event::Type::kPut) {
			consider(e.kv.key, e.kv.value);
		} else {
			view_.erase(e.kv.key);
			forget_note("key " + e.kv.key);
		}
	}
}

std::vector<std::string> Agent::wanted() const
{
	std::set<std::string> names;
	for (const auto &[key, w] : view_)
		names.insert(w.name);
	return {names.begin(), names.end()};
}

void Agent::reconcile(Clock::time_point now)
{
	const std::map<std::string, std::string> cur = table_.nodes();
	bool changed = false;

	// Nodes we added that are gone (drained, or removed by the operator).
	for (auto it = owned_.begin(); it != owned_.end();) {
		if (cur.count(it->first)) {
			++it;
			continue;
		}
		log_ << "disaggctl agent: node " << it->first << " is gone\n" << std::flush;
		retry_.erase(it->first);
		it = owned_.erase(it);
		changed = true;
	}

	// Record keys are unique; names are too, since a key is its name
	// below the prefix (consider()).
	std::map<std::string, const Want *> want;
	for (const auto &[key, w] : view_)
		want.emplace(w.name, &w);

	for (const auto &[name, w] : want) {
		if (cur.count(name)) {
			if (!owned_.count(name))
				note("foreign " + name, "node " + name +
								" is in the pool and was added by hand: left alone");
			continue;
		}
		forget_note("foreign " + name);
		// A bound on what a registry (anyone who can write to it) can
		// make this node connect to.
		if (owned_.size() >= conf_.max_nodes) {
			note("max_nodes", "the pool offers more than max_nodes " +
						  std::to_string(conf_.max_nodes) +
						  " nodes: the others are not added");
			break;
		}
		Retry &r = retry_[name];
		if (r.next > now)
			continue;
		NodeConf n = conf_.node;
		n.name = name;
		n.addr = w->addr;
		n.port = w->port;
		try {
			table_.add(n);
		} catch (const Error &e) {
			r.wait = r.wait.count() ? std::min(r.wait * 2, kRetryMax) : kRetryFirst;
			r.next = now + r.wait;
			if (e.what() != r.last_error)
				log_ << "disaggctl agent: cannot add node " << name << " ("
				     << w->addr << ":" << w->port << "): " << e.what()
				     << "; retrying\n"
				     << std::flush;
			r.last_error = e.what();
			continue;
		}
		retry_.erase(name);
		owned_[name] = addr_port(w->addr, w->port);
		changed = true;
		log_ << "disaggctl agent: added node " << name << " (" << conf_.node.transport << " "
		     << w->addr << ":" << w->port << ")\n"
		     << std::flush;
	}
	if (owned_.size() < conf_.max_nodes)
		forget_note("max_nodes");
	for (auto it = retry_.begin(); it != retry_.end();)
		it = want.count(it->first) ? std::next(it) : retry_.erase(it);

	// Nodes we added that the pool no longer offers (or offers elsewhere).
	for (const auto &[name, where] : owned_) {
		auto c = cur.find(name);
		if (c == cur.end() || c->second == "draining")
			continue;
		auto w = want.find(name);
		if (w != want.end() && addr_port(w->second->addr, w->second->port) == where)
			continue;
		const char *why = w == want.end() ? "left the pool" : "moved to another address";
		try {
			table_.drain(name);
			log_ << "disaggctl agent: node " << name << " " << why << ": draining\n"
			     << std::flush;
			forget_note("drain " + name);
		} catch (const Error &e) {
			note("drain " + name, "cannot drain node " + name + ": " + e.what());
		}
	}
	if (changed)
		save_state();
}

// One line per node the agent added: "NAME ADDR PORT".
void Agent::load_state()
{
	std::ifstream in(conf_.state_file);
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream w(line);
		std::string name, addr;
		unsigned port = 0;
		if (!(w >> name >> addr >> port))
			continue;
		try {
			check_node_name(name, conf_.state_file);
		} catch (const Error &) {
			continue;
		}
		owned_[name] = addr_port(addr, port);
	}
}

void Agent::save_state()
{
	const std::string &file = conf_.state_file;
	const std::string dir = file.substr(0, file.rfind('/'));
	if (!dir.empty())
		::mkdir(dir.c_str(), 0755);
	const std::string tmp = file + ".tmp";
	{
		std::ofstream o(tmp, std::ios::trunc);
		for (const auto &[name, where] : owned_)
			o << name << " " << where << "\n";
		o.flush();
		if (!o) {
			note("state", "cannot write " + tmp + ": " + errno_text(errno ? errno : EIO));
			return;
		}
	}
	if (std::rename(tmp.c_str(), file.c_str()) < 0) {
		note("state", "cannot rename " + tmp + ": " + errno_text(errno));
		return;
	}
	forget_note("state");
}

void run_agent(const PoolConf &c, NodeTable &t, std::ostream &log, const std::atomic<bool> &stop,
	       std::chrono::seconds resync)
{
	using Clock = Agent::Clock;
	etcd::Client client(c.registry, std::chrono::seconds(5));
	Agent a(c, t, log);
	auto backoff = kRetryFirst;
	std::string failing;

	while (!stop) {
		try {
			const etcd::Range r = client.get_prefix(c.prefix);
			a.resync(r.kvs);
			a.reconcile(Clock::now());
			if (!failing.empty())
				log << "disaggctl agent: registry reachable again\n" << std::flush;
			failing.clear();
			backoff = kRetryFirst;
			const auto start = Clock::now();
			auto last = start;
			client.watch_prefix(
				c.prefix, r.revision + 1,
				[&](const std::vector<etcd::Event> &evs, std::int64_t) {
					a.update(evs);
					a.reconcile(Clock::now());
					last = Clock::now();
				},
				[&] {
					const auto now = Clock::now();
					if (now - last >= std::chrono::seconds(1)) {
						a.reconcile(now);
						last = now;
					}
					return stop.load() || now - start >= resync;
				});
		} catch (const etcd::Error &e) {
			if (failing != e.what())
				log << "disaggctl agent: registry: " << e.what()
				    << " (keeping the nodes as they are, retrying)\n"
				    << std::flush;
			failing = e.what();
			// Failed adds still get their retries meanwhile.
			const auto until = Clock::now() + backoff;
			while (!stop && Clock::now() < until) {
				a.reconcile(Clock::now());
				std::this_thread::sleep_for(std::chrono::milliseconds(200));
			}
			backoff = std::min(backoff * 2, kRetryMax);
		}
	}
}

}  // namespace disagg::ctl
