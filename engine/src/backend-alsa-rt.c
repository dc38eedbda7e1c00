/* SPDX-License-Identifier: MIT */
/*
 * The ALSA backend's audio thread: the mmap loop around the engine's core
 * (engine-rt.c). Everything here runs on the audio thread (or a test
 * standing in for it): no allocation, no locks, no stdio, no sleeping. The
 * only blocking call is poll(): in wait_device(), on the device's
 * descriptors and the engine's wake descriptor, with a timeout; in
 * wait_suspended(), on the wake descriptor alone, between resume attempts of
 * a suspended device. alsa-lib's messages on this thread reach
 * flz_engine_alsa_error_rt(), which only records them.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>

#include "denormals.h"
#include "engine-private.h"

/* ------------------------------------------------------------------------
 * alsa-lib's messages on the audio thread
 * ------------------------------------------------------------------------ */

/*
 * Which core an audio thread's messages belong to. A thread claims a free
 * entry (thread == 0) with a compare-exchange, writes core, and is the only
 * one to read core afterwards (the handler runs on the thread that alsa-lib
 * calls it from); other threads only look at thread. Static data, not among
 * the prefaulted and locked regions: the thread writes its entry at its
 * start, before its first block, and reads it only when alsa-lib reports an
 * error (a recovery is under way then).
 */
static struct {
	_Atomic uintptr_t thread;
	struct flz_engine_core *core;
} alsa_rt_threads[FLZ_ENGINE_ALSA_RT_THREADS];

static uintptr_t self_id(void)
{
	/* pthread_self() reads the thread pointer: no system call. It is never
	 * 0 for a live thread, which is what marks a free entry. */
	return (uintptr_t)pthread_self();
}

FLZ_RT bool flz_engine_alsa_attach_rt(struct flz_engine_core *core)
{
	uintptr_t me = self_id();
	for (size_t i = 0; i < FLZ_ENGINE_ALSA_RT_THREADS; i++) {
		uintptr_t expected = 0;
		/* acquire: after the previous owner's release in detach, its use of
		 * core is over before we write it. */
		if (atomic_compare_exchange_strong_explicit(&alsa_rt_threads[i].thread, &expected,
							    me, memory_order_acquire,
							    memory_order_relaxed)) {
			alsa_rt_threads[i].core = core;
			return true;
		}
	}
	return false;
}

FLZ_RT void flz_engine_alsa_detach_rt(void)
{
	uintptr_t me = self_id();
	for (size_t i = 0; i < FLZ_ENGINE_ALSA_RT_THREADS; i++) {
		/* relaxed: only this thread can have stored its own id here. */
		if (atomic_load_explicit(&alsa_rt_threads[i].thread, memory_order_relaxed) == me) {
			alsa_rt_threads[i].core = NULL;
			/* release: the entry is free only after our last use of core. */
			atomic_store_explicit(&alsa_rt_threads[i].thread, 0, memory_order_release);
			return;
		}
	}
}

FLZ_RT void flz_engine_alsa_error_rt(const char *file, int line, const char *func, int errcode,
				     const char *fmt, va_list arg)
{
	(void)arg; /* formatting would need vsnprintf: not on this thread */
	uintptr_t me = self_id();
	struct flz_engine_core *core = NULL;
	for (size_t i = 0; i < FLZ_ENGINE_ALSA_RT_THREADS && core == NULL; i++) {
		/* relaxed: our own entry, written by this thread. */
		if (atomic_load_explicit(&alsa_rt_threads[i].thread, memory_order_relaxed) == me)
			core = alsa_rt_threads[i].core;
	}
	if (core == NULL)
		return;
	/* The seqlock: odd while writing. Only this thread writes. */
	uint32_t seq = atomic_load_explicit(&core->alsa_last_seq, memory_order_relaxed);
	atomic_store_explicit(&core->alsa_last_seq, seq + 1, memory_order_relaxed);
	/* release fence: a reader that sees any field below sees the odd number. */
	atomic_thread_fence(memory_order_release);
	/* relaxed: ordered by the fence above and the release store below. */
	atomic_store_explicit(&core->alsa_last_file, file, memory_order_relaxed);
	atomic_store_explicit(&core->alsa_last_func, func, memory_order_relaxed);
	atomic_store_explicit(&core->alsa_last_fmt, fmt, memory_order_relaxed);
	atomic_store_explicit(&core->alsa_last_line, line, memory_order_relaxed);
	atomic_store_explicit(&core->alsa_last_errcode, errcode, memory_order_relaxed);
	/* release: the fields are complete for whoever sees the even number. */
	atomic_store_explicit(&core->alsa_last_seq, seq + 2, memory_order_release);
	/* release: a reader that sees the new count finds this message recorded. */
	atomic_fetch_add_explicit(&core->stat_alsa_messages, 1, memory_order_release);
}

