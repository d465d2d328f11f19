# SPDX-License-Identifier: GPL-2.0
#
#   make            build lvmm (a static arm64 binary)
#   make demo       build, then boot a guest shell on an arm64 KVM host
#                   (on x86_64: inside the emulated arm64 host)
#   make check      every test: unit tests here, end-to-end on real KVM
#   make unit       host unit tests only
#   make e2e        end-to-end tests only
#   make bench      boot benchmark (bench/boot)
#   make bench-migrate  live migration benchmark (bench/migrate)
#   make fuzz       every libFuzzer target under ASan+UBSan (FUZZ_TIME
#                   seconds each, default 60; tests/fuzz/run)
#   make unit-asan  the unit tests built with ASan+UBSan
#   make kvm-unit-tests KUT=DIR [LKVM=lkvm-static]
#                   kvm-unit-tests (a tree built by hand) against lvmm, and
#                   kvmtool beside it (tests/kut/run); not part of check
#
# Build dependencies (libfdt, libaio, the 6.12 KVM UAPI headers, and on
# x86_64 the cross compiler) are installed by tests/e2e/setup-host into
# $(LVMM_CACHE), outside the checkout.

LVMM_CACHE ?= $(HOME)/.cache/lvmm
export LVMM_CACHE
SYSROOT ?= $(LVMM_CACHE)/sysroot
SETUP := tests/e2e/setup-host
SYSROOT_STAMP := $(SYSROOT)/.complete-v4

HOST_ARCH := $(shell uname -m)
ifeq ($(HOST_ARCH),aarch64)
CROSS_COMPILE ?=
GLIB_ROOT :=
else
CROSS_COMPILE ?= aarch64-linux-gnu-
LIBDIRS := -L$(SYSROOT)/usr/lib/aarch64-linux-gnu
LIBINCS := -isystem $(SYSROOT)/usr/include
GLIB_ROOT := $(SYSROOT)
endif
# libslirp (built by setup-host: Debian has no static one) and the GLib it uses.
LIBINCS += -isystem $(SYSROOT)/slirp/include -isystem $(GLIB_ROOT)/usr/include/glib-2.0 \
	-isystem $(GLIB_ROOT)/usr/lib/aarch64-linux-gnu/glib-2.0/include
LIBDIRS += -L$(SYSROOT)/slirp/lib

CC := $(CROSS_COMPILE)gcc
HOSTCC ?= gcc

# The release (bumped by hand when one is made) and the commit it was built from.
RELEASE := 0.2.0
COMMIT := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-unused-parameter
COMMON_CFLAGS := -std=gnu11 -O2 -g $(WARNINGS) -D_GNU_SOURCE -I.
# gcc only (clang builds the sanitized unit tests and the fuzz targets).
GCC_WARNINGS := -Wvla-larger-than=4096
CFLAGS ?= $(COMMON_CFLAGS) $(GCC_WARNINGS) -DLVMM_VERSION='"$(RELEASE)"' -DLVMM_COMMIT='"$(COMMIT)"'
CPPFLAGS := -isystem $(SYSROOT)/kernel-headers/include $(LIBINCS)
LDFLAGS := -static $(LIBDIRS)
LDLIBS := -lfdt -laio -lseccomp -lz -lzstd -lslirp -lglib-2.0 -lpthread

