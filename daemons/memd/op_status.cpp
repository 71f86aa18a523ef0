// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// STATUS: the node's state as one JSON object, for people and tools:
//
//   {"server_id":"...","transport":"rdma","listen":"198.18.1.2:7470",
//    "capacity":N,"free":N,"used":N,"slab_size":N,"grace_s":30,
//    "nr_clients":N,"slabs":N,"client_quota":N,
//    "identities":[{"identity":"","conns":N,"used":N,"quota":N|null}, ...],
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
	using std::chrono::duration_cast;
	using std::chrono::seconds;
	const TimePoint now = pool_.clock().now();
	std::map<std::uint64_t, OwnerUsage> usage;
	for (const OwnerUsage &u : pool_.usage())
		usage[u.owner] = u;
	// Owners listed with their connection; filled while listing. Without
	// the list, every owner counts once more below.
	std::map<std::uint64_t, bool> listed;

	auto fields = [&](JsonWriter &j) {
		j.num("capacity", pool_.capacity());
		j.num("free", pool_.free_bytes());
		j.num("used", pool_.used());
		j.num("slab_size", pool_.slab_size());
		j.num("grace_s", static_cast<std::uint64_t>(
			duration_cast<seconds>(pool_.grace()).count()));
		j.num("nr_clients", nr_clients());
		j.num("slabs", pool_.slab_count());
		quota_json(j);
	};
	auto client = [&](JsonWriter &j, const Session &s) {
		const OwnerUsage *u = nullptr;
		if (s.owns_slabs) {
			listed[s.client_id] = true;
			if (auto it = usage.find(s.client_id); it != usage.end())
				u = &it->second;
		}
		j.boolean("connected", true);
		j.num("conn", s.conn);
		j.str("peer", s.peer);
		j.num("connected_s", static_cast<std::uint64_t>(
			duration_cast<seconds>(now - s.connected_at).count()));
		j.num("slabs", u ? u->slabs : 0);
		j.num("attached", s.slabs.size());
		j.num("bytes", u ? u->bytes : 0);
	};
	// Slabs in their grace period, their owner gone.
	auto waiting = [&](JsonWriter &j, ClientList &list) {
		for (const auto &[owner, u] : usage) {
			if (list.listing() && listed.contains(owner))
				continue;
			if (!list.add())
				continue;
			j.begin_object();
			j.str("client_id", hex64(owner));
			j.boolean("connected", false);
			j.num("slabs", u.slabs);
			j.num("bytes", u.bytes);
			if (u.deadline)
				j.snum("expires_in_s", duration_cast<seconds>(*u.deadline - now).count());
			else
				j.null("expires_in_s");
			j.end_object();
		}
	};
	return status_text(max_bytes, fields, client, waiting);
}

}  // namespace disagg::memd
