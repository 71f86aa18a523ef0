#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# disagg_net's TCP backend against disagg-memd --transport tcp: calls,
# pages as messages, reconnect after the node restarts, bounded failures.
# See lib.sh.
. "$(dirname "$0")/lib.sh"
transport_suite tcp
