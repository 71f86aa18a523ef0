# SPDX-License-Identifier: GPL-2.0
#
# disagg top-level Makefile.
#
#   make                  kernel modules (for KDIR) and daemons
#   make modules          kernel modules only; KDIR=/lib/modules/REL/build
#   make modules-all      kernel modules for every installed Debian kernel
#   make daemons          daemons and their unit tests (CMake)
#   make daemons-asan     the same under ASan+UBSan (build/asan, for make check)
#   make fuzz             libFuzzer harnesses with clang (build/fuzz)
#   make fuzz-corpus      rewrite the seeds in daemons/fuzz/corpus
#   make selftests        programs the selftests run in the guest
#   make deb              Debian packages (disagg-dkms, disagg-memd,
#                         disagg-stord, disagg-tools) in build/deb/
#   make check            unit tests on the host, selftests in QEMU guests
#   make demo             the main job, shown in a guest
#   make clean
#
# KDIR defaults to the newest installed Debian 6.1 kernel, found at run
# time. Modules are built out of tree in build/modules/REL, so one tree
# builds for several kernels side by side.

SHELL := /bin/bash
TOP := $(CURDIR)
KDIR ?= $(shell . $(TOP)/scripts/lib/kernels.sh && \
	  rel=$$(dg_kernel_resolve default 2>/dev/null) && echo /lib/modules/$$rel/build)
KREL = $(shell . $(TOP)/scripts/lib/kernels.sh && dg_kdir_release $(KDIR))
MODDIR = $(TOP)/build/modules/$(KREL)
KSRC := Kbuild drivers mm fs include
CMAKE_BUILD_TYPE ?= RelWithDebInfo

.PHONY: all modules modules-all daemons daemons-asan fuzz fuzz-corpus selftests check demo deb clean

all: modules daemons selftests

modules:
	@if [ -z "$(KREL)" ]; then \
		echo "make: no kernel headers at KDIR='$(KDIR)'; run scripts/setup" >&2; exit 1; fi
	@mkdir -p $(MODDIR)
	@cp -rsf $(addprefix $(TOP)/,$(KSRC)) $(MODDIR)/
	$(MAKE) -C $(KDIR) M=$(MODDIR) modules

modules-all:
	@set -e; . scripts/lib/kernels.sh; for rel in $$(dg_kernels); do \
		$(MAKE) --no-print-directory modules KDIR=/lib/modules/$$rel/build; done

daemons:
	cmake -S daemons -B build/daemons -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) >/dev/null
	cmake --build build/daemons -j$$(nproc)

# The unit tests again with AddressSanitizer and UBSan (gcc, Debug).
daemons-asan:
	cmake -S daemons -B build/asan -DCMAKE_BUILD_TYPE=Debug -DDISAGG_SANITIZE=ON >/dev/null
	cmake --build build/asan -j$$(nproc)

# libFuzzer harnesses (daemons/fuzz), clang with ASan+UBSan; a build of
# their own so the g++ one stays as it is.
fuzz:
	cmake -S daemons -B build/fuzz -DCMAKE_CXX_COMPILER=clang++ -DDG_FUZZ=ON \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build/fuzz -j$$(nproc)

# The checked-in seeds, from the codec's encoders (after a codec change).
fuzz-corpus: fuzz
	build/fuzz/fuzz/corpus-gen daemons/fuzz/corpus

# Programs the selftests run in the guest.
SELFTEST_BINS := build/selftests/memcheck build/selftests/pagecheck build/selftests/fsprobe \
		 build/selftests/posixcmp build/selftests/fsload \
		 build/selftests/hammer build/selftests/fsyncck
selftests: $(SELFTEST_BINS)

build/selftests/hammer: selftests/hostile/hammer.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -Wextra -Werror -o $@ $<

build/selftests/memcheck: selftests/swap/memcheck.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -Wextra -Werror -o $@ $<

build/selftests/pagecheck: selftests/swap/pagecheck.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -Wextra -Werror -o $@ $<

build/selftests/fsprobe: selftests/fs/fsprobe.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -Wextra -Werror -o $@ $<

build/selftests/posixcmp: selftests/fs/posixcmp.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -Wextra -Werror -o $@ $<

build/selftests/fsload: selftests/fs/fsload.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -Wextra -Werror -o $@ $<

build/selftests/fsyncck: selftests/fs/fsyncck.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -Wextra -Werror -o $@ $<

# scripts/bench-fs's metadata benchmark (not a test).
selftests: build/selftests/fsmeta
build/selftests/fsmeta: scripts/lib/fsmeta.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -Wextra -Werror -o $@ $<

# Debian packages: the tree's files (as git tracks them, with their changes
# in the work tree) copied to build/deb/disagg-VERSION, built there with
# dpkg-buildpackage (binary only, unsigned); the .debs land in build/deb/.
DEB_FILES := Kbuild Makefile README.md debian daemons drivers mm fs include packaging
deb:
	@rm -rf build/deb && mkdir -p build/deb/src
	git ls-files -z --cached --others --exclude-standard -- $(DEB_FILES) | \
		xargs -0 cp --parents -t build/deb/src 2>/dev/null || \
		tar -cf - $(DEB_FILES) | tar -xf - -C build/deb/src
	cd build/deb/src && DEB_BUILD_OPTIONS="nocheck $(DEB_BUILD_OPTIONS)" \
		dpkg-buildpackage -b -us -uc -J$$(nproc) >../build.log 2>&1 || \
		{ tail -n 40 ../build.log; echo "make deb: failed, log: build/deb/build.log" >&2; exit 1; }
	@ls build/deb/*.deb

check: modules-all daemons daemons-asan fuzz selftests
	scripts/check

demo: modules daemons selftests
	scripts/demo

clean:
	rm -rf build
