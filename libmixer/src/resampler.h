/* SPDX-License-Identifier: MIT */
/*
 * Internal: the varispeed interpolator. Kaiser-windowed sincs with their
 * cutoff at the source Nyquist frequency (the prototypes), tabulated as
 * polyphase rows: row q holds every tap's coefficient for an output
 * position q / PHASES of a frame past a source frame, and a position in
 * between interpolates linearly between rows q and q + 1 (every tap of a
 * frame shares that fraction). Rates <= 1 read the short prototype (the
 * base table). For a rate > 1 the longer prototype is stretched (cutoff
 * scaled down, 2 x side taps, side = STRETCH_HALF_TAPS x stretch rounded
 * up to even) so nothing
 * aliases into the output band. As every voice has its own rate, which may
 * glide, and no table may be built on the audio thread, the stretched
 * kernels are tabulated at creation for a grid of stretches
 * (FLZ_RESAMPLER_N_STRETCH, a sixth of an octave apart, 2^(1/6) .. 4), and
 * a rate uses the smallest stretch at or above it: never less than the
 * rate, so nothing aliases; the passband is at most 2^(1/6) (12%) narrower
 * than the rate alone would make it, just above a grid point, and exact at
 * 2^(k/6) (2, 4...).
 */
#ifndef FLZ_MIXER_RESAMPLER_H
#define FLZ_MIXER_RESAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <flz/constants.h>
#include <flz/rt.h>

/* The prototypes (docs/design.md, "The varispeed kernels"). Rates <= 1:
 * HALF_TAPS each side (20 taps), Kaiser beta 10: within 0.0001 dB to
 * 16 kHz, -0.03 dB at 18 kHz, -0.4 dB at 20 kHz, below -100 dB from
 * 32 kHz on (at 48 kHz), so that the images of everything up to 16 kHz
 * are 100 dB down. Rates > 1: STRETCH_HALF_TAPS (26 taps before the
 * stretch), Kaiser beta 9.5: within 0.0001 dB to 16 kHz, -0.08 dB at
 * 20 kHz, below -96 dB from 30 kHz on; stretched by s, all of these scale
 * by 1/s. */
#define FLZ_RESAMPLER_HALF_TAPS 10
#define FLZ_RESAMPLER_KAISER_BETA 10.0
#define FLZ_RESAMPLER_STRETCH_HALF_TAPS 13
#define FLZ_RESAMPLER_STRETCH_KAISER_BETA 9.5
_Static_assert(FLZ_RESAMPLER_HALF_TAPS % 2 == 0, "base side even: taps in groups of four");
/* Rows per table: positions q / PHASES of a frame. All taps of a frame
 * share the fraction between rows, so the error of linear interpolation
 * is that of a filter with response (1 / PHASES)^2 / 8 x w^2 (w the
 * frequency in radians per source frame) at most: -126 dB relative to a
 * 1 kHz tone and -86 dB relative to a 10 kHz tone, most of it a level
 * change; see docs/design.md. */
#define FLZ_RESAMPLER_PHASE_BITS 6
#define FLZ_RESAMPLER_PHASES (1 << FLZ_RESAMPLER_PHASE_BITS)
/* Taps each side at the highest rate: STRETCH_HALF_TAPS x FLZ_RATE_MAX,
 * rounded up to even (resampler.c). */
#define FLZ_RESAMPLER_MAX_SIDE_TAPS ((4 * FLZ_RESAMPLER_STRETCH_HALF_TAPS + 1) & ~1)
_Static_assert((int)FLZ_RATE_MAX == 4, "MAX_SIDE_TAPS follows FLZ_RATE_MAX");

/* The stretched kernels: N_STRETCH tables, stretch 2^(k/6), k = 1 .. 12. */
#define FLZ_RESAMPLER_N_STRETCH 12
/* Tables: the base one (index 0, stretch 1) and the stretched ones. */
#define FLZ_RESAMPLER_N_TABLES (1 + FLZ_RESAMPLER_N_STRETCH)

/* Taps are stored in groups of eight; within a group, storage position p
 * holds tap flz_resampler_order[p] (an involution: tap t sits at position
 * order[t]), so that the AVX2 kernel's two in-lane unpacks of the eight
 * coefficients give taps 0..3 and 4..7 each twice, matching four
 * interleaved stereo frames each. */
#define FLZ_RESAMPLER_GROUP 8
extern const uint8_t flz_resampler_order[FLZ_RESAMPLER_GROUP];

/*
 * One kernel as polyphase rows: row q (0 .. PHASES - 1) holds, for each
 * group g of eight taps, the coefficients at fraction q / PHASES (8 floats,
 * in that order) and then their differences to row q + 1 (8 floats): 2 x stride
 * floats per row, stride = the taps padded with zeros to a multiple of 8.
 * Tap i (0 .. 2 x side - 1) multiplies source frame n + 1 - side + i, for
 * an output position n + fraction. The coefficients include the stretched
 * kernel's 1 / stretch (its area).
 */
struct flz_resampler_table {
	uint64_t inc_fp; /* the stretch, 32.32 (1 for the base table) */
	int32_t side;
	uint32_t stride;
	const float *rows;
};

