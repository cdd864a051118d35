# tests/bench/: benchmarks. `make bench` prints numbers; nothing here passes or fails.
# bench_acl is DPDK's rte_acl on the same ClassBench sets and traces, as the reference.
DPDK_CFLAGS := $(shell pkg-config --cflags libdpdk 2>/dev/null)
DPDK_LIBS   := $(shell pkg-config --libs libdpdk 2>/dev/null)

$(BUILD)/bench/bench_acl: tests/bench/bench_acl.c | deps-ok
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror $(DPDK_CFLAGS) -o $@ $< $(DPDK_LIBS) -lpcap

BENCH_BINS := $(BUILD)/bench/bench_acl

bench: all $(BENCH_BINS)
	tests/bench/run.sh $(BUILD)
.PHONY: bench
