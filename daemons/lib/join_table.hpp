// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Which connection an extra RDMA queue pair may join (see struct
// dg_cm_private in proto.h): the service hands a session's join token to
// the transport once the session authenticated (or, on an open daemon,
// after HELLO); a queue with qid > 0 joins only the connection whose token
// it presents, with the same client id and number of queues. The token is
// forgotten when every queue joined or the connection closed. Lookups are
// by the whole 16 bytes (a map lookup leaks nothing useful: the token is
// random and a guess is rejected at CM level).
#pragma once

#include "proto.hpp"
#include "transport.hpp"

#include <algorithm>
#include <cstdint>
#include <map>

namespace disagg {

class JoinTable {
public:
	// Let queues presenting @token join @c. An all-zero token is never
	// accepted (it is what queue 0 carries).
	void add(const proto::Token &token, ConnId c, std::uint64_t client_id, unsigned nr_queues)
	{
		erase(c);
		if (std::all_of(token.begin(), token.end(), [](std::uint8_t b) { return b == 0; }))
			return;
		by_token_[token] = Entry{c, client_id, nr_queues};
		by_conn_[c] = token;
	}
	// The connection a queue with these fields joins, or 0.
	ConnId find(const proto::Token &token, std::uint64_t client_id, unsigned nr_queues) const
	{
		auto it = by_token_.find(token);
		if (it == by_token_.end() || it->second.client_id != client_id ||
		    it->second.nr_queues != nr_queues)
			return 0;
		return it->second.conn;
	}
	void erase(ConnId c)
	{
		auto it = by_conn_.find(c);
		if (it == by_conn_.end())
			return;
		by_token_.erase(it->second);
		by_conn_.erase(it);
	}
	bool contains(ConnId c) const { return by_conn_.contains(c); }
	std::size_t size() const { return by_conn_.size(); }

private:
	struct Entry {
		ConnId conn = 0;
		std::uint64_t client_id = 0;
		unsigned nr_queues = 0;
	};
	std::map<proto::Token, Entry> by_token_;
	std::map<ConnId, proto::Token> by_conn_;
};

}  // namespace disagg
