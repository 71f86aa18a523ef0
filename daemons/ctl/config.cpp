// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "config.hpp"

#include "sysfs.hpp"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <regex>
#include <sstream>

namespace disagg::ctl {

namespace {

struct Item {
	std::string section;	// "" (top), "swap", "node.NAME"
	std::string key;
	std::string value;
};

// CLI11's reader; its "++"/"--" entries mark sections opening and closing.
std::vector<Item> read_items(std::istream &in, const std::string &name)
{
	std::vector<CLI::ConfigItem> raw;
	try {
		CLI::ConfigBase reader;
		raw = reader.from_config(in);
	} catch (const CLI::Error &e) {
		throw Error(name + ": " + e.what(), EINVAL);
	}
	std::vector<Item> out;
	for (const CLI::ConfigItem &ci : raw) {
		if (ci.name == "++" || ci.name == "--")
			continue;
		Item it;
		for (std::size_t i = 0; i < ci.parents.size(); i++)
			it.section += (i ? "." : "") + ci.parents[i];
		it.key = ci.name;
		const std::string where = it.section.empty() ? it.key : "[" + it.section + "] " + it.key;
		// CLI11 splits "a,b" into two inputs: lists are the [pool]
		// keys registry and match only, every other key takes one value.
		const bool list = it.section == "pool" && (it.key == "registry" || it.key == "match");
		if (ci.inputs.size() != 1 && !(list && !ci.inputs.empty()))
			throw Error(name + ": " + where + ": one value expected", EINVAL);
		for (std::size_t i = 0; i < ci.inputs.size(); i++)
			it.value += (i ? "," : "") + ci.inputs[i];
		out.push_back(std::move(it));
	}
	return out;
}

unsigned to_uint(const std::string &v, unsigned lo, unsigned hi, const std::string &what)
{
	unsigned long long n = 0;
	auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
	if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n < lo || n > hi)
		throw Error(what + ": \"" + v + "\" is not a number from " + std::to_string(lo) +
				    " to " + std::to_string(hi),
			    EINVAL);
	return static_cast<unsigned>(n);
}

// One key of a [node.NAME] (@addr_port: addr and port allowed) or of
// [pool] (the rest); false when @key is none of them.
bool node_key(NodeConf &n, const std::string &key, const std::string &v, const std::string &what,
	      bool addr_port)
{
	if (addr_port && key == "addr") {
		n.addr = v;
	} else if (addr_port && key == "port") {
		n.port = to_uint(v, 1, 65535, what);
	} else if (key == "transport") {
		if (v != "rdma" && v != "tcp")
			throw Error(what + ": \"" + v + "\" is not rdma or tcp", EINVAL);
		n.transport = v;
	} else if (key == "src") {
		n.src = v;
	} else if (key == "queues") {
		n.queues = to_uint(v, 1, 8, what);
	} else if (key == "timeout_ms") {
		n.timeout_ms = to_uint(v, 100, 600000, what);
	} else if (key == "key") {
		if (v.empty() || v.find_first_of(" \t") != std::string::npos || v.size() > 64)
			throw Error(what + ": \"" + v + "\" is not a key name", EINVAL);
		n.key = v;
	} else if (key == "key_file") {
		n.key_file = v;
	} else {
		return false;
	}
	return true;
}

// "http://HOST:PORT[,...]": etcd's client URLs (plain HTTP: the registry
// holds no secret, see the admin guide).
std::vector<std::string> parse_endpoints(const std::string &v, const std::string &what)
{
	static const std::regex re("http://[A-Za-z0-9_.:\\[\\]-]{1,255}:[0-9]{1,5}");
	std::vector<std::string> out;
	std::stringstream ss(v);
	std::string e;
	while (std::getline(ss, e, ',')) {
		if (!std::regex_match(e, re))
			throw Error(what + ": \"" + e + "\" is not http://HOST:PORT", EINVAL);
		out.push_back(e);
	}
	if (out.empty() || out.size() > 16)
		throw Error(what + ": 1 to 16 endpoints expected", EINVAL);
	return out;
}

}  // namespace

