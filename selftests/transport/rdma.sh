#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# disagg_net's RDMA backend against disagg-memd over Soft-RoCE: several
# queue pairs, calls, one-sided RDMA WRITE and READ, reconnect after the
# node restarts, bounded failures. See lib.sh.
. "$(dirname "$0")/lib.sh"
transport_suite rdma
