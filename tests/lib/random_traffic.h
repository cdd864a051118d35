/* Random traffic for differential tests (random_traffic.c). */
#ifndef VIFWALL_TESTS_RANDOM_TRAFFIC_H
#define VIFWALL_TESTS_RANDOM_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

/* The generator: seed it, draw 64 bits, or a number below @n. */
void rt_seed(uint64_t seed);
uint64_t rt_rnd(void);
unsigned rt_pick(unsigned n);

/* A random Ethernet frame with IPv4 or IPv6 into @f (room for 1514 bytes); returns its
 * length. The transport header may be cut short and IPv4 frames may be fragments. */
uint32_t rt_frame(uint8_t *f);

/* A random `table inet vifwall` script of @nrules rules in its forward chain (plus
 * the regular chains they jump to) into @buf of @len bytes. */
void rt_ruleset(char *buf, size_t len, unsigned nrules);

/* Helpers the tests share with the generator: append to a string (printf), the
 * Internet checksum's sum and fold, and the ports frames and rules are drawn from. */
void rt_addf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
uint32_t rt_csum_add(uint32_t sum, const uint8_t *p, size_t n);
uint16_t rt_csum_fold(uint32_t sum);
#define RT_NPORTPOOL 12
extern const uint16_t rt_portpool[RT_NPORTPOOL];

#endif
