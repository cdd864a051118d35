# filters/: the rule engine (load, compile, classify, conntrack, replay).
# Uses none of vifwall's other folders.
FILTERS_SRCS := $(wildcard filters/*.c)
FILTERS_LIB  := $(BUILD)/libfilters.a

$(FILTERS_LIB): $(FILTERS_SRCS:%.c=$(BUILD)/obj/%.o)
	$(archive)
