// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "status.hpp"

#include "config.hpp"
#include "memclient.hpp"

#include <cerrno>
#include <cstdio>
#include <iomanip>
#include <sstream>

namespace disagg::ctl {

using nlohmann::json;

const std::vector<std::string> kRemoteStatColumns = {
	"reads", "writes", "zero_reads", "failed_reads", "failed_writes", "discards",
	"remote_slabs", "remote_pages", "write_transfers", "degraded_slabs", "rebuilt_slabs",
	"read_failovers", "backing_lag_pages", "backing_reads", "prefetched", "prefetch_used",
	"prefetch_wasted",
};

const std::vector<std::string> kNodeStatColumns = {"slabs", "reads", "writes", "errors",
						   "free_bytes"};

const std::vector<std::string> kModules = {"disagg_net", "disagg_swap", "disaggfs"};

namespace {

constexpr const char *kNodesDir = "kernel/disagg/memory_nodes";

// A number if the text is one, else the text.
json value_of(const std::string &s)
{
	if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos &&
	    s.size() < 20)
		return std::stoull(s);
	return s;
}

json columns(const std::vector<unsigned long long> &v, const std::vector<std::string> &names)
{
	json o = json::object();
	for (std::size_t i = 0; i < v.size(); i++)
		o[i < names.size() ? names[i] : "col_" + std::to_string(i)] = v[i];
	return o;
}

// /proc/swaps' line for @dev: {"priority","size_kb","used_kb"} or null.
json swap_entry(const std::string &swaps, const std::string &dev)
{
	std::istringstream in(swaps);
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream w(line);
		std::string name, type;
		unsigned long long size = 0, used = 0;
		long long prio = 0;
		if (!(w >> name >> type >> size >> used >> prio))
			continue;
		if (name == "/dev/" + dev)
			return {{"priority", prio}, {"size_kb", size}, {"used_kb", used}};
	}
	return nullptr;
}

// /proc/mounts' octal escapes (\040 for a space) undone.
std::string unescape(const std::string &s)
{
	std::string out;
	for (std::size_t i = 0; i < s.size(); i++) {
		if (s[i] == '\\' && i + 3 < s.size() &&
		    s.substr(i + 1, 3).find_first_not_of("01234567") == std::string::npos) {
			out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
			i += 3;
		} else {
			out += s[i];
		}
	}
	return out;
}

}  // namespace

json collect(const Sysfs &fs)
{
	json j;
	j["sysfs"] = fs.path("");
	json mods = json::object();
	for (const std::string &m : kModules)
		mods[m] = fs.exists("module/" + m);
	j["modules"] = mods;
	if (auto p = fs.read_opt("kernel/disagg/protocol"))
		j["protocol"] = *p;
	else
		j["protocol"] = nullptr;

	const std::string swaps = fs.read_proc("swaps");
	json devs = json::array();
	for (const std::string &dev : fs.list("block", "dswap")) {
		const std::string dir = "block/" + dev + "/";
		json d;
		d["name"] = dev;
		for (const char *attr : {"disksize", "slab_size", "replicas", "synchronous", "state",
					 "degraded_slabs", "backing_dev", "prefetch", "prefetch_pages",
					 "rebuild_rate_mb", "failover_ms"}) {
			if (auto v = fs.read_opt(dir + attr))
				d[attr] = value_of(*v);
		}
		if (auto rs = fs.read_opt(dir + "remote_stat"))
			d["remote_stat"] = columns(parse_counters(*rs, fs.path(dir + "remote_stat")),
						   kRemoteStatColumns);
		d["swap"] = swap_entry(swaps, dev);
		devs.push_back(std::move(d));
	}
	j["devices"] = std::move(devs);

	json nodes = json::array();
	for (const std::string &n : fs.list(kNodesDir)) {
		const std::string dir = std::string(kNodesDir) + "/" + n;
		if (n == "add" || n == "remove" || !fs.exists(dir + "/state"))
			continue;
		json o;
		o["name"] = n;
		o["state"] = fs.read(dir + "/state");
		if (auto k = fs.read_opt(dir + "/key"))
			o["key"] = *k;
		if (auto st = fs.read_opt(dir + "/stat")) {
			json c = columns(parse_counters(*st, fs.path(dir + "/stat")), kNodeStatColumns);
			o.update(c);
		}
		nodes.push_back(std::move(o));
	}
	j["memory_nodes"] = std::move(nodes);

	json mounts = json::array();
	std::istringstream in(fs.read_proc("mounts"));
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream w(line);
		std::string src, target, type, opts;
		if (!(w >> src >> target >> type >> opts) || type != "disaggfs")
			continue;
		mounts.push_back({{"source", unescape(src)},
				  {"target", unescape(target)},
				  {"options", opts}});
	}
	j["mounts"] = std::move(mounts);
	return j;
}