struct flz_resampler {
	/* [0]: rates <= 1; [k], k >= 1: stretch 2^(k/6) (the last FLZ_RATE_MAX). */
	struct flz_resampler_table table[FLZ_RESAMPLER_N_TABLES];
	/* All the tables: one allocation (flz_pages_alloc()), written at init
	 * on pages of their own, so that the mixer can list it in
	 * flz_mixer_memory(). */
	float *mem;
	size_t mem_bytes;
};

/* Build the tables. Returns 0 or -ENOMEM. Thread: control. */
int flz_resampler_init(struct flz_resampler *r);
/* Free the tables. Thread: control. */
void flz_resampler_deinit(struct flz_resampler *r);

/* What depends on the speed only, worked out once per distinct speed. */
struct flz_resampler_speed {
	uint64_t inc_fp;
	/* Taps each side of the position. */
	int32_t side;
	const struct flz_resampler_table *table;
};

/* The table a rate uses: the base one at rates <= 1, else the smallest
 * stretch at or above it (the last is FLZ_RATE_MAX). */
FLZ_RT static inline const struct flz_resampler_table *
flz_resampler_table_for(const struct flz_resampler *r, uint64_t inc_fp)
{
	int k = 0;
	while (k < FLZ_RESAMPLER_N_TABLES - 1 && r->table[k].inc_fp < inc_fp)
		k++;
	return &r->table[k];
}

/* Taps each side of the position at rate @p inc_fp. */
FLZ_RT static inline int32_t flz_resampler_side(const struct flz_resampler *r, uint64_t inc_fp)
{
	return flz_resampler_table_for(r, inc_fp)->side;
}

/* Prepare for rate @p inc_fp (32.32 fixed point). Thread: rt. */
FLZ_RT void flz_resampler_prepare_table(const struct flz_resampler *r,
					struct flz_resampler_speed *sp, uint64_t inc_fp);

/* Bits of a 32-bit fraction below the row index. */
#define FLZ_RESAMPLER_ROW_FRAC_BITS (32 - FLZ_RESAMPLER_PHASE_BITS)

/* The row of fraction @p frac (of 2^32): sets *row and returns a, the
 * position between it and the next row (coefficient h + a x dh). */
FLZ_RT static inline float flz_resampler_row(const struct flz_resampler_speed *sp, uint32_t frac,
					     const float **row)
{
	*row = sp->table->rows +
	       (size_t)(frac >> FLZ_RESAMPLER_ROW_FRAC_BITS) * 2 * sp->table->stride;
	return (float)(frac & ((1u << FLZ_RESAMPLER_ROW_FRAC_BITS) - 1)) *
	       (1.0f / (float)(1u << FLZ_RESAMPLER_ROW_FRAC_BITS));
}

/* Signature of the per-frame interpolators. */
typedef void (*flz_resampler_frame_fn)(const struct flz_resampler *r,
				       const struct flz_resampler_speed *sp, const float *center,
				       uint32_t n_channels, uint32_t frac, float gain_lin,
				       float *out);

/*
 * Interpolate one output frame at source position n + frac / 2^32.
 *
 * @param sp prepared for the frame's speed by flz_resampler_prepare_table()
 * @param center the source frame n; frames n - side + 1 .. n + side must be
 *        readable, side = taps each side for this speed (<= MAX_SIDE_TAPS)
 * @param gain_lin applied to the result
 * @param out n_channels floats, overwritten
 * Thread: rt.
 */
FLZ_RT void flz_resampler_frame(const struct flz_resampler *r, const struct flz_resampler_speed *sp,
				const float *center, uint32_t n_channels, uint32_t frac,
				float gain_lin, float *out);

/* Signature of the interpolators of a run of frames at one speed and gain. */
typedef void (*flz_resampler_run_fn)(const struct flz_resampler *r,
				     const struct flz_resampler_speed *sp, const float *src,
				     int64_t base, const int64_t *pos, const uint32_t *frac,
				     uint32_t n_channels, uint32_t n_frames, float gain_lin,
				     float *out);

/*
 * Frame j < n_frames of @p out is flz_resampler_frame() at center
 * src + (pos[j] - base) x n_channels and fraction frac[j], bit for bit:
 * one call for a block at constant speed and gain.
 * Thread: rt.
 */
FLZ_RT void flz_resampler_run(const struct flz_resampler *r, const struct flz_resampler_speed *sp,
			      const float *src, int64_t base, const int64_t *pos,
			      const uint32_t *frac, uint32_t n_channels, uint32_t n_frames,
			      float gain_lin, float *out);

#ifdef FLZ_HAVE_AVX2_RESAMPLER
/* The run for n_channels == 2 with AVX2+FMA: frame for frame the values of
 * flz_resampler_frame_stereo_avx2(). Thread: rt. */
FLZ_RT void flz_resampler_run_stereo_avx2(const struct flz_resampler *r,
					  const struct flz_resampler_speed *sp, const float *src,
					  int64_t base, const int64_t *pos, const uint32_t *frac,
					  uint32_t n_channels, uint32_t n_frames, float gain_lin,
					  float *out);

/* The same for n_channels == 2 only, with AVX2+FMA. Thread: rt. */
FLZ_RT void flz_resampler_frame_stereo_avx2(const struct flz_resampler *r,
					    const struct flz_resampler_speed *sp,
					    const float *center, uint32_t n_channels,
					    uint32_t frac, float gain_lin, float *out);
#endif

#endif /* FLZ_MIXER_RESAMPLER_H */
