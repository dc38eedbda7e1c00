/* SPDX-License-Identifier: MIT */
/* transport:schedule-order, schedule-full, schedule-cancel. */
#include "transport-tests.h"

static struct flz_schedule_entry entry(int64_t frame, uint64_t seq, int32_t slot)
{
	struct flz_schedule_entry e = { .frame = frame, .seq = seq, .slot = slot,
					.gain = 0.5f + (float)(seq % 7) / 16.0f,
					.token = (uint32_t)(seq * 2654435761u), .flags = (uint32_t)seq & 3u };
	return e;
}

static bool before(const struct flz_schedule_entry *a, const struct flz_schedule_entry *b)
{
	return a->frame < b->frame || (a->frame == b->frame && a->seq < b->seq);
}

/* Take everything (before INT64_MAX) and check (frame, seq) order and that
 * each entry comes back with all its fields. Returns how many came out. */
static uint32_t drain_in_order(struct flz_schedule *s, const struct flz_schedule_entry *inserted,
			       uint32_t n_inserted)
{
	struct flz_schedule_entry prev = { 0 }, e;
	uint32_t n = 0;
	while (flz_schedule_take(s, INT64_MAX, &e)) {
		if (n > 0)
			ck_assert_msg(before(&prev, &e), "out of order: (%lld, %llu) then (%lld, %llu)",
				      (long long)prev.frame, (unsigned long long)prev.seq, (long long)e.frame,
				      (unsigned long long)e.seq);
		bool found = false;
		for (uint32_t i = 0; i < n_inserted && !found; i++)
			found = memcmp(&inserted[i], &e, sizeof(e)) == 0;
		ck_assert_msg(found, "entry (%lld, %llu) was never inserted", (long long)e.frame,
			      (unsigned long long)e.seq);
		prev = e;
		n++;
	}
	ck_assert_uint_eq(flz_schedule_count(s), 0);
	return n;
}

/* Random inserts come out in (frame, seq) order, whole; entries due only
 * before the given frame (frame == before_frame stays); same-frame ties in
 * seq order whatever the insertion order; earliest() is the minimum. */
START_TEST(test_schedule_order)
{
	static struct flz_schedule s;
	flz_schedule_init(&s);
	ck_assert_uint_eq(flz_schedule_count(&s), 0);
	int64_t earliest = 42;
	ck_assert(!flz_schedule_earliest(&s, &earliest));
	ck_assert_int_eq(earliest, 42);
	struct flz_schedule_entry e = entry(0, 0, 0), kept = e;
	ck_assert(!flz_schedule_take(&s, INT64_MAX, &e));
	ck_assert_mem_eq(&e, &kept, sizeof(e));

	uint64_t rng = 0xfeedbeefULL;
	struct flz_schedule_entry in[FLZ_SCHEDULE_CAPACITY];
	for (int round = 0; round < 20; round++) {
		int64_t min_frame = INT64_MAX;
		for (uint32_t i = 0; i < FLZ_SCHEDULE_CAPACITY; i++) {
			/* Few distinct frames, so ties are common. */
			in[i] = entry((int64_t)(test_rand(&rng) % 40) * 1000 - 5000, test_rand(&rng) % 100000,
				      (int32_t)(test_rand(&rng) % FLZ_NUM_SAMPLES));
			ck_assert_int_eq(flz_schedule_insert(&s, &in[i]), 0);
			min_frame = in[i].frame < min_frame ? in[i].frame : min_frame;
			ck_assert(flz_schedule_earliest(&s, &earliest));
			ck_assert_int_eq(earliest, min_frame);
		}
		ck_assert_uint_eq(drain_in_order(&s, in, FLZ_SCHEDULE_CAPACITY), FLZ_SCHEDULE_CAPACITY);
	}

	/* Ties: 50 entries at one frame, inserted in a shuffled seq order. */
	uint64_t seqs[50];
	for (uint64_t i = 0; i < 50; i++)
		seqs[i] = 1000 + i;
	for (int i = 49; i > 0; i--) {
		int j = (int)(test_rand(&rng) % (uint64_t)(i + 1));
		uint64_t tmp = seqs[i];
		seqs[i] = seqs[j];
		seqs[j] = tmp;
	}
	for (int i = 0; i < 50; i++) {
		struct flz_schedule_entry t = entry(777, seqs[i], i);
		ck_assert_int_eq(flz_schedule_insert(&s, &t), 0);
	}
	struct flz_schedule_entry late = entry(776, 5000, 3);
	ck_assert_int_eq(flz_schedule_insert(&s, &late), 0);
	/* Due before 776: nothing (776 itself is not before 776). */
	ck_assert(!flz_schedule_take(&s, 776, &e));
	ck_assert(flz_schedule_take(&s, 777, &e));
	ck_assert_int_eq(e.frame, 776);
	ck_assert_uint_eq(e.seq, 5000);
	ck_assert(!flz_schedule_take(&s, 777, &e));
	for (uint64_t i = 0; i < 50; i++) {
		ck_assert(flz_schedule_take(&s, 778, &e));
		ck_assert_int_eq(e.frame, 777);
		ck_assert_uint_eq(e.seq, 1000 + i);
	}
	ck_assert_uint_eq(flz_schedule_count(&s), 0);
}
END_TEST

