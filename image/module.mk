# image/: the appliance image and its end-to-end test on real Xen inside QEMU.
#   make image      build/vifwall.img + build/vifwall.cfg from image.cfg (image/build.sh)
#   make check-xen  boot Xen + dom0 in QEMU, create the appliance and test guests
#                   (tests/xen/run.sh), ending with "N passed, N failed"
# Both need root. Downloads (Debian packages) are cached in $(BUILD)/xen-cache.
.PHONY: image check-xen

image: all
	BUILD=$(BUILD) image/build.sh image.cfg

check-xen: image
	BUILD=$(BUILD) tests/xen/run.sh