namespace {

// "0.0.0.0:7470" -> host 127.0.0.1, port 7470 (a wildcard listen address
// is asked on the loopback).
void split_listen(const std::string &listen, std::uint16_t dflt, std::string &host,
		  std::uint16_t &port)
{
	host = listen.empty() ? "127.0.0.1" : listen;
	port = dflt;
	const auto colon = host.rfind(':');
	if (colon != std::string::npos && host.find(':') == colon) {
		port = static_cast<std::uint16_t>(std::stoul(host.substr(colon + 1)));
		host.resize(colon);
	}
	if (host == "0.0.0.0" || host.empty())
		host = "127.0.0.1";
}

}  // namespace

json collect_daemons(const std::vector<DaemonTarget> &targets, int timeout_ms)
{
	json out = json::array();
	for (const DaemonTarget &t : targets) {
		std::optional<DaemonConf> dc;
		json o;
		o["name"] = t.name;
		o["config"] = t.config;
		try {
			dc = load_daemon_conf(t.config);
		} catch (const Error &e) {
			o["reachable"] = false;
			o["error"] = e.what();
			out.push_back(std::move(o));
			continue;
		}
		if (!dc)
			continue;
		client::Options opt;
		opt.rdma = dc->transport != "tcp";
		opt.role = proto::Role::kCtl;
		opt.name = "disaggctl";
		opt.timeout_ms = timeout_ms;
		opt.client_id = 0x64697361ull << 16 | static_cast<std::uint64_t>(::getpid() & 0xffff);
		if (t.stord)
			opt.max_frame = DG_FS_MSG_MAX;
		try {
			split_listen(dc->listen, t.stord ? proto::kStordPort : proto::kMemdPort,
				     opt.host, opt.port);
		} catch (const std::exception &) {
			o["reachable"] = false;
			o["error"] = t.config + ": listen \"" + dc->listen + "\" is not ADDR[:PORT]";
			out.push_back(std::move(o));
			continue;
		}
		o["address"] = opt.host + ":" + std::to_string(opt.port);
		o["transport"] = opt.rdma ? "rdma" : "tcp";
		std::string err;
		if (!dc->keys.empty()) {
			const std::string id = pick_status_identity(dc->keys);
			err = id.empty() ? dc->keys + ": no key to ask the status with"
					 : client::use_key_file(opt, dc->keys, id);
		}
		std::unique_ptr<client::Conn> c;
		if (err.empty())
			c = client::Conn::open(opt, err);
		std::optional<std::string> st;
		if (c)
			st = c->status(err);
		if (c)
			c->bye();
		if (!st) {
			o["reachable"] = false;
			o["error"] = err;
		} else {
			o["reachable"] = true;
			try {
				o["status"] = json::parse(*st);
			} catch (const json::exception &e) {
				o["reachable"] = false;
				o["error"] = std::string("malformed status JSON: ") + e.what();
			}
		}
		out.push_back(std::move(o));
	}
	return out;
}

std::string human_bytes(unsigned long long v)
{
	static const char *units = "KMGTPE";
	if (v < 1024)
		return std::to_string(v) + "B";
	double d = static_cast<double>(v);
	int u = -1;
	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	char buf[32];
	std::snprintf(buf, sizeof(buf), "%.1f%c", d, units[u]);
	return buf;
}