/* ------------------------------------------------------------------------
 * The ALSA loop
 * ------------------------------------------------------------------------ */

static int pcm_resume(struct flz_engine_audio *audio)
{
	return audio->ops ? audio->ops->resume(audio->ops->userdata) : snd_pcm_resume(audio->pcm);
}

static int pcm_prepare(struct flz_engine_audio *audio)
{
	return audio->ops ? audio->ops->prepare(audio->ops->userdata) : snd_pcm_prepare(audio->pcm);
}

/* The stall clock; the load measurement keeps the real clock. */
FLZ_RT FLZ_HOT static int64_t clock_ns(struct flz_engine_audio *audio)
{
	return audio->ops ? audio->ops->now_ns(audio->ops->userdata) : flz_engine_now_ns_rt();
}

/*
 * Between two resume attempts: wait on the wake descriptor alone (the PCM's
 * would say at once what resume just said). Returns 1 when woken, else 0.
 * The same poll() as wait_device()'s, on a subset of its descriptors.
 */
static int wait_suspended(struct flz_engine_audio *audio)
{
	audio->n_suspend_waits++;
	struct pollfd *wake = &audio->pfds[audio->n_pcm_fds];
	int rc = poll(wake, 1, FLZ_ENGINE_RESUME_WAIT_MS);
	return rc > 0 && (wake->revents & POLLIN) ? 1 : 0;
}

/*
 * Recover from an error of the device. Returns 0 when the loop may go on,
 * 1 when woken while waiting for a suspended device, or the error that ends
 * it (the device is lost).
 */
static int recover(struct flz_engine_audio *audio, int err)
{
	struct flz_engine_core *core = audio->core;
	switch (err) {
	case -EINTR:
	case -EAGAIN:
		return 0;
	case -EPIPE:
		/* relaxed: a statistic; only this thread writes it. */
		atomic_fetch_add_explicit(&core->stat_xruns, 1, memory_order_relaxed);
		flz_engine_post_simple_rt(core, FLZ_MSG_XRUN, -EPIPE);
		return pcm_prepare(audio);
	case -ESTRPIPE:
		err = pcm_resume(audio);
		if (err == -EAGAIN) {
			/* Still suspended: not stalled (the stall clock restarts), and
			 * not worth trying again before a bounded wait. */
			audio->last_progress_ns = clock_ns(audio);
			return wait_suspended(audio);
		}
		if (err < 0)
			err = pcm_prepare(audio);
		return err;
	case -ENODEV:
	case -EBADFD:
	case -ENOTTY:
		return err;
	default:
		/* Anything else: one attempt to restart; if it fails, the device is
		 * gone. Repeated failures are caught by the stall check. */
		return pcm_prepare(audio) < 0 ? err : 0;
	}
}

FLZ_RT FLZ_HOT int flz_engine_settle_rt(struct flz_engine_audio *audio, int err)
{
	if (err < 0) {
		err = recover(audio, err);
		if (err != 0)
			return err;
	}
	if (clock_ns(audio) - audio->last_progress_ns > FLZ_ENGINE_STALL_NS)
		return -ENODEV;
	return 0;
}

