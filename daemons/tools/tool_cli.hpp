// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The command line of the test tools (dg-memclient, dg-fsclient,
// dg-hostile): CLI11, as disaggctl and the daemons (daemon_config.hpp),
// with the value parsers of cli.hpp. An option's value that does not parse
// is an error naming the option; every error exits with status 2 after
// "PROG: MESSAGE" and "Try 'PROG --help'." on stderr; --help (or -h)
// prints CLI11's help on stdout and exits 0.
#pragma once

#include "cli.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>

namespace disagg::tool {

// An App with the tools' conventions: the last of an option given twice
// wins (as the hand-written parsers did), -h and --help.
inline void setup(CLI::App &app)
{
	app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
	app.get_formatter()->column_width(30);
	app.set_help_flag("-h,--help", "this text");
}

// An option whose value @set takes: "" or why it is bad ("invalid NAME
// 'VALUE': ...", see invalid()).
inline CLI::Option *add(CLI::App &app, const std::string &name, const char *type_name,
			std::string help, std::function<std::string(const std::string &)> set)
{
	return app
		.add_option_function<std::string>(
			name,
			[set = std::move(set)](const std::string &v) {
				if (std::string e = set(v); !e.empty())
					throw CLI::ValidationError(e);
			},
			std::move(help))
		->type_name(type_name);
}

// An unsigned decimal number in [@lo, @hi] (parse_uint()).
template <class T>
CLI::Option *add_uint(CLI::App &app, const std::string &name, const char *type_name,
		      std::string help, T &out, std::uint64_t lo,
		      std::uint64_t hi = std::numeric_limits<T>::max())
{
	return add(app, name, type_name, std::move(help), [name, &out, lo, hi](const std::string &v) {
		std::optional<std::uint64_t> n = parse_uint(v, lo, hi);
		if (!n)
			return invalid(name, v) + ": expected " + std::to_string(lo) + ".." +
			       std::to_string(hi);
		out = static_cast<T>(*n);
		return std::string();
	});
}

// A size (parse_size(): K/M/G/T suffixes) that is a nonzero multiple of
// @unit.
inline CLI::Option *add_size(CLI::App &app, const std::string &name, std::string help,
			     std::uint64_t &out, std::uint64_t unit)
{
	return add(app, name, "SIZE", std::move(help), [name, &out, unit](const std::string &v) {
		std::optional<std::uint64_t> n = parse_size(v);
		if (!n || *n == 0 || *n % unit)
			return invalid(name, v) + ": expected a nonzero multiple of " +
			       std::to_string(unit) + " bytes (K/M/G/T suffixes)";
		out = *n;
		return std::string();
	});
}

// ADDR, ADDR:PORT or [ADDR]:PORT (parse_host_port()).
inline CLI::Option *add_host_port(CLI::App &app, const std::string &name, const char *type_name,
				  std::string help, std::string &host, std::uint16_t &port,
				  std::uint16_t default_port)
{
	return add(app, name, type_name, std::move(help),
		   [name, &host, &port, default_port](const std::string &v) {
			   if (!parse_host_port(v, host, port, default_port))
				   return invalid(name, v) +
					  ": expected ADDR, ADDR:PORT or [ADDR]:PORT";
			   return std::string();
		   });
}

// --transport rdma|tcp of dg-memclient and dg-fsclient: @rdma says which
// (parse_transport()); @type_name lists the default first.
inline CLI::Option *add_transport(CLI::App &app, const char *type_name, std::string help,
				  bool &rdma)
{
	return add(app, "--transport", type_name, std::move(help), [&rdma](const std::string &v) {
		std::optional<TransportKind> t = parse_transport(v);
		if (!t)
			return invalid("--transport", v) + ": expected rdma or tcp";
		rdma = *t == TransportKind::kRdma;
		return std::string();
	});
}

// --key-file FILE --identity NAME of dg-memclient and dg-fsclient (see
// client::use_key_file()).
inline void add_key_options(CLI::App &app, std::string &file, std::string &identity)
{
	app.add_option("--key-file", file,
		       "authenticate with a key from FILE (NAME SECRET\n"
		       "[admin] lines, mode 0600, as the daemons' --keys)")
		->type_name("FILE");
	app.add_option("--identity", identity, "... the key named NAME (required with --key-file)")
		->type_name("NAME");
}

// "PROG: @msg" and a hint on stderr; the status to exit with (2).
inline int usage_error(const char *prog, const std::string &msg)
{
	std::fprintf(stderr, "%s: %s\nTry '%s --help'.\n", prog, msg.c_str(), prog);
	return 2;
}

// Parses the command line: -1 to go on, else the status to exit with (0
// after --help, 2 after an error).
inline int parse(CLI::App &app, const char *prog, int argc, char **argv)
{
	try {
		app.parse(argc, argv);
	} catch (const CLI::CallForHelp &) {
		std::fputs(app.help().c_str(), stdout);
		return 0;
	} catch (const CLI::ParseError &e) {
		return usage_error(prog, e.what());
	}
	return -1;
}

}  // namespace disagg::tool
