// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// What disaggctl changes, all through sysfs (and swapon(2)/swapoff(2) and
// mkswap for swap up/down): memory nodes added, drained or removed; a swap
// device configured from swap.conf and undone. Progress lines go to @out;
// failures throw Error naming the sysfs file and the errno.
#pragma once

#include "config.hpp"
#include "sysfs.hpp"

#include <ostream>
#include <string>

namespace disagg::ctl {

// The secret for @n.key from @n.key_file (the daemons' key-file format),
// put in the kernel's keyrings as the logon key "disagg:KEY" (root's user
// keyring, linked into this process's keyring so that the sysfs write
// finds it). Nothing when @n has no key_file.
void install_key(const NodeConf &n, std::ostream &out);

// memory_nodes/add with @n's line (its key installed first).
void node_add(const Sysfs &fs, const NodeConf &n, std::ostream &out);
// memory_nodes/remove: "NAME" (drain, then go) or "NAME force".
void node_remove(const Sysfs &fs, const std::string &name, bool force, std::ostream &out);
// node_remove(NAME) and wait until the node's directory is gone, printing
// the slabs left every second; Error after @timeout_s seconds (0: wait
// for ever).
void node_drain(const Sysfs &fs, const std::string &name, unsigned timeout_s, std::ostream &out);

struct SwapOptions {
	bool swapon = true;	// mkswap and swapon after sizing (false: device only)
	std::string mkswap = "mkswap";	// the program
};

// Adds the file's nodes (those not there yet), sets the device's knobs and
// disksize (unless set already), then mkswap and swapon with the file's
// priority. Idempotent: a second run changes nothing.
void swap_up(const Sysfs &fs, const SwapConf &c, const SwapOptions &o, std::ostream &out);
// swapoff, reset, and removes the file's nodes. Stops when swapoff or reset
// fails (removing the nodes of a device in use would only move its copies);
// goes on after a node that cannot be removed, throwing the first Error at
// the end.
void swap_down(const Sysfs &fs, const SwapConf &c, const SwapOptions &o, std::ostream &out);

}  // namespace disagg::ctl
