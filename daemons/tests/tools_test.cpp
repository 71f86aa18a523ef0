// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The test tools' command lines (CLI11, tool_cli.hpp): --help lists every
// option the selftests use, a bad value or a missing option exits 2 with a
// message naming the option, and good ones parse (the tool gets as far as
// connecting, which fails with 1 here).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace {

// @cmd's exit status; its stdout in @out, its stderr in @err.
int run(const std::string &cmd, std::string &out, std::string &err)
{
	out.clear();
	err.clear();
	char tmpl[] = "/tmp/tools_test.XXXXXX";
	const int fd = ::mkstemp(tmpl);
	if (fd < 0)
		return -1;
	::close(fd);
	FILE *p = ::popen((cmd + " 2>" + tmpl).c_str(), "r");
	if (!p)
		return -1;
	char buf[512];
	while (std::fgets(buf, sizeof(buf), p))
		out += buf;
	const int st = ::pclose(p);
	if (FILE *f = std::fopen(tmpl, "r")) {
		while (std::fgets(buf, sizeof(buf), f))
			err += buf;
		std::fclose(f);
	}
	std::remove(tmpl);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool has(const std::string &s, const std::string &what)
{
	return s.find(what) != std::string::npos;
}

// @args must fail with status 2 and a message on stderr that has @what.
void expect_usage_error(const char *tool, const std::string &args, const std::string &what)
{
	std::string out, err;
	EXPECT_EQ(run(std::string(tool) + " " + args, out, err), 2) << args << ": " << err;
	EXPECT_TRUE(has(err, what)) << args << ": stderr '" << err << "' lacks '" << what << "'";
	EXPECT_TRUE(has(err, "--help")) << err;
	EXPECT_EQ(out, "") << args;
}

void expect_help(const char *tool, std::initializer_list<const char *> options)
{
	for (const char *h : {"--help", "-h"}) {
		std::string out, err;
		EXPECT_EQ(run(std::string(tool) + " " + h, out, err), 0) << err;
		for (const char *o : options)
			EXPECT_TRUE(has(out, o)) << tool << " " << h << " lacks " << o << ":\n" << out;
	}
}

TEST(Memclient, Help)
{
	expect_help(MEMCLIENT_BINARY,
		    {"--connect", "--transport", "--bind", "--queues", "--slabs", "--slab-size",
		     "--pages", "--client-id", "--name", "--seed", "--isolation", "--expect-all-free",
		     "--keep", "--wait-bye", "--status", "--resize", "--answer-evict",
		     "--evict-wait", "--timeout", "--key-file", "--identity"});
}

TEST(Memclient, Errors)
{
	const char *c = MEMCLIENT_BINARY;
	expect_usage_error(c, "--slabs 2", "--connect");
	expect_usage_error(c, "--connect 127.0.0.1 --slabs x", "--slabs 'x'");
	expect_usage_error(c, "--connect 127.0.0.1 --slabs 4097", "--slabs");
	expect_usage_error(c, "--connect 127.0.0.1 --slab-size 1000", "--slab-size '1000'");
	expect_usage_error(c, "--connect 127.0.0.1 --resize 0", "--resize");
	expect_usage_error(c, "--connect 127.0.0.1:70000", "--connect '127.0.0.1:70000'");
	expect_usage_error(c, "--connect 127.0.0.1 --transport udp", "--transport 'udp'");
	expect_usage_error(c, "--connect 127.0.0.1 --client-id 0", "--client-id");
	expect_usage_error(c, "--connect 127.0.0.1 --client-id xyz", "--client-id");
	expect_usage_error(c, "--connect 127.0.0.1 --timeout 0", "--timeout");
	expect_usage_error(c, "--connect 127.0.0.1 --queues 65", "--queues");
	expect_usage_error(c, "--connect 127.0.0.1 --pages", "--pages");
	expect_usage_error(c, "--connect 127.0.0.1 --frobnicate 1", "--frobnicate");
	expect_usage_error(c, "--connect 127.0.0.1 --key-file /nonexistent", "--identity");
}

TEST(Memclient, GoodOptionsReachTheConnect)
{
	// Port 1 refuses: status 1 (no node), not 2 (the options were fine),
	// in both "--opt VALUE" and "--opt=VALUE" forms; the last one wins.
	std::string out, err;
	EXPECT_EQ(run(std::string(MEMCLIENT_BINARY) +
			      " --connect=127.0.0.1:9 --connect 127.0.0.1:1 --transport=tcp"
			      " --timeout 2 --slabs 0 --slab-size 4M --pages 8 --seed 18446744073709551615"
			      " --client-id 0xabc --name x --isolation --keep",
		      out, err),
		  1)
		<< err;
	EXPECT_TRUE(has(err, "tcp 127.0.0.1:1")) << err;
}

TEST(Fsclient, Help)
{
	expect_help(FSCLIENT_BINARY,
		    {"OP", "PATH", "--connect", "--transport", "--bind", "--timeout", "--path-hex",
		     "--name2", "--name2-hex", "--data", "--data-hex", "--offset", "--count",
		     "--mode", "--uid", "--gid", "--rdev", "--as", "--flags", "--valid", "--raw-hex",
		     "--expect", "--key-file", "--identity"});
}

TEST(Fsclient, Errors)
{
	const char *c = FSCLIENT_BINARY;
	expect_usage_error(c, "--connect 127.0.0.1", "OP");
	expect_usage_error(c, "getattr f", "--connect");
	expect_usage_error(c, "--connect 127.0.0.1 frob f", "unknown OP 'frob'");
	expect_usage_error(c, "--connect 127.0.0.1 getattr", "needs a PATH");
	expect_usage_error(c, "--connect 127.0.0.1 create f --mode 9", "--mode '9'");
	expect_usage_error(c, "--connect 127.0.0.1 getattr f --as 1", "--as '1'");
	expect_usage_error(c, "--connect 127.0.0.1 getattr --path-hex 6", "--path-hex '6'");
	expect_usage_error(c, "--connect 127.0.0.1 getattr f --path-hex 66", "--path-hex");
	expect_usage_error(c, "--connect 127.0.0.1 read f --offset x", "--offset 'x'");
	expect_usage_error(c, "--connect 127.0.0.1 getattr f g", "g");
	expect_usage_error(c, "--connect 127.0.0.1 --transport x status", "--transport 'x'");
}

TEST(Fsclient, GoodOptionsReachTheConnect)
{
	std::string out, err;
	EXPECT_EQ(run(std::string(FSCLIENT_BINARY) +
			      " --connect 127.0.0.1:1 --timeout 2 setattr f --valid 0x1 --mode 644"
			      " --offset 010 --as 1000:1000:4,5 --expect EPERM",
		      out, err),
		  1)
		<< err;
	EXPECT_EQ(run(std::string(FSCLIENT_BINARY) +
			      " --connect 127.0.0.1:1 getattr --path-hex 66696c6500",
		      out, err),
		  1)
		<< err;
}

TEST(Hostile, Help)
{
	expect_help(HOSTILE_BINARY,
		    {"--listen", "--role", "--transport", "--mode", "--hello", "--hello-pct",
		     "--auth", "--seed", "--max-bad", "--good-first", "--good-pct", "--burst",
		     "--list"});
}

TEST(Hostile, List)
{
	std::string out, err;
	EXPECT_EQ(run(std::string(HOSTILE_BINARY) + " --list", out, err), 0) << err;
	EXPECT_TRUE(has(out, "stray-id")) << out;
	EXPECT_TRUE(has(out, "auth-silent")) << out;
}

TEST(Hostile, Errors)
{
	const char *h = HOSTILE_BINARY;
	expect_usage_error(h, "--role mem", "--listen");
	expect_usage_error(h, "--listen 127.0.0.1", "--listen");
	expect_usage_error(h, "--listen 127.0.0.1:99999", "--listen '127.0.0.1:99999'");
	expect_usage_error(h, "--listen 127.0.0.1:7470 --role x", "--role 'x'");
	expect_usage_error(h, "--listen 127.0.0.1:7470 --transport rdma", "--transport 'rdma'");
	expect_usage_error(h, "--listen 127.0.0.1:7470 --mode stray,nonsense", "unknown mode 'nonsense'");
	expect_usage_error(h, "--listen 127.0.0.1:7470 --hello stray-id", "--hello");
	expect_usage_error(h, "--listen 127.0.0.1:7470 --good-pct 101", "--good-pct '101'");
	expect_usage_error(h, "--listen 127.0.0.1:7470 --burst 0", "--burst '0'");
	expect_usage_error(h, "--listen 127.0.0.1:7470 --seed -1", "--seed");
	expect_usage_error(h, "--listen 127.0.0.1:7470 --max-bad", "--max-bad");
}

}  // namespace