SRCS := main.c options.c util.c \
	vmm/vmm.c vmm/devices.c vmm/stats.c \
	board/board.c \
	boot/image.c boot/decompress.c boot/files.c \
	kvm/vm.c kvm/vcpu.c kvm/mmio.c kvm/dirty.c kvm/counters.c \
	irq/irq.c irq/registry.c irq/model.c irq/fdt.c irq/routes.c irq/gic_regs.c \
	irq/gicv2.c irq/gicv3.c irq/its.c \
	timer/timer.c timer/fdt.c \
	devices/device.c devices/uart.c devices/term.c devices/console.c \
	devices/virtio/core.c devices/virtio/transport.c devices/virtio/mmio.c devices/virtio/pci.c devices/virtio/queue.c devices/virtio/blk.c \
	devices/pci/config.c devices/pci/msix.c devices/pci/host.c devices/net/user.c \
	devices/virtio/console.c devices/virtio/rng.c devices/virtio/net.c devices/virtio/vhost.c devices/virtio/9p.c devices/virtio/9p_server.c \
	devices/vfio/platform.c devices/vfio/container.c devices/vfio/region.c \
	devices/vfio/trap.c devices/vfio/irq.c devices/vfio/host.c devices/vfio/guest.c \
	devices/vfio/pci.c devices/vfio/pci_cfg.c \
	fdt/fdt.c \
	state/state.c migration/snapshot.c migration/restore.c migration/restore_config.c \
	migration/restore_apply.c migration/stream.c migration/migrate.c migration/incoming.c \
	migration/diff.c migration/precopy.c \
	control/control.c control/requests.c \
	sandbox/sandbox.c sandbox/seccomp.c \
	quickguest/quick.c quickguest/guestfs.c
OBJS := $(SRCS:%.c=build/%.o) build/quickguest/init_blob.o

# Logic that needs no KVM, built for the build machine and unit-tested here.
UNIT_SRCS := options.c util.c kvm/counters.c board/board.c boot/image.c boot/decompress.c irq/model.c irq/fdt.c irq/routes.c timer/fdt.c \
	devices/device.c devices/uart.c devices/console.c devices/virtio/queue.c \
	devices/virtio/core.c devices/virtio/transport.c devices/virtio/mmio.c devices/virtio/pci.c devices/virtio/blk.c devices/virtio/rng.c devices/virtio/net.c devices/virtio/vhost.c devices/virtio/9p.c devices/virtio/9p_server.c \
	devices/pci/config.c devices/pci/msix.c devices/pci/host.c \
	devices/virtio/console.c fdt/fdt.c devices/vfio/host.c devices/vfio/guest.c devices/vfio/pci_cfg.c \
	state/state.c migration/restore_config.c migration/restore.c control/control.c \
	sandbox/sandbox.c quickguest/quick.c quickguest/guestfs.c \
	migration/stream.c migration/incoming.c migration/diff.c migration/precopy.c
