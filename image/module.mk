# image/: the appliance image and its end-to-end test on real Xen inside QEMU.
#   make image      build/vifwall.img + build/vifwall.cfg from image.cfg (image/build.sh)
#   make check-xen  boot Xen + dom0 in QEMU, create the appliance and test guests
#                   (tests/xen/run.sh), ending with "N passed, N failed"
# Both need root. Downloads (Debian packages) are cached in $(BUILD)/xen-cache.
.PHONY: image check-xen

# vifwalld and vifwall go into the image when they build; the image is still made
# (and says so) while they do not.
image: deps-ok
	@$(MAKE) --no-print-directory all || \
		echo "image: WARNING: 'make all' failed; the image gets whatever programs exist in $(BUILD)/"
	BUILD=$(BUILD) image/build.sh image.cfg

check-xen: image
	BUILD=$(BUILD) tests/xen/run.sh
