/* SPDX-License-Identifier: MIT */
/*
 * The schedule's cost at its capacity: insert into a schedule holding 255
 * starts, take the earliest of 256, cancel one slot's starts among 256;
 * and one next-grid-frame and one position computation. Each is timed
 * over many repetitions on CLOCK_MONOTONIC, one clock pair per operation
 * (its overhead is printed first), and reported as the median of 15 runs.
 *
 * usage: transport-bench [REPEATS]   (default 20000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <flz/transport.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t rng_state = 0x243f6a8885a308d3ULL;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static struct flz_schedule full, work;
static volatile int64_t sink;

static void fill(struct flz_schedule *s, uint32_t n)
{
	flz_schedule_init(s);
	for (uint32_t i = 0; i < n; i++) {
		struct flz_schedule_entry e = { .frame = (int64_t)(rnd() % 1000000), .seq = i,
						.slot = (int32_t)(rnd() % 16), .gain = 1.0f };
		if (flz_schedule_insert(s, &e) != 0)
			abort();
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median over 15 runs of `repeats` operations, ns per operation. */
#define RUNS 15
#define MEASURE(label, setup, op)                                                              \
	do {                                                                                   \
		double per[RUNS];                                                              \
		for (int r = 0; r < RUNS; r++) {                                               \
			double spent = 0.0;                                                    \
			for (long i = 0; i < repeats; i++) {                                   \
				setup;                                                         \
				double t0 = now_ns();                                          \
				op;                                                            \
				spent += now_ns() - t0;                                        \
			}                                                                      \
			per[r] = spent / (double)repeats;                                      \
		}                                                                              \
		qsort(per, RUNS, sizeof(double), cmp_double);                                  \
		printf("%-44s %8.1f ns (min %.1f, max %.1f)\n", label, per[RUNS / 2], per[0],   \
		       per[RUNS - 1]);                                                         \
	} while (0)

int main(int argc, char **argv)
{
	long repeats = argc > 1 ? atol(argv[1]) : 20000;
	if (repeats <= 0) {
		fprintf(stderr, "usage: transport-bench [REPEATS]\n");
		return 2;
	}
	/* The clock read itself, to subtract by eye. */
	MEASURE("clock_gettime pair (overhead)", (void)0, (void)0);

	fill(&full, FLZ_SCHEDULE_CAPACITY - 1);
	struct flz_schedule_entry e = { .slot = 1, .gain = 1.0f };
	MEASURE("insert into 255 (random frame)", (work = full, e.frame = (int64_t)(rnd() % 1000000)),
		sink = flz_schedule_insert(&work, &e));
	MEASURE("insert into 255 (earliest frame: sifts to top)", (work = full, e.frame = -1),
		sink = flz_schedule_insert(&work, &e));

	fill(&full, FLZ_SCHEDULE_CAPACITY);
	struct flz_schedule_entry out;
	MEASURE("take earliest of 256", work = full, sink = flz_schedule_take(&work, INT64_MAX, &out));
	MEASURE("take: none due among 256", work = full, sink = flz_schedule_take(&work, -1, &out));
	MEASURE("cancel one slot of 16 among 256", work = full,
		sink = flz_schedule_cancel_slot(&work, (int32_t)(rnd() % 16)));
	MEASURE("cancel a slot with no entries among 256", work = full,
		sink = flz_schedule_cancel_slot(&work, 200));
	MEASURE("cancel all 256", work = full, sink = flz_schedule_cancel_all(&work));
	MEASURE("take all 256, one by one (total)", work = full,
		for (int k = 0; k < FLZ_SCHEDULE_CAPACITY; k++) sink = flz_schedule_take(&work, INT64_MAX, &out));

	struct flz_transport t;
	if (flz_transport_init(&t, 48000) != 0 || flz_transport_set_bpm(&t, 0, 97.3) != 0)
		abort();
	int64_t g, f = 0;
	MEASURE("next grid frame (1/16, 97.3 BPM)", f = (int64_t)(rnd() % 172800000),
		sink = flz_transport_next_grid_frame(&t, FLZ_QUANTIZE_1_16, f, &g));
	struct flz_transport_position p;
	MEASURE("position", f = (int64_t)(rnd() % 172800000), sink = flz_transport_position(&t, f, &p));
	(void)g;
	return 0;
}
