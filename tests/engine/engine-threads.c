/* SPDX-License-Identifier: MIT */
/* test-engine: the engine threads' signal mask and the audio thread's floating-point mode, on
 * each device with an audio thread (thread_devices()). */
#include "engine-tests.h"

/* The blocked-signal mask (SigBlk) of thread @p tid. */
static unsigned long long thread_sigblk(pid_t tid)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	unsigned long long mask = 0;
	bool seen = false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigBlk: %llx", &mask) == 1) {
			seen = true;
			break;
		}
	fclose(f);
	ck_assert_msg(seen, "no SigBlk in %s", path);
	return mask;
}

static bool sig_in(unsigned long long mask, int sig)
{
	return (mask >> (sig - 1)) & 1;
}

/* Wait until thread @p name (named right after its creation) exists. */
static pid_t wait_thread_named(const char *name)
{
	pid_t tid = -1;
	for (int k = 0; k < 200 && tid < 0; k++) {
		tid = thread_named(name);
		if (tid < 0)
			sleep_ms(5);
	}
	ck_assert_msg(tid > 0, "no thread %s", name);
	return tid;
}

/* Check that thread @p name blocks every signal but its own faults. */
static void check_thread_mask(const char *device, const char *name)
{
	pid_t tid = wait_thread_named(name);
	/* Until the new thread runs its own code, glibc keeps every signal
	 * blocked on it (its internal signals 32 and 33 included); then it
	 * installs the mask the thread inherited. Read that one. */
	unsigned long long mask = thread_sigblk(tid);
	for (int k = 0; k < 400 && sig_in(mask, 32); k++) {
		sleep_ms(5);
		mask = thread_sigblk(tid);
	}
	ck_assert_msg(!sig_in(mask, 32), "%s on %s: never left its start-up mask (SigBlk %llx)",
		      name, device, mask);
	for (int sig = 1; sig <= SIGRTMAX; sig++) {
		bool unblockable = sig == SIGKILL || sig == SIGSTOP || (sig >= 32 && sig < SIGRTMIN);
		/* The thread's own faults stay deliverable, so that a crash
		 * there runs the host's handler. */
		bool fault = sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
			     sig == SIGTRAP || sig == SIGSYS;
		if (unblockable)
			continue;
		ck_assert_msg(sig_in(mask, sig) == !fault, "%s on %s: signal %d %s (SigBlk %llx)",
			      name, device, sig, fault ? "blocked" : "not blocked", mask);
	}
}

/*
 * engine:signals - flz-audio and flz-house (and on wav:PATH flz-wav-writer)
 * block every signal that can be blocked (all but SIGKILL, SIGSTOP and
 * glibc's two internal ones), so the host's handlers never run there,
 * except the faults a thread raises itself (SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL, SIGTRAP, SIGSYS); the thread that started the engine keeps its
 * own mask. On every device with an audio thread.
 */
START_TEST(engine_threads_block_signals)
{
	if (flz_test_under_valgrind()) {
		/* Valgrind keeps each guest thread's signal mask itself; the
		 * kernel's SigBlk of its threads is valgrind's own. */
		return;
	}
	sigset_t mine;
	sigemptyset(&mine);
	pthread_sigmask(SIG_SETMASK, &mine, NULL);
	const char *devices[2];
	int n_devices = thread_devices(devices);
	for (int d = 0; d < n_devices; d++) {
		struct flz_engine *engine = thread_engine(devices[d], FLZ_FORMAT_UNKNOWN, false);
		char why[256];
		int err = flz_engine_start(engine, why, sizeof(why));
		ck_assert_msg(err == 0, "start on %s: %s", devices[d], why);
		check_thread_mask(devices[d], "flz-audio");
		check_thread_mask(devices[d], "flz-house");
		if (strncmp(devices[d], "wav:", 4) == 0)
			check_thread_mask(devices[d], "flz-wav-writer");
		/* The caller's mask is back as it was. */
		unsigned long long caller = thread_sigblk((pid_t)syscall(SYS_gettid));
		ck_assert_msg(!sig_in(caller, SIGINT) && !sig_in(caller, SIGTERM),
			      "the starting thread's mask changed: %llx", caller);
		flz_engine_destroy(engine);
	}
}
END_TEST

/*
 * engine:denormals - the audio thread runs with flush-to-zero and
 * denormals-are-zero (x86-64 MXCSR FTZ|DAZ, aarch64 FPCR FZ) on every
 * device with one; the hook of bench/denormals.c turns it off; the
 * starting thread's mode is untouched.
 */
START_TEST(audio_thread_flushes_denormals)
{
	if (flz_test_under_valgrind()) {
		/* Valgrind emulates SSE arithmetic without MXCSR's FTZ/DAZ (it
		 * warns and computes subnormals): nothing here can be checked. */
		return;
	}
	const uint32_t mine = flz_fp_mode_get();
	const char *devices[2];
	int n_devices = thread_devices(devices);
	for (int d = 0; d < n_devices; d++) {
		for (int on = 1; on >= 0; on--) {
			struct flz_engine *engine = thread_engine(devices[d], FLZ_FORMAT_UNKNOWN, false);
			flz_engine_set_flush_denormals(engine, on);
			char why[256];
			int err = flz_engine_start(engine, why, sizeof(why));
			ck_assert_msg(err == 0, "start on %s: %s", devices[d], why);
			uint32_t mode = 0;
			for (int k = 0; k < 200 && mode == 0; k++) {
				mode = flz_engine_audio_fp_mode(engine);
				if (mode == 0)
					sleep_ms(5);
			}
			ck_assert_msg(mode != 0, "%s: the audio thread set no mode", devices[d]);
			ck_assert_msg((mode & FLZ_FP_FLUSH_BITS) == (on ? FLZ_FP_FLUSH_BITS : 0u),
				      "%s, flush %s: mode %#x", devices[d], on ? "on" : "off", mode);
			flz_engine_destroy(engine);
		}
	}
	/* (Compared on the flush bits: the rest holds sticky exception flags.) */
	ck_assert_uint_eq(mine & FLZ_FP_FLUSH_BITS, 0u);
	ck_assert_uint_eq(flz_fp_mode_get() & FLZ_FP_FLUSH_BITS, 0u);
	/* And what the mode means, on this thread for a moment: 1e-40 is
	 * subnormal; flushed, the product is 0. */
	volatile float tiny = 1e-20f;
	volatile float x = tiny * tiny;
	ck_assert(x != 0.0f);
	flz_fp_flush_denormals(true);
	x = tiny * tiny;
	volatile float y = x + 0.0f;
	flz_fp_mode_set(mine);
	if (FLZ_FP_FLUSH_BITS != 0)
		ck_assert_msg(y == 0.0f, "flushed 1e-40 is %g", (double)y);
}
END_TEST

TCase *engine_case_signals(void)
{
	TCase *tc = engine_tcase("engine:signals");
	tcase_add_test(tc, engine_threads_block_signals);
	return tc;
}

TCase *engine_case_denormals(void)
{
	TCase *tc = engine_tcase("engine:denormals");
	tcase_add_test(tc, audio_thread_flushes_denormals);
	return tc;
}