namespace {

unsigned long long num(const json &o, const char *k)
{
	auto it = o.find(k);
	return it != o.end() && it->is_number_unsigned() ? it->get<unsigned long long>() : 0;
}

std::string str(const json &o, const char *k, const char *dflt = "-")
{
	auto it = o.find(k);
	if (it == o.end() || it->is_null())
		return dflt;
	return it->is_string() ? it->get<std::string>() : it->dump();
}

// Left-aligned columns, two spaces apart.
std::string table(const std::vector<std::vector<std::string>> &rows)
{
	std::vector<std::size_t> w;
	for (const auto &r : rows)
		for (std::size_t i = 0; i < r.size(); i++) {
			if (w.size() <= i)
				w.push_back(0);
			w[i] = std::max(w[i], r[i].size());
		}
	std::ostringstream o;
	for (const auto &r : rows) {
		std::string line;
		for (std::size_t i = 0; i < r.size(); i++) {
			line += r[i];
			if (i + 1 < r.size())
				line += std::string(w[i] - r[i].size() + 2, ' ');
		}
		o << line << "\n";
	}
	return o.str();
}

}  // namespace

std::string render_table(const json &j)
{
	std::ostringstream o;
	std::string mods;
	for (const auto &[m, loaded] : j["modules"].items())
		if (loaded.get<bool>())
			mods += (mods.empty() ? "" : " ") + m;
	o << "modules: " << (mods.empty() ? "none loaded" : mods);
	if (!j["protocol"].is_null())
		o << " (protocol " << j["protocol"].get<std::string>() << ")";
	o << "\n\n";

	std::vector<std::vector<std::string>> rows = {{"DEVICE", "STATE", "DISKSIZE", "REPLICAS",
		"SWAP", "REMOTE", "SLABS", "READS", "WRITES", "FAILED", "DEGRADED"}};
	for (const json &d : j["devices"]) {
		const json rs = d.value("remote_stat", json::object());
		std::string swap = "off";
		if (!d["swap"].is_null())
			swap = "prio " + std::to_string(d["swap"]["priority"].get<long long>()) + ", " +
			       human_bytes(d["swap"]["used_kb"].get<unsigned long long>() * 1024) +
			       " used";
		rows.push_back({str(d, "name"), str(d, "state"), human_bytes(num(d, "disksize")),
				str(d, "replicas"), swap, human_bytes(num(rs, "remote_pages") * 4096),
				std::to_string(num(rs, "remote_slabs")),
				std::to_string(num(rs, "reads")), std::to_string(num(rs, "writes")),
				std::to_string(num(rs, "failed_reads") + num(rs, "failed_writes")),
				std::to_string(num(d, "degraded_slabs"))});
	}
	o << (rows.size() > 1 ? table(rows) : "no dswap devices (disagg_swap not loaded)\n") << "\n";

	rows = {{"NODE", "STATE", "KEY", "SLABS", "READS", "WRITES", "ERRORS", "FREE"}};
	for (const json &n : j["memory_nodes"])
		rows.push_back({str(n, "name"), str(n, "state"), str(n, "key"),
				std::to_string(num(n, "slabs")), std::to_string(num(n, "reads")),
				std::to_string(num(n, "writes")), std::to_string(num(n, "errors")),
				human_bytes(num(n, "free_bytes"))});
	o << (rows.size() > 1 ? table(rows) : "no memory nodes\n");

	if (!j["mounts"].empty()) {
		rows = {{"MOUNT", "SOURCE", "OPTIONS"}};
		for (const json &m : j["mounts"])
			rows.push_back({str(m, "target"), str(m, "source"), str(m, "options")});
		o << "\n" << table(rows);
	}
	if (j.contains("daemons") && !j["daemons"].empty()) {
		rows = {{"DAEMON", "ADDRESS", "STATE", "CAPACITY", "USED", "CLIENTS"}};
		for (const json &d : j["daemons"]) {
			if (!d.value("reachable", false)) {
				rows.push_back({str(d, "name"), str(d, "address"),
						"unreachable: " + str(d, "error", "")});
				continue;
			}
			const json &s = d["status"];
			rows.push_back({str(d, "name"), str(d, "address"), "up",
					s.contains("capacity") ? human_bytes(num(s, "capacity")) : "-",
					s.contains("used") ? human_bytes(num(s, "used")) : "-",
					str(s, "nr_clients")});
		}
		o << "\n" << table(rows);
	}
	return o.str();
}

namespace {

struct Metric {
	const char *name;
	const char *type;
	const char *help;
};

// Escapes a label value (\\, \", \n).
std::string label(const std::string &v)
{
	std::string o;
	for (char c : v) {
		if (c == '\\' || c == '"')
			o += '\\';
		if (c == '\n') {
			o += "\\n";
			continue;
		}
		o += c;
	}
	return o;
}

}  // namespace

