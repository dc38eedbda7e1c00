/* SPDX-License-Identifier: MIT */
/* mixer:memory: the regions the audio thread works in. */
#include "mixer-tests.h"

/*
 * The mixer lists every buffer its render functions touch, each on pages
 * of its own (page-aligned) and written at creation: every page is
 * resident before the first render. The regions are fresh mappings, so a
 * buffer left unwritten would show as not resident whatever the heap did
 * before (checked: without the write in flz_pages_alloc() this fails).
 */
START_TEST(test_memory)
{
	struct rec r = { 0 };
	const uint32_t blocks[] = { 1, 128, 4096, FLZ_MAX_BLOCK_FRAMES };
	for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++) {
		struct flz_mixer_config c = mk_config(&r);
		c.max_block_frames = blocks[b];
		struct flz_mixer *m = new_mixer_cfg(&c);
		struct flz_mem_region regions[FLZ_MIXER_MAX_MEMORY_REGIONS];
		int n = flz_mixer_memory(m, regions, FLZ_MIXER_MAX_MEMORY_REGIONS);
		/* The struct, seven buffers (no more: each is used) and the
		 * interpolator's kernel tables (one allocation). */
		ck_assert_int_eq(n, 9);
		ck_assert_int_eq(flz_mixer_memory(m, NULL, 0), n);
		ck_assert_ptr_eq(regions[0].addr, m);
		size_t total = 0;
		for (int i = 0; i < n; i++) {
			ck_assert_ptr_nonnull(regions[i].addr);
			ck_assert_uint_gt(regions[i].n_bytes, 0);
			ck_assert_msg(flz_test_pages_not_resident(regions[i].addr,
								  regions[i].n_bytes) == 0,
				      "block %u: region %d (%zu bytes) has pages never written",
				      blocks[b], i, regions[i].n_bytes);
			for (int j = 0; j < i; j++) /* no two share a page */
				ck_assert((const char *)regions[i].addr >=
						  (const char *)regions[j].addr + regions[j].n_bytes ||
					  (const char *)regions[j].addr >=
						  (const char *)regions[i].addr + regions[i].n_bytes);
			total += regions[i].n_bytes;
		}
		/* The voice buffers and the tap window grow with the block size. */
		ck_assert_uint_ge(total, (size_t)2 * blocks[b] * CH * sizeof(float));
		flz_mixer_destroy(m);
	}
}
END_TEST

TCase *mixer_case_memory(void)
{
	return mixer_tcase("mixer:memory", test_memory);
}
