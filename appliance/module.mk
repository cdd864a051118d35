# appliance/: the daemon vifwalld and the command-line tool vifwall.
# vifwall.c and vifwalld.c hold main(); every other file here is shared by both.
APP_MAINS := appliance/vifwall.c appliance/vifwalld.c
APP_SRCS  := $(filter-out $(APP_MAINS),$(wildcard appliance/*.c))
APP_LIB   := $(BUILD)/libapp.a
APP_LIBS  := $(APP_LIB) $(NB_LIB) $(FILTERS_LIB)

$(APP_LIB): $(APP_SRCS:%.c=$(BUILD)/obj/%.o)
	$(archive)

$(BUILD)/vifwall: $(BUILD)/obj/appliance/vifwall.o $(APP_LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

$(BUILD)/vifwalld: $(BUILD)/obj/appliance/vifwalld.o $(APP_LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

PROGRAMS += $(BUILD)/vifwall $(BUILD)/vifwalld