std::map<std::string, std::string> parse_labels(const std::string &v, const std::string &what)
{
	static const std::regex re("([A-Za-z0-9_.-]{1,63})=([A-Za-z0-9_.-]{1,63})");
	std::map<std::string, std::string> out;
	std::stringstream ss(v);
	std::string e;
	while (std::getline(ss, e, ',')) {
		std::smatch m;
		if (!std::regex_match(e, m, re))
			throw Error(what + ": \"" + e + "\" is not KEY=VALUE of [A-Za-z0-9_.-]",
				    EINVAL);
		if (!out.emplace(m[1], m[2]).second)
			throw Error(what + ": label " + m[1].str() + " given twice", EINVAL);
	}
	if (out.size() > 16)
		throw Error(what + ": at most 16 labels", EINVAL);
	return out;
}

void check_node_name(const std::string &name, const std::string &what)
{
	static const std::regex re("[A-Za-z0-9_.-]{1,31}");
	if (!std::regex_match(name, re))
		throw Error(what + ": node name \"" + name + "\" is not 1-31 of [A-Za-z0-9_.-]",
			    EINVAL);
}

void check_size(const std::string &v, const std::string &what)
{
	static const std::regex re("[0-9]+[KMGTkmgt]?");
	if (!std::regex_match(v, re))
		throw Error(what + ": \"" + v + "\" is not a size (bytes, or a number with K, M, G or T)",
			    EINVAL);
}

SwapConf parse_swap_conf(std::istream &in, const std::string &name)
{
	SwapConf c;
	bool have_swap = false;
	for (const Item &it : read_items(in, name)) {
		const std::string what = name + ": [" + it.section + "] " + it.key;
		const std::string &v = it.value;
		if (it.section == "swap") {
			have_swap = true;
			if (it.key == "device") {
				static const std::regex re("dswap[0-9]{1,2}");
				if (!std::regex_match(v, re))
					throw Error(what + ": \"" + v + "\" is not dswapN", EINVAL);
				c.device = v;
			} else if (it.key == "disksize") {
				check_size(v, what);
				c.disksize = v;
			} else if (it.key == "slab_size") {
				check_size(v, what);
				c.slab_size = v;
			} else if (it.key == "replicas") {
				c.replicas = to_uint(v, 1, 3, what);
			} else if (it.key == "priority") {
				c.priority = v == "-1" ? -1 : static_cast<int>(to_uint(v, 0, 32767, what));
			} else if (it.key == "backing_dev") {
				if (!v.empty() && v != "none" && v.front() != '/')
					throw Error(what + ": \"" + v + "\" is not an absolute path or none",
						    EINVAL);
				c.backing_dev = v == "none" ? "" : v;
			} else if (it.key == "synchronous") {
				c.synchronous = to_uint(v, 0, 1, what);
			} else if (it.key == "prefetch") {
				if (v != "off" && v != "trend")
					throw Error(what + ": \"" + v + "\" is not off or trend", EINVAL);
				c.prefetch = v;
			} else if (it.key == "prefetch_pages") {
				c.prefetch_pages = to_uint(v, 0, 4096, what);
			} else if (it.key == "rebuild_rate_mb") {
				c.rebuild_rate_mb = to_uint(v, 0, 1u << 20, what);
			} else if (it.key == "failover_ms") {
				c.failover_ms = to_uint(v, 1, 600000, what);
			} else {
				throw Error(what + ": unknown key", EINVAL);
			}
			continue;
		}
		if (it.section.rfind("node.", 0) == 0) {
			const std::string node = it.section.substr(5);
			check_node_name(node, name + ": [" + it.section + "]");
			if (c.nodes.empty() || c.nodes.back().name != node) {
				for (const NodeConf &n : c.nodes)
					if (n.name == node)
						throw Error(name + ": [" + it.section +
								    "] appears twice",
							    EINVAL);
				c.nodes.emplace_back();
				c.nodes.back().name = node;
			}
			if (!node_key(c.nodes.back(), it.key, v, what, true))
				throw Error(what + ": unknown key", EINVAL);
			continue;
		}
		if (it.section == "pool") {
			if (!c.pool)
				c.pool.emplace();
			PoolConf &p = *c.pool;
			if (it.key == "registry") {
				p.registry = parse_endpoints(v, what);
			} else if (it.key == "prefix") {
				if (v.empty() || v.front() != '/' || v.back() != '/' || v.size() > 128)
					throw Error(what + ": \"" + v +
							    "\" is not a key prefix (/.../, at most 128)",
						    EINVAL);
				p.prefix = v;
			} else if (it.key == "match") {
				p.match = parse_labels(v, what);
			} else if (it.key == "state_file") {
				if (v.empty() || v.front() != '/')
					throw Error(what + ": \"" + v + "\" is not an absolute path",
						    EINVAL);
				p.state_file = v;
			} else if (it.key == "max_nodes") {
				p.max_nodes = to_uint(v, 1, 4096, what);
			} else if (!node_key(p.node, it.key, v, what, false)) {
				throw Error(what + ": unknown key", EINVAL);
			}
			continue;
		}
		throw Error(name + ": " + (it.section.empty() ? it.key + " outside any section"
							      : "[" + it.section + "]: unknown section") +
				    " (sections: [swap], [node.NAME], [pool])",
			    EINVAL);
	}
	if (!have_swap || c.disksize.empty())
		throw Error(name + ": [swap] disksize is required", EINVAL);
	if (c.nodes.empty() && !c.pool)
		throw Error(name + ": no [node.NAME] or [pool] section: memory nodes are needed",
			    EINVAL);
	if (c.pool) {
		if (c.pool->registry.empty())
			throw Error(name + ": [pool] registry is required", EINVAL);
		if (!c.pool->node.key_file.empty() && c.pool->node.key.empty())
			throw Error(name + ": [pool] key_file needs key (the identity)", EINVAL);
	}
	for (const NodeConf &n : c.nodes) {
		if (n.addr.empty())
			throw Error(name + ": [node." + n.name + "] addr is required", EINVAL);
		if (!n.key_file.empty() && n.key.empty())
			throw Error(name + ": [node." + n.name + "] key_file needs key (the identity)",
				    EINVAL);
	}
	if (!c.pool && c.replicas > c.nodes.size())
		throw Error(name + ": [swap] replicas " + std::to_string(c.replicas) +
				    " needs as many nodes, the file has " +
				    std::to_string(c.nodes.size()),
			    EINVAL);
	return c;
}

