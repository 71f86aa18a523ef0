// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// STATUS: the node's state as one JSON object, for people and tools:
//
//   {"server_id":"...","transport":"rdma","listen":"198.18.1.2:7470",
//    "capacity":N,"free":N,"used":N,"slab_size":N,"grace_s":30,
//    "nr_clients":N,"slabs":N,
//    "clients":[{"client_id":"...","name":"...","role":"swap",
//                "connected":true,"conn":N,"peer":"addr:port",
//                "slabs":N,"bytes":N,"expires_in_s":null}, ...]}
//
// "clients" lists connected clients and clients whose slabs wait out their
// grace period (connected false, expires_in_s the seconds left). When the
// whole text would not fit in one reply the list is left out and
// "clients_omitted" says how many entries it had.
#include "service.hpp"

#include "json.hpp"

#include <chrono>
#include <cstdio>
#include <map>

namespace disagg::memd {

using namespace proto;

std::string MemService::status_json(std::size_t max_bytes) const
{
	const TimePoint now = pool_.clock().now();
	std::map<std::uint64_t, OwnerUsage> usage;
	for (const OwnerUsage &u : pool_.usage())
		usage[u.owner] = u;

	auto build = [&](bool with_clients) {
		JsonWriter j;
		j.begin_object();
		j.str("server_id", hex64(server_id_));
		j.str("transport", transport_.name());
		j.str("listen", listen_);
		j.num("capacity", pool_.capacity());
		j.num("free", pool_.free_bytes());
		j.num("used", pool_.used());
		j.num("slab_size", pool_.slab_size());
		j.num("grace_s", static_cast<std::uint64_t>(
			std::chrono::duration_cast<std::chrono::seconds>(pool_.grace()).count()));
		j.num("nr_clients", nr_clients());
		j.num("slabs", pool_.slab_count());
		std::size_t entries = 0;
		if (with_clients)
			j.begin_array("clients");
		std::map<std::uint64_t, bool> listed;
		for (const auto &[c, s] : sessions_) {
			if (!s.hello_done || s.closing)
				continue;
			entries++;
			if (!with_clients)
				continue;
			const OwnerUsage *u = nullptr;
			if (s.owns_slabs) {
				listed[s.client_id] = true;
				if (auto it = usage.find(s.client_id); it != usage.end())
					u = &it->second;
			}
			j.begin_object();
			j.str("client_id", hex64(s.client_id));
			j.str("name", s.name);
			j.str("role", role_name(s.role));
			j.boolean("connected", true);
			j.num("conn", s.conn);
			j.str("peer", s.peer);
			j.num("connected_s", static_cast<std::uint64_t>(
				std::chrono::duration_cast<std::chrono::seconds>(
					now - s.connected_at).count()));
			j.num("slabs", u ? u->slabs : 0);
			j.num("attached", s.slabs.size());
			j.num("bytes", u ? u->bytes : 0);
			j.end_object();
		}
		for (const auto &[owner, u] : usage) {
			if (listed.contains(owner))
				continue;
			entries++;
			if (!with_clients)
				continue;
			j.begin_object();
			j.str("client_id", hex64(owner));
			j.boolean("connected", false);
			j.num("slabs", u.slabs);
			j.num("bytes", u.bytes);
			if (u.deadline)
				j.snum("expires_in_s", std::chrono::duration_cast<
					std::chrono::seconds>(*u.deadline - now).count());
			else
				j.null("expires_in_s");
			j.end_object();
		}
		if (with_clients)
			j.end_array();
		else
			j.num("clients_omitted", entries);
		j.end_object();
		return j.text();
	};

	std::string full = build(true);
	if (full.size() <= max_bytes)
		return full;
	return build(false);
}

}  // namespace disagg::memd
