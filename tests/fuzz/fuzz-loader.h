/* SPDX-License-Identifier: MIT */
/**
 * @file fuzz-loader.h
 * The one check that the fuzz target, its replay driver and the Check
 * regression case share: decode a byte buffer with flz_loader_load_memory()
 * and verify that the result is either a well-formed sample or one of the
 * documented errors with a message, and that a failure leaves *out alone.
 * Test code only.
 */
#ifndef FLZ_FUZZ_LOADER_H
#define FLZ_FUZZ_LOADER_H

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <flz/loader.h>

/* The loader's configuration while fuzzing: the engine's usual target, and
 * a size limit far below the default 2 GiB (8 MiB: 1M stereo frames, far
 * more than any seed decodes to), so that a header claiming a huge length
 * or an extreme rate (1 Hz upsampled to 48 kHz) fails fast with -EFBIG
 * instead of spending seconds per input; the limit itself is covered by the
 * loader suite. */
#define FLZ_FUZZ_RATE_HZ 48000u
#define FLZ_FUZZ_N_CHANNELS 2u
#define FLZ_FUZZ_MAX_BYTES (UINT64_C(8) << 20)

/* A value no call may leave in *out when it fails. */
#define FLZ_FUZZ_SENTINEL ((struct flz_sample *)(uintptr_t)0x5a5a5a5a)

static inline struct flz_loader *flz_fuzz_loader_new(void)
{
	struct flz_loader_config config = flz_loader_config_init();
	config.rate_hz = FLZ_FUZZ_RATE_HZ;
	config.n_channels = FLZ_FUZZ_N_CHANNELS;
	config.max_bytes = FLZ_FUZZ_MAX_BYTES;
	struct flz_loader *loader = NULL;
	if (flz_loader_new(&config, &loader) < 0)
		return NULL;
	return loader;
}

static inline int flz_fuzz_is_load_error(int ret)
{
	return ret == -EBADMSG || ret == -ENOTSUP || ret == -ENODATA || ret == -EFBIG ||
	       ret == -ENOMEM || ret == -EIO;
}

/**
 * Decode @p data once. @return 0 when the outcome is one the contract
 * allows (the code itself is in *result), or a line describing the
 * violation written to @p why (size @p why_size) and -1.
 */
static inline int flz_fuzz_one(struct flz_loader *loader, const uint8_t *data, size_t n_bytes,
			       int *result, char *why, size_t why_size)
{
	struct flz_sample *s = FLZ_FUZZ_SENTINEL;
	int ret = flz_loader_load_memory(loader, data, n_bytes, &s);
	*result = ret;
	if (ret == 0) {
		int ok = s != FLZ_FUZZ_SENTINEL && s != NULL && s->n_frames >= 1 &&
			 s->n_channels == FLZ_FUZZ_N_CHANNELS && s->rate_hz == FLZ_FUZZ_RATE_HZ &&
			 s->data != NULL &&
			 (uint64_t)s->n_frames * s->n_channels * sizeof(float) <= FLZ_FUZZ_MAX_BYTES &&
			 flz_loader_strerror(loader)[0] == '\0';
		if (ok) {
			/* Touch every sample, so that a short allocation shows
			 * up under AddressSanitizer or valgrind; every one must
			 * be finite (random bytes in a float file are full of
			 * NaN, Inf and values near the float range's end). */
			int64_t n_bad = 0;
			for (int64_t i = 0; i < s->n_frames * (int64_t)s->n_channels; i++)
				n_bad += !isfinite(s->data[i]);
			if (n_bad > 0) {
				ok = 0;
				snprintf(why, why_size, "success with %lld non-finite values",
					 (long long)n_bad);
			}
		} else {
			snprintf(why, why_size, "success with a malformed sample");
		}
		if (s != FLZ_FUZZ_SENTINEL)
			flz_sample_unref(s);
		return ok ? 0 : -1;
	}
	if (s != FLZ_FUZZ_SENTINEL) {
		snprintf(why, why_size, "error %d but *out was changed", ret);
		return -1;
	}
	if (!flz_fuzz_is_load_error(ret)) {
		snprintf(why, why_size, "undocumented error %d (%s)", ret,
			 flz_loader_strerror(loader));
		return -1;
	}
	if (flz_loader_strerror(loader)[0] == '\0') {
		snprintf(why, why_size, "error %d without a message", ret);
		return -1;
	}
	return 0;
}

#endif /* FLZ_FUZZ_LOADER_H */
