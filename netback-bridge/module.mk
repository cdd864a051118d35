# netback-bridge/: the data plane (ports, forwarding, anti-spoofing, flow cache).
# Uses filters/; knows nothing of xenstore or vchan.
NB_SRCS := $(wildcard netback-bridge/*.c)
NB_LIB  := $(BUILD)/libnb.a

$(NB_LIB): $(NB_SRCS:%.c=$(BUILD)/obj/%.o)
	$(archive)
