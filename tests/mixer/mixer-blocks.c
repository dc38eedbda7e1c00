/* SPDX-License-Identifier: MIT */
/* mixer:split, mixer:sizes: block-size invariance and frame counts. */
#include "mixer-tests.h"

/* ---- mixer:split ---- */

enum op { OP_PLAY, OP_STOP, OP_STOP_ALL, OP_SPEED, OP_MASTER, OP_UNLOAD };
struct cmd {
	uint32_t frame;
	enum op op;
	int32_t slot;
	double value;
};

static const struct cmd schedule[] = {
	{ 0, OP_PLAY, 0, 0.7 },       { 0, OP_PLAY, 1, 0.5 },      { 700, OP_PLAY, 2, 0.9 },
	{ 1000, OP_SPEED, 0, 1.37 },  { 1000, OP_MASTER, 0, 0.6 }, { 1500, OP_STOP, 0, 0 },
	{ 2500, OP_PLAY, 0, 0.3 },    { 3000, OP_SPEED, 0, 0.73 }, { 3001, OP_PLAY, 1, 1.0 },
	{ 4500, OP_SPEED, 0, 2.0 },   { 5200, OP_UNLOAD, 2, 0 },   { 6000, OP_SPEED, 0, 1.0 },
	{ 6000, OP_MASTER, 0, 1.0 },  { 7000, OP_STOP_ALL, 0, 0 },
};
#define SPLIT_TOTAL 9000

/* Render the schedule with the given block pattern (cycled), splitting
 * blocks at command frames. */
static void run_schedule(float *out, struct rec *r, const uint32_t *blocks, size_t n_blocks)
{
	struct flz_mixer *m = new_mixer(r);
	load(m, 0, noise_sample(3000, 1, 0.3));
	load(m, 1, noise_sample(1234, 2, 0.3));
	load(m, 2, noise_sample(99, 3, 0.3));
	size_t next = 0, bi = 0;
	uint32_t pos = 0;
	const size_t n_cmds = sizeof(schedule) / sizeof(schedule[0]);
	while (pos < SPLIT_TOTAL) {
		while (next < n_cmds && schedule[next].frame == pos) {
			const struct cmd *c = &schedule[next++];
			switch (c->op) {
			case OP_PLAY:
				play(m, c->slot, (float)c->value);
				break;
			case OP_STOP:
				ck_assert_int_ge(flz_mixer_stop_slot(m, c->slot, (uint32_t)next), 0);
				break;
			case OP_STOP_ALL:
				ck_assert_int_ge(flz_mixer_stop_all(m, (uint32_t)next), 0);
				break;
			case OP_UNLOAD:
				ck_assert_int_ge(flz_mixer_unload(m, c->slot, (uint32_t)next), 0);
				break;
			case OP_SPEED:
				ck_assert_int_eq(flz_mixer_set_speed(m, c->value), 0);
				break;
			case OP_MASTER:
				ck_assert_int_eq(flz_mixer_set_master_gain(m, (float)c->value), 0);
				break;
			}
		}
		uint32_t n = blocks[bi++ % n_blocks];
		uint32_t limit = next < n_cmds ? schedule[next].frame : SPLIT_TOTAL;
		if (pos + n > limit)
			n = limit - pos;
		ck_assert_int_eq(flz_mixer_render(m, out + (size_t)pos * CH, n), 0);
		pos += n;
	}
	flz_mixer_destroy(m);
}

/* render(n) in one call equals render in many smaller calls, bit for bit
 * (memcmp: the sign of a zero counts too),
 * through speed and master glides, stops, unloads and events. */