SwapConf load_swap_conf(const std::string &path)
{
	std::ifstream in(path);
	if (!in) {
		const int e = errno ? errno : ENOENT;
		throw Error("cannot read " + path + ": " + errno_text(e), e);
	}
	return parse_swap_conf(in, path);
}

std::string node_add_line(const NodeConf &n)
{
	std::string s = "name=" + n.name + " transport=" + n.transport + " addr=" + n.addr +
			" port=" + std::to_string(n.port);
	if (!n.src.empty())
		s += " src=" + n.src;
	if (n.queues)
		s += " queues=" + std::to_string(n.queues);
	if (n.timeout_ms)
		s += " timeout_ms=" + std::to_string(n.timeout_ms);
	if (!n.key.empty())
		s += " key=" + n.key;
	return s;
}

std::optional<DaemonConf> load_daemon_conf(const std::string &path)
{
	std::ifstream in(path);
	if (!in)
		return std::nullopt;
	DaemonConf d;
	for (const Item &it : read_items(in, path)) {
		if (!it.section.empty())
			continue;
		if (it.key == "listen")
			d.listen = it.value;
		else if (it.key == "transport")
			d.transport = it.value;
		else if (it.key == "keys")
			d.keys = it.value;
	}
	return d;
}

std::string pick_status_identity(const std::string &path)
{
	std::ifstream in(path);
	std::string line, first;
	while (std::getline(in, line)) {
		std::istringstream words(line);
		std::string name, secret, flag;
		if (!(words >> name) || name[0] == '#' || !(words >> secret))
			continue;
		if (first.empty())
			first = name;
		if (words >> flag && flag == "admin")
			return name;
	}
	return first;
}

}  // namespace disagg::ctl
