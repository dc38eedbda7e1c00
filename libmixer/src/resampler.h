/* SPDX-License-Identifier: MIT */
/*
 * Internal: the varispeed interpolator. A Kaiser-windowed sinc with its
 * cutoff at the source Nyquist frequency, tabulated at FLZ_RESAMPLER_PHASES
 * points per source frame, read with linear interpolation between adjacent
 * points. For a rate > 1 the kernel is stretched (cutoff scaled down,
 * 2 x ceil(16 x stretch) taps) so nothing aliases into the output band. As
 * every voice has its own rate, which may glide, and no table may be built
 * on the audio thread, the stretched kernels are tabulated at creation for
 * a grid of stretches (FLZ_RESAMPLER_N_STRETCH, a sixth of an octave
 * apart, 2^(1/6) .. 4) as polyphase rows, and a rate uses the smallest
 * stretch at or above it: never less than the rate, so nothing aliases;
 * the passband is at most 2^(1/6) (12%) narrower than the rate alone
 * would make it, just above a grid point, and exact at 2^(k/6) (2, 4...).
 */
#ifndef FLZ_MIXER_RESAMPLER_H
#define FLZ_MIXER_RESAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <flz/constants.h>
#include <flz/rt.h>

/* Half the taps at speed <= 1: 32 taps. With a Kaiser window for 100 dB
 * (beta 10.06) that gives a transition band of 0.207 x rate, centred on
 * Nyquist: passband to 19.0 kHz and stopband from 29.0 kHz at 48 kHz (at
 * rate s > 1 both scale by 1/s). 32 rather than 40 taps: the stretched
 * kernel at a rate > 1 costs in proportion to its taps, and every voice
 * runs its own interpolator. */
#define FLZ_RESAMPLER_HALF_TAPS 16
/* Table points per source frame. Linear interpolation between them keeps the
 * kernel error near 1e-6 (about -120 dB). */
#define FLZ_RESAMPLER_PHASES 512
#define FLZ_RESAMPLER_KAISER_BETA 10.06
/* The table starts at y = -OFFSET frames. */
#define FLZ_RESAMPLER_OFFSET (FLZ_RESAMPLER_HALF_TAPS + 2)
/* Fixed-point scale of the table position (16 fractional bits). */
#define FLZ_RESAMPLER_U_ONE 65536
/* Taps each side at the highest rate: ceil(HALF_TAPS * FLZ_RATE_MAX). */
#define FLZ_RESAMPLER_MAX_SIDE_TAPS (4 * FLZ_RESAMPLER_HALF_TAPS)
_Static_assert((int)FLZ_RATE_MAX == 4, "MAX_SIDE_TAPS follows FLZ_RATE_MAX");

/* Table layout: phase-major. Row p (0 .. PHASES-1) holds the kernel at
 * y = k - OFFSET + p / PHASES for k = 0 .. 2 * OFFSET, stored at column
 * ROW - 1 - k (k reversed), so that the taps of one output frame, which at
 * speed <= 1 all share one phase, are contiguous and in the order the
 * source frames are read. */
#define FLZ_RESAMPLER_PHASE_BITS 9
#define FLZ_RESAMPLER_ROW 40
_Static_assert(FLZ_RESAMPLER_PHASES == 1 << FLZ_RESAMPLER_PHASE_BITS, "phase bits");
_Static_assert(FLZ_RESAMPLER_ROW >= 2 * FLZ_RESAMPLER_OFFSET + 1, "row too short");

/* Bytes of each of the kernel table's arrays (h, dh). */
#define FLZ_RESAMPLER_TABLE_BYTES \
	((size_t)FLZ_RESAMPLER_PHASES * FLZ_RESAMPLER_ROW * sizeof(float))

/* Both tables' arrays come from flz_pages_alloc() (flz/pages.h): written
 * at init, on pages of their own, so that the mixer can list them in
 * flz_mixer_memory(). */
/* The stretched kernels: N_STRETCH tables, stretch 2^(k/6), k = 1 .. 12. */
#define FLZ_RESAMPLER_N_STRETCH 12
/* Rows per stretched table: output fractions q / STRETCH_PHASES. The
 * stretched kernel is smoother by its stretch, so half the base table's
 * phases keep linear interpolation between rows near 1e-6. */
#define FLZ_RESAMPLER_STRETCH_PHASE_BITS 8
#define FLZ_RESAMPLER_STRETCH_PHASES (1 << FLZ_RESAMPLER_STRETCH_PHASE_BITS)

