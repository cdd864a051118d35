/*
 * Helpers every expression's compile() uses: the kernel's register parsing and
 * validation (nft_parse_register, nft_validate_register_load/store) and reading
 * raw data attributes, so that what the kernel would refuse we refuse the same way.
 */
#include <errno.h>
#include <stdio.h> /* before libnftnl */
#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>
#include <stdarg.h>

#include "filters/expr.h"

int flt_compile_fail(struct flt_compile *cc, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cc->why, sizeof(cc->why), fmt, ap);
	va_end(ap);
	return err;
}

/* nft_parse_register: NFT_REG_1..4 are 16-byte registers (4 words each), NFT_REG32_xx
 * single words; both map onto the same word array after the 4 verdict words. */
static int reg_parse(uint32_t raw, uint32_t *idx)
{
	if (raw <= NFT_REG_4)
		*idx = raw * NFT_REG_SIZE / NFT_REG32_SIZE;
	else if (raw >= NFT_REG32_00 && raw <= NFT_REG32_15)
		*idx = raw + NFT_REG_SIZE / NFT_REG32_SIZE - NFT_REG32_00;
	else
		return -ERANGE;
	return 0;
}

int flt_reg_load(struct flt_compile *cc, uint32_t raw, uint32_t len, uint8_t *idx)
{
	uint32_t i;

	if (reg_parse(raw, &i) < 0)
		return flt_compile_fail(cc, -ERANGE, "a load from register %u", raw);
	if (i < FLT_REG_FIRST_DATA || len == 0)
		return flt_compile_fail(cc, -EINVAL, "a load of %u bytes from register %u", len,
					raw);
	if (i * 4 + len > FLT_REG_DATA_BYTES)
		return flt_compile_fail(cc, -ERANGE, "a load of %u bytes from register %u", len,
					raw);
	*idx = (uint8_t)i;
	return 0;
}

int flt_reg_store(struct flt_compile *cc, uint32_t raw, uint32_t len, uint8_t *idx)
{
	uint32_t i;

	if (reg_parse(raw, &i) < 0)
		return flt_compile_fail(cc, -ERANGE, "a store to register %u", raw);
	/* Value data never goes to the verdict register (the kernel's -EINVAL). */
	if (i < FLT_REG_FIRST_DATA || len == 0)
		return flt_compile_fail(cc, -EINVAL, "a store of %u bytes to register %u", len,
					raw);
	if (i * 4 + len > FLT_REG_DATA_BYTES)
		return flt_compile_fail(cc, -ERANGE, "a store of %u bytes to register %u", len,
					raw);
	*idx = (uint8_t)i;
	return 0;
}

int flt_expr_get_data(struct flt_compile *cc, const struct nftnl_expr *nle, uint16_t type,
		      const char *what, void *dst, uint32_t max, uint32_t *len)
{
	const void *p;
	uint32_t n = 0;

	if (!nftnl_expr_is_set(nle, type))
		return flt_compile_fail(cc, -EINVAL, "a '%s' expression without %s",
					nftnl_expr_get_str(nle, NFTNL_EXPR_NAME), what);
	p = nftnl_expr_get(nle, type, &n);
	if (!p || n > max)
		return flt_compile_fail(cc, -EINVAL, "a '%s' expression with %u bytes of %s",
					nftnl_expr_get_str(nle, NFTNL_EXPR_NAME), n, what);
	memcpy(dst, p, n);
	*len = n;
	return 0;
}

void flt_expr_describe_effect(const struct flt_expr *e, struct flt_expr_desc *d)
{
	(void)e;
	d->kind = FLT_XK_EFFECT;
}
