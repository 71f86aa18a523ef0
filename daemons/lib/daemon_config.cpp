// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "daemon_config.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>

namespace disagg {

struct DaemonOptions::Impl {
	CLI::App app;
	DaemonConfig &c;
	const std::uint16_t default_port;
	std::string group = "Options";

	Impl(std::string_view description, std::string_view prog, DaemonConfig &cfg,
	     std::uint16_t port)
		: app(std::string(description), std::string(prog)), c(cfg), default_port(port)
	{
	}
};

namespace {

// A value that the option's own parser refused.
[[noreturn]] void refuse(const std::string &why)
{
	throw CLI::ValidationError(why);
}

}  // namespace

DaemonOptions::DaemonOptions(std::string_view prog, std::string_view description,
			     DaemonConfig &c, std::uint16_t default_port)
	: impl_(std::make_unique<Impl>(description, prog, c, default_port))
{
	CLI::App &app = impl_->app;
	c.listen_port = default_port;
	// The last of an option given twice wins; the command line wins over
	// the config file; a key the config file should not have is an error.
	app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
	app.allow_config_extras(CLI::config_extras_mode::error);
	app.get_formatter()->column_width(30);
	app.set_help_flag("-h,--help", "this text");
	app.set_config("--config", "",
		       "read options from FILE: one KEY = VALUE per line, KEY the long\n"
		       "option's name without '--' (INI or TOML, see disagg-memd(8));\n"
		       "options on the command line win over the file's")
		->type_name("FILE");
	add("--listen", "ADDR[:PORT]",
	    "address to listen on (default 0.0.0.0:" + std::to_string(default_port) + ")",
	    [this](const std::string &v) {
		    DaemonConfig &cfg = impl_->c;
		    if (!parse_host_port(v, cfg.listen_host, cfg.listen_port, impl_->default_port))
			    return invalid("--listen", v) +
				   ": expected ADDR, ADDR:PORT or [ADDR]:PORT";
		    return std::string();
	    });
	add("--transport", "rdma|tcp",
	    std::string("transport (default ") + to_string(c.transport) + ")",
	    [this](const std::string &v) {
		    std::optional<TransportKind> t = parse_transport(v);
		    if (!t)
			    return invalid("--transport", v) + ": expected rdma or tcp";
		    impl_->c.transport = *t;
		    return std::string();
	    });
	add_uint("--max-clients", "N",
		 "concurrent connections (default " + std::to_string(kDefaultMaxClients) + ")",
		 c.max_clients, 1, kMaxMaxClients);
}

DaemonOptions::~DaemonOptions() = default;

void DaemonOptions::add(const char *name, const char *type_name, std::string help,
			std::function<std::string(const std::string &)> set, bool required)
{
	CLI::Option *o = impl_->app.add_option_function<std::string>(
		name,
		[set = std::move(set)](const std::string &v) {
			if (std::string e = set(v); !e.empty())
				refuse(e);
		},
		std::move(help));
	o->type_name(type_name)->group(impl_->group);
	if (required)
		o->required();
}

void DaemonOptions::add_list(const char *name, const char *type_name, std::string help,
			     std::function<std::string(const std::string &)> set)
{
	CLI::Option *o = impl_->app.add_option_function<std::vector<std::string>>(
		name,
		[set = std::move(set)](const std::vector<std::string> &vs) {
			for (const std::string &v : vs)
				if (std::string e = set(v); !e.empty())
					refuse(e);
		},
		std::move(help));
	// One value per occurrence: "--label a=1 b=2" leaves b=2 a stray
	// argument. (A config file line "KEY = V1,V2" gives two values.)
	o->type_name(type_name)->group(impl_->group)->multi_option_policy(
		CLI::MultiOptionPolicy::TakeAll)->allow_extra_args(false);
}

void DaemonOptions::add_flag(const char *name, bool &out, std::string help)
{
	impl_->app.add_flag(name, out, std::move(help))->group(impl_->group);
}

void DaemonOptions::add_uint(const char *name, const char *type_name, std::string help,
			     unsigned &out, std::uint64_t lo, std::uint64_t hi)
{
	add(name, type_name, std::move(help), [name, &out, lo, hi](const std::string &v) {
		std::optional<std::uint64_t> n = parse_uint(v, lo, hi);
		if (!n)
			return invalid(name, v) + ": expected " + std::to_string(lo) + ".." +
			       std::to_string(hi);
		out = static_cast<unsigned>(*n);
		return std::string();
	});
}

void DaemonOptions::group(std::string title)
{
	impl_->group = std::move(title);
}

void DaemonOptions::add_tail()
{
	DaemonConfig &c = impl_->c;
	group("Options");
	add("--keys", "FILE",
	    "clients must authenticate with a key from FILE (NAME SECRET [admin]\n"
	    "per line, mode 0600; SIGHUP reloads it); without it anyone may connect",
	    [&c](const std::string &v) {
		    if (v.empty())
			    return invalid("--keys", v) + ": expected a file";
		    c.keys_file = v;
		    return std::string();
	    });
	add_uint("--heartbeat", "SECONDS",
		 "probe clients silent this long, 0 never (default " +
			 std::to_string(kDefaultHeartbeatSec) + ")",
		 c.heartbeat_sec, 0, 86400);
	add_uint("--idle-timeout", "SECONDS",
		 "close a connection that sends no request this long, 0 never (default " +
			 std::to_string(kDefaultIdleTimeoutSec) + ")",
		 c.idle_timeout_sec, 0, kMaxIdleTimeoutSec);
	add_uint("--max-conns-per-identity", "N",
		 "connections of one key (one for all without --keys), 0 no limit\n"
		 "(default " + std::to_string(kDefaultMaxConnsPerIdentity) + ")",
		 c.max_conns_per_identity, 0, kMaxMaxClients);
	add_uint("--max-conns-per-addr", "N",
		 "connections from one address, 0 no limit (default " +
			 std::to_string(kDefaultMaxConnsPerAddr) + ")",
		 c.max_conns_per_addr, 0, kMaxMaxClients);
	add("--max-pinned", "SIZE",
	    "RDMA message buffers of all connections together, 0 no limit (default 1G)",
	    [&c](const std::string &v) {
		    std::optional<std::uint64_t> n = parse_size(v);
		    if (!n || *n > (1ull << 50))
			    return invalid("--max-pinned", v) +
				   ": expected a size (K/M/G/T suffixes), 0 for no limit";
		    c.max_pinned = *n;
		    return std::string();
	    });
	add("--log-level", "LEVEL", "error|warn|info|debug (default info)",
	    [&c](const std::string &v) {
		    std::optional<log::Level> l = log::parse_level(v);
		    if (!l)
			    return invalid("--log-level", v) +
				   ": expected error, warn, info or debug";
		    c.log_level = *l;
		    return std::string();
	    });
	add("--metrics", "ADDR:PORT",
	    "serve OpenMetrics text over HTTP at http://ADDR:PORT/metrics (default off)",
	    [&c](const std::string &v) {
		    // The port is not optional: no default port to collide on.
		    const std::size_t colon = v.rfind(':');
		    const std::size_t bracket = v.rfind(']');
		    if (colon == std::string::npos ||
			(bracket != std::string::npos && colon < bracket) ||
			!parse_host_port(v, c.metrics_host, c.metrics_port, 0))
			    return invalid("--metrics", v) + ": expected ADDR:PORT or [ADDR]:PORT";
		    return std::string();
	    });
}

std::string DaemonOptions::parse(const std::vector<std::string> &args, bool &help)
{
	help = false;
	// CLI11 takes the arguments last first.
	std::vector<std::string> rev(args.rbegin(), args.rend());
	try {
		impl_->app.parse(rev);
	} catch (const CLI::CallForHelp &) {
		help = true;
	} catch (const CLI::ConfigError &e) {
		// CLI11's "INI was not able to parse KEY": a key of the file
		// that is not one of our options.
		std::string file;
		if (const CLI::Option *o = impl_->app.get_config_ptr(); o && o->count())
			file = " " + o->as<std::string>();
		return "--config" + file + ": " + e.what();
	} catch (const CLI::ParseError &e) {
		return e.what();
	}
	return {};
}

std::string DaemonOptions::help() const
{
	return impl_->app.help();
}

}  // namespace disagg