UNIT_TESTS := $(wildcard tests/unit/*.c)

.PHONY: install shell kvm-unit-tests all clean check unit unit-asan e2e demo bench bench-vs-kvmtool bench-migrate deps kernel fuzz fuzz-build

all: lvmm

$(SYSROOT_STAMP): $(SETUP)
	$(SETUP) sysroot
	@touch $@

deps: $(SYSROOT_STAMP)

kernel:
	$(SETUP) kernel

HEADERS := $(shell find . -name '*.h' -not -path './build/*')

build/%.o: %.c $(SYSROOT_STAMP) $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The quick guest's PID 1: a static arm64 program lvmm carries (init_blob.S).
build/quickguest/init: quickguest/init.c $(SYSROOT_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (guest)"
	@$(CC) $(COMMON_CFLAGS) -Os -static -s -o $@ $<

build/quickguest/init_blob.o: quickguest/init_blob.S build/quickguest/init
	@echo "  AS      $<"
	@$(CC) -c -o $@ $<

# A static GLib (libslirp's) links in getpwuid & co. for g_get_user_name(),
# which nothing in lvmm calls; glibc warns about any static use of them.
# Those warnings alone are dropped; every other linker line is shown.
STATIC_NSS_WARNINGS := -e "in function .g_get_user_database_entry'" -e "warning: Using 'getpw"

lvmm: $(OBJS)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS) 2>build/ld.err || { cat build/ld.err >&2; exit 1; }
	@grep -v $(STATIC_NSS_WARNINGS) build/ld.err >&2 || true

build/unit-tests: $(SYSROOT_STAMP) $(UNIT_SRCS) $(UNIT_TESTS) $(HEADERS)
	@mkdir -p build
	$(HOSTCC) $(COMMON_CFLAGS) $(GCC_WARNINGS) -Wno-missing-prototypes -o $@ $(UNIT_SRCS) $(UNIT_TESTS) -lfdt -laio -lz -lzstd -lpthread

unit: build/unit-tests
	build/unit-tests

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer:
# an out-of-bounds access the plain build survives fails here.
SAN_CC ?= clang
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
build/unit-tests-asan: $(SYSROOT_STAMP) $(UNIT_SRCS) $(UNIT_TESTS) $(HEADERS)
	@mkdir -p build
	$(SAN_CC) $(COMMON_CFLAGS) -O1 $(SAN_FLAGS) -Wno-missing-prototypes -o $@ $(UNIT_SRCS) $(UNIT_TESTS) -lfdt -laio -lz -lzstd -lpthread

unit-asan: build/unit-tests-asan
	build/unit-tests-asan

# libFuzzer targets: tests/fuzz/fuzz_NAME.c -> build/fuzz/NAME, linked with
# the host-buildable sources (instrumented for coverage and sanitizers).
# The virtio targets also need virtio-console, which the unit tests do not
# build, and virtio-net (in UNIT_SRCS too: sort drops the duplicate).
FUZZ_SRCS := $(sort $(UNIT_SRCS) devices/virtio/console.c devices/virtio/net.c devices/virtio/vhost.c)
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_OBJS := $(FUZZ_SRCS:%.c=build/fuzz-obj/%.o)
FUZZ_TIME ?= 60
# Objects named only by the pattern rule below: keep them between builds.
.SECONDARY: $(FUZZ_OBJS)

build/fuzz-obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	@$(SAN_CC) $(COMMON_CFLAGS) -O1 $(SAN_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_OBJS)
	@mkdir -p build/fuzz
	@echo "  FUZZLD  $@"
	@$(SAN_CC) $(COMMON_CFLAGS) -O1 $(SAN_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) -lfdt -laio -lz -lzstd -lpthread

fuzz-build: $(FUZZ_TARGETS:%=build/fuzz/%)

fuzz: fuzz-build
	FUZZ_TIME=$(FUZZ_TIME) tests/fuzz/run

e2e: lvmm
	tests/e2e/run

# Unit tests (plain and sanitized), every fuzz target for FUZZ_CHECK_TIME
# seconds, then end-to-end, and one closing count of all.
FUZZ_CHECK_TIME ?= 10
# tests/check builds the host-side tests itself, while the L1 kernel builds.
check: $(SYSROOT_STAMP)
	FUZZ_TIME=$(FUZZ_CHECK_TIME) tests/check

demo: lvmm
	tests/e2e/demo

# A shell on the emulated arm64 host, lvmm and a guest ready (SCRIPT=1: run the tour).
shell: lvmm
	tests/e2e/shell $(if $(SCRIPT),--script)

# kvm-unit-tests against lvmm (and kvmtool's lkvm-static, if LKVM is given)
# in the emulated host: a tree built by hand, never fetched or built here.
kvm-unit-tests: lvmm
	@if [ -z "$(KUT)" ]; then \
		echo "make kvm-unit-tests needs KUT=DIR, a kvm-unit-tests tree built with ./configure --arch=arm64 --target=kvmtool (and LKVM=lkvm-static to run kvmtool beside lvmm)" >&2; \
		exit 2; \
	fi
	tests/kut/run "$(KUT)" "$(LKVM)"

bench: lvmm
	bench/boot

# Live migration: total time, downtime, the guest's largest tick gap
bench-migrate: lvmm
	bench/migrate

# lvmm and kvmtool side by side: make bench-vs-kvmtool LKVM=/path/to/lkvm-static
bench-vs-kvmtool: lvmm
	LKVM="$(LKVM)" bench/vs-kvmtool

# make install [PREFIX=/usr/local] [DESTDIR=...]: the binary, its manual
# page and its bash completion.
PREFIX ?= /usr/local
install: lvmm
	install -D -m 0755 lvmm $(DESTDIR)$(PREFIX)/bin/lvmm
	install -D -m 0644 docs/lvmm.1 $(DESTDIR)$(PREFIX)/share/man/man1/lvmm.1
	install -D -m 0644 completion/lvmm.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/lvmm

clean:
	rm -rf build lvmm
