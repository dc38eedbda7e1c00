/* SPDX-License-Identifier: MIT */
/* test-engine: the SPSC rings and the sequence numbers. */
#include "engine-tests.h"

/* ------------------------------------------------------------------------
 * engine:ring
 * ------------------------------------------------------------------------ */

START_TEST(ring_order_capacity)
{
	uint32_t storage[8];
	struct flz_ring ring;
	ck_assert_int_eq(flz_ring_init(&ring, storage, sizeof(uint32_t), 6), -EINVAL);
	ck_assert_int_eq(flz_ring_init(&ring, storage, sizeof(uint32_t), 8), 0);

	uint32_t v, next_in = 0, next_out = 0;
	/* Many rounds, so that the counters wrap around the storage often, with
	 * fill levels 0, 1, odd and full. */
	const unsigned fills[] = { 0, 1, 5, 8 };
	for (int round = 0; round < 100; round++) {
		unsigned fill = fills[round % 4];
		for (unsigned i = 0; i < fill; i++) {
			ck_assert(flz_ring_push(&ring, &next_in));
			next_in++;
		}
		ck_assert_uint_eq(flz_ring_count(&ring), fill);
		if (fill == 8) {
			v = 12345;
			ck_assert(!flz_ring_push(&ring, &v)); /* full: refused, nothing written */
			ck_assert_uint_eq(flz_ring_count(&ring), 8);
		}
		for (unsigned i = 0; i < fill; i++) {
			ck_assert(flz_ring_pop(&ring, &v));
			ck_assert_uint_eq(v, next_out);
			next_out++;
		}
		ck_assert(!flz_ring_pop(&ring, &v));
	}
	ck_assert_uint_eq(next_in, next_out);
}
END_TEST

struct stress_msg {
	uint64_t seq;
	uint64_t value;
};

#define STRESS_COUNT 400000u

struct stress {
	struct flz_ring ring;
	struct stress_msg storage[64];
	uint64_t producer_sum;
};

static uint64_t stress_value(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static void *stress_producer(void *arg)
{
	struct stress *st = arg;
	uint64_t sum = 0;
	for (uint64_t i = 0; i < STRESS_COUNT; i++) {
		struct stress_msg m = { i, stress_value(i) };
		sum += m.value * (i + 1);
		while (!flz_ring_push(&st->ring, &m))
			sched_yield();
	}
	st->producer_sum = sum;
	return NULL;
}

START_TEST(ring_two_thread_stress)
{
	/* The ring's counters are cache-line aligned: calloc's 16 would not do. */
	const size_t n_bytes = (sizeof(struct stress) + FLZ_CACHE_LINE - 1) / FLZ_CACHE_LINE *
			       FLZ_CACHE_LINE;
	struct stress *st = aligned_alloc(_Alignof(struct stress), n_bytes);
	ck_assert_ptr_nonnull(st);
	memset(st, 0, n_bytes);
	ck_assert_int_eq(flz_ring_init(&st->ring, st->storage, sizeof(struct stress_msg), 64), 0);
	pthread_t producer;
	ck_assert_int_eq(pthread_create(&producer, NULL, stress_producer, st), 0);

	uint64_t sum = 0;
	for (uint64_t i = 0; i < STRESS_COUNT; i++) {
		struct stress_msg m;
		while (!flz_ring_pop(&st->ring, &m))
			sched_yield();
		/* In order, nothing lost or duplicated, the payload intact. */
		ck_assert_uint_eq(m.seq, i);
		ck_assert_uint_eq(m.value, stress_value(i));
		sum += m.value * (i + 1);
	}
	pthread_join(producer, NULL);
	ck_assert_uint_eq(sum, st->producer_sum);
	struct stress_msg extra;
	ck_assert(!flz_ring_pop(&st->ring, &extra));
	free(st);
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:seq
 * ------------------------------------------------------------------------ */

START_TEST(seq_wrap_and_pack)
{
	ck_assert(flz_engine_seq_after(2, 1));
	ck_assert(!flz_engine_seq_after(1, 2));
	ck_assert(!flz_engine_seq_after(7, 7));
	/* Across the wrap: 0 and 5 come after 0xfffffff0. */
	ck_assert(flz_engine_seq_after(0, 0xfffffff0u));
	ck_assert(flz_engine_seq_after(5, 0xffffffffu));
	ck_assert(!flz_engine_seq_after(0xffffffffu, 5));

	uint64_t p = flz_engine_param_pack(0xdeadbeefu, 0.625f);
	ck_assert_uint_eq(flz_engine_param_seq(p), 0xdeadbeefu);
	ck_assert(flz_engine_param_value(p) == 0.625f);
}
END_TEST

TCase *engine_case_ring(void)
{
	TCase *tc = engine_tcase("engine:ring");
	tcase_add_test(tc, ring_order_capacity);
	tcase_add_test(tc, ring_two_thread_stress);
	return tc;
}

TCase *engine_case_seq(void)
{
	TCase *tc = engine_tcase("engine:seq");
	tcase_add_test(tc, seq_wrap_and_pack);
	return tc;
}
