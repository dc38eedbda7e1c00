/* SPDX-License-Identifier: MIT */
/*
 * TEMPORARY stand-ins for the per-pad mixer functions of issue 12, so that
 * the engine branch links before the mixer branch lands them (it replaces
 * this file). A trigger plays as flz_mixer_play() so the existing behaviour
 * stays; everything else is refused with -ENOSYS.
 */
#include <errno.h>
#include <stddef.h>

#include <flz/mixer.h>

FLZ_RT int flz_mixer_trigger(struct flz_mixer *m, const struct flz_mixer_trigger *t)
{
	if (t == NULL)
		return -EINVAL;
	if (t->exclusive)
		(void)flz_mixer_stop_all(m, t->stop_token);
	return flz_mixer_play(m, t->slot, t->gain);
}

FLZ_RT int flz_mixer_pause_slot(struct flz_mixer *m, int32_t slot)
{
	(void)m;
	(void)slot;
	return -ENOSYS;
}

FLZ_RT int flz_mixer_resume_slot(struct flz_mixer *m, int32_t slot)
{
	(void)m;
	(void)slot;
	return -ENOSYS;
}

FLZ_RT int flz_mixer_seek_slot(struct flz_mixer *m, int32_t slot, int64_t frame)
{
	(void)m;
	(void)slot;
	(void)frame;
	return -ENOSYS;
}

FLZ_RT int flz_mixer_set_pad_gain(struct flz_mixer *m, int32_t slot, float gain_lin)
{
	(void)m;
	(void)slot;
	(void)gain_lin;
	return -ENOSYS;
}

FLZ_RT int flz_mixer_set_pad_speed(struct flz_mixer *m, int32_t slot, double speed)
{
	(void)m;
	(void)slot;
	(void)speed;
	return -ENOSYS;
}

FLZ_RT int flz_mixer_set_loop_region(struct flz_mixer *m, int32_t slot, int64_t start, int64_t end)
{
	(void)m;
	(void)slot;
	(void)start;
	(void)end;
	return -ENOSYS;
}