/* One stretched kernel as polyphase rows: row q holds the 2 x side taps at
 * fraction q / STRETCH_PHASES in source order, each tap twice in a row
 * (for the two channels of an interleaved stereo frame: the vector kernel
 * multiplies eight floats of frames by eight of a row with no shuffle),
 * padded with zeros to 2 x stride floats (stride a multiple of 8); dh holds
 * row q + 1 minus row q, laid out alike. */
struct flz_resampler_stretch {
	uint64_t inc_fp; /* the stretch, 32.32 */
	int32_t side;
	uint32_t stride;
	float norm; /* 1 / stretch */
	float *h;
	float *dh;
};

/* The base kernel's rows at rates <= 1 in the same doubled layout: row p
 * (of PHASES) holds the 2 x HALF_TAPS taps of phase p, each twice. */
#define FLZ_RESAMPLER_ROW2 (4 * FLZ_RESAMPLER_HALF_TAPS)

struct flz_resampler {
	/* Kernel values, PHASES x ROW. Zero where |y| >= HALF_TAPS. */
	float *h;
	/* Difference to the point 1/PHASES further on in y, same layout. */
	float *dh;
	struct flz_resampler_stretch stretch[FLZ_RESAMPLER_N_STRETCH];
	/* The base rows doubled (FLZ_RESAMPLER_ROW2), PHASES x ROW2 each. */
	float *h2;
	float *dh2;
	/* All the stretched tables and h2, dh2: one allocation
	 * (flz_pages_alloc()). */
	float *stretch_mem;
	size_t stretch_bytes;
};

/* Index in h/dh of flat point @p flat = (y + OFFSET) * PHASES. */
static inline int32_t flz_resampler_at(int32_t flat)
{
	return (flat & (FLZ_RESAMPLER_PHASES - 1)) * FLZ_RESAMPLER_ROW + FLZ_RESAMPLER_ROW - 1 -
	       (flat >> FLZ_RESAMPLER_PHASE_BITS);
}

/* Build the table. Returns 0 or -ENOMEM. Thread: control. */
int flz_resampler_init(struct flz_resampler *r);
/* Free the table. Thread: control. */
void flz_resampler_deinit(struct flz_resampler *r);

enum flz_resampler_mode {
	/* Rate <= 1: all taps of a frame share one row of the kernel table. */
	FLZ_RESAMPLER_ONE_ROW,
	/* Rate > 1: each tap of the stretched kernel looked up on its own
	 * (used to build the stretched tables). */
	FLZ_RESAMPLER_PER_TAP,
	/* Rate > 1: one row pair of a stretched table per frame. */
	FLZ_RESAMPLER_STRETCH_TABLE,
};

/* What depends on the speed only, worked out once per distinct speed. */
struct flz_resampler_speed {
	uint64_t inc_fp;
	enum flz_resampler_mode mode;
	/* Taps each side of the position. */
	int32_t side;
	/* Table step per tap (16.16 fixed point). */
	int32_t step_u;
	/* The same, unrounded, for placing the first tap. */
	double unit;
	/* 1 / max(stretch, 1): the stretched kernel's area is the stretch. */
	float norm;
	/* STRETCH_TABLE: the table. */
	const struct flz_resampler_stretch *table;
};

/*
 * Prepare for rate @p inc_fp (32.32 fixed point): ONE_ROW or PER_TAP.
 * Thread: rt.
 */
FLZ_RT void flz_resampler_prepare(struct flz_resampler_speed *sp, uint64_t inc_fp);

/* The stretched table a rate > 1 uses: the smallest stretch at or above
 * it (the last is FLZ_RATE_MAX). */
FLZ_RT static inline const struct flz_resampler_stretch *
flz_resampler_table_for(const struct flz_resampler *r, uint64_t inc_fp)
{
	int k = 0;
	while (k < FLZ_RESAMPLER_N_STRETCH - 1 && r->stretch[k].inc_fp < inc_fp)
		k++;
	return &r->stretch[k];
}

/* Taps each side of the position at rate @p inc_fp with the tables. */
FLZ_RT static inline int32_t flz_resampler_side(const struct flz_resampler *r, uint64_t inc_fp)
{
	if (inc_fp <= ((uint64_t)1 << 32))
		return FLZ_RESAMPLER_HALF_TAPS;
	return flz_resampler_table_for(r, inc_fp)->side;
}

/*
 * Prepare for rate @p inc_fp with @p r's stretched tables: ONE_ROW at
 * rates <= 1, else STRETCH_TABLE with the smallest stretch >= the rate.
 * Thread: rt.
 */
FLZ_RT void flz_resampler_prepare_table(const struct flz_resampler *r,
					struct flz_resampler_speed *sp, uint64_t inc_fp);

