/* SPDX-License-Identifier: MIT */
/*
 * The meters' audio side: render in pieces that end on the intervals'
 * ends and, at each, hand the mixer's maxima over through the triple
 * buffer (engine-private.h).
 */
#include "engine-private.h"

FLZ_RT static void publish(struct flz_engine_core *core)
{
	struct flz_engine_meter_buf *b = &core->meter_buf[core->meter_back];
	flz_mixer_take_meters(core->mixer, &b->m);
	b->frame = flz_mixer_frame(core->mixer);
	/* acq_rel: release publishes the buffer just filled to the reader that
	 * takes it with its acquiring exchange; acquire orders this side's
	 * next writes into the index it gets back after the reads the reader
	 * made of that buffer before it released it by its own exchange. */
	uint32_t prev = atomic_exchange_explicit(&core->meter_latest,
						 core->meter_back | FLZ_ENGINE_METER_FRESH,
						 memory_order_acq_rel);
	core->meter_back = prev & 3u;
	/* release: orders the exchange above before the new count, so a
	 * reader that acquires this count and then takes a snapshot gets this
	 * one or a newer one. A lock-free RMW (a stop raises it too). */
	atomic_fetch_add_explicit(core->meter_seq, 1, memory_order_release);
}

FLZ_RT int flz_engine_core_render_rt(struct flz_engine_core *core, float *out, uint32_t n_frames)
{
	uint32_t done = 0;
	while (done < n_frames) {
		uint32_t left = core->meter_interval_frames - (uint32_t)core->meter_acc_frames;
		uint32_t n = n_frames - done < left ? n_frames - done : left;
		int err = flz_mixer_render(core->mixer, out + (size_t)done * core->n_channels, n);
		if (err < 0)
			return err;
		done += n;
		core->meter_acc_frames += n;
		if (core->meter_acc_frames == (int64_t)core->meter_interval_frames) {
			core->meter_acc_frames = 0;
			publish(core);
		}
	}
	return 0;
}
