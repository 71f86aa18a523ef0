// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disaggctl: the operator's tool on a disagg compute node (and next to its
// daemons). It wraps the kernel's sysfs interface, the daemons' STATUS
// calls and /etc/disagg/swap.conf; the kernel stays the source of truth.
//
//   disaggctl status [--json] [--no-daemons]
//   disaggctl watch [-n SECONDS]
//   disaggctl metrics [-o FILE]
//   disaggctl node add NAME ADDR [--port P] [--transport rdma|tcp] [--key K]
//                      [--key-file F] [--src IP] [--queues N] [--timeout-ms MS]
//   disaggctl node remove NAME [--force]
//   disaggctl node drain NAME [--timeout SECONDS]
//   disaggctl swap up|down [--config FILE] [--no-swapon]
//   disaggctl agent [--config FILE]
//
// $DISAGG_SYSFS_ROOT and $DISAGG_PROC_ROOT replace /sys and /proc,
// $DISAGG_CONF_DIR /etc/disagg (tests). Exit status: 0 done, 1 a failure
// (the message names the sysfs file and the errno), 2 bad arguments.
#include "config.hpp"
#include "ops.hpp"
#include "pool.hpp"
#include "status.hpp"
#include "sysfs.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

using namespace disagg::ctl;

namespace {

std::string conf_dir()
{
	const char *d = std::getenv("DISAGG_CONF_DIR");
	return d && *d ? d : "/etc/disagg";
}

std::vector<DaemonTarget> daemon_targets()
{
	return {{"disagg-memd", conf_dir() + "/memd.conf", false},
		{"disagg-stord", conf_dir() + "/stord.conf", true}};
}

// @text to @file through a temporary file and rename(), as node_exporter's
// textfile collector wants it.
void write_atomically(const std::string &file, const std::string &text)
{
	const std::string tmp = file + ".tmp." + std::to_string(::getpid());
	{
		std::ofstream o(tmp, std::ios::trunc);
		o << text;
		o.flush();
		if (!o) {
			const int e = errno ? errno : EIO;
			throw Error("cannot write " + tmp + ": " + errno_text(e), e);
		}
	}
	if (std::rename(tmp.c_str(), file.c_str()) < 0) {
		const int e = errno;
		std::remove(tmp.c_str());
		throw Error("cannot rename " + tmp + " to " + file + ": " + errno_text(e), e);
	}
}

std::atomic<bool> g_stop{false};

void on_signal(int)
{
	g_stop = true;
}

}  // namespace