/* Flat table position of the first tap (16.16 fixed point) at fraction
 * @p frac_norm (0 <= frac_norm <= 1) for speed > 1. */
FLZ_RT static inline int32_t flz_resampler_first_u_stretched(const struct flz_resampler_speed *sp,
							      double frac_norm)
{
	return (int32_t)((double)FLZ_RESAMPLER_OFFSET * FLZ_RESAMPLER_PHASES * FLZ_RESAMPLER_U_ONE +
			 (frac_norm + (double)(sp->side - 1)) * sp->unit + 0.5);
}

/* Flat table position of the first tap (16.16 fixed point) for fraction
 * @p frac (of 2^32). */
FLZ_RT static inline int32_t flz_resampler_first_u(const struct flz_resampler_speed *sp,
						   uint32_t frac)
{
	if (sp->mode != FLZ_RESAMPLER_PER_TAP)
		/* Exact in integers, so frac == 0 hits table points exactly. */
		return ((FLZ_RESAMPLER_OFFSET + FLZ_RESAMPLER_HALF_TAPS - 1) * FLZ_RESAMPLER_PHASES
			<< 16) +
		       (int32_t)(((uint64_t)frac * FLZ_RESAMPLER_PHASES) >> 16);
	return flz_resampler_first_u_stretched(sp, (double)frac * (1.0 / 4294967296.0));
}

/* Bits of a 32-bit fraction below a stretched table's row index. */
#define FLZ_RESAMPLER_ROW_FRAC_BITS (32 - FLZ_RESAMPLER_STRETCH_PHASE_BITS)

/* The coefficients for fraction @p frac in ONE_ROW or STRETCH_TABLE mode:
 * tap i (i = 0 .. 2 x side - 1) is h[i x step] + a x dh[i x step], from one
 * row of the kernel table (step 1) or a doubled stretched table (step 2)
 * and its difference to the next (a stretched row is zero up to a multiple
 * of 8 taps). Sets *h, *dh and *step and returns a. */
FLZ_RT static inline float flz_resampler_row(const struct flz_resampler *r,
					     const struct flz_resampler_speed *sp, uint32_t frac,
					     const float **h, const float **dh, int32_t *step)
{
	if (sp->mode == FLZ_RESAMPLER_STRETCH_TABLE) {
		*step = 2;
		const size_t row =
			(size_t)(frac >> FLZ_RESAMPLER_ROW_FRAC_BITS) * 2 * sp->table->stride;
		*h = sp->table->h + row;
		*dh = sp->table->dh + row;
		return (float)(frac & ((1u << FLZ_RESAMPLER_ROW_FRAC_BITS) - 1)) *
		       (1.0f / (float)(1u << FLZ_RESAMPLER_ROW_FRAC_BITS));
	}
	*step = 1;
	int32_t u = flz_resampler_first_u(sp, frac);
	int32_t at = flz_resampler_at(u >> 16);
	*h = r->h + at;
	*dh = r->dh + at;
	return (float)(u & 0xffff) * (1.0f / 65536.0f);
}

/* The doubled base row of fraction @p frac at a rate <= 1 (ONE_ROW) and
 * its difference row: sets *h2, *dh2 and returns a, the same row and a as
 * flz_resampler_row() (tap i at h2[2i] == h2[2i + 1]). */
FLZ_RT static inline float flz_resampler_row2(const struct flz_resampler *r,
					      const struct flz_resampler_speed *sp, uint32_t frac,
					      const float **h2, const float **dh2)
{
	int32_t u = flz_resampler_first_u(sp, frac);
	const size_t row = (size_t)((u >> 16) & (FLZ_RESAMPLER_PHASES - 1)) * FLZ_RESAMPLER_ROW2;
	*h2 = r->h2 + row;
	*dh2 = r->dh2 + row;
	return (float)(u & 0xffff) * (1.0f / 65536.0f);
}

/* One kernel value at flat position @p u (16.16), interpolated between
 * table points. */
FLZ_RT static inline float flz_resampler_kernel_at(const struct flz_resampler *r, int32_t u)
{
	int32_t at = flz_resampler_at(u >> 16);
	return r->h[at] + (float)(u & 0xffff) * (1.0f / 65536.0f) * r->dh[at];
}

/* Signature of the per-frame interpolators. */
typedef void (*flz_resampler_frame_fn)(const struct flz_resampler *r,
				       const struct flz_resampler_speed *sp, const float *center,
				       uint32_t n_channels, uint32_t frac, float gain_lin,
				       float *out);

/*
 * Interpolate one output frame at source position n + frac / 2^32.
 *
 * @param sp prepared for the frame's speed by flz_resampler_prepare()
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
