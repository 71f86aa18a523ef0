// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// STATUS: the node's state as one JSON object, for people and tools:
//
//   {"server_id":"...","transport":"rdma","listen":"198.18.1.2:7470",
//    "auth":"on","capacity":N,"free":N,"used":N,"slab_size":N,"grace_s":30,
//    "nr_clients":N,"slabs":N,"evicting":N,"evicting_bytes":N,
//    "evicting_acked":N,"evict_grace_s":30,"client_quota":N,
//    "identities":[{"identity":"","conns":N,"used":N,"quota":N|null}, ...],
//    "clients":[{"client_id":"...","name":"...","role":"swap",
//                "identity":"...","connected":true,"conn":N,
//                "peer":"addr:port","slabs":N,"bytes":N,"evicting":N,
//                "expires_in_s":null}, ...]}
//
// "used" may exceed "capacity" after MEM_RESIZE lowered it ("free" is then
// 0): "evicting" slabs ("evicting_bytes" bytes) are asked back from their
// clients, see op_evict.cpp ("evicting_acked" of them answered that they
// will be released); per client, how many of its slabs are.
//
// "clients" lists connected clients and clients whose slabs wait out their
// grace period (connected false, expires_in_s the seconds left). When the
// whole text would not fit in one reply the list is left out and
// "clients_omitted" says how many entries it had. An admin (a key marked
// admin; on an open daemon, a ctl client) sees every client; anyone else
// sees the node's totals and the entries of its own (identity, client_id)
// only. "identities" (connections counted by --max-conns-per-identity and
// slab bytes against --client-quota, per identity; "" on an open daemon)
// lists every identity with slabs or connections for an admin, and at most
// the viewer's own identity for anyone else.
#include "service.hpp"

#include "json.hpp"

#include <chrono>
#include <cstdio>
#include <map>

namespace disagg::memd {

using namespace proto;

std::string MemService::status_json(std::size_t max_bytes, const Session *viewer) const
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

	auto fields = [&](Json &j) {
		j["capacity"] = pool_.capacity();
		j["free"] = pool_.free_bytes();
		j["used"] = pool_.used();
		j["slab_size"] = pool_.slab_size();
		j["grace_s"] = static_cast<std::uint64_t>(
			duration_cast<seconds>(pool_.grace()).count());
		j["nr_clients"] = nr_clients();
		j["slabs"] = pool_.slab_count();
		j["evicting"] = evicting();
		j["evicting_bytes"] = evicting_bytes();
		j["evicting_acked"] = evicting_acked();
		j["evict_grace_s"] = static_cast<std::uint64_t>(
			duration_cast<seconds>(evict_grace_).count());
		quota_json(j, viewer);
	};
	auto client = [&](Json &j, const Session &s) {
		const OwnerUsage *u = nullptr;
		if (s.owns_slabs) {
			listed[s.owner] = true;
			if (auto it = usage.find(s.owner); it != usage.end())
				u = &it->second;
		}
		j["connected"] = true;
		j["conn"] = s.conn;
		j["peer"] = json_bytes(s.peer);
		j["connected_s"] = static_cast<std::uint64_t>(
			duration_cast<seconds>(now - s.connected_at).count());
		j["slabs"] = u ? u->slabs : 0;
		j["attached"] = s.slabs.size();
		j["bytes"] = u ? u->bytes : 0;
		j["evicting"] = s.owns_slabs ? evicting_of(s.owner) : 0;
	};
	// Slabs in their grace period, their owner gone.
	auto waiting = [&](Json &, ClientList &list) {
		for (const auto &[owner, u] : usage) {
			if (list.listing() && listed.contains(owner))
				continue;
			auto k = owner_key_.find(owner);
			const std::string identity = k != owner_key_.end() ? k->second.first : "";
			const std::uint64_t client_id = k != owner_key_.end() ? k->second.second : 0;
			if (!visible(viewer, identity, client_id))
				continue;
			Json *e = list.add();
			if (!e)
				continue;
			(*e)["client_id"] = hex64(client_id);
			(*e)["identity"] = json_bytes(identity);
			(*e)["connected"] = false;
			(*e)["slabs"] = u.slabs;
			(*e)["bytes"] = u.bytes;
			(*e)["evicting"] = evicting_of(owner);
			if (u.deadline)
				(*e)["expires_in_s"] = static_cast<std::int64_t>(
					duration_cast<seconds>(*u.deadline - now).count());
			else
				(*e)["expires_in_s"] = nullptr;
		}
	};
	return status_text(max_bytes, viewer, fields, client, waiting);
}

void MemService::metrics(MetricsText &t) const
{
	t.gauge("capacity_bytes", "Bytes exported (--capacity, or MEM_RESIZE's).",
		pool_.capacity(), "bytes");
	t.gauge("free_bytes", "Bytes not in a slab.", pool_.free_bytes(), "bytes");
	t.gauge("used_bytes", "Bytes in slabs, grace-period slabs included.", pool_.used(),
		"bytes");
	t.gauge("slab_size_bytes", "The largest slab a client may ask for (--slab-size).",
		pool_.slab_size(), "bytes");
	t.gauge("slabs", "Slabs allocated, grace-period slabs included.", pool_.slab_count());
	t.gauge("evicting_slabs", "Slabs asked back with MEM_EVICT and not released yet.",
		evicting());
	t.gauge("evicting_bytes", "Bytes of the slabs being evicted.", evicting_bytes(),
		"bytes");
	t.gauge("client_quota_bytes", "Slab bytes one identity may hold, 0 no quota.",
		client_quota_, "bytes");
}

}  // namespace disagg::memd
