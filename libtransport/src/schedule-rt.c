/* SPDX-License-Identifier: MIT */
/*
 * The schedule of pending starts: a binary min-heap on (frame, seq) in a
 * fixed array. Insert and take are O(log n); a cancel compacts the array
 * and rebuilds the heap bottom-up, O(n). With n <= 256 a cancel costs
 * a few hundred comparisons (bench/transport-bench.c measures all three).
 */
#include <flz/transport.h>

static bool earlier(const struct flz_schedule_entry *a, const struct flz_schedule_entry *b)
{
	return a->frame < b->frame || (a->frame == b->frame && a->seq < b->seq);
}

static void sift_down(struct flz_schedule *s, uint32_t i)
{
	const uint32_t n = s->n_entries;
	struct flz_schedule_entry moving = s->heap[i];
	for (;;) {
		uint32_t child = 2 * i + 1;
		if (child >= n)
			break;
		if (child + 1 < n && earlier(&s->heap[child + 1], &s->heap[child]))
			child++;
		if (!earlier(&s->heap[child], &moving))
			break;
		s->heap[i] = s->heap[child];
		i = child;
	}
	s->heap[i] = moving;
}

FLZ_RT FLZ_HOT void flz_schedule_init(struct flz_schedule *s)
{
	s->n_entries = 0;
	s->reserved = 0;
}

FLZ_RT FLZ_HOT uint32_t flz_schedule_count(const struct flz_schedule *s)
{
	return s->n_entries;
}

FLZ_RT FLZ_HOT int flz_schedule_insert(struct flz_schedule *s,
				       const struct flz_schedule_entry *entry)
{
	if (entry == NULL || entry->slot < 0 || entry->slot >= FLZ_NUM_SAMPLES ||
	    entry->frame < -FLZ_TRANSPORT_FRAME_MAX || entry->frame > FLZ_TRANSPORT_FRAME_MAX)
		return -EINVAL;
	if (s->n_entries >= FLZ_SCHEDULE_CAPACITY)
		return -EAGAIN;
	uint32_t i = s->n_entries++;
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!earlier(entry, &s->heap[parent]))
			break;
		s->heap[i] = s->heap[parent];
		i = parent;
	}
	s->heap[i] = *entry;
	return 0;
}

FLZ_RT FLZ_HOT bool flz_schedule_take(struct flz_schedule *s, int64_t before_frame,
				      struct flz_schedule_entry *out)
{
	if (s->n_entries == 0 || s->heap[0].frame >= before_frame)
		return false;
	*out = s->heap[0];
	s->n_entries--;
	if (s->n_entries > 0) {
		s->heap[0] = s->heap[s->n_entries];
		sift_down(s, 0);
	}
	return true;
}

FLZ_RT FLZ_HOT bool flz_schedule_earliest(const struct flz_schedule *s, int64_t *out)
{
	if (s->n_entries == 0)
		return false;
	*out = s->heap[0].frame;
	return true;
}

FLZ_RT FLZ_HOT int64_t flz_schedule_cancel_slot(struct flz_schedule *s, int32_t slot)
{
	if (slot < 0 || slot >= FLZ_NUM_SAMPLES)
		return -EINVAL;
	uint32_t kept = 0;
	for (uint32_t i = 0; i < s->n_entries; i++)
		if (s->heap[i].slot != slot)
			s->heap[kept++] = s->heap[i];
	int64_t removed = (int64_t)(s->n_entries - kept);
	s->n_entries = kept;
	if (removed > 0)
		for (uint32_t i = kept / 2; i-- > 0;)
			sift_down(s, i);
	return removed;
}

FLZ_RT FLZ_HOT int64_t flz_schedule_cancel_all(struct flz_schedule *s)
{
	int64_t removed = s->n_entries;
	s->n_entries = 0;
	return removed;
}
