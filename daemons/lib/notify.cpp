// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "notify.hpp"

#include <systemd/sd-daemon.h>

#include <string>

namespace disagg::notify {
namespace {

// STATUS= is one line.
std::string one_line(std::string_view s)
{
	std::string out(s);
	for (char &c : out)
		if (c == '\n')
			c = ' ';
	return out;
}

void send(const std::string &state)
{
	// < 0: the socket is there but did not take it; nothing to do about
	// it but carry on (systemd times the start out if READY never came).
	(void)sd_notify(0, state.c_str());
}

}  // namespace

void ready(std::string_view s)
{
	send("READY=1\nSTATUS=" + one_line(s));
}

void reloading()
{
	send("RELOADING=1\nSTATUS=reloading the keys");
}

void stopping(std::string_view s)
{
	send("STOPPING=1\nSTATUS=" + one_line(s));
}

void status(std::string_view s)
{
	send("STATUS=" + one_line(s));
}

}  // namespace disagg::notify