/* Full: the 257th insert is -EAGAIN and changes nothing, byte for byte;
 * after one take there is room again. */
START_TEST(test_schedule_full)
{
	static struct flz_schedule s, saved;
	flz_schedule_init(&s);
	for (uint32_t i = 0; i < FLZ_SCHEDULE_CAPACITY; i++) {
		struct flz_schedule_entry e = entry(1000 - (int64_t)i, i, (int32_t)(i % FLZ_NUM_SAMPLES));
		ck_assert_int_eq(flz_schedule_insert(&s, &e), 0);
	}
	ck_assert_uint_eq(flz_schedule_count(&s), FLZ_SCHEDULE_CAPACITY);
	saved = s;
	struct flz_schedule_entry extra = entry(-1, 0, 0);
	ck_assert_int_eq(flz_schedule_insert(&s, &extra), -EAGAIN);
	ck_assert_mem_eq(&s, &saved, sizeof(s));
	/* Bad entries, full or not: -EINVAL. */
	struct flz_schedule_entry bad_slot = entry(0, 0, FLZ_NUM_SAMPLES), neg_slot = entry(0, 0, -1),
				  bad_frame = entry(FLZ_TRANSPORT_FRAME_MAX + 1, 0, 0);
	ck_assert_int_eq(flz_schedule_insert(&s, &bad_slot), -EINVAL);
	ck_assert_int_eq(flz_schedule_insert(&s, NULL), -EINVAL);
	ck_assert_mem_eq(&s, &saved, sizeof(s));

	struct flz_schedule_entry e;
	ck_assert(flz_schedule_take(&s, INT64_MAX, &e));
	ck_assert_int_eq(e.frame, 1000 - (FLZ_SCHEDULE_CAPACITY - 1));
	ck_assert_int_eq(flz_schedule_insert(&s, &extra), 0);
	ck_assert(flz_schedule_take(&s, INT64_MAX, &e));
	ck_assert_int_eq(e.frame, -1);

	static struct flz_schedule empty, empty_saved;
	flz_schedule_init(&empty);
	empty_saved = empty;
	ck_assert_int_eq(flz_schedule_insert(&empty, &bad_slot), -EINVAL);
	ck_assert_int_eq(flz_schedule_insert(&empty, &neg_slot), -EINVAL);
	ck_assert_int_eq(flz_schedule_insert(&empty, &bad_frame), -EINVAL);
	ck_assert_mem_eq(&empty, &empty_saved, sizeof(empty));
}
END_TEST

/* cancel_slot removes exactly that slot's entries and returns how many;
 * the rest still come out in order. cancel_all empties and counts; a bad
 * slot is -EINVAL and changes nothing. */
START_TEST(test_schedule_cancel)
{
	static struct flz_schedule s, saved;
	struct flz_schedule_entry in[FLZ_SCHEDULE_CAPACITY], rest[FLZ_SCHEDULE_CAPACITY];
	uint64_t rng = 0xc0ffee;
	for (int round = 0; round < 20; round++) {
		flz_schedule_init(&s);
		uint32_t per_slot[8] = { 0 };
		for (uint32_t i = 0; i < FLZ_SCHEDULE_CAPACITY; i++) {
			int32_t slot = (int32_t)(test_rand(&rng) % 8);
			in[i] = entry((int64_t)(test_rand(&rng) % 100000), i, slot);
			per_slot[slot]++;
			ck_assert_int_eq(flz_schedule_insert(&s, &in[i]), 0);
		}
		const int32_t victim = round % 8;
		ck_assert_int_eq(flz_schedule_cancel_slot(&s, victim), per_slot[victim]);
		ck_assert_int_eq(flz_schedule_cancel_slot(&s, victim), 0);
		ck_assert_int_eq(flz_schedule_cancel_slot(&s, 100), 0);
		ck_assert_uint_eq(flz_schedule_count(&s), FLZ_SCHEDULE_CAPACITY - per_slot[victim]);
		uint32_t n_rest = 0;
		for (uint32_t i = 0; i < FLZ_SCHEDULE_CAPACITY; i++)
			if (in[i].slot != victim)
				rest[n_rest++] = in[i];
		saved = s;
		ck_assert_int_eq(flz_schedule_cancel_slot(&s, -1), -EINVAL);
		ck_assert_int_eq(flz_schedule_cancel_slot(&s, FLZ_NUM_SAMPLES), -EINVAL);
		ck_assert_mem_eq(&s, &saved, sizeof(s));
		if (round % 2 == 0) {
			ck_assert_uint_eq(drain_in_order(&s, rest, n_rest), n_rest);
		} else {
			ck_assert_int_eq(flz_schedule_cancel_all(&s), n_rest);
			ck_assert_uint_eq(flz_schedule_count(&s), 0);
			ck_assert_int_eq(flz_schedule_cancel_all(&s), 0);
			struct flz_schedule_entry e;
			ck_assert(!flz_schedule_take(&s, INT64_MAX, &e));
		}
	}
}
END_TEST

TCase *transport_case_schedule_order(void) { return transport_tcase("transport:schedule-order", test_schedule_order); }
TCase *transport_case_schedule_full(void) { return transport_tcase("transport:schedule-full", test_schedule_full); }
TCase *transport_case_schedule_cancel(void) { return transport_tcase("transport:schedule-cancel", test_schedule_cancel); }
