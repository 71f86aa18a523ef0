// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Telling systemd (a Type=notify unit) how the daemon stands, through
// libsystemd's sd_notify(): READY=1 once it listens, RELOADING=1 and
// READY=1 around a SIGHUP, STOPPING=1 when asked to stop, and a STATUS=
// line for "systemctl status". Nothing happens when the daemon was not
// started by systemd (no $NOTIFY_SOCKET).
#pragma once

#include <string_view>

namespace disagg::notify {

void ready(std::string_view status);
void reloading();
void stopping(std::string_view status);
void status(std::string_view status);

}  // namespace disagg::notify
