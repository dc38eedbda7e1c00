/* SPDX-License-Identifier: MIT */
/*
 * The conversion pipeline: decoded chunks go through the channel map and the
 * resampler straight into the final sample, so a load holds the result plus
 * a few chunk-sized buffers, never a second whole-file copy.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader-private.h"

void flz_sanitize_source(float *x, size_t n_samples, struct flz_loader_replaced *counts)
{
	for (size_t i = 0; i < n_samples; i++) {
		if (FLZ_LIKELY(isfinite(x[i])))
			continue;
		if (isnan(x[i])) {
			x[i] = 0.0f;
			counts->n_nan++;
		} else if (x[i] > 0.0f) {
			x[i] = 1.0f;
			counts->n_pos_inf++;
		} else {
			x[i] = -1.0f;
			counts->n_neg_inf++;
		}
	}
}

/* The resampler's output is finite for finite input unless the input comes
 * close to the float range's end; then the filter's overshoot can overflow
 * (and an Inf next to an opposite Inf is a NaN). Rare enough that one pass
 * over the finished sample costs less than checking every block. */
static void sanitize_converted(float *x, size_t n_samples, uint64_t *n_overflow)
{
	for (size_t i = 0; i < n_samples; i++) {
		if (FLZ_LIKELY(isfinite(x[i])))
			continue;
		x[i] = isnan(x[i]) ? 0.0f : (x[i] > 0.0f ? 1.0f : -1.0f);
		(*n_overflow)++;
	}
}

void flz_map_channels(const float *in, uint32_t n_in_channels, float *out,
		      uint32_t n_out_channels, int64_t n_frames)
{
	const size_t n_in = n_in_channels, n_out = n_out_channels;

	if (n_in == n_out) {
		memcpy(out, in, (size_t)n_frames * n_in * sizeof(float));
	} else if (n_in == 1) {
		/* mono to N: the signal on every channel */
		for (int64_t i = 0; i < n_frames; i++)
			for (size_t c = 0; c < n_out; c++)
				out[(size_t)i * n_out + c] = in[i];
	} else if (n_out == 1) {
		/* N to mono: the average, so a signal equal on all channels keeps
		 * its level and uncorrelated channels cannot clip. */
		const float scale = 1.0f / (float)n_in;
		for (int64_t i = 0; i < n_frames; i++) {
			const float *frame = in + (size_t)i * n_in;
			float sum = 0.0f;
			for (size_t c = 0; c < n_in; c++)
				sum += frame[c];
			out[i] = sum * scale;
		}
	} else {
		/* M to N otherwise (stereo to N > 2 included): channel k takes
		 * source channel k while both exist; extra target channels are
		 * silent, surplus source channels are dropped. */
		const size_t n_copy = n_in < n_out ? n_in : n_out;
		for (int64_t i = 0; i < n_frames; i++) {
			const float *src = in + (size_t)i * n_in;
			float *dst = out + (size_t)i * n_out;
			size_t c = 0;
			for (; c < n_copy; c++)
				dst[c] = src[c];
			for (; c < n_out; c++)
				dst[c] = 0.0f;
		}
	}
}

static int too_big(struct flz_pipeline *p, uint64_t n_frames)
{
	flz_loader_format(p->msg, p->msg_size,
			  "decoded sample would need %" PRIu64 " frames x %" PRIu32
			  " channels, more than the limit of %" PRIu64 " bytes",
			  n_frames, p->n_out_channels, p->max_bytes);
	return -EFBIG;
}

/* libsoxr 0.1.3 reads (never writes) one frame past the end of the output
 * room it is given when a flush ends exactly there (seen with valgrind).
 * Every buffer it writes to therefore has one frame of slack beyond the room
 * the pipeline hands out. */
#define FLZ_SOXR_SLACK_FRAMES 1

