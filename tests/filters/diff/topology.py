"""The one network every differential case is written for.

gen_packets.py addresses its frames to it and kernel_replay.py builds it in network
namespaces, so both import these constants. The guest sits behind port "web1"
(the replay's --iif), everything else behind "uplink" (--oif):

    guest 10.1.0.0/16, fd00:1::/64 --- web1 [router] uplink --- the rest of the world

The router's own addresses live in separate small subnets (ROUTER_*), which corpus
frames must never use: a frame to them goes to the router's input, not forward.
"""

IIF = "web1"
OIF = "uplink"

GUEST_MAC = "00:16:3e:00:00:01"      # the --iif-mac: the guest's frames come from it
UPSTREAM_MAC = "02:76:77:00:02:01"   # the upstream gateway's MAC (other MACs are fine too)
ROUTER_IIF_MAC = "02:76:77:00:01:fe"  # router's web1: guest frames are addressed to it
ROUTER_OIF_MAC = "02:76:77:00:02:fe"  # router's uplink: upstream frames are addressed to it

GUEST_NET4 = "10.1.0.0/16"
GUEST_NET6 = "fd00:1::/64"

# The router's own link subnets and next hops (static neighbours, never resolved).
ROUTER_IIF_ADDR4, GUEST_GW4 = "172.31.1.254", "172.31.1.1"
ROUTER_IIF_ADDR6, GUEST_GW6 = "fd00:ff:1::fffe", "fd00:ff:1::1"
ROUTER_OIF_ADDR4, UPSTREAM_GW4 = "192.0.2.254", "192.0.2.1"
ROUTER_OIF_ADDR6, UPSTREAM_GW6 = "2001:db8:ff::fffe", "2001:db8:ff::1"
RESERVED_NETS = ["172.31.1.0/24", "192.0.2.0/24", "fd00:ff:1::/64", "2001:db8:ff::/64"]
