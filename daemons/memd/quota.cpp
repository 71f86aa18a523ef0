// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// --client-quota: the slab bytes one identity may hold, counted over every
// client id whose slabs it owns, slabs in their grace period included (they
// still take the node's memory). A MEM_ALLOC that would take an identity
// past its quota gets EDQUOT; asking again for a tag the client holds
// (resume) is never refused. Without --keys every client is the anonymous
// identity "", so the quota is then one budget for all of them.
#include "service.hpp"

#include "log.hpp"

#include <cerrno>
#include <map>

namespace disagg::memd {

std::uint64_t MemService::identity_used(const std::string &identity) const
{
	std::uint64_t used = 0;
	for (const OwnerUsage &u : pool_.usage())
		if (auto it = owner_key_.find(u.owner);
		    it != owner_key_.end() && it->second.first == identity)
			used += u.bytes;
	return used;
}

std::uint32_t MemService::check_quota(const Session &s, std::uint64_t size) const
{
	if (!client_quota_)
		return 0;
	const std::uint64_t used = identity_used(s.identity);
	if (used <= client_quota_ && size <= client_quota_ - used)
		return 0;
	LOG_DBG("%s: alloc of %llu bytes refused: identity \"%s\" holds %llu of its %llu",
		s.label().c_str(), static_cast<unsigned long long>(size),
		log::escape(s.identity).c_str(), static_cast<unsigned long long>(used),
		static_cast<unsigned long long>(client_quota_));
	return EDQUOT;
}

void MemService::quota_json(Json &j, const Session *viewer) const
{
	j["client_quota"] = client_quota_;
	std::map<std::string, std::uint64_t> used;
	for (const OwnerUsage &u : pool_.usage())
		if (auto it = owner_key_.find(u.owner); it != owner_key_.end())
			used[it->second.first] += u.bytes;
	for (const auto &[c, s] : sessions_)
		if (s.identity_admitted && !s.closing)
			used.try_emplace(s.identity, 0);
	Json &list = j["identities"] = Json::array();
	for (const auto &[identity, bytes] : used) {
		if (viewer && viewer->identity != identity)
			continue;	// not an admin: its own line only
		Json e = Json::object();
		e["identity"] = json_bytes(identity);
		e["conns"] = identity_conns(identity);
		e["used"] = bytes;
		if (client_quota_)
			e["quota"] = client_quota_;
		else
			e["quota"] = nullptr;
		list.push_back(std::move(e));
	}
}

}  // namespace disagg::memd
