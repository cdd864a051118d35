# vifwall: one non-recursive Makefile. Each folder adds its part in its module.mk;
# this file only sets the shared flags, includes them and names the top-level targets.
#
#   make            build/vifwall (CLI) and build/vifwalld (daemon)
#   make check      every test, under ASan + UBSan, ending with "N passed, N failed"
#   make demo       the main job (see README)
#   make bench      benchmarks (numbers, never pass/fail)
#   make fuzz       the libFuzzer targets, FUZZ_SECONDS each (default 60)
#   make deps       install the Debian packages listed in mk/packages.txt
#   make format     reformat the sources with clang-format

VERSION := 0.1.0
BUILD   ?= build
SAN     ?=

PKGS       := libnftnl libmnl libnftables libpcap jansson xenstore xenvchan
# Asked of pkg-config when first expanded, which is inside a recipe that runs after
# deps-ok: on a fresh machine neither pkg-config nor the libraries exist at parse time.
PKG_CFLAGS = $(eval PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $(shell pkg-config --libs $(PKGS)))$(PKG_LIBS)

CFLAGS  ?= -O2 -g
WARN    := -std=gnu11 -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes
CPPFLAGS += -I. -DVIFWALL_VERSION='"$(VERSION)"'
ifeq ($(SAN),1)
CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
           -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
# Data races between the forwarding workers (make check runs dataplane_workers.sh on it).
ifeq ($(SAN),thread)
CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
LDFLAGS += -fsanitize=thread
endif
ALL_CFLAGS = $(WARN) $(CFLAGS) $(CPPFLAGS) $(PKG_CFLAGS) -MMD -MP

.DEFAULT_GOAL := all
.PHONY: all deps deps-ok check check-unit demo demo-netns bench fuzz format format-check clean

# Every build first makes sure the packages are there (quick when they are).
deps:
	mk/deps.sh
deps-ok:
	@mk/deps.sh

# A static library of a folder's objects (rebuilt whole, so removed files leave it).
define archive
@mkdir -p $(@D)
rm -f $@ && $(AR) rcs $@ $^
endef

$(BUILD)/obj/%.o: %.c | deps-ok
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

include filters/module.mk
include netback-bridge/module.mk
include appliance/module.mk
include tests/module.mk
include tests/bench/module.mk
include image/module.mk
include dom0/module.mk

all: $(PROGRAMS)

# The main job (root): build the image, boot Xen + dom0 in QEMU and take the guided
# tour of tests/xen/dom0-demo.sh. demo-netns: the same ideas in network namespaces,
# without Xen (seconds instead of minutes).
demo: image
	BUILD=$(BUILD) tests/xen/run.sh --demo
demo-netns: all
	VIFWALL_BUILD=$(BUILD) tests/demo/netns.sh

SOURCES := $(shell find filters netback-bridge appliance tests -name '*.[ch]' 2>/dev/null)
format:
	clang-format -i $(SOURCES)
format-check:
	clang-format --dry-run --Werror $(SOURCES)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
