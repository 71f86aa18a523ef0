// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "config.hpp"

#include "proto.hpp"
#include "registry.hpp"

#include <unistd.h>

#include <climits>

namespace disagg::memd {

namespace {

// The options of @c, for parsing or for --help.
void add_options(DaemonOptions &o, Config &c)
{
	using proto::kPageSize;
	o.add("--capacity", "SIZE",
	      "bytes to export (K/M/G/T suffixes); required; change it at runtime\n"
	      "with MEM_RESIZE (dg-memclient --resize); SIGHUP reloads --keys only",
	      [&c](const std::string &v) {
		      std::optional<std::uint64_t> n = parse_size(v);
		      if (!n || *n == 0 || *n % kPageSize)
			      return invalid("--capacity", v) +
				     ": expected a size, a nonzero multiple of 4096";
		      c.capacity = *n;
		      return std::string();
	      },
	      true);
	o.add("--slab-size", "SIZE", "largest slab, a page multiple (default 64M)",
	      [&c](const std::string &v) {
		      std::optional<std::uint64_t> n = parse_size(v);
		      if (!n || *n == 0 || *n % kPageSize || *n > (1ull << 40))
			      return invalid("--slab-size", v) +
				     ": expected a nonzero multiple of 4096, at most 1T";
		      c.slab_size = *n;
		      return std::string();
	      });
	o.add_uint("--grace", "SECONDS",
		   "keep a vanished client's slabs this long (default " +
			   std::to_string(kDefaultGraceSec) + ")",
		   c.grace_sec, 0, kMaxGraceSec);
	o.add_uint("--evict-grace", "SECONDS",
		   "ask again for a slab not released this long after MEM_EVICT\n(default " +
			   std::to_string(kDefaultEvictGraceSec) + ")",
		   c.evict_grace_sec, 1, kMaxEvictGraceSec);
	o.add("--client-quota", "SIZE",
	      "slab bytes one identity may hold (one for all clients without\n"
	      "--keys), 0 no quota (default 0)",
	      [&c](const std::string &v) {
		      std::optional<std::uint64_t> n = parse_size(v);
		      if (!n || *n % kPageSize)
			      return invalid("--client-quota", v) +
				     ": expected a size, a multiple of 4096 (0: no quota)";
		      c.client_quota = *n;
		      return std::string();
	      });
	o.group("Registering with a pool (etcd)");
	// A list: a config file's "registry = URL,URL" comes as two values.
	o.add_list("--registry", "URL[,URL...]",
	      "register this node in etcd at these endpoints (http://HOST:PORT,\n"
	      "tried in order; repeatable) under --registry-prefix, with a lease;\n"
	      "default off",
	      [&c](const std::string &v) {
		      std::size_t start = 0;
		      for (;;) {
			      const std::size_t comma = v.find(',', start);
			      const std::string url = v.substr(start, comma == std::string::npos
									   ? std::string::npos
									   : comma - start);
			      const bool scheme = url.starts_with("http://") || url.starts_with("https://");
			      const std::size_t host = url.find("//") + 2;
			      if (!scheme || url.size() <= host || url.size() > 256 ||
				  url.find_first_of(" \t\r\n/?#@", host) != std::string::npos ||
				  c.registry.size() >= kMaxRegistryEndpoints)
				      return invalid("--registry", v) +
					     ": expected http://HOST:PORT[,http://HOST:PORT...]";
			      c.registry.push_back(url);
			      if (comma == std::string::npos)
				      break;
			      start = comma + 1;
		      }
		      return std::string();
	      });
	o.add("--registry-prefix", "PREFIX",
	      std::string("etcd key prefix of memory nodes (default ") + registry::kDefaultPrefix + ")",
	      [&c](const std::string &v) {
		      if (std::string e = registry::check_prefix(v); !e.empty())
			      return invalid("--registry-prefix", v) + ": " + e;
		      c.registry_prefix = v;
		      return std::string();
	      });
	o.add("--registry-name", "NAME",
	      "node name in the registry, 1-31 of [A-Za-z0-9_.-] (default: the\nhost name)",
	      [&c](const std::string &v) {
		      if (std::string e = registry::check_name(v); !e.empty())
			      return invalid("--registry-name", v) + ": " + e;
		      c.registry_name = v;
		      return std::string();
	      });
	o.add("--advertise", "ADDR",
	      "numeric address clients reach this node at, put in the record\n"
	      "(default: the --listen address; required when that is a wildcard)",
	      [&c](const std::string &v) {
		      if (std::string e = registry::check_addr(v); !e.empty())
			      return invalid("--advertise", v) + ": " + e;
		      c.advertise = v;
		      return std::string();
	      });
	o.add_list("--label", "KEY=VALUE",
		   "a label of the record (rack=r1, zone=a), for compute nodes to\n"
		   "choose by; repeatable, at most 16, 1-63 of [A-Za-z0-9_.-] each",
		   [&c](const std::string &v) {
			   const std::size_t eq = v.find('=');
			   const std::string k = v.substr(0, eq);
			   const std::string val = eq == std::string::npos ? "" : v.substr(eq + 1);
			   if (eq == std::string::npos)
				   return invalid("--label", v) + ": expected KEY=VALUE";
			   if (std::string e = registry::check_label(k, val); !e.empty())
				   return invalid("--label", v) + ": " + e;
			   if (!c.labels.contains(k) && c.labels.size() >= registry::kMaxLabels)
				   return invalid("--label", v) + ": more than 16 labels";
			   c.labels[k] = val;
			   return std::string();
		   });
	o.add_uint("--registry-ttl", "SECONDS",
		   "lease TTL: the record goes this long after the node does (default " +
			   std::to_string(kDefaultRegistryTtlSec) + ")",
		   c.registry_ttl_sec, kMinRegistryTtlSec, kMaxRegistryTtlSec);
	o.add_uint("--drain-timeout", "SECONDS",
		   "SIGTERM with --registry: wait this long at most for clients to\n"
		   "move their slabs away (state draining) before stopping (default " +
			   std::to_string(kDefaultDrainTimeoutSec) + ")",
		   c.drain_timeout_sec, 0, kMaxDrainTimeoutSec);
	o.add_tail();
}

// With --registry: the name and address defaults, or why there are none.
std::string registry_defaults(Config &c)
{
	if (c.registry.empty())
		return {};
	if (c.registry_name.empty()) {
		char host[HOST_NAME_MAX + 1] = "";
		if (gethostname(host, sizeof(host)) != 0)
			host[0] = 0;
		host[HOST_NAME_MAX] = 0;
		if (std::string e = registry::check_name(host); !e.empty())
			return "--registry: the host name is no node name (" + e +
			       "); give --registry-name";
		c.registry_name = host;
	}
	if (c.advertise.empty()) {
		if (!registry::check_addr(c.listen_host).empty())
			return "--registry: --listen " + c.listen_host +
			       " is not an address clients can reach; give --advertise";
		c.advertise = c.listen_host;
	}
	return {};
}

constexpr const char *kDescription =
	"Memory-node daemon: exports DRAM to disagg clients in slabs.";

}  // namespace

std::string usage(std::string_view prog)
{
	Config c;
	DaemonOptions o(prog, kDescription, c, proto::kMemdPort);
	add_options(o, c);
	return o.help();
}

ParseResult parse_args(const std::vector<std::string> &args)
{
	ParseResult r;
	DaemonOptions o("disagg-memd", kDescription, r.config, proto::kMemdPort);
	add_options(o, r.config);
	r.error = o.parse(args, r.help);
	if (r.help || !r.error.empty())
		return r;
	if (r.config.slab_size > r.config.capacity) {
		r.error = "--slab-size (" + std::to_string(r.config.slab_size) +
			  ") is larger than --capacity (" +
			  std::to_string(r.config.capacity) + ")";
		return r;
	}
	r.error = registry_defaults(r.config);
	return r;
}

}  // namespace disagg::memd
