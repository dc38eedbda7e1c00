/* SPDX-License-Identifier: MIT */
/*
 * Internal interface between the decoder front end (loader.c) and the
 * conversion pipeline (convert.c): channel mapping, rate conversion with
 * libsoxr, and the growing output sample.
 */
#ifndef FLZ_LOADER_PRIVATE_H
#define FLZ_LOADER_PRIVATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <soxr.h>

#include <flz/loader.h>

/* Frames decoded and pushed through the pipeline per step. Large enough that
 * per-call overhead in libsndfile and libsoxr does not show, small enough
 * that the scratch buffers stay in cache (4096 x 8 ch x 4 B = 128 KiB). */
#define FLZ_LOADER_CHUNK_FRAMES 4096

/* Call the loader's progress callback, if any: @p done source frames of
 * @p total (-1: unknown) have been through the pipeline. */
void flz_loader_report_progress(struct flz_loader *loader, int64_t done, int64_t total);

/* The rate converter's recipe; see the figures in flz/loader.h. */
#define FLZ_LOADER_SOXR_RECIPE SOXR_VHQ

/* Where channel mapping happens relative to rate conversion. Mapping is a
 * per-frame matrix and resampling a per-channel filter, so the two commute;
 * the pipeline resamples whichever side has fewer channels. */
enum flz_map_stage {
	FLZ_MAP_NONE,   /* equal channel counts */
	FLZ_MAP_BEFORE, /* fewer output channels: map, then resample */
	FLZ_MAP_AFTER,  /* more output channels: resample, then map */
};

struct flz_pipeline {
	uint32_t in_rate_hz;
	uint32_t out_rate_hz;
	uint32_t n_in_channels;
	uint32_t n_out_channels;
	/* Channels that go through the resampler. */
	uint32_t n_mid_channels;
	enum flz_map_stage map_stage;
	/* NULL when the rates are equal. */
	soxr_t soxr;
	/* FLZ_MAP_BEFORE: one chunk of mapped input. */
	float *mid;
	/* FLZ_MAP_AFTER with soxr: resampled frames waiting to be mapped. */
	float *post;
	/* The sample under construction; n_capacity_frames are allocated,
	 * n_frames_done are written. */
	struct flz_sample *sample;
	int64_t n_capacity_frames;
	int64_t n_frames_done;
	/* Most output frames max_bytes allows. */
	int64_t n_max_frames;
	uint64_t max_bytes;
	/* The loader's counts of replaced values (n_overflow is the
	 * pipeline's; the source counts are the decoder's). */
	struct flz_loader_replaced *replaced;
	/* Where failures are described; the loader's message buffer. */
	char *msg;
	size_t msg_size;
};

/* printf into a message buffer (truncating). */
void flz_loader_format(char *msg, size_t msg_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The loader's message buffer, for the pipeline. */
char *flz_loader_message_buffer(struct flz_loader *loader, size_t *msg_size);
/* The loader's replacement counts, for the pipeline and flz_loader_convert(). */
struct flz_loader_replaced *flz_loader_replaced_counts(struct flz_loader *loader);
/* flz_loader_convert() decodes no file: it clears the source rate. */
void flz_loader_forget_source(struct flz_loader *loader);
/* flz_loader_load_pcm() reports the caller's rate as the source's. */
void flz_loader_set_source_rate(struct flz_loader *loader, uint32_t rate_hz);

/* Replace the non-finite values among n_samples in place (NaN by 0, +Inf by
 * +1, -Inf by -1), adding each kind to *counts. Finite values, beyond +-1
 * included, are left alone. */
void flz_sanitize_source(float *x, size_t n_samples, struct flz_loader_replaced *counts);
const struct flz_loader_config *flz_loader_get_config(const struct flz_loader *loader);

/*
 * Prepare a pipeline from n_in_channels at in_rate_hz to the config's rate and
 * channels. n_frames_hint is the source's frame count; exact says whether it
 * is exact (then the output is allocated once at its final size) or an
 * estimate (< 0: unknown), in which case the output grows as needed.
 * Returns 0, -EFBIG (the hinted output exceeds max_bytes), -ENOMEM, -ENOTSUP
 * (the resampler refuses the ratio). On failure nothing is left to free.
 */
int flz_pipeline_init(struct flz_pipeline *p, const struct flz_loader_config *config,
		      uint32_t in_rate_hz, uint32_t n_in_channels, int64_t n_frames_hint,
		      bool exact, struct flz_loader_replaced *replaced, char *msg,
		      size_t msg_size);

/* True when frames can be decoded straight into the output (no mapping, no
 * resampling); then use flz_pipeline_window()/flz_pipeline_commit(). */
bool flz_pipeline_is_passthrough(const struct flz_pipeline *p);

/* Passthrough only: room for up to n_frames at the end of the output
 * (growing it if needed). *dst receives where to write. */
int flz_pipeline_window(struct flz_pipeline *p, int64_t n_frames, float **dst);
void flz_pipeline_commit(struct flz_pipeline *p, int64_t n_frames);

/* Feed n_frames (<= FLZ_LOADER_CHUNK_FRAMES) interleaved input frames,
 * already passed through flz_sanitize_source(). */
int flz_pipeline_push(struct flz_pipeline *p, const float *in, int64_t n_frames);

/* Flush the resampler and hand over the finished sample (exactly the frames
 * produced). -ENODATA when nothing was produced. Call deinit afterwards
 * either way. */
int flz_pipeline_finish(struct flz_pipeline *p, struct flz_sample **out);

/* Free everything the pipeline still holds (the unfinished sample included). */
void flz_pipeline_deinit(struct flz_pipeline *p);

/* The documented channel rule (flz/loader.h) over n_frames frames. */
void flz_map_channels(const float *in, uint32_t n_in_channels, float *out,
		      uint32_t n_out_channels, int64_t n_frames);

#endif /* FLZ_LOADER_PRIVATE_H */