std::string render_metrics(const json &j)
{
	std::ostringstream o;
	auto head = [&](const std::string &name, const char *type, const std::string &help) {
		o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
	};
	head("disagg_module_loaded", "gauge", "1 if the module is loaded.");
	for (const auto &[m, loaded] : j["modules"].items())
		o << "disagg_module_loaded{module=\"" << m << "\"} " << (loaded.get<bool>() ? 1 : 0)
		  << "\n";

	// dswap devices: knobs as gauges, remote_stat as counters or gauges.
	const std::vector<std::pair<std::string, const char *>> gauges_rs = {
		{"remote_slabs", "Slabs with remote memory now."},
		{"remote_pages", "Pages whose data is in remote memory now."},
		{"degraded_slabs", "Slabs short of copies."},
		{"backing_lag_pages", "Pages not yet on the backing device."},
	};
	const json &devs = j["devices"];
	if (!devs.empty()) {
		head("disagg_swap_disksize_bytes", "gauge", "Size of the dswap device.");
		for (const json &d : devs)
			o << "disagg_swap_disksize_bytes{device=\"" << label(str(d, "name")) << "\"} "
			  << num(d, "disksize") << "\n";
		head("disagg_swap_replicas", "gauge", "Copies per slab.");
		for (const json &d : devs)
			o << "disagg_swap_replicas{device=\"" << label(str(d, "name")) << "\"} "
			  << num(d, "replicas") << "\n";
		head("disagg_swap_state", "gauge", "1 for the device's state (unset, ok, degraded).");
		for (const json &d : devs)
			o << "disagg_swap_state{device=\"" << label(str(d, "name")) << "\",state=\""
			  << label(str(d, "state")) << "\"} 1\n";
		head("disagg_swap_active", "gauge", "1 if the device is in use as swap.");
		for (const json &d : devs)
			o << "disagg_swap_active{device=\"" << label(str(d, "name")) << "\"} "
			  << (d["swap"].is_null() ? 0 : 1) << "\n";
		for (std::size_t i = 0; i < kRemoteStatColumns.size(); i++) {
			const std::string &col = kRemoteStatColumns[i];
			const char *help = nullptr;
			for (const auto &[g, h] : gauges_rs)
				if (g == col)
					help = h;
			const std::string name =
				"disagg_swap_" + col + (help ? "" : "_total");
			head(name, help ? "gauge" : "counter",
			     help ? std::string(help)
				  : "remote_stat's " + col + " (Documentation/ABI/testing/sysfs-block-dswap).");
			for (const json &d : devs)
				if (d.contains("remote_stat"))
					o << name << "{device=\"" << label(str(d, "name")) << "\"} "
					  << num(d["remote_stat"], col.c_str()) << "\n";
		}
	}
	const json &nodes = j["memory_nodes"];
	if (!nodes.empty()) {
		head("disagg_memory_node_state", "gauge",
		     "1 for the node's state (connecting, up, draining, down).");
		for (const json &n : nodes)
			o << "disagg_memory_node_state{node=\"" << label(str(n, "name")) << "\",state=\""
			  << label(str(n, "state")) << "\"} 1\n";
		const std::vector<std::tuple<const char *, const char *, const char *>> cols = {
			{"slabs", "gauge", "Copies of our slabs on the node."},
			{"reads", "counter", "Pages read from the node."},
			{"writes", "counter", "Pages written to the node."},
			{"errors", "counter", "Failed page transfers and calls."},
			{"free_bytes", "gauge", "Bytes the node last reported free."},
		};
		for (const auto &[col, type, help] : cols) {
			const std::string name = std::string("disagg_memory_node_") + col +
						 (std::string(type) == "counter" ? "_total" : "");
			head(name, type, help);
			for (const json &n : nodes)
				o << name << "{node=\"" << label(str(n, "name")) << "\"} " << num(n, col)
				  << "\n";
		}
	}
	head("disagg_fs_mounts", "gauge", "disaggfs mounts.");
	o << "disagg_fs_mounts " << j["mounts"].size() << "\n";
	return o.str();
}

}  // namespace disagg::ctl