START_TEST(test_split)
{
	static const uint32_t whole[] = { 4096 };
	static const uint32_t ones[] = { 1 };
	static const uint32_t odd[] = { 7, 64, 1, 333, 2, 4096, 5, 128, 13 };
	uint32_t random_blocks[97];
	uint32_t x = 12345;
	for (int i = 0; i < 97; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		random_blocks[i] = 1 + x % 700;
	}
	const uint32_t *patterns[] = { ones, odd, random_blocks };
	const size_t lens[] = { 1, 9, 97 };
	float *ref = floats(SPLIT_TOTAL), *out = floats(SPLIT_TOTAL);
	struct rec r_ref = { 0 };
	run_schedule(ref, &r_ref, whole, 1);
	ck_assert_int_eq(r_ref.n_events, 3); /* stop, unload, stop all */
	ck_assert_int_eq(r_ref.n_retired, 1); /* the unloaded sample */
	for (int p = 0; p < 3; p++) {
		struct rec r = { 0 };
		memset(out, 0, SPLIT_TOTAL * CH * sizeof(float));
		run_schedule(out, &r, patterns[p], lens[p]);
		for (size_t i = 0; i < SPLIT_TOTAL * CH; i++)
			ck_assert_msg(memcmp(&out[i], &ref[i], sizeof(float)) == 0,
				      "pattern %d differs at frame %zu", p, i / CH);
		ck_assert_int_eq(r.n_events, r_ref.n_events);
		for (int e = 0; e < r.n_events; e++) {
			ck_assert_uint_eq(r.events[e].token, r_ref.events[e].token);
			ck_assert_int_eq(r.events[e].slot, r_ref.events[e].slot);
			ck_assert_int_eq(r.events[e].frame, r_ref.events[e].frame);
		}
	}
	free(ref);
	free(out);
}
END_TEST

/* ---- mixer:sizes ---- */

/* render() with 0, 1, an odd count and the maximum number of frames: the
 * content is the delayed sample exactly at speed 1, and block-invariant at
 * speed 1.37; one frame more than the maximum is refused and writes nothing. */
START_TEST(test_sizes)
{
	static const uint32_t max_blocks[] = { 4096, FLZ_MAX_BLOCK_FRAMES };
	for (int mi = 0; mi < 2; mi++) {
		const uint32_t max = max_blocks[mi];
		const uint32_t sizes[] = { 0, 1, 37, max };
		const uint32_t total = 1 + 37 + max;
		for (int sp = 0; sp < 2; sp++) {
			struct rec r = { 0 }, r2 = { 0 };
			struct flz_mixer_config c = mk_config(&r);
			c.max_block_frames = max;
			c.speed = sp ? 1.37 : 1.0;
			struct flz_mixer *m = new_mixer_cfg(&c);
			c.userdata = &r2;
			struct flz_mixer *twin = new_mixer_cfg(&c);
			const uint32_t lat = flz_mixer_latency_frames(m);
			struct flz_sample *s = pattern_sample(5000);
			flz_sample_ref(s);
			flz_sample_ref(s);
			load(m, 0, s);
			load(twin, 0, s);
			play(m, 0, 1.0f);
			play(twin, 0, 1.0f);
			float *out = floats(total + 1), *ref = floats(total + 1);
			uint32_t done = 0;
			for (int si = 0; si < 4; si++) {
				out[(done + sizes[si]) * CH] = 42.0f; /* guard */
				ck_assert_int_eq(flz_mixer_render(m, out + done * CH, sizes[si]), 0);
				ck_assert_float_eq(out[(done + sizes[si]) * CH], 42.0f);
				done += sizes[si];
				ck_assert_int_eq(flz_mixer_frame(m), done);
			}
			float probe = 42.0f;
			ck_assert_int_eq(flz_mixer_render(m, &probe, max + 1), -EINVAL);
			ck_assert_float_eq(probe, 42.0f);
			ck_assert_int_eq(flz_mixer_frame(m), total);
			render(twin, ref, total, 5);
			for (uint32_t i = 0; i < total * CH; i++) {
				if (sp == 0) {
					uint32_t f = i / CH;
					float expect = f < lat ? 0.0f : s->data[((f - lat) % 5000) * CH + i % CH];
					ck_assert_msg(out[i] == expect, "max %u frame %u", max, f);
				}
				ck_assert_msg(out[i] == ref[i], "max %u speed %d differs at %u", max, sp,
					      i / CH);
			}
			free(out);
			free(ref);
			flz_mixer_destroy(m);
			flz_mixer_destroy(twin);
			flz_sample_unref(s);
		}
	}
}
END_TEST

TCase *mixer_case_split(void)
{
	return mixer_tcase("mixer:split", test_split);
}

TCase *mixer_case_sizes(void)
{
	return mixer_tcase("mixer:sizes", test_sizes);
}