int main(int argc, char **argv)
{
	CLI::App app{"disaggctl: status and configuration of disagg swap, memory nodes and "
		     "daemons (see disaggctl(8))"};
	app.require_subcommand(1);
	app.set_help_all_flag("--help-all", "all subcommands' help");

	bool json_out = false, no_daemons = false;
	int timeout_ms = 2000;
	auto *status = app.add_subcommand("status", "devices, memory nodes, mounts and daemons");
	status->add_flag("--json", json_out, "one JSON object instead of tables");
	status->add_flag("--no-daemons", no_daemons, "do not ask the local daemons");
	status->add_option("--timeout-ms", timeout_ms, "per daemon call")->capture_default_str();

	double interval = 2;
	unsigned count = 0;
	auto *watch = app.add_subcommand("watch", "status, refreshed until interrupted");
	watch->add_option("-n,--interval", interval, "seconds between refreshes")
		->check(CLI::Range(0.1, 3600.0))
		->capture_default_str();
	watch->add_option("--count", count, "stop after N refreshes (0: never)");
	watch->add_flag("--no-daemons", no_daemons, "do not ask the local daemons");

	std::string metrics_file;
	auto *metrics = app.add_subcommand(
		"metrics", "the compute node's counters in node_exporter's textfile format");
	metrics->add_option("-o,--output", metrics_file,
			    "write FILE atomically (for the textfile collector) instead of stdout");

	auto *node = app.add_subcommand("node", "memory nodes (memory_nodes/add and remove)");
	node->require_subcommand(1);
	NodeConf nc;
	auto *add = node->add_subcommand("add", "connect a memory node");
	add->add_option("name", nc.name, "node name, 1-31 of [A-Za-z0-9_.-]")->required();
	add->add_option("addr", nc.addr, "the node's IP address")->required();
	add->add_option("--port", nc.port, "memd's port")->capture_default_str();
	add->add_option("--transport", nc.transport, "rdma or tcp")
		->check(CLI::IsMember({"rdma", "tcp"}))
		->capture_default_str();
	add->add_option("--src", nc.src, "local address to connect from");
	add->add_option("--queues", nc.queues, "RDMA queue pairs, 1-8")->check(CLI::Range(1, 8));
	add->add_option("--timeout-ms", nc.timeout_ms, "bound on connecting and on every wait")
		->check(CLI::Range(100, 600000));
	add->add_option("--key", nc.key, "authenticate with the kernel key disagg:KEY");
	add->add_option("--key-file", nc.key_file,
			"put KEY's secret from FILE (NAME SECRET lines) in the keyrings first")
		->needs("--key");
	std::string name;
	bool force = false;
	unsigned drain_timeout = 0;
	auto *remove = node->add_subcommand("remove", "drain a node and remove it, or drop it");
	remove->add_option("name", name)->required();
	remove->add_flag("--force", force, "drop it now: its copies are lost");
	auto *drain = node->add_subcommand("drain", "move a node's copies away, wait, remove it");
	drain->add_option("name", name)->required();
	drain->add_option("--timeout", drain_timeout, "seconds to wait (0: for ever)");

	std::string swap_conf = conf_dir() + "/swap.conf";
	SwapOptions so;
	bool no_swapon = false;
	auto *swap = app.add_subcommand("swap", "remote swap from " + swap_conf);
	swap->require_subcommand(1);
	auto *up = swap->add_subcommand("up", "add the nodes, size the device, swapon");
	auto *down = swap->add_subcommand("down", "swapoff, reset the device, remove the nodes");
	for (auto *s : {up, down}) {
		s->add_option("-c,--config", swap_conf, "the swap configuration")->capture_default_str();
		s->add_flag("--no-swapon", no_swapon, "configure the device only (no mkswap, swapon)");
	}

	auto *agent = app.add_subcommand(
		"agent", "follow the memory pool of swap.conf's [pool] (etcd) until stopped");
	agent->add_option("-c,--config", swap_conf, "the swap configuration")->capture_default_str();

	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		const int rc = app.exit(e);
		return rc == 0 ? 0 : 2;
	}
	so.swapon = !no_swapon;

	const Sysfs fs = Sysfs::from_env();
	try {
		if (*status) {
			nlohmann::json j = collect(fs);
			if (!no_daemons)
				j["daemons"] = collect_daemons(daemon_targets(), timeout_ms);
			if (json_out)
				std::cout << j.dump(2) << "\n";
			else
				std::cout << render_table(j);
		} else if (*watch) {
			for (unsigned i = 0; !count || i < count; i++) {
				nlohmann::json j = collect(fs);
				if (!no_daemons)
					j["daemons"] = collect_daemons(daemon_targets(), timeout_ms);
				const auto now = std::chrono::system_clock::to_time_t(
					std::chrono::system_clock::now());
				char when[64];
				std::strftime(when, sizeof(when), "%F %T", std::localtime(&now));
				// Home and clear, then the whole view at once.
				std::cout << "\033[H\033[2J" << "disaggctl watch, every " << interval
					  << " s: " << when << "\n\n"
					  << render_table(j) << std::flush;
				if (count && i + 1 == count)
					break;
				std::this_thread::sleep_for(std::chrono::duration<double>(interval));
			}
		} else if (*metrics) {
			const std::string text = render_metrics(collect(fs));
			if (metrics_file.empty())
				std::cout << text;
			else
				write_atomically(metrics_file, text);
		} else if (*add) {
			node_add(fs, nc, std::cout);
		} else if (*remove) {
			node_remove(fs, name, force, std::cout);
		} else if (*drain) {
			node_drain(fs, name, drain_timeout, std::cout);
		} else if (*up) {
			swap_up(fs, load_swap_conf(swap_conf), so, std::cout);
		} else if (*down) {
			swap_down(fs, load_swap_conf(swap_conf), so, std::cout);
		} else if (*agent) {
			const SwapConf c = load_swap_conf(swap_conf);
			if (!c.pool)
				throw Error(swap_conf + ": no [pool] section: nothing to follow", EINVAL);
			struct sigaction sa = {};
			sa.sa_handler = on_signal;
			sigaction(SIGTERM, &sa, nullptr);
			sigaction(SIGINT, &sa, nullptr);
			SysfsNodes nodes(fs);
			std::cerr << "disaggctl agent: following " << c.pool->prefix << " at "
				  << c.pool->registry.front()
				  << (c.pool->registry.size() > 1 ? " (and others)" : "") << "\n"
				  << std::flush;
			run_agent(*c.pool, nodes, std::cerr, g_stop);
			std::cerr << "disaggctl agent: stopped (the nodes stay as they are)\n";
		}
	} catch (const Error &e) {
		std::cout.flush();
		std::cerr << "disaggctl: " << e.what() << "\n";
		return 1;
	} catch (const std::exception &e) {
		std::cout.flush();
		std::cerr << "disaggctl: " << e.what() << "\n";
		return 1;
	}
	return 0;
}
