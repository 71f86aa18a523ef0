// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// A small etcd v3 client over etcd's HTTP/JSON gateway (the grpc-gateway
// every etcd 3.4 server serves on its client URLs): POST /v3/kv/put,
// /v3/kv/range, /v3/kv/deleterange, /v3/lease/grant, /v3/lease/keepalive,
// /v3/lease/revoke, and /v3/watch as a stream of newline-delimited JSON
// objects. Keys and values travel in base64, int64s as JSON strings.
// Transfers go through libcurl; JSON through nlohmann-json.
//
// Everything etcd sends is untrusted: a response is at most kMaxResponse
// bytes (a watch: each message), and bad JSON, bad base64, a missing or
// malformed field or an etcd error all come out as Error, never a crash.
//
// Endpoints ("http://host:port") are tried in order, starting with the one
// that answered last; a transport error (cannot connect, timeout, reset)
// moves on to the next one, each try bounded by the timeout. An answer
// from etcd (an HTTP error, an etcd error) is final and not retried.
//
// A Client is thread-compatible, not thread-safe: one thread at a time per
// Client. watch_prefix() blocks its caller until stopped, so a program
// that watches and writes uses two Clients.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace disagg::etcd {

// Largest response (unary call) or watch message buffered.
inline constexpr std::size_t kMaxResponse = 4u << 20;

// Transport, HTTP, JSON or etcd error.
struct Error : std::runtime_error {
	using runtime_error::runtime_error;
};
// A keepalive (or put, revoke) on a lease that expired or was revoked.
struct LeaseGone : Error {
	using Error::Error;
};
// watch_prefix() from a revision etcd has compacted away: read the state
// again (get_prefix()) and watch from its revision + 1.
struct Compacted : Error {
	Compacted(const std::string &what, std::int64_t rev) : Error(what), compact_revision(rev) {}
	std::int64_t compact_revision;
};

struct KeyValue {
	std::string key, value;
	std::int64_t mod_revision = 0, lease = 0;
};

struct Event {
	enum class Type { kPut, kDelete } type;
	KeyValue kv;	// of a delete: key and mod_revision only
};

struct Range {
	std::vector<KeyValue> kvs;
	std::int64_t revision = 0;	// the store's revision the range was read at
};

class Client {
public:
	// @endpoints "http://host:port" (or https), tried in order, the next
	// one on a transport error; @timeout bounds each try of each call
	// (and the setting-up of a watch). Throws Error when @endpoints is
	// empty.
	Client(std::vector<std::string> endpoints, std::chrono::milliseconds timeout);
	~Client();
	Client(const Client &) = delete;
	Client &operator=(const Client &) = delete;

	// A new lease of @ttl_s seconds; its ID.
	std::int64_t grant(std::int64_t ttl_s);
	// One keepalive of @lease; its TTL as etcd says (> 0). Throws
	// LeaseGone when etcd says the lease is gone (TTL <= 0).
	std::int64_t keepalive(std::int64_t lease);
	// Throws LeaseGone when etcd does not know @lease.
	void revoke(std::int64_t lease);
	// Attached to @lease when nonzero (LeaseGone when it is gone).
	void put(const std::string &key, const std::string &value, std::int64_t lease = 0);
	void del(const std::string &key);
	// Every key starting with @prefix ("" every key), sorted by key.
	Range get_prefix(const std::string &prefix);
	// Drop the history before @revision (tests, operators).
	void compact(std::int64_t revision);

	// Streams the events of keys under @prefix from @start_revision on
	// (0: from now); calls @on_events(events, header revision) for each
	// message of the stream, the first one (the watch created) with no
	// events. Returns when @stop() is true (checked at least every
	// ~200 ms); throws Compacted when @start_revision is compacted, Error
	// when the stream breaks or cannot be set up on any endpoint.
	// Exceptions of @on_events propagate.
	void watch_prefix(const std::string &prefix, std::int64_t start_revision,
			  const std::function<void(const std::vector<Event> &, std::int64_t)> &on_events,
			  const std::function<bool()> &stop);

	// The endpoint that answered last (or will be tried first).
	const std::string &endpoint() const { return endpoints_[current_]; }

private:
	struct Easy;
	std::string call(const char *path, const std::string &body);

	std::vector<std::string> endpoints_;
	std::size_t current_ = 0;
	std::chrono::milliseconds timeout_;
	std::unique_ptr<Easy> easy_;
};

// Helpers, exposed for the tests and for callers that build keys.
std::string base64_encode(std::string_view bytes);
// Strict RFC 4648 (with padding, no whitespace); nullopt when not base64.
std::optional<std::string> base64_decode(std::string_view text);
// The range_end that covers every key starting with @prefix: the prefix
// with its last byte below 0xff incremented (and what follows it
// dropped); "\0" (every key) when there is no such byte.
std::string prefix_end(std::string_view prefix);

}  // namespace disagg::etcd