FLZ_RT FLZ_HOT static bool area_is_plain_float(const struct flz_engine_audio *audio,
					      const snd_pcm_channel_area_t *areas)
{
	if (audio->format != FLZ_FORMAT_FLOAT_LE)
		return false;
	unsigned int step = 32u * audio->n_channels;
	for (uint32_t c = 0; c < audio->n_channels; c++) {
		if (areas[c].addr != areas[0].addr || areas[c].first != 32u * c ||
		    areas[c].step != step)
			return false;
	}
	return true;
}

/* Render and commit one block of up to block_frames. Returns frames committed or an error. */
FLZ_RT FLZ_HOT static snd_pcm_sframes_t write_block(struct flz_engine_audio *audio)
{
	const snd_pcm_channel_area_t *areas;
	snd_pcm_uframes_t offset = 0;
	snd_pcm_uframes_t n_frames = audio->block_frames;
	int err = snd_pcm_mmap_begin(audio->pcm, &areas, &offset, &n_frames);
	if (err < 0)
		return err;
	if (n_frames == 0)
		return 0;

	int64_t t0 = flz_engine_now_ns_rt();
	/* Interleaved access: channel 0's area describes the whole frame. */
	unsigned char *base = (unsigned char *)areas[0].addr + areas[0].first / 8 +
			      offset * (areas[0].step / 8);
	if (area_is_plain_float(audio, areas)) {
		err = flz_engine_core_process_rt(audio->core, (float *)(void *)base,
						 (uint32_t)n_frames);
		/* What convert_float_le() would do: full scale at most, no NaN. */
		if (err == 0)
			flz_format_clamp_float_rt((float *)(void *)base,
						  n_frames * audio->n_channels);
	} else {
		err = flz_engine_core_process_rt(audio->core, audio->scratch, (uint32_t)n_frames);
		if (err == 0)
			audio->convert(base, audio->scratch, n_frames * audio->n_channels);
	}
	if (err < 0) {
		/* Cannot happen (n_frames <= block_frames): give the area back unused. */
		snd_pcm_mmap_commit(audio->pcm, offset, 0);
		return -EINVAL;
	}
	int64_t t1 = flz_engine_now_ns_rt();

	snd_pcm_sframes_t committed = snd_pcm_mmap_commit(audio->pcm, offset, n_frames);
	if (committed < 0)
		return committed;
	if ((snd_pcm_uframes_t)committed != n_frames)
		return -EPIPE;

	flz_engine_account_load_rt(audio, t1 - t0, (uint32_t)n_frames);
	return committed;
}

/* The error a PCM that flagged POLLERR is in, as snd_pcm_wait() reports it. */
static int pcm_poll_error(snd_pcm_t *pcm)
{
	switch (snd_pcm_state(pcm)) {
	case SND_PCM_STATE_XRUN:
		return -EPIPE;
	case SND_PCM_STATE_SUSPENDED:
		return -ESTRPIPE;
	case SND_PCM_STATE_DISCONNECTED:
		return -ENODEV;
	default:
		return -EIO;
	}
}

/*
 * Wait until the device has room for a period, the wait times out, or the
 * control side writes the wake descriptor. snd_pcm_wait() does the first two
 * but cannot be interrupted, so the wait is spelled out here with the wake
 * descriptor beside the PCM's: flz_engine_stop() then does not wait for a
 * device that has stopped signalling. This poll() and the bounded one of
 * wait_suspended() are the audio thread's only deliberate blocking calls
 * (tests/rt and tests/rtcheck allow poll() and nothing else that blocks).
 * Returns 1 when woken, 0 when the device is ready or the wait timed out, or
 * a negative error of the device.
 */
