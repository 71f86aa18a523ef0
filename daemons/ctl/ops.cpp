// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "ops.hpp"

#include "auth.hpp"

#include <keyutils.h>
#include <spawn.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <sstream>
#include <thread>

extern char **environ;

namespace disagg::ctl {

namespace {

constexpr const char *kNodesDir = "kernel/disagg/memory_nodes";

std::string node_dir(const std::string &name)
{
	return std::string(kNodesDir) + "/" + name;
}

// Hints for the errnos an operator meets first.
std::string hint(int err)
{
	switch (err) {
	case ENOENT:
		return " (is disagg_swap loaded? modprobe disagg_swap)";
	case ENOKEY:
		return " (no key \"disagg:NAME\" in the keyrings: set key_file, or keyctl add logon)";
	case EKEYREJECTED:
		return " (the node does not know this key, or holds another secret for it)";
	case EACCES:
		return " (the node requires a key, or does not authenticate while we hold one)";
	default:
		return "";
	}
}

void write_hinted(const Sysfs &fs, const std::string &rel, const std::string &value)
{
	try {
		fs.write(rel, value);
	} catch (const Error &e) {
		throw Error(e.what() + hint(e.err()), e.err());
	}
}

}  // namespace

void install_key(const NodeConf &n, std::ostream &out)
{
	if (n.key_file.empty())
		return;
	std::string secret, err;
	if (!auth::load_secret(n.key_file, n.key, secret, err))
		throw Error("node " + n.name + ": key_file " + n.key_file + ": " + err, EINVAL);
	const std::string desc = "disagg:" + n.key;
	const key_serial_t id = ::add_key("logon", desc.c_str(), secret.data(), secret.size(),
					  KEY_SPEC_USER_KEYRING);
	if (id < 0) {
		const int e = errno;
		throw Error("cannot add the logon key \"" + desc + "\" to the user keyring: " +
				    errno_text(e),
			    e);
	}
	// request_key() searches the writer's thread, process and session
	// keyrings; a service's session keyring need not reach the user one.
	if (::keyctl_link(id, KEY_SPEC_PROCESS_KEYRING) < 0) {
		const int e = errno;
		throw Error("cannot link the key \"" + desc + "\" into the process keyring: " +
				    errno_text(e),
			    e);
	}
	out << "key " << desc << " from " << n.key_file << "\n";
}

void node_add(const Sysfs &fs, const NodeConf &n, std::ostream &out)
{
	check_node_name(n.name, "node add");
	install_key(n, out);
	write_hinted(fs, std::string(kNodesDir) + "/add", node_add_line(n));
	std::string state = "?";
	if (auto s = fs.read_opt(node_dir(n.name) + "/state"))
		state = *s;
	out << "node " << n.name << ": added (" << n.transport << " " << n.addr << ":" << n.port
	    << "), " << state << "\n";
}

void node_remove(const Sysfs &fs, const std::string &name, bool force, std::ostream &out)
{
	check_node_name(name, "node remove");
	write_hinted(fs, std::string(kNodesDir) + "/remove", force ? name + " force" : name);
	if (!fs.exists(node_dir(name)))
		out << "node " << name << ": removed\n";
	else
		out << "node " << name << ": draining (" << fs.read(node_dir(name) + "/state")
		    << "), removed when its copies have moved\n";
}

void node_drain(const Sysfs &fs, const std::string &name, unsigned timeout_s, std::ostream &out)
{
	check_node_name(name, "node drain");
	if (!fs.exists(node_dir(name)))
		throw Error("node " + name + ": no " + fs.path(node_dir(name)) + ": " +
				    errno_text(ENOENT),
			    ENOENT);
	write_hinted(fs, std::string(kNodesDir) + "/remove", name);
	const auto start = std::chrono::steady_clock::now();
	std::string last;
	for (;;) {
		std::optional<std::string> st;
		try {
			st = fs.read_opt(node_dir(name) + "/stat");
		} catch (const Error &) {
			st.reset();	// gone while reading
		}
		if (!st || !fs.exists(node_dir(name))) {
			out << "node " << name << ": drained and removed\n";
			return;
		}
		std::istringstream w(*st);
		std::string slabs;
		w >> slabs;
		if (slabs != last) {
			out << "node " << name << ": " << slabs << " slabs left\n" << std::flush;
			last = slabs;
		}
		const auto waited = std::chrono::steady_clock::now() - start;
		if (timeout_s && waited >= std::chrono::seconds(timeout_s))
			throw Error("node " + name + ": still draining after " +
					    std::to_string(timeout_s) + " s (" + slabs +
					    " slabs left); it goes on in the background",
				    ETIMEDOUT);
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
	}
}

namespace {

bool in_proc_swaps(const Sysfs &fs, const std::string &dev)
{
	std::istringstream in(fs.read_proc("swaps"));
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream w(line);
		std::string name;
		if (w >> name && name == "/dev/" + dev)
			return true;
	}
	return false;
}

void run(const std::vector<std::string> &argv)
{
	std::vector<char *> args;
	for (const std::string &a : argv)
		args.push_back(const_cast<char *>(a.c_str()));
	args.push_back(nullptr);
	pid_t pid = 0;
	const int e = ::posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ);
	if (e)
		throw Error("cannot run " + argv[0] + ": " + errno_text(e), e);
	int st = 0;
	while (::waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		throw Error(argv[0] + " " + argv.back() + " failed (status " +
				    std::to_string(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st)) +
				    ")",
			    EIO);
}

}  // namespace

