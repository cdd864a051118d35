# dom0/: what dom0 needs to run next to the appliance: the vifwall CLI (control over
# the vchan with -d DOMAIN, offline check/replay) and the reattach service.
#   make install-dom0 [DESTDIR=...] [PREFIX=/usr]   install them
#   make deb-dom0                                   build/vifwall-dom0_VERSION_amd64.deb
.PHONY: install-dom0 deb-dom0
PREFIX ?= /usr

install-dom0: $(BUILD)/vifwall
	install -D -m 755 $(BUILD)/vifwall $(DESTDIR)$(PREFIX)/sbin/vifwall
	install -D -m 644 docs/man/vifwall.8 $(DESTDIR)$(PREFIX)/share/man/man8/vifwall.8
	install -D -m 644 dom0/vifwall-reattach.service \
		$(DESTDIR)/lib/systemd/system/vifwall-reattach.service
	install -D -m 755 dom0/vifwall-reattach.init $(DESTDIR)/etc/init.d/vifwall-reattach
	install -d -m 700 $(DESTDIR)/var/lib/vifwall

deb-dom0: $(BUILD)/vifwall
	dom0/make-deb.sh $(BUILD) $(VERSION)
