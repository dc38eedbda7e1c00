/* SPDX-License-Identifier: MIT */
/* The meters' control side: set up the triple buffer, read the latest. */
#include <math.h>
#include <string.h>

#include "engine-private.h"

void flz_engine_core_meters_init(struct flz_engine_core *core, double meter_hz,
				 _Atomic uint64_t *meter_seq)
{
	core->meter_seq = meter_seq;
	memset(core->meter_buf, 0, sizeof(core->meter_buf));
	double frames = round((double)core->rate_hz / meter_hz);
	core->meter_interval_frames = frames < 1.0 ? 1u : (uint32_t)frames;
	core->meter_acc_frames = 0;
	core->meter_back = 0;
	core->meter_front = 2;
	/* Before the audio side runs: its start orders this store. */
	atomic_init(&core->meter_latest, 1u);
}

/* The front buffer, swapped for the latest one first if it is newer. */
static const struct flz_engine_meter_buf *latest(struct flz_engine_core *core)
{
	/* relaxed: only a hint that a swap is worth making; the exchange
	 * below is what orders the buffer's contents. */
	uint32_t cur = atomic_load_explicit(&core->meter_latest, memory_order_relaxed);
	if (cur & FLZ_ENGINE_METER_FRESH) {
		/* acq_rel: acquire makes the audio side's writes to the buffer
		 * taken visible; release hands the buffer given back only after
		 * this reader's earlier reads of it. */
		uint32_t prev = atomic_exchange_explicit(&core->meter_latest, core->meter_front,
							 memory_order_acq_rel);
		core->meter_front = prev & 3u;
	}
	return &core->meter_buf[core->meter_front];
}

int64_t flz_engine_core_meters_frame(struct flz_engine_core *core)
{
	return latest(core)->frame;
}

void flz_engine_core_read_meters(struct flz_engine_core *core, struct flz_engine_meters *out)
{
	const struct flz_engine_meter_buf *b = latest(core);
	memset(out, 0, sizeof(*out));
	out->frame = b->frame;
	out->n_frames = b->m.n_frames;
	out->n_channels = b->m.n_frames > 0 ? b->m.n_channels : core->n_channels;
	for (uint32_t c = 0; c < FLZ_MAX_CHANNELS && c < out->n_channels; c++) {
		out->master_peak[c] = b->m.master_peak[c];
		if (b->m.master_peak[c] >= 1.0f)
			out->master_clip = true;
	}
	for (uint32_t s = 0; s < FLZ_NUM_SAMPLES; s++) {
		if (!b->m.sounded[s])
			continue;
		struct flz_engine_pad_meter *p = &out->pads[s];
		p->sounded = true;
		p->peak = b->m.pad_peak[s];
		p->position_s = b->m.sample_rate_hz[s] > 0
					? b->m.position_frames[s] / b->m.sample_rate_hz[s]
					: 0.0;
	}
}