void swap_up(const Sysfs &fs, const SwapConf &c, const SwapOptions &o, std::ostream &out)
{
	const std::string add = std::string(kNodesDir) + "/add";
	if (!fs.exists(add))
		throw Error("no " + fs.path(add) + ": " + errno_text(ENOENT) + hint(ENOENT), ENOENT);
	for (const NodeConf &n : c.nodes) {
		if (fs.exists(node_dir(n.name))) {
			out << "node " << n.name << ": there already ("
			    << fs.read(node_dir(n.name) + "/state") << ")\n";
			continue;
		}
		node_add(fs, n, out);
	}
	const std::string dir = "block/" + c.device + "/";
	if (!fs.exists(dir + "disksize"))
		throw Error("no " + fs.path(dir + "disksize") + ": " + errno_text(ENOENT) +
				    " (disagg_swap's num_devices too small?)",
			    ENOENT);
	const std::string size = fs.read(dir + "disksize");
	if (size != "0") {
		out << c.device << ": sized already (" << size << " bytes)\n";
	} else {
		auto knob = [&](const char *name, const std::string &v) {
			if (v.empty())
				return;
			fs.write(dir + name, v);
			out << c.device << ": " << name << " " << v << "\n";
		};
		auto num = [](const std::optional<unsigned> &v) {
			return v ? std::to_string(*v) : std::string();
		};
		// The ones that must come before disksize first.
		knob("slab_size", c.slab_size);
		knob("replicas", c.replicas ? std::to_string(c.replicas) : "");
		knob("synchronous", num(c.synchronous));
		knob("prefetch_pages", num(c.prefetch_pages));
		knob("backing_dev", c.backing_dev);
		knob("prefetch", c.prefetch);
		knob("rebuild_rate_mb", num(c.rebuild_rate_mb));
		knob("failover_ms", num(c.failover_ms));
		knob("disksize", c.disksize);
	}
	if (!o.swapon)
		return;
	if (in_proc_swaps(fs, c.device)) {
		out << c.device << ": swap already on\n";
		return;
	}
	const std::string dev = "/dev/" + c.device;
	run({o.mkswap, "-q", dev});
	int flags = 0;
	if (c.priority >= 0)
		flags = SWAP_FLAG_PREFER |
			((c.priority << SWAP_FLAG_PRIO_SHIFT) & SWAP_FLAG_PRIO_MASK);
	if (::swapon(dev.c_str(), flags) < 0) {
		const int e = errno;
		throw Error("swapon " + dev + ": " + errno_text(e), e);
	}
	out << c.device << ": swap on, priority " << c.priority << "\n";
}

void swap_down(const Sysfs &fs, const SwapConf &c, const SwapOptions &o, std::ostream &out)
{
	std::optional<Error> first;
	auto step = [&](auto &&fn) {
		try {
			fn();
		} catch (const Error &e) {
			out << "disaggctl: " << e.what() << "\n";
			if (!first)
				first = e;
		}
	};
	const std::string dir = "block/" + c.device + "/";
	const std::string dev = "/dev/" + c.device;
	if (o.swapon && in_proc_swaps(fs, c.device))
		step([&] {
			if (::swapoff(dev.c_str()) < 0) {
				const int e = errno;
				throw Error("swapoff " + dev + ": " + errno_text(e), e);
			}
			out << c.device << ": swap off\n";
		});
	if (!first && fs.exists(dir + "disksize") && fs.read(dir + "disksize") != "0")
		step([&] {
			fs.write(dir + "reset", "1");
			out << c.device << ": reset\n";
		});
	// With the device still in use, removing its nodes would only start
	// moving its copies around: stop here.
	if (first)
		throw *first;
	for (const NodeConf &n : c.nodes)
		if (fs.exists(node_dir(n.name)))
			step([&] { node_remove(fs, n.name, false, out); });
	if (first)
		throw *first;
}

}  // namespace disagg::ctl