static int alloc_output(struct flz_pipeline *p, int64_t n_frames)
{
	struct flz_sample *s = flz_sample_new(n_frames + FLZ_SOXR_SLACK_FRAMES, p->n_out_channels,
					      p->out_rate_hz);
	if (s == NULL) {
		flz_loader_format(p->msg, p->msg_size,
				  "out of memory for a sample of %" PRId64 " frames", n_frames);
		return -ENOMEM;
	}
	if (p->sample != NULL) {
		memcpy(s->data, p->sample->data,
		       (size_t)p->n_frames_done * p->n_out_channels * sizeof(float));
		flz_sample_unref(p->sample);
	}
	p->sample = s;
	p->n_capacity_frames = n_frames;
	return 0;
}

/* Make room for n_frames more output frames. Only estimated lengths ever get
 * here with too little room; they grow by half again, which the kernel backs
 * with pages only as they are written. */
static int ensure_room(struct flz_pipeline *p, int64_t n_frames)
{
	if (p->n_capacity_frames - p->n_frames_done >= n_frames)
		return 0;
	int64_t need = p->n_frames_done + n_frames;
	if (need > p->n_max_frames)
		return too_big(p, (uint64_t)need);
	int64_t grown = p->n_capacity_frames + p->n_capacity_frames / 2 + FLZ_LOADER_CHUNK_FRAMES;
	if (grown > p->n_max_frames)
		grown = p->n_max_frames;
	if (grown < need)
		grown = need;
	return alloc_output(p, grown);
}

int flz_pipeline_init(struct flz_pipeline *p, const struct flz_loader_config *config,
		      uint32_t in_rate_hz, uint32_t n_in_channels, int64_t n_frames_hint,
		      bool exact, struct flz_loader_replaced *replaced, char *msg,
		      size_t msg_size)
{
	memset(p, 0, sizeof(*p));
	p->replaced = replaced;
	p->in_rate_hz = in_rate_hz;
	p->out_rate_hz = config->rate_hz;
	p->n_in_channels = n_in_channels;
	p->n_out_channels = config->n_channels;
	p->max_bytes = config->max_bytes;
	p->msg = msg;
	p->msg_size = msg_size;

	uint64_t frame_bytes = (uint64_t)p->n_out_channels * sizeof(float);
	uint64_t max_frames = config->max_bytes / frame_bytes;
	if (max_frames > (uint64_t)INT64_MAX)
		max_frames = INT64_MAX;
	p->n_max_frames = (int64_t)max_frames;

	if (p->n_out_channels < n_in_channels) {
		p->map_stage = FLZ_MAP_BEFORE;
		p->n_mid_channels = p->n_out_channels;
	} else if (p->n_out_channels > n_in_channels) {
		p->map_stage = FLZ_MAP_AFTER;
		p->n_mid_channels = n_in_channels;
	} else {
		p->map_stage = FLZ_MAP_NONE;
		p->n_mid_channels = n_in_channels;
	}
	bool resample = in_rate_hz != p->out_rate_hz;

	/* The output length: soxr delivers round(n_in * out / in) frames; ceil + 1
	 * is a bound that also covers rounding inside soxr. */
	uint64_t n_expected = 0, n_capacity;
	if (n_frames_hint > 0) {
		uint64_t n_in = (uint64_t)n_frames_hint;
		if (n_in > (UINT64_MAX - in_rate_hz) / p->out_rate_hz)
			return too_big(p, UINT64_MAX);
		n_expected = resample ? (n_in * p->out_rate_hz + in_rate_hz - 1) / in_rate_hz : n_in;
	}
	if (exact) {
		if (n_expected > max_frames)
			return too_big(p, n_expected);
		n_capacity = n_expected + (resample ? 1 : 0);
	} else if (n_expected > 0) {
		/* An estimate (MP3 without a length header, Ogg): a sixteenth
		 * more, so that a slightly low guess does not cost a copy. */
		n_capacity = n_expected + n_expected / 16 + FLZ_LOADER_CHUNK_FRAMES;
	} else {
		n_capacity = p->out_rate_hz; /* unknown: start with one second */
	}
	if (n_capacity > max_frames)
		n_capacity = max_frames;
	if (n_capacity < 1) {
		if (max_frames < 1)
			return too_big(p, 1);
		n_capacity = 1;
	}

	size_t chunk_bytes = (size_t)FLZ_LOADER_CHUNK_FRAMES * p->n_mid_channels * sizeof(float);
	if (p->map_stage == FLZ_MAP_BEFORE) {
		p->mid = malloc(chunk_bytes);
		if (p->mid == NULL)
			goto no_memory;
	}
	if (resample) {
		if (p->map_stage == FLZ_MAP_AFTER) {
			p->post = malloc(chunk_bytes +
					 FLZ_SOXR_SLACK_FRAMES * p->n_mid_channels * sizeof(float));
			if (p->post == NULL)
				goto no_memory;
		}
		soxr_error_t err = NULL;
		soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
		soxr_quality_spec_t quality = soxr_quality_spec(FLZ_LOADER_SOXR_RECIPE, 0);
		/* libsoxr's set-up writes process-wide state (helgrind saw two
		 * loaders' soxr_create() race on it once the load pool ran two
		 * at a time): set-ups take turns; the conversions themselves
		 * share nothing and run in parallel. */
		static pthread_mutex_t soxr_setup = PTHREAD_MUTEX_INITIALIZER;
		pthread_mutex_lock(&soxr_setup);
		p->soxr = soxr_create(in_rate_hz, p->out_rate_hz, p->n_mid_channels, &err, &io,
				      &quality, NULL);
		pthread_mutex_unlock(&soxr_setup);
		if (p->soxr == NULL || err != NULL) {
			flz_loader_format(msg, msg_size,
					  "cannot convert from %" PRIu32 " Hz to %" PRIu32 " Hz: %s",
					  in_rate_hz, p->out_rate_hz, err ? err : "resampler failed");
			flz_pipeline_deinit(p);
			return -ENOTSUP;
		}
	}
	int ret = alloc_output(p, (int64_t)n_capacity);
	if (ret < 0) {
		flz_pipeline_deinit(p);
		return ret;
	}
	return 0;

no_memory:
	flz_loader_format(msg, msg_size, "out of memory for conversion buffers");
	flz_pipeline_deinit(p);
	return -ENOMEM;
}

