#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# With Soft-RoCE missing from the link, the RDMA test must fail quickly with
# a clear message, not hang and not pass.
# dg-kernel-independent (no module of ours: scripts/check runs it on one kernel)
. "$(dirname "$0")/../lib/common.sh"
dg_require_vm

start=$SECONDS
out=$(DG_TEST_BREAK_RXE=1 timeout 120 "$DG_SELFTESTS/net/rdma_transfer.sh" 2>&1)
rc=$?
echo "$out" | sed 's/^/  | /'
[ $rc = 124 ] && fail "rdma_transfer.sh hung with rxe missing"
[ $rc = 0 ] && fail "rdma_transfer.sh passed with rxe missing"
[ $rc = 4 ] && fail "rdma_transfer.sh skipped instead of failing"
echo "$out" | grep -q 'FAIL: no RDMA device .*rdma_rxe' ||
	fail "rdma_transfer.sh failed without the expected message"
log "failed in $((SECONDS - start)) s with a clear message, as it should"
