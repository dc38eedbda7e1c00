/* SPDX-License-Identifier: MIT */
/*
 * The wav backend's audio thread: the engine's core rendered in real time,
 * paced by CLOCK_MONOTONIC, every frame handed to the writer thread
 * (backend-wav.c) through a frame ring. Everything here runs on the audio
 * thread: no allocation, no locks, no file I/O. The one blocking call is
 * clock_nanosleep() until the next block's absolute deadline: the pacing
 * itself, as poll() on the device is for the ALSA backend (tests/rt and
 * tests/rtcheck allow exactly that call here).
 */
#include <errno.h>
#include <time.h>

#include "denormals.h"
#include "engine-private.h"
#include "record.h"

FLZ_RT FLZ_HOT static struct timespec to_timespec(int64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000LL),
				  .tv_nsec = (long)(ns % 1000000000LL) };
}

/* Nanoseconds that n_frames take at rate_hz, without overflowing int64 for
 * any run length (frames * 1e9 would after about 53 hours at 48 kHz). */
FLZ_RT FLZ_HOT static int64_t frames_ns(uint64_t n_frames, uint32_t rate_hz)
{
	return (int64_t)(n_frames / rate_hz) * 1000000000LL +
	       (int64_t)((n_frames % rate_hz) * 1000000000ULL / rate_hz);
}

FLZ_RT FLZ_HOT static void wav_loop(struct flz_engine_audio *audio)
{
	struct flz_engine_core *core = audio->core;
	uint32_t block = audio->block_frames;
	int64_t period_ns = frames_ns(block, audio->rate_hz);
	/* Deadlines are absolute, from a base and the frames rendered since: no
	 * rounding accumulates, so the pace never drifts from the clock. */
	int64_t base_ns = flz_engine_now_ns_rt();
	uint64_t since_base = 0;
	/* When the thread should be running again (the end of its sleep, or
	 * the end of the last render when there was no sleep), and its CPU
	 * time at the end of the last render: between the two, the time it
	 * was not running though it could have is the system's, not ours. */
	int64_t resume_ns = base_ns;
	int64_t cpu_prev_ns = flz_engine_thread_cpu_ns_rt();

	/* acquire: pairs with the control side's release store of quit. */
	while (!atomic_load_explicit(&audio->quit, memory_order_acquire)) {
		int64_t t0 = flz_engine_now_ns_rt();
		if (flz_engine_core_process_rt(core, audio->scratch, block) < 0)
			return; /* cannot happen: block is the mixer's own limit */
		flz_format_clamp_float_rt(audio->scratch, (size_t)block * audio->n_channels);
		if (audio->test_burn_ns != NULL) {
			/* A test's render that takes too long. relaxed: the value is
			 * all there is to hand over. */
			int64_t burn = atomic_exchange_explicit(audio->test_burn_ns, 0,
								memory_order_relaxed);
			while (burn > 0 && flz_engine_now_ns_rt() - t0 < burn)
				;
		}
		int64_t t1 = flz_engine_now_ns_rt();
		int64_t cpu_ns = flz_engine_thread_cpu_ns_rt();
		int64_t off_cpu_ns = 0;
		if (cpu_ns >= 0 && cpu_prev_ns >= 0)
			off_cpu_ns = (t1 - resume_ns) - (cpu_ns - cpu_prev_ns);
		/* A sleep cut short (t0 before resume_ns) is not time off. */
		off_cpu_ns = off_cpu_ns > 0 ? off_cpu_ns : 0;
		cpu_prev_ns = cpu_ns;
		flz_engine_account_load_rt(audio, t1 - t0, block);
		flz_frame_writer_push_rt(audio->wav, audio->scratch, block);

		since_base += block;
		int64_t deadline = base_ns + frames_ns(since_base, audio->rate_hz);
		if (t1 - deadline > period_ns) {
			/* More than a period late: a device would have underrun.
			 * Count it as one, and restart the clock from now rather than
			 * rendering the missed blocks in a burst; the file simply has
			 * fewer frames than the wall clock. The system caused it when
			 * the block would have been in time without the time the
			 * thread was kept off the CPU (woken late, preempted, the
			 * machine stalled); else the engine's work did. */
			/* relaxed: a statistic; only this thread writes it. */
			atomic_fetch_add_explicit(&core->stat_xruns, 1, memory_order_relaxed);
			/* release: a reader that sees this count (acquire) sees the
			 * xrun counted above, so never more stalled than xruns. */
			if (t1 - off_cpu_ns - deadline <= period_ns)
				atomic_fetch_add_explicit(&core->stat_xruns_stalled, 1,
							  memory_order_release);
			flz_engine_post_simple_rt(core, FLZ_MSG_XRUN, -EPIPE);
			base_ns = t1;
			since_base = 0;
			resume_ns = t1;
			continue;
		}
		resume_ns = deadline > t1 ? deadline : t1;
		struct timespec ts = to_timespec(deadline);
		/* EINTR (no signal reaches this thread but its own faults) only
		 * ends the sleep early: the next turn's deadline is absolute. */
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

/* Hot as its loop: the compiler inlines the loop (called once) here, where
 * the loop's own attribute no longer applies. */
FLZ_RT FLZ_HOT void *flz_engine_wav_main(void *arg)
{
	struct flz_engine_audio *audio = arg;
	/* As on every device (denormals.h). relaxed: read after the start, on its own. */
	atomic_store_explicit(&audio->fp_mode, flz_fp_flush_denormals(audio->flush_denormals),
			      memory_order_relaxed);
	wav_loop(audio);
	return NULL;
}
