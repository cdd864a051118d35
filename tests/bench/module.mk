# tests/bench/: benchmarks. `make bench` prints numbers; nothing here passes or fails.
# bench_acl is DPDK's rte_acl on the same ClassBench sets and traces, as the reference.
# Expanded inside the recipe, after deps-ok (see PKG_CFLAGS in the Makefile).
DPDK_CFLAGS = $(eval DPDK_CFLAGS := $(shell pkg-config --cflags libdpdk))$(DPDK_CFLAGS)
DPDK_LIBS   = $(eval DPDK_LIBS := $(shell pkg-config --libs libdpdk))$(DPDK_LIBS)

$(BUILD)/bench/bench_acl: tests/bench/bench_acl.c | deps-ok
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror $(DPDK_CFLAGS) -o $@ $< $(DPDK_LIBS) -lpcap

# bench_classify: vifwall's own classifier (reference evaluator and fast path).
$(BUILD)/bench/bench_classify: $(BUILD)/obj/tests/bench/bench_classify.o $(FILTERS_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpcap -lpthread

# fwd_gen: the forwarding benchmark's frame generator and sink (tests/bench/forward.sh).
$(BUILD)/bench/fwd_gen: $(BUILD)/obj/tests/bench/fwd_gen.o
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^

BENCH_BINS := $(BUILD)/bench/bench_acl $(BUILD)/bench/bench_classify $(BUILD)/bench/fwd_gen

bench: all $(BENCH_BINS)
	tests/bench/run.sh $(BUILD)
	tests/bench/forward.sh $(BUILD)
.PHONY: bench
