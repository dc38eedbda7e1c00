/* SPDX-License-Identifier: MIT */
/* One voice: start, gain glide, stop fade, looped render. Audio thread only. */
#include <string.h>

#include <flz/voice.h>

FLZ_RT FLZ_HOT void flz_voice_start(struct flz_voice *voice, int32_t slot, struct flz_sample *sample,
			    float gain_lin)
{
	voice->sample = sample;
	voice->slot = slot;
	voice->pos_frames = 0;
	voice->gain_lin = gain_lin;
	voice->target_gain_lin = gain_lin;
	voice->ramp_start_lin = gain_lin;
	voice->ramp_step_lin = 0.0f;
	voice->ramp_done_frames = 0;
	voice->ramping = false;
	voice->stopping = false;
	voice->silent = false;
}

/* Begin a ramp from the gain now to @p target. */
FLZ_RT FLZ_HOT static void begin_ramp(struct flz_voice *voice, float target)
{
	voice->ramp_start_lin = voice->gain_lin;
	voice->target_gain_lin = target;
	voice->ramp_step_lin = (target - voice->gain_lin) / (float)voice->ramp_frames;
	voice->ramp_done_frames = 0;
	voice->ramping = true;
}

FLZ_RT FLZ_HOT void flz_voice_set_gain(struct flz_voice *voice, float gain_lin)
{
	if (voice->sample == NULL || voice->stopping)
		return;
	if (!voice->ramping && gain_lin == voice->gain_lin)
		return;
	begin_ramp(voice, gain_lin);
}

FLZ_RT FLZ_HOT bool flz_voice_stop(struct flz_voice *voice)
{
	if (voice->sample == NULL || voice->stopping)
		return false;
	voice->stopping = true;
	begin_ramp(voice, 0.0f);
	return true;
}

FLZ_RT FLZ_HOT uint32_t flz_voice_render(struct flz_voice *voice, const struct flz_voice_kernels *kernels,
				 float *out, uint32_t n_frames, bool overwrite)
{
	if (voice->sample == NULL || voice->silent)
		return 0;
	const uint32_t n_channels = voice->sample->n_channels;
	const int64_t len = voice->sample->n_frames;
	const float *data = voice->sample->data;
	uint32_t done = 0;

	/* The common case: constant gain, no loop point in this block. */
	if (FLZ_LIKELY(!voice->ramping && voice->pos_frames + n_frames < len)) {
		const float *src = data + (size_t)voice->pos_frames * n_channels;
		if (overwrite)
			kernels->copy(out, src, (size_t)n_frames * n_channels, voice->gain_lin);
		else if (voice->gain_lin != 0.0f)
			kernels->add(out, src, (size_t)n_frames * n_channels, voice->gain_lin);
		voice->pos_frames += n_frames;
		return n_frames;
	}

	while (done < n_frames) {
		/* Frames up to the end of the sample or of the block. */
		int64_t left = len - voice->pos_frames;
		uint32_t chunk = n_frames - done;
		if ((int64_t)chunk > left)
			chunk = (uint32_t)left;
		const float *src = data + (size_t)voice->pos_frames * n_channels;
		float *dst = out + (size_t)done * n_channels;

		if (voice->ramping) {
			/* Frames 1 .. ramp_frames-1 of the ramp go through the ramp
			 * kernel; frame ramp_frames gets the target exactly. */
			uint32_t ramp_left = voice->ramp_frames - 1 - voice->ramp_done_frames;
			if (ramp_left == 0) {
				voice->ramping = false;
				voice->gain_lin = voice->target_gain_lin;
				if (voice->stopping) {
					voice->silent = true;
					return done;
				}
				continue;
			}
			if (chunk > ramp_left)
				chunk = ramp_left;
			flz_voice_kernel_ramp(dst, src, chunk, n_channels, voice->ramp_start_lin,
					      voice->ramp_step_lin, voice->ramp_done_frames + 1,
					      overwrite);
			voice->ramp_done_frames += chunk;
			voice->gain_lin = voice->ramp_start_lin +
					  voice->ramp_step_lin * (float)voice->ramp_done_frames;
		} else if (overwrite) {
			kernels->copy(dst, src, (size_t)chunk * n_channels, voice->gain_lin);
		} else if (voice->gain_lin != 0.0f) {
			kernels->add(dst, src, (size_t)chunk * n_channels, voice->gain_lin);
		}

		voice->pos_frames += chunk;
		if (voice->pos_frames == len)
			voice->pos_frames = 0;
		done += chunk;
	}
	/* A stop whose last ramp frame fell exactly on the block end reaches
	 * silence here, so the owner learns it in this block. */
	if (voice->ramping && voice->stopping &&
	    voice->ramp_done_frames + 1 == voice->ramp_frames) {
		voice->ramping = false;
		voice->gain_lin = 0.0f;
		voice->silent = true;
	}
	return done;
}