bool flz_pipeline_is_passthrough(const struct flz_pipeline *p)
{
	return p->soxr == NULL && p->map_stage == FLZ_MAP_NONE;
}

int flz_pipeline_window(struct flz_pipeline *p, int64_t n_frames, float **dst)
{
	int ret = ensure_room(p, n_frames);
	if (ret < 0)
		return ret;
	*dst = p->sample->data + (size_t)p->n_frames_done * p->n_out_channels;
	return 0;
}

void flz_pipeline_commit(struct flz_pipeline *p, int64_t n_frames)
{
	p->n_frames_done += n_frames;
}

/* Run the resampler over n_frames of src (NULL: end of input, drain it). */
static int resample(struct flz_pipeline *p, const float *src, size_t n_frames)
{
	size_t n_consumed = 0;
	const size_t n_out = p->n_out_channels, n_mid = p->n_mid_channels;

	for (;;) {
		float *dst;
		size_t n_room;
		int ret;
		if (p->map_stage == FLZ_MAP_AFTER) {
			dst = p->post;
			n_room = FLZ_LOADER_CHUNK_FRAMES;
		} else {
			/* Straight into the sample: at least one free frame so the
			 * resampler can always make progress. */
			ret = ensure_room(p, 1);
			if (ret < 0)
				return ret;
			dst = p->sample->data + (size_t)p->n_frames_done * n_out;
			n_room = (size_t)(p->n_capacity_frames - p->n_frames_done);
		}
		size_t n_in_done = 0, n_out_done = 0;
		soxr_error_t err;
		if (src != NULL)
			err = soxr_process(p->soxr, src + n_consumed * n_mid, n_frames - n_consumed,
					   &n_in_done, dst, n_room, &n_out_done);
		else
			err = soxr_process(p->soxr, NULL, 0, NULL, dst, n_room, &n_out_done);
		if (err != NULL) {
			flz_loader_format(p->msg, p->msg_size, "sample-rate conversion failed: %s",
					  err);
			return -EIO;
		}
		if (p->map_stage == FLZ_MAP_AFTER && n_out_done > 0) {
			ret = ensure_room(p, (int64_t)n_out_done);
			if (ret < 0)
				return ret;
			flz_map_channels(p->post, p->n_mid_channels,
					 p->sample->data + (size_t)p->n_frames_done * n_out,
					 p->n_out_channels, (int64_t)n_out_done);
		}
		p->n_frames_done += (int64_t)n_out_done;
		n_consumed += n_in_done;
		if (src == NULL) {
			if (n_out_done == 0)
				return 0;
		} else {
			if (n_consumed >= n_frames)
				return 0;
			if (n_in_done == 0 && n_out_done == 0) {
				flz_loader_format(p->msg, p->msg_size,
						  "sample-rate conversion made no progress");
				return -EIO;
			}
		}
	}
}

