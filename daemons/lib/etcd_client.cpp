// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "etcd_client.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cstring>
#include <mutex>

namespace disagg::etcd {

using nlohmann::json;

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void global_init()
{
	static std::once_flag once;
	std::call_once(once, [] {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			throw Error("etcd: curl_global_init failed");
	});
}

// A JSON body: nullopt when it does not parse (deeply nested or not, it is
// at most kMaxResponse bytes).
json parse_json(std::string_view text, const char *what)
{
	json j = json::parse(text, nullptr, false);
	if (j.is_discarded() || !j.is_object())
		throw Error(std::string("etcd: ") + what + ": the answer is not a JSON object");
	return j;
}

// An int64 field: a JSON string of decimal digits (etcd's encoding) or a
// JSON integer; @dflt when absent.
std::int64_t get_int(const json &o, const char *name, std::int64_t dflt = 0)
{
	auto it = o.find(name);
	if (it == o.end() || it->is_null())
		return dflt;
	// (is_number_integer() holds for unsigned numbers too.)
	if (it->is_number_unsigned()) {
		const auto u = it->get<std::uint64_t>();
		if (u > static_cast<std::uint64_t>(INT64_MAX))
			throw Error(std::string("etcd: field ") + name + " out of range");
		return static_cast<std::int64_t>(u);
	}
	if (it->is_number_integer())
		return it->get<std::int64_t>();
	if (it->is_string()) {
		const std::string &s = it->get_ref<const std::string &>();
		std::int64_t v = 0;
		const char *end = s.data() + s.size();
		auto [p, ec] = std::from_chars(s.data(), end, v);
		if (!s.empty() && ec == std::errc() && p == end)
			return v;
	}
	throw Error(std::string("etcd: field ") + name + " is not an int64");
}

bool get_bool(const json &o, const char *name)
{
	auto it = o.find(name);
	if (it == o.end() || it->is_null())
		return false;
	if (!it->is_boolean())
		throw Error(std::string("etcd: field ") + name + " is not a boolean");
	return it->get<bool>();
}

// A base64 bytes field; "" when absent (proto3 leaves empty ones out).
std::string get_bytes(const json &o, const char *name)
{
	auto it = o.find(name);
	if (it == o.end() || it->is_null())
		return {};
	if (!it->is_string())
		throw Error(std::string("etcd: field ") + name + " is not a string");
	std::optional<std::string> b = base64_decode(it->get_ref<const std::string &>());
	if (!b)
		throw Error(std::string("etcd: field ") + name + " is not base64");
	return std::move(*b);
}

const json &get_object(const json &o, const char *name)
{
	auto it = o.find(name);
	if (it == o.end() || !it->is_object())
		throw Error(std::string("etcd: the answer has no object ") + name);
	return *it;
}

std::int64_t header_revision(const json &o)
{
	auto it = o.find("header");
	if (it == o.end() || it->is_null())
		return 0;
	if (!it->is_object())
		throw Error("etcd: header is not an object");
	return get_int(*it, "revision");
}

KeyValue get_kv(const json &o)
{
	if (!o.is_object())
		throw Error("etcd: a key-value is not an object");
	KeyValue kv;
	kv.key = get_bytes(o, "key");
	kv.value = get_bytes(o, "value");
	kv.mod_revision = get_int(o, "mod_revision");
	kv.lease = get_int(o, "lease");
	return kv;
}

// etcd's own error in a body: {"error":"...","message":"...","code":N}
// (unary) or {"error":{"grpc_code":N,"message":"..."}} (stream). Throws
// it, LeaseGone for a lease etcd does not know.
void throw_if_error(const json &o, const char *what)
{
	auto it = o.find("error");
	if (it == o.end() || it->is_null() || (it->is_string() && it->get_ref<const std::string &>().empty()))
		return;
	std::string msg;
	if (auto m = o.find("message"); m != o.end() && m->is_string())
		msg = m->get<std::string>();
	else if (it->is_string())
		msg = it->get<std::string>();
	else if (it->is_object())
		if (auto m2 = it->find("message"); m2 != it->end() && m2->is_string())
			msg = m2->get<std::string>();
	if (msg.size() > 200)
		msg.resize(200);
	if (msg.find("lease not found") != std::string::npos)
		throw LeaseGone(std::string("etcd: ") + what + ": " + msg);
	throw Error(std::string("etcd: ") + what + ": " + (msg.empty() ? "error" : msg));
}

// Bytes received, bounded: past kMaxResponse the transfer is aborted.
struct Sink {
	std::string data;
	bool too_big = false;
};

size_t write_cb(char *ptr, size_t size, size_t n, void *user)
{
	auto *s = static_cast<Sink *>(user);
	const size_t len = size * n;
	if (s->data.size() + len > kMaxResponse) {
		s->too_big = true;
		return 0;	// CURLE_WRITE_ERROR
	}
	s->data.append(ptr, len);
	return len;
}

struct CurlDeleter {
	void operator()(CURL *h) const { curl_easy_cleanup(h); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;

struct SlistDeleter {
	void operator()(curl_slist *l) const { curl_slist_free_all(l); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

SlistPtr json_headers()
{
	curl_slist *l = curl_slist_append(nullptr, "Content-Type: application/json");
	if (!l)
		throw Error("etcd: out of memory");
	// No "Expect: 100-continue" round trip for larger bodies.
	curl_slist *l2 = curl_slist_append(l, "Expect:");
	if (!l2) {
		curl_slist_free_all(l);
		throw Error("etcd: out of memory");
	}
	return SlistPtr(l2);
}

// Options every request of ours has: POST @body to @url, JSON, no
// redirects, no signals (threads), http(s) only.
void setup(CURL *h, const std::string &url, const std::string &body, curl_slist *headers,
	   Sink *sink, std::chrono::milliseconds connect_timeout)
{
	curl_easy_setopt(h, CURLOPT_URL, url.c_str());
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 10L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 5L);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kMaxResponse));
}

std::string int_str(std::int64_t v)
{
	return std::to_string(v);
}

}  // namespace

std::string base64_encode(std::string_view in)
{
	std::string out;
	out.reserve((in.size() + 2) / 3 * 4);
	std::size_t i = 0;
	for (; i + 3 <= in.size(); i += 3) {
		const unsigned v = static_cast<unsigned char>(in[i]) << 16 |
				   static_cast<unsigned char>(in[i + 1]) << 8 |
				   static_cast<unsigned char>(in[i + 2]);
		out += kB64[v >> 18];
		out += kB64[(v >> 12) & 63];
		out += kB64[(v >> 6) & 63];
		out += kB64[v & 63];
	}
	if (const std::size_t rest = in.size() - i; rest) {
		unsigned v = static_cast<unsigned char>(in[i]) << 16;
		if (rest == 2)
			v |= static_cast<unsigned char>(in[i + 1]) << 8;
		out += kB64[v >> 18];
		out += kB64[(v >> 12) & 63];
		out += rest == 2 ? kB64[(v >> 6) & 63] : '=';
		out += '=';
	}
	return out;
}

std::optional<std::string> base64_decode(std::string_view in)
{
	auto val = [](char c) -> int {
		if (c >= 'A' && c <= 'Z')
			return c - 'A';
		if (c >= 'a' && c <= 'z')
			return c - 'a' + 26;
		if (c >= '0' && c <= '9')
			return c - '0' + 52;
		if (c == '+')
			return 62;
		if (c == '/')
			return 63;
		return -1;
	};
	if (in.size() % 4)
		return std::nullopt;
	std::string out;
	out.reserve(in.size() / 4 * 3);
	for (std::size_t i = 0; i < in.size(); i += 4) {
		const bool last = i + 4 == in.size();
		const int a = val(in[i]), b = val(in[i + 1]);
		if (a < 0 || b < 0)
			return std::nullopt;
		int pad = 0;
		if (last && in[i + 3] == '=')
			pad = in[i + 2] == '=' ? 2 : 1;
		const int c = pad == 2 ? 0 : val(in[i + 2]);
		const int d = pad ? 0 : val(in[i + 3]);
		if (c < 0 || d < 0)
			return std::nullopt;
		const unsigned v = unsigned(a) << 18 | unsigned(b) << 12 | unsigned(c) << 6 | unsigned(d);
		// Bits the padding drops must be zero (canonical encoding).
		if ((pad == 2 && (v & 0xffff)) || (pad == 1 && (v & 0xff)))
			return std::nullopt;
		out += static_cast<char>(v >> 16);
		if (pad < 2)
			out += static_cast<char>((v >> 8) & 0xff);
		if (pad < 1)
			out += static_cast<char>(v & 0xff);
	}
	return out;
}

std::string prefix_end(std::string_view prefix)
{
	std::string end(prefix);
	while (!end.empty()) {
		auto &c = reinterpret_cast<unsigned char &>(end.back());
		if (c < 0xff) {
			++c;
			return end;
		}
		end.pop_back();
	}
	return std::string(1, '\0');
}

struct Client::Easy {
	CurlPtr h;
	SlistPtr headers;
};

Client::Client(std::vector<std::string> endpoints, std::chrono::milliseconds timeout)
	: endpoints_(std::move(endpoints)), timeout_(timeout)
{
	if (endpoints_.empty())
		throw Error("etcd: no endpoint");
	for (std::string &e : endpoints_)
		while (!e.empty() && e.back() == '/')
			e.pop_back();
	global_init();
	easy_ = std::make_unique<Easy>();
	easy_->h.reset(curl_easy_init());
	if (!easy_->h)
		throw Error("etcd: curl_easy_init failed");
	easy_->headers = json_headers();
}

Client::~Client() = default;

std::string Client::call(const char *path, const std::string &body)
{
	std::string last_err;
	for (std::size_t tried = 0; tried < endpoints_.size(); tried++) {
		const std::size_t idx = (current_ + tried) % endpoints_.size();
		CURL *h = easy_->h.get();
		curl_easy_reset(h);
		Sink sink;
		setup(h, endpoints_[idx] + path, body, easy_->headers.get(), &sink, timeout_);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
		char errbuf[CURL_ERROR_SIZE] = "";
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
		const CURLcode rc = curl_easy_perform(h);
		if (sink.too_big)
			throw Error(std::string("etcd: ") + path + ": answer larger than " +
				    std::to_string(kMaxResponse) + " bytes");
		if (rc != CURLE_OK) {
			last_err = endpoints_[idx] + ": " + (errbuf[0] ? errbuf : curl_easy_strerror(rc));
			continue;
		}
		current_ = idx;
		long status = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (status != 200) {
			// etcd's errors come as JSON with a message.
			json j = json::parse(sink.data, nullptr, false);
			if (!j.is_discarded() && j.is_object())
				throw_if_error(j, path);
			throw Error(std::string("etcd: ") + path + ": HTTP " + std::to_string(status));
		}
		return std::move(sink.data);
	}
	throw Error(std::string("etcd: ") + path + ": no endpoint answered (" + last_err + ")");
}

std::int64_t Client::grant(std::int64_t ttl_s)
{
	const json req = {{"TTL", int_str(ttl_s)}};
	const json j = parse_json(call("/v3/lease/grant", req.dump()), "lease grant");
	throw_if_error(j, "lease grant");
	const std::int64_t id = get_int(j, "ID");
	if (id <= 0)
		throw Error("etcd: lease grant: no lease ID in the answer");
	return id;
}

std::int64_t Client::keepalive(std::int64_t lease)
{
	const json req = {{"ID", int_str(lease)}};
	// A stream of one answer: {"result":{...,"TTL":"N"}} or {"error":...}.
	std::string text = call("/v3/lease/keepalive", req.dump());
	const std::size_t nl = text.find('\n');
	if (nl != std::string::npos && text.find_first_not_of(" \r\n\t", nl) != std::string::npos)
		throw Error("etcd: lease keepalive: more than one answer");
	const json j = parse_json(text, "lease keepalive");
	throw_if_error(j, "lease keepalive");
	const json &r = get_object(j, "result");
	const std::int64_t ttl = get_int(r, "TTL");
	if (ttl <= 0)
		throw LeaseGone("etcd: lease " + std::to_string(lease) + " is gone");
	return ttl;
}

void Client::revoke(std::int64_t lease)
{
	const json req = {{"ID", int_str(lease)}};
	const json j = parse_json(call("/v3/lease/revoke", req.dump()), "lease revoke");
	throw_if_error(j, "lease revoke");
}

void Client::put(const std::string &key, const std::string &value, std::int64_t lease)
{
	json req = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
	if (lease)
		req["lease"] = int_str(lease);
	const json j = parse_json(call("/v3/kv/put", req.dump()), "put");
	throw_if_error(j, "put");
}

void Client::del(const std::string &key)
{
	const json req = {{"key", base64_encode(key)}};
	const json j = parse_json(call("/v3/kv/deleterange", req.dump()), "delete");
	throw_if_error(j, "delete");
}

Range Client::get_prefix(const std::string &prefix)
{
	const json req = {{"key", base64_encode(prefix.empty() ? std::string(1, '\0') : prefix)},
			  {"range_end", base64_encode(prefix_end(prefix))}};
	const json j = parse_json(call("/v3/kv/range", req.dump()), "range");
	throw_if_error(j, "range");
	Range r;
	r.revision = header_revision(j);
	if (auto it = j.find("kvs"); it != j.end() && !it->is_null()) {
		if (!it->is_array())
			throw Error("etcd: range: kvs is not an array");
		r.kvs.reserve(it->size());
		for (const json &kv : *it)
			r.kvs.push_back(get_kv(kv));
	}
	if (get_bool(j, "more"))
		throw Error("etcd: range: the answer is incomplete");
	return r;
}

void Client::compact(std::int64_t revision)
{
	const json req = {{"revision", int_str(revision)}, {"physical", true}};
	const json j = parse_json(call("/v3/kv/compaction", req.dump()), "compaction");
	throw_if_error(j, "compaction");
}

namespace {

struct MultiDeleter {
	void operator()(CURLM *m) const { curl_multi_cleanup(m); }
};

// One watch message: {"result":{"header":..,"created":true|"events":[..]
// |"canceled":true,"compact_revision":"N"}} or {"error":{...}}.
// False when the watch was created by it (no events).
void watch_message(std::string_view line, bool &created,
		   const std::function<void(const std::vector<Event> &, std::int64_t)> &on_events)
{
	const json j = parse_json(line, "watch");
	throw_if_error(j, "watch");
	const json &r = get_object(j, "result");
	throw_if_error(r, "watch");
	if (get_bool(r, "canceled")) {
		const std::int64_t compact = get_int(r, "compact_revision");
		if (compact > 0)
			throw Compacted("etcd: watch: revision compacted (oldest kept: " +
						std::to_string(compact) + ")",
					compact);
		std::string why;
		if (auto it = r.find("cancel_reason"); it != r.end() && it->is_string())
			why = it->get<std::string>().substr(0, 200);
		throw Error("etcd: watch canceled" + (why.empty() ? std::string() : ": " + why));
	}
	const std::int64_t rev = header_revision(r);
	std::vector<Event> events;
	if (auto it = r.find("events"); it != r.end() && !it->is_null()) {
		if (!it->is_array())
			throw Error("etcd: watch: events is not an array");
		events.reserve(it->size());
		for (const json &e : *it) {
			if (!e.is_object())
				throw Error("etcd: watch: an event is not an object");
			Event ev{Event::Type::kPut, {}};
			if (auto t = e.find("type"); t != e.end() && !t->is_null()) {
				if (*t == "DELETE")
					ev.type = Event::Type::kDelete;
				else if (*t != "PUT")
					throw Error("etcd: watch: unknown event type");
			}
			ev.kv = get_kv(get_object(e, "kv"));
			events.push_back(std::move(ev));
		}
	}
	if (!created) {
		if (!get_bool(r, "created"))
			throw Error("etcd: watch: the first message did not create the watch");
		created = true;
	}
	on_events(events, rev);
}

}  // namespace

void Client::watch_prefix(const std::string &prefix, std::int64_t start_revision,
			  const std::function<void(const std::vector<Event> &, std::int64_t)> &on_events,
			  const std::function<bool()> &stop)
{
	json cr = {{"key", base64_encode(prefix.empty() ? std::string(1, '\0') : prefix)},
		   {"range_end", base64_encode(prefix_end(prefix))}};
	if (start_revision > 0)
		cr["start_revision"] = int_str(start_revision);
	const std::string body = json{{"create_request", cr}}.dump();
	std::unique_ptr<CURLM, MultiDeleter> multi(curl_multi_init());
	if (!multi)
		throw Error("etcd: curl_multi_init failed");
	std::string last_err;
	for (std::size_t tried = 0; tried < endpoints_.size(); tried++) {
		const std::size_t idx = (current_ + tried) % endpoints_.size();
		CurlPtr h(curl_easy_init());
		if (!h)
			throw Error("etcd: curl_easy_init failed");
		Sink sink;
		setup(h.get(), endpoints_[idx] + "/v3/watch", body, easy_->headers.get(), &sink,
		      timeout_);
		// The stream has no end: MAXFILESIZE would not hold, the Sink does.
		curl_easy_setopt(h.get(), CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(0));
		char errbuf[CURL_ERROR_SIZE] = "";
		curl_easy_setopt(h.get(), CURLOPT_ERRORBUFFER, errbuf);
		if (curl_multi_add_handle(multi.get(), h.get()) != CURLM_OK)
			throw Error("etcd: curl_multi_add_handle failed");
		struct Remove {
			CURLM *m;
			CURL *h;
			~Remove() { curl_multi_remove_handle(m, h); }
		} remove{multi.get(), h.get()};

		const auto deadline = std::chrono::steady_clock::now() + timeout_;
		bool created = false;
		std::size_t consumed = 0;	// of sink.data, complete lines handed on
		for (;;) {
			int running = 0;
			if (curl_multi_perform(multi.get(), &running) != CURLM_OK)
				throw Error("etcd: watch: curl_multi_perform failed");
			// Hand on the complete lines; keep the partial one. A line
			// is at most kMaxResponse bytes (the Sink's bound).
			for (;;) {
				const std::size_t nl = sink.data.find('\n', consumed);
				if (nl == std::string::npos)
					break;
				std::string_view line(sink.data.data() + consumed, nl - consumed);
				consumed = nl + 1;
				if (line.find_first_not_of(" \r\t") == std::string_view::npos)
					continue;
				watch_message(line, created, on_events);
				if (created)
					current_ = idx;
			}
			if (consumed) {
				sink.data.erase(0, consumed);
				consumed = 0;
			}
			if (sink.too_big)
				throw Error("etcd: watch: a message larger than " +
					    std::to_string(kMaxResponse) + " bytes");
			if (created && stop())
				return;
			int msgs = 0;
			CURLcode done = CURLE_OK;
			bool finished = false;
			while (CURLMsg *m = curl_multi_info_read(multi.get(), &msgs))
				if (m->msg == CURLMSG_DONE) {
					finished = true;
					done = m->data.result;
				}
			if (finished || !running) {
				long status = 0;
				curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
				if (created)
					throw Error("etcd: watch: the stream ended (" +
						    std::string(done != CURLE_OK ? (errbuf[0] ? errbuf : curl_easy_strerror(done)) : "closed by etcd") + ")");
				if (done == CURLE_OK || status != 0) {
					// etcd answered, but not with a watch.
					json j = json::parse(sink.data, nullptr, false);
					if (!j.is_discarded() && j.is_object())
						throw_if_error(j, "watch");
					throw Error("etcd: watch: HTTP " + std::to_string(status) +
						    " without a watch");
				}
				last_err = endpoints_[idx] + ": " + (errbuf[0] ? errbuf : curl_easy_strerror(done));
				break;	// next endpoint
			}
			if (!created && std::chrono::steady_clock::now() >= deadline) {
				last_err = endpoints_[idx] + ": no answer in time";
				break;
			}
			if (!created && stop())
				return;
			curl_multi_poll(multi.get(), nullptr, 0, 200, nullptr);
		}
	}
	throw Error("etcd: watch: no endpoint answered (" + last_err + ")");
}

}  // namespace disagg::etcd
