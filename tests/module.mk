# tests/: unit tests (cmocka, one binary per tests/<folder>/test_*.c, mirroring the
# source tree), integration scripts (tests/integration/*.sh, network namespaces),
# fuzz targets (tests/fuzz/fuzz_*.c, libFuzzer) and benchmarks (tests/bench/).

UNIT_SRCS := $(wildcard tests/filters/test_*.c tests/netback-bridge/test_*.c \
                        tests/appliance/test_*.c)
UNIT_BINS := $(UNIT_SRCS:%.c=$(BUILD)/%)
# Shared test helpers (tests/lib/*.c) link into every unit test.
TESTLIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/lib/*.c))

$(BUILD)/tests/filters/%: $(BUILD)/obj/tests/filters/%.o $(TESTLIB_OBJS) $(FILTERS_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka -lpthread
$(BUILD)/tests/netback-bridge/%: $(BUILD)/obj/tests/netback-bridge/%.o $(TESTLIB_OBJS) \
                                 $(NB_LIB) $(FILTERS_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka -lpthread
$(BUILD)/tests/appliance/%: $(BUILD)/obj/tests/appliance/%.o $(TESTLIB_OBJS) $(APP_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka -lpthread

# Fuzz targets: clang + libFuzzer, with the filters/ sources (and the control
# protocol, configuration file and capture record parsers, which have no main())
# compiled in directly.
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS   := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_CFLAGS = -std=gnu11 -g -O1 -I. $(PKG_CFLAGS) -DVIFWALL_VERSION='"$(VERSION)"' \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_SECONDS ?= 60

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FILTERS_SRCS) $(NB_SRCS) $(wildcard tests/lib/*.c) appliance/ctl_proto.c \
                 appliance/daemon_config.c appliance/tap_proto.c appliance/frame_summary.c \
                 | deps-ok
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

tests: $(UNIT_BINS) $(FUZZ_BINS)

# The sanitizer flavour lives in build/asan; run.sh runs everything against it, the
# worker threads' test once more against the daemon built with ThreadSanitizer
# (build/tsan), and the end-to-end test on Xen against the image built from $(BUILD)
# (CHECK_XEN=0 leaves that one out, and run.sh's summary then does not count it).
CHECK_XEN ?= 1
check: deps-ok
	$(MAKE) BUILD=build/asan SAN=1 all tests
	$(MAKE) BUILD=build/tsan SAN=thread build/tsan/vifwalld build/tsan/vifwall
	$(if $(filter 1,$(CHECK_XEN)),$(MAKE) image)
	VIFWALL_TSAN_BUILD=build/tsan \
	$(if $(filter 1,$(CHECK_XEN)),VIFWALL_XEN_BUILD=$(BUILD)) tests/run.sh build/asan

fuzz: deps-ok
	$(MAKE) BUILD=build/asan SAN=1 tests
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh build/asan long

.PHONY: tests