int flz_pipeline_push(struct flz_pipeline *p, const float *in, int64_t n_frames)
{
	if (n_frames <= 0)
		return 0;
	const float *src = in;
	if (p->map_stage == FLZ_MAP_BEFORE) {
		flz_map_channels(in, p->n_in_channels, p->mid, p->n_out_channels, n_frames);
		src = p->mid;
	}
	if (p->soxr != NULL)
		return resample(p, src, (size_t)n_frames);

	int ret = ensure_room(p, n_frames);
	if (ret < 0)
		return ret;
	float *dst = p->sample->data + (size_t)p->n_frames_done * p->n_out_channels;
	if (p->map_stage == FLZ_MAP_AFTER)
		flz_map_channels(src, p->n_in_channels, dst, p->n_out_channels, n_frames);
	else
		memcpy(dst, src, (size_t)n_frames * p->n_out_channels * sizeof(float));
	p->n_frames_done += n_frames;
	return 0;
}

int flz_pipeline_finish(struct flz_pipeline *p, struct flz_sample **out)
{
	if (p->soxr != NULL) {
		int ret = resample(p, NULL, 0);
		if (ret < 0)
			return ret;
		sanitize_converted(p->sample->data,
				   (size_t)p->n_frames_done * p->n_out_channels,
				   &p->replaced->n_overflow);
	}
	if (p->n_frames_done == 0) {
		flz_loader_format(p->msg, p->msg_size, "no audio frames");
		return -ENODATA;
	}
	/* The block may hold a few more frames than produced (estimates, the
	 * +1 bound): they are never touched, so they cost no resident memory. */
	p->sample->n_frames = p->n_frames_done;
	*out = p->sample;
	p->sample = NULL;
	return 0;
}

void flz_pipeline_deinit(struct flz_pipeline *p)
{
	if (p->soxr != NULL)
		soxr_delete(p->soxr);
	free(p->mid);
	free(p->post);
	flz_sample_unref(p->sample);
	p->soxr = NULL;
	p->mid = NULL;
	p->post = NULL;
	p->sample = NULL;
}

/* One chunk of the caller's PCM as float, sanitised like decoded frames.
 * int16 becomes x / 32768, what libsndfile makes of a 16-bit file. */
static void read_pcm_chunk(const void *data, enum flz_pcm_format format, int64_t first,
			   size_t n_samples, uint32_t n_channels, float *dst,
			   struct flz_loader_replaced *replaced)
{
	size_t offset = (size_t)first * n_channels;
	if (format == FLZ_PCM_FLOAT32) {
		memcpy(dst, (const float *)data + offset, n_samples * sizeof(float));
		flz_sanitize_source(dst, n_samples, replaced);
	} else {
		const int16_t *src = (const int16_t *)data + offset;
		for (size_t k = 0; k < n_samples; k++)
			dst[k] = (float)src[k] * (1.0f / 32768.0f);
	}
}