FLZ_RT FLZ_HOT static int wait_device(struct flz_engine_audio *audio)
{
	int rc = poll(audio->pfds, audio->n_pcm_fds + 1, FLZ_ENGINE_WAIT_TIMEOUT_MS);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	if (rc == 0)
		return 0;
	if (audio->pfds[audio->n_pcm_fds].revents & POLLIN)
		return 1;
	/* A plugin's descriptors may be readable for a writable PCM (the
	 * jack PCM's socket): only alsa-lib can say what they mean. */
	unsigned short revents = 0;
	int err = snd_pcm_poll_descriptors_revents(audio->pcm, audio->pfds, audio->n_pcm_fds,
						   &revents);
	if (err < 0)
		return err;
	if (revents & (POLLERR | POLLNVAL))
		return pcm_poll_error(audio->pcm);
	return 0;
}

FLZ_RT FLZ_HOT static int audio_loop(struct flz_engine_audio *audio)
{
	snd_pcm_t *pcm = audio->pcm;
	audio->last_progress_ns = clock_ns(audio);

	/* acquire: pairs with the control side's release store of quit. */
	while (!atomic_load_explicit(&audio->quit, memory_order_acquire)) {
		int err = 0;
		snd_pcm_sframes_t avail = snd_pcm_avail_update(pcm);
		if (avail < 0) {
			err = (int)avail;
		} else if ((snd_pcm_uframes_t)avail > audio->buffer_frames) {
			/* More free than the whole buffer: the device has played
			 * past what was written, an underrun it did not report
			 * (alsa-lib reports most as -EPIPE, but an I/O plugin's
			 * pointer, such as the jack PCM's, may run on past the
			 * application's without an error). Count and recover it
			 * like -EPIPE: prepare, refill, start. */
			err = -EPIPE;
		} else if ((snd_pcm_uframes_t)avail >= audio->block_frames) {
			snd_pcm_sframes_t n = write_block(audio);
			if (n > 0) {
				audio->last_progress_ns = clock_ns(audio);
				continue;
			}
			err = (int)n;
		} else if (snd_pcm_state(pcm) == SND_PCM_STATE_PREPARED) {
			/* The buffer is as full as whole blocks make it, but below the
			 * start threshold: start explicitly. */
			err = snd_pcm_start(pcm);
		} else {
			int w = wait_device(audio);
			if (w == 1) {
				/* Written only after quit was set: the loop's test ends it. */
				audio->stopped_by_wake = true;
				continue;
			}
			if (w < 0)
				err = w;
		}
		err = flz_engine_settle_rt(audio, err);
		if (err == 1) {
			/* Woken while the device was suspended: as in the wait above. */
			audio->stopped_by_wake = true;
			continue;
		}
		if (err < 0)
			return err;
	}
	return 0;
}

/* Hot as its loop: the compiler inlines the loop (called once) here, where
 * the loop's own attribute no longer applies. */
FLZ_RT FLZ_HOT void *flz_engine_audio_main(void *arg)
{
	struct flz_engine_audio *audio = arg;

	/* Subnormal tails (fades, gains near 0) must not slow the render down
	 * (see denormals.h). relaxed: read after the start, on its own. */
	atomic_store_explicit(&audio->fp_mode, flz_fp_flush_denormals(audio->flush_denormals),
			      memory_order_relaxed);

	/* The stack needs no touching here: the control side wrote (and
	 * locked) all of it before the thread started (FLZ_ENGINE_AUDIO_STACK_BYTES). */

	/* alsa-lib's messages on this thread are recorded, not printed (see
	 * engine-private.h). Setting the local handler is a store into
	 * libasound's thread-local storage, done here once, before the loop:
	 * its first access on a thread may allocate that storage. */
	bool attached = flz_engine_alsa_attach_rt(audio->core);
	snd_local_error_handler_t prev_handler = snd_lib_error_set_local(flz_engine_alsa_error_rt);

	int err = audio_loop(audio);
	if (err < 0)
		flz_engine_device_lost_rt(audio->core, err);
	snd_lib_error_set_local(prev_handler);
	if (attached)
		flz_engine_alsa_detach_rt();
	return NULL;
}