/* The PCM front end of flz_loader_convert() and flz_loader_load_pcm(): the
 * caller's frames go through the same chunked pipeline as a decoded file
 * (same chunk boundaries, so the resampler sees the same blocks), copied
 * chunk by chunk because they are const and must be sanitised. */
static int convert_pcm(struct flz_loader *loader, const void *data, enum flz_pcm_format format,
		       int64_t n_frames, uint32_t n_channels, uint32_t in_rate_hz,
		       struct flz_sample **out)
{
	size_t msg_size;
	char *msg = flz_loader_message_buffer(loader, &msg_size);
	struct flz_loader_replaced *replaced = flz_loader_replaced_counts(loader);
	memset(replaced, 0, sizeof(*replaced));
	flz_loader_forget_source(loader);
	if (out == NULL || data == NULL || n_frames < 1 || n_channels < 1 ||
	    n_channels > FLZ_MAX_CHANNELS || in_rate_hz < 1 ||
	    (format != FLZ_PCM_FLOAT32 && format != FLZ_PCM_INT16)) {
		flz_loader_format(msg, msg_size,
				  "invalid frames (%" PRId64 " frames, %" PRIu32
				  " channels, %" PRIu32 " Hz, format %d)",
				  n_frames, n_channels, in_rate_hz, (int)format);
		return -EINVAL;
	}
	struct flz_pipeline p;
	int ret = flz_pipeline_init(&p, flz_loader_get_config(loader), in_rate_hz, n_channels,
				    n_frames, true, replaced, msg, msg_size);
	if (ret < 0)
		return ret;
	bool passthrough = flz_pipeline_is_passthrough(&p);
	float *chunk = NULL;
	if (!passthrough) {
		chunk = malloc((size_t)FLZ_LOADER_CHUNK_FRAMES * n_channels * sizeof(float));
		if (chunk == NULL) {
			flz_pipeline_deinit(&p);
			flz_loader_format(msg, msg_size, "out of memory for conversion buffers");
			return -ENOMEM;
		}
	}
	for (int64_t i = 0; i < n_frames && ret == 0; i += FLZ_LOADER_CHUNK_FRAMES) {
		int64_t n = n_frames - i;
		if (n > FLZ_LOADER_CHUNK_FRAMES)
			n = FLZ_LOADER_CHUNK_FRAMES;
		size_t n_samples = (size_t)n * n_channels;
		if (passthrough) {
			/* Same rate and channels: straight into the sample. */
			float *dst;
			ret = flz_pipeline_window(&p, n, &dst);
			if (ret == 0) {
				read_pcm_chunk(data, format, i, n_samples, n_channels, dst, replaced);
				flz_pipeline_commit(&p, n);
			}
		} else {
			read_pcm_chunk(data, format, i, n_samples, n_channels, chunk, replaced);
			ret = flz_pipeline_push(&p, chunk, n);
		}
		if (ret == 0)
			flz_loader_report_progress(loader, i + n, n_frames);
	}
	free(chunk);
	if (ret == 0)
		ret = flz_pipeline_finish(&p, out);
	flz_pipeline_deinit(&p);
	if (ret == 0)
		msg[0] = '\0';
	else
		memset(replaced, 0, sizeof(*replaced));
	return ret;
}

int flz_loader_convert(struct flz_loader *loader, struct flz_frames in, uint32_t in_rate_hz,
		       struct flz_sample **out)
{
	return convert_pcm(loader, in.data, FLZ_PCM_FLOAT32, in.n_frames, in.n_channels,
			   in_rate_hz, out);
}

int flz_loader_load_pcm(struct flz_loader *loader, const void *data, enum flz_pcm_format format,
			int64_t n_frames, uint32_t n_channels, uint32_t rate_hz,
			struct flz_sample **out)
{
	if (loader == NULL)
		return -EINVAL;
	int ret = convert_pcm(loader, data, format, n_frames, n_channels, rate_hz, out);
	if (ret == 0)
		flz_loader_set_source_rate(loader, rate_hz);
	return ret;
}
