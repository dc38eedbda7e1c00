/* SPDX-License-Identifier: MIT */
/*
 * Run-time real-time check: an LD_PRELOAD library that counts the calls
 * watched threads make to functions the audio thread must never call
 * (allocation, locking, file and console I/O, sleeping, yielding, polling).
 *
 *   LD_PRELOAD=libflz-rt-interpose.so FLZ_RTCHECK_OUT=report.json \
 *   FLZ_RTCHECK_THREADS=flz-audio,flz-house  python3 workload.py
 *
 * Watched threads are picked by name (prctl(PR_GET_NAME)), comma-separated
 * in FLZ_RTCHECK_THREADS (default "flz-audio"). A thread's name is read once
 * and cached in thread-local storage; renaming any thread through
 * pthread_setname_np() or prctl(PR_SET_NAME) (both interposed) bumps a
 * generation counter so that every thread reads its name again on its next
 * call. Calls a thread makes before it is named are not seen.
 *
 * Each counted call is attributed to the object (executable or shared
 * library) of its first caller outside the C library and this interposer:
 * the C library's own functions (fopen calling malloc) are looked through,
 * so a call is charged to the code that asked for it. A report at exit
 * (JSON, to FLZ_RTCHECK_OUT or stderr) lists, per watched thread, function
 * and object, the number of calls, and for the first call of each the stack
 * resolved with dladdr(). Whether an object is project code is the reader's
 * decision (tests/rtcheck/test_rt_calls.py: the extension module).
 *
 * The bookkeeping itself (backtrace(), dladdr()) may take the dynamic
 * loader's internal lock; that lock is not one of the counted functions.
 */
#undef _FORTIFY_SOURCE
/* The plain names are what is interposed; the 64-bit-offset names are
 * wrapped separately below. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* ---- the table of interposed functions ---------------------------------- */

#define FLZ_RTCHECK_FUNCS(X)                                                     \
	X(malloc) X(calloc) X(realloc) X(free) X(aligned_alloc) X(posix_memalign) \
	X(memalign) X(valloc) X(mmap) X(munmap)                                   \
	X(pthread_mutex_lock) X(pthread_mutex_trylock) X(pthread_mutex_timedlock) \
	X(pthread_mutex_unlock) X(pthread_cond_wait) X(pthread_cond_timedwait)    \
	X(pthread_cond_signal) X(pthread_cond_broadcast)                          \
	X(pthread_rwlock_rdlock) X(pthread_rwlock_wrlock)                         \
	X(pthread_rwlock_tryrdlock) X(pthread_rwlock_trywrlock)                   \
	X(pthread_rwlock_unlock) X(pthread_spin_lock) X(pthread_join)             \
	X(sem_wait) X(sem_timedwait) X(sem_trywait) X(sem_post)                   \
	X(open) X(open64) X(openat) X(close) X(read) X(write) X(pread) X(pwrite)  \
	X(readv) X(writev) X(ioctl)                                               \
	X(fopen) X(fclose) X(fread) X(fwrite) X(fflush) X(printf) X(fprintf)      \
	X(vprintf) X(vfprintf) X(puts) X(fputs) X(fputc) X(putchar) X(syslog)     \
	X(nanosleep) X(clock_nanosleep) X(usleep) X(sleep) X(sched_yield)         \
	X(poll) X(ppoll) X(select) X(pselect)                                     \
	X(fopen64) X(mmap64) X(__read_chk) X(__printf_chk) X(__fprintf_chk)       \
	X(__vfprintf_chk) X(__open_2) X(__open64_2) X(__poll_chk)

enum flz_func {
#define X(name) F_##name,
	FLZ_RTCHECK_FUNCS(X)
#undef X
	F_COUNT
};

static const char *const func_names[F_COUNT] = {
#define X(name) #name,
	FLZ_RTCHECK_FUNCS(X)
#undef X
};

/* ---- the real functions ------------------------------------------------- */

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static void *(*real_aligned_alloc)(size_t, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_munmap)(void *, size_t);
static int (*real_pthread_mutex_lock)(pthread_mutex_t *);
static int (*real_pthread_mutex_trylock)(pthread_mutex_t *);
static int (*real_pthread_mutex_timedlock)(pthread_mutex_t *, const struct timespec *);
static int (*real_pthread_mutex_unlock)(pthread_mutex_t *);
static int (*real_pthread_cond_wait)(pthread_cond_t *, pthread_mutex_t *);
static int (*real_pthread_cond_timedwait)(pthread_cond_t *, pthread_mutex_t *,
					  const struct timespec *);
static int (*real_pthread_cond_signal)(pthread_cond_t *);
static int (*real_pthread_cond_broadcast)(pthread_cond_t *);
static int (*real_pthread_rwlock_rdlock)(pthread_rwlock_t *);
static int (*real_pthread_rwlock_wrlock)(pthread_rwlock_t *);
static int (*real_pthread_rwlock_tryrdlock)(pthread_rwlock_t *);
static int (*real_pthread_rwlock_trywrlock)(pthread_rwlock_t *);
static int (*real_pthread_rwlock_unlock)(pthread_rwlock_t *);
static int (*real_pthread_spin_lock)(pthread_spinlock_t *);
static int (*real_pthread_join)(pthread_t, void **);
static int (*real_sem_wait)(sem_t *);
static int (*real_sem_timedwait)(sem_t *, const struct timespec *);
static int (*real_sem_trywait)(sem_t *);
static int (*real_sem_post)(sem_t *);
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pread)(int, void *, size_t, off_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_readv)(int, const struct iovec *, int);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static int (*real_ioctl)(int, unsigned long, ...);
static FILE *(*real_fopen)(const char *, const char *);
static int (*real_fclose)(FILE *);
static size_t (*real_fread)(void *, size_t, size_t, FILE *);
static size_t (*real_fwrite)(const void *, size_t, size_t, FILE *);
static int (*real_fflush)(FILE *);
static int (*real_vprintf)(const char *, va_list);
static int (*real_vfprintf)(FILE *, const char *, va_list);
static int (*real_puts)(const char *);
static int (*real_fputs)(const char *, FILE *);
static int (*real_fputc)(int, FILE *);
static int (*real_putchar)(int);
static void (*real_vsyslog)(int, const char *, va_list);
static int (*real_nanosleep)(const struct timespec *, struct timespec *);
static int (*real_clock_nanosleep)(clockid_t, int, const struct timespec *, struct timespec *);
static int (*real_usleep)(useconds_t);
static unsigned (*real_sleep)(unsigned);
static int (*real_sched_yield)(void);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static int (*real_ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
static int (*real_select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
static int (*real_pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
			   const sigset_t *);
static int (*real_pthread_setname_np)(pthread_t, const char *);
static FILE *(*real_fopen64)(const char *, const char *);
static void *(*real_mmap64)(void *, size_t, int, int, int, off64_t);
static ssize_t (*real___read_chk)(int, void *, size_t, size_t);
static int (*real___vfprintf_chk)(FILE *, int, const char *, va_list);
static int (*real___open_2)(const char *, int);
static int (*real___open64_2)(const char *, int);
static int (*real___poll_chk)(struct pollfd *, nfds_t, int, size_t);

/* dlsym() may allocate (calloc) before the allocator is resolved: such
 * requests are served from this buffer and never freed. */
static _Alignas(64) unsigned char bootstrap[64 * 1024];
static size_t bootstrap_used;
static int resolving;

static void *bootstrap_alloc(size_t n_bytes)
{
	size_t start = (bootstrap_used + 63) & ~(size_t)63;
	if (start + n_bytes > sizeof(bootstrap))
		return NULL;
	bootstrap_used = start + n_bytes;
	return bootstrap + start;
}

static bool is_bootstrap(const void *p)
{
	return (const unsigned char *)p >= bootstrap &&
	       (const unsigned char *)p < bootstrap + sizeof(bootstrap);
}

#define RESOLVE(name) (*(void **)&real_##name = dlsym(RTLD_NEXT, #name))

static void resolve_all(void)
{
	if (real_malloc != NULL && real_vsyslog != NULL)
		return;
	resolving = 1;
	RESOLVE(malloc);
	RESOLVE(calloc);
	RESOLVE(realloc);
	RESOLVE(free);
	RESOLVE(aligned_alloc);
	RESOLVE(posix_memalign);
	RESOLVE(memalign);
	RESOLVE(valloc);
	RESOLVE(mmap);
	RESOLVE(munmap);
	RESOLVE(pthread_mutex_lock);
	RESOLVE(pthread_mutex_trylock);
	RESOLVE(pthread_mutex_timedlock);
	RESOLVE(pthread_mutex_unlock);
	RESOLVE(pthread_cond_wait);
	RESOLVE(pthread_cond_timedwait);
	RESOLVE(pthread_cond_signal);
	RESOLVE(pthread_cond_broadcast);
	RESOLVE(pthread_rwlock_rdlock);
	RESOLVE(pthread_rwlock_wrlock);
	RESOLVE(pthread_rwlock_tryrdlock);
	RESOLVE(pthread_rwlock_trywrlock);
	RESOLVE(pthread_rwlock_unlock);
	RESOLVE(pthread_spin_lock);
	RESOLVE(pthread_join);
	RESOLVE(sem_wait);
	RESOLVE(sem_timedwait);
	RESOLVE(sem_trywait);
	RESOLVE(sem_post);
	RESOLVE(open);
	RESOLVE(open64);
	RESOLVE(openat);
	RESOLVE(close);
	RESOLVE(read);
	RESOLVE(write);
	RESOLVE(pread);
	RESOLVE(pwrite);
	RESOLVE(readv);
	RESOLVE(writev);
	RESOLVE(ioctl);
	RESOLVE(fopen);
	RESOLVE(fclose);
	RESOLVE(fread);
	RESOLVE(fwrite);
	RESOLVE(fflush);
	RESOLVE(vprintf);
	RESOLVE(vfprintf);
	RESOLVE(puts);
	RESOLVE(fputs);
	RESOLVE(fputc);
	RESOLVE(putchar);
	RESOLVE(vsyslog);
	RESOLVE(nanosleep);
	RESOLVE(clock_nanosleep);
	RESOLVE(usleep);
	RESOLVE(sleep);
	RESOLVE(sched_yield);
	RESOLVE(poll);
	RESOLVE(ppoll);
	RESOLVE(select);
	RESOLVE(pselect);
	RESOLVE(pthread_setname_np);
	RESOLVE(fopen64);
	RESOLVE(mmap64);
	RESOLVE(__read_chk);
	RESOLVE(__vfprintf_chk);
	RESOLVE(__open_2);
	RESOLVE(__open64_2);
	RESOLVE(__poll_chk);
	resolving = 0;
}

/* ---- which threads are watched ------------------------------------------ */

#define MAX_WATCH 8
#define MAX_OBJECTS 64
#define MAX_FRAMES 24

static char watch_names[MAX_WATCH][16];
static int n_watch;
static const char *project_marker;

/* Bumped on every rename; relaxed is enough: a thread that reads a stale
 * value re-reads its name one call later, and the name itself comes from
 * the kernel. */
static atomic_uint name_generation = 1;

static __thread int t_in_hook;
static __thread unsigned t_generation;
static __thread int t_watch = -1;

/* Objects calls were attributed to, registered once each (CAS on a free
 * entry); dli_fname strings stay valid while the object is loaded, and the
 * libraries an audio thread calls are never unloaded during a run. */
static _Atomic(const char *) objects[MAX_OBJECTS];

/* counts[thread][function][object]; index 0 is "unknown object". */
static atomic_ulong counts[MAX_WATCH][F_COUNT][MAX_OBJECTS];
static atomic_uint threads_seen[MAX_WATCH];

/* The first stack seen per (thread, function, object). */
struct first_stack {
	atomic_int state; /* 0 free, 1 being written, 2 ready */
	int n_frames;
	void *frames[MAX_FRAMES];
};
static struct first_stack first_stacks[MAX_WATCH][F_COUNT][MAX_OBJECTS];

/* A small per-thread cache: return address -> object index (or -1 for
 * "look deeper", i.e. the C library). */
#define CACHE_SLOTS 64
static __thread void *t_cache_addr[CACHE_SLOTS];
static __thread int t_cache_obj[CACHE_SLOTS];

static void thread_name(char name[16])
{
	/* The raw system call: prctl() itself is interposed below. */
	memset(name, 0, 16);
	syscall(SYS_prctl, PR_GET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}

static int watched_index(void)
{
	unsigned gen = atomic_load_explicit(&name_generation, memory_order_relaxed);
	if (t_generation != gen) {
		char name[16];
		thread_name(name);
		int w = -1;
		for (int i = 0; i < n_watch; i++)
			if (strncmp(name, watch_names[i], 15) == 0)
				w = i;
		/* relaxed: a counter read once at exit, after the threads are joined. */
		if (w >= 0 && w != t_watch)
			atomic_fetch_add_explicit(&threads_seen[w], 1, memory_order_relaxed);
		t_watch = w;
		t_generation = gen;
	}
	return t_watch;
}

static bool is_transparent(const char *path)
{
	/* The C library and the loader (their functions call the interposed
	 * ones on behalf of their caller) and this library itself. */
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return strncmp(base, "libc.so", 7) == 0 || strncmp(base, "libc-", 5) == 0 ||
	       strncmp(base, "libpthread", 10) == 0 || strncmp(base, "ld-linux", 8) == 0 ||
	       strncmp(base, "libdl.so", 8) == 0 || strncmp(base, "librt.so", 8) == 0 ||
	       strstr(base, "flz-rt-interpose") != NULL;
}

static int register_object(const char *fname);

/* -1: transparent object (unless take_transparent); 0: unknown; else the
 * object's index. */
static int object_of(void *addr, bool take_transparent)
{
	Dl_info info;
	/* addr - 1: a return address may point just past the call's object. */
	if (dladdr((char *)addr - 1, &info) == 0 || info.dli_fname == NULL)
		return 0;
	if (!take_transparent && is_transparent(info.dli_fname))
		return -1;
	return register_object(info.dli_fname);
}

static int register_object(const char *fname)
{
	for (int i = 1; i < MAX_OBJECTS; i++) {
		const char *cur = atomic_load_explicit(&objects[i], memory_order_acquire);
		if (cur == NULL) {
			const char *expected = NULL;
			/* acq_rel: a reader that sees the pointer sees the string. */
			if (atomic_compare_exchange_strong_explicit(&objects[i], &expected,
								    fname,
								    memory_order_acq_rel,
								    memory_order_acquire))
				return i;
			cur = expected;
		}
		if (cur == fname || strcmp(cur, fname) == 0)
			return i;
	}
	return 0;
}

static int cached_object_of(void *addr)
{
	unsigned slot = (unsigned)(((uintptr_t)addr >> 4) % CACHE_SLOTS);
	if (t_cache_addr[slot] == addr)
		return t_cache_obj[slot];
	int obj = object_of(addr, false);
	t_cache_addr[slot] = addr;
	t_cache_obj[slot] = obj;
	return obj;
}

static void record(enum flz_func f, void *caller)
{
	int w = watched_index();
	if (w < 0)
		return;
	t_in_hook = 1;
	int obj = cached_object_of(caller);
	void *frames[MAX_FRAMES];
	int n_frames = -1;
	if (obj < 0) {
		/* Called from inside the C library: charge the first caller
		 * outside it. */
		n_frames = backtrace(frames, MAX_FRAMES);
		obj = 0;
		for (int i = 1; i < n_frames; i++) {
			int o = cached_object_of(frames[i]);
			if (o >= 0) {
				obj = o;
				break;
			}
		}
		/* Nothing outside: the C library acting on its own behalf (thread
		 * start and exit); charge its outermost frame's object. */
		if (obj == 0 && n_frames > 1)
			obj = object_of(frames[n_frames - 1], true);
	}
	/* relaxed: counters only; the report reads them at exit. */
	atomic_fetch_add_explicit(&counts[w][f][obj], 1, memory_order_relaxed);
	struct first_stack *fs = &first_stacks[w][f][obj];
	int expected = 0;
	/* acq_rel on claim, release on publish: the report reads frames only
	 * after it sees state 2 with acquire. */
	if (atomic_load_explicit(&fs->state, memory_order_relaxed) == 0 &&
	    atomic_compare_exchange_strong_explicit(&fs->state, &expected, 1,
						    memory_order_acq_rel,
						    memory_order_relaxed)) {
		if (n_frames < 0)
			n_frames = backtrace(frames, MAX_FRAMES);
		memcpy(fs->frames, frames, sizeof(void *) * (size_t)n_frames);
		fs->n_frames = n_frames;
		atomic_store_explicit(&fs->state, 2, memory_order_release);
	}
	t_in_hook = 0;
}

#define COUNT(name)                                                                 \
	do {                                                                        \
		if (!t_in_hook)                                                     \
			record(F_##name, __builtin_return_address(0));              \
	} while (0)

/* ---- the report ----------------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void write_stack(FILE *f, struct first_stack *fs)
{
	fputs("[", f);
	if (atomic_load_explicit(&fs->state, memory_order_acquire) == 2) {
		for (int i = 1; i < fs->n_frames; i++) {
			Dl_info info;
			char text[512];
			if (dladdr((char *)fs->frames[i] - 1, &info) != 0 && info.dli_fname) {
				const char *base = strrchr(info.dli_fname, '/');
				base = base ? base + 1 : info.dli_fname;
				if (info.dli_sname)
					snprintf(text, sizeof text, "%s(%s+0x%lx)", base,
						 info.dli_sname,
						 (unsigned long)((char *)fs->frames[i] -
								 (char *)info.dli_saddr));
				else
					snprintf(text, sizeof text, "%s(+0x%lx)", base,
						 (unsigned long)((char *)fs->frames[i] -
								 (char *)info.dli_fbase));
			} else {
				snprintf(text, sizeof text, "%p", fs->frames[i]);
			}
			fputs(i > 1 ? ", " : "", f);
			json_string(f, text);
		}
	}
	fputs("]", f);
}

/**
 * Write the report (JSON) to FLZ_RTCHECK_OUT, else to stderr. Called at exit;
 * exported so that a program can take a report at a moment of its choice.
 * @return 0, or -errno when the file cannot be written
 * Thread: any (not a watched one: it allocates and does file I/O).
 */
EXPORT int flz_rtcheck_report(void);

EXPORT int flz_rtcheck_report(void)
{
	t_in_hook = 1;
	const char *path = getenv("FLZ_RTCHECK_OUT");
	FILE *f = path && *path ? fopen(path, "w") : stderr;
	if (f == NULL) {
		t_in_hook = 0;
		return -errno;
	}
	fputs("{\n  \"project_marker\": ", f);
	json_string(f, project_marker);
	fputs(",\n  \"threads\": {", f);
	for (int w = 0; w < n_watch; w++) {
		fputs(w ? ",\n    " : "\n    ", f);
		json_string(f, watch_names[w]);
		/* relaxed (here and for counts): plain counters, nothing published with them. */
		fprintf(f, ": {\n      \"threads_seen\": %u,\n      \"calls\": [",
			atomic_load_explicit(&threads_seen[w], memory_order_relaxed));
		bool first = true;
		for (int fn = 0; fn < F_COUNT; fn++) {
			for (int o = 0; o < MAX_OBJECTS; o++) {
				unsigned long n =
					atomic_load_explicit(&counts[w][fn][o], memory_order_relaxed);
				if (n == 0)
					continue;
				const char *obj = o ? atomic_load_explicit(&objects[o],
									   memory_order_acquire)
						    : "?";
				fputs(first ? "\n        " : ",\n        ", f);
				first = false;
				fputs("{\"function\": ", f);
				json_string(f, func_names[fn]);
				fputs(", \"object\": ", f);
				json_string(f, obj ? obj : "?");
				fprintf(f, ", \"project\": %s, \"count\": %lu, \"first_stack\": ",
					obj && project_marker[0] && strstr(obj, project_marker)
						? "true"
						: "false",
					n);
				write_stack(f, &first_stacks[w][fn][o]);
				fputs("}", f);
			}
		}
		fputs(first ? "]\n    }" : "\n      ]\n    }", f);
	}
	fputs("\n  }\n}\n", f);
	int ret = 0;
	if (f != stderr && fclose(f) != 0)
		ret = -errno;
	t_in_hook = 0;
	return ret;
}

/**
 * Calls counted so far on the watched thread named thread (of all objects),
 * of the function named function, or of every function when it is NULL:
 * for a test that checks its own audio-thread calls in process
 * (tests/stretch, stretch:rtcheck) and finds this through dlsym().
 * @return the count, or -1 when thread is not watched or function unknown
 * Thread: any.
 */
EXPORT long flz_rtcheck_count(const char *thread, const char *function);

EXPORT long flz_rtcheck_count(const char *thread, const char *function)
{
	int w = -1;
	for (int i = 0; i < n_watch; i++)
		if (thread != NULL && strcmp(watch_names[i], thread) == 0)
			w = i;
	if (w < 0)
		return -1;
	long total = 0;
	bool known = function == NULL;
	for (int fn = 0; fn < F_COUNT; fn++) {
		if (function != NULL && strcmp(func_names[fn], function) != 0)
			continue;
		known = true;
		for (int o = 0; o < MAX_OBJECTS; o++)
			/* relaxed: plain counters, nothing published with them. */
			total += (long)atomic_load_explicit(&counts[w][fn][o],
							    memory_order_relaxed);
	}
	return known ? total : -1;
}

__attribute__((constructor)) static void rtcheck_init(void)
{
	t_in_hook = 1;
	resolve_all();
	const char *list = getenv("FLZ_RTCHECK_THREADS");
	if (list == NULL || *list == '\0')
		list = "flz-audio";
	while (*list && n_watch < MAX_WATCH) {
		size_t n = strcspn(list, ",");
		size_t k = n < 15 ? n : 15;
		memcpy(watch_names[n_watch], list, k);
		watch_names[n_watch][k] = '\0';
		if (k > 0)
			n_watch++;
		list += n;
		if (*list == ',')
			list++;
	}
	project_marker = getenv("FLZ_RTCHECK_PROJECT");
	if (project_marker == NULL)
		project_marker = "flitzis_looper_rs";
	/* The first backtrace() loads the unwinder (dlopen, malloc): do it now,
	 * not inside a watched thread. */
	void *frames[4];
	(void)backtrace(frames, 4);
	t_in_hook = 0;
}

__attribute__((destructor)) static void rtcheck_fini(void)
{
	(void)flz_rtcheck_report();
}

/* ---- the wrappers ----------------------------------------------------------- */

EXPORT void *malloc(size_t n)
{
	if (real_malloc == NULL) {
		if (resolving)
			return bootstrap_alloc(n);
		resolve_all();
	}
	COUNT(malloc);
	return real_malloc(n);
}

EXPORT void *calloc(size_t n, size_t size)
{
	if (real_calloc == NULL) {
		if (resolving)
			return bootstrap_alloc(n * size); /* static storage is zeroed */
		resolve_all();
	}
	COUNT(calloc);
	return real_calloc(n, size);
}

EXPORT void *realloc(void *p, size_t n)
{
	if (real_realloc == NULL)
		resolve_all();
	COUNT(realloc);
	if (is_bootstrap(p)) {
		void *q = real_malloc(n);
		size_t n_left = (size_t)(bootstrap + sizeof(bootstrap) - (unsigned char *)p);
		if (q != NULL)
			memcpy(q, p, n < n_left ? n : n_left);
		return q;
	}
	return real_realloc(p, n);
}

EXPORT void free(void *p)
{
	if (is_bootstrap(p))
		return;
	if (real_free == NULL)
		resolve_all();
	COUNT(free);
	real_free(p);
}

EXPORT void *aligned_alloc(size_t alignment, size_t n)
{
	resolve_all();
	COUNT(aligned_alloc);
	return real_aligned_alloc(alignment, n);
}

EXPORT int posix_memalign(void **p, size_t alignment, size_t n)
{
	resolve_all();
	COUNT(posix_memalign);
	return real_posix_memalign(p, alignment, n);
}

EXPORT void *memalign(size_t alignment, size_t n)
{
	resolve_all();
	COUNT(memalign);
	return real_memalign(alignment, n);
}

EXPORT void *valloc(size_t n)
{
	resolve_all();
	COUNT(valloc);
	return real_valloc(n);
}

EXPORT void *mmap(void *addr, size_t n, int prot, int flags, int fd, off_t offset)
{
	resolve_all();
	COUNT(mmap);
	return real_mmap(addr, n, prot, flags, fd, offset);
}

EXPORT int munmap(void *addr, size_t n)
{
	resolve_all();
	COUNT(munmap);
	return real_munmap(addr, n);
}

#define WRAP1(ret, name, t1)                \
	EXPORT ret name(t1 a)               \
	{                                   \
		resolve_all();              \
		COUNT(name);                \
		return real_##name(a);      \
	}
#define WRAP2(ret, name, t1, t2)            \
	EXPORT ret name(t1 a, t2 b)         \
	{                                   \
		resolve_all();              \
		COUNT(name);                \
		return real_##name(a, b);   \
	}
#define WRAP3(ret, name, t1, t2, t3)        \
	EXPORT ret name(t1 a, t2 b, t3 c)   \
	{                                   \
		resolve_all();              \
		COUNT(name);                \
		return real_##name(a, b, c); \
	}

WRAP1(int, pthread_mutex_lock, pthread_mutex_t *)
WRAP1(int, pthread_mutex_trylock, pthread_mutex_t *)
WRAP2(int, pthread_mutex_timedlock, pthread_mutex_t *restrict, const struct timespec *restrict)
WRAP1(int, pthread_mutex_unlock, pthread_mutex_t *)
WRAP2(int, pthread_cond_wait, pthread_cond_t *restrict, pthread_mutex_t *restrict)
WRAP3(int, pthread_cond_timedwait, pthread_cond_t *restrict, pthread_mutex_t *restrict,
      const struct timespec *restrict)
WRAP1(int, pthread_cond_signal, pthread_cond_t *)
WRAP1(int, pthread_cond_broadcast, pthread_cond_t *)
WRAP1(int, pthread_rwlock_rdlock, pthread_rwlock_t *)
WRAP1(int, pthread_rwlock_wrlock, pthread_rwlock_t *)
WRAP1(int, pthread_rwlock_tryrdlock, pthread_rwlock_t *)
WRAP1(int, pthread_rwlock_trywrlock, pthread_rwlock_t *)
WRAP1(int, pthread_rwlock_unlock, pthread_rwlock_t *)
WRAP1(int, pthread_spin_lock, pthread_spinlock_t *)
WRAP2(int, pthread_join, pthread_t, void **)
WRAP1(int, sem_wait, sem_t *)
WRAP2(int, sem_timedwait, sem_t *restrict, const struct timespec *restrict)
WRAP1(int, sem_trywait, sem_t *)
WRAP1(int, sem_post, sem_t *)
WRAP1(int, close, int)
WRAP3(ssize_t, read, int, void *, size_t)
WRAP3(ssize_t, write, int, const void *, size_t)
WRAP3(ssize_t, readv, int, const struct iovec *, int)
WRAP3(ssize_t, writev, int, const struct iovec *, int)
WRAP2(FILE *, fopen, const char *restrict, const char *restrict)
WRAP1(int, fclose, FILE *)
WRAP1(int, fflush, FILE *)
WRAP1(int, puts, const char *)
WRAP2(int, fputs, const char *restrict, FILE *restrict)
WRAP2(int, fputc, int, FILE *)
WRAP1(int, putchar, int)
WRAP2(int, nanosleep, const struct timespec *, struct timespec *)
WRAP1(int, usleep, useconds_t)
WRAP1(unsigned, sleep, unsigned)
WRAP3(int, poll, struct pollfd *, nfds_t, int)

EXPORT int sched_yield(void)
{
	resolve_all();
	COUNT(sched_yield);
	return real_sched_yield();
}

EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t offset)
{
	resolve_all();
	COUNT(pread);
	return real_pread(fd, buf, n, offset);
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t offset)
{
	resolve_all();
	COUNT(pwrite);
	return real_pwrite(fd, buf, n, offset);
}

EXPORT size_t fread(void *restrict buf, size_t size, size_t n, FILE *restrict f)
{
	resolve_all();
	COUNT(fread);
	return real_fread(buf, size, n, f);
}

EXPORT size_t fwrite(const void *restrict buf, size_t size, size_t n, FILE *restrict f)
{
	resolve_all();
	COUNT(fwrite);
	return real_fwrite(buf, size, n, f);
}

EXPORT int clock_nanosleep(clockid_t clock, int flags, const struct timespec *t,
			   struct timespec *rem)
{
	resolve_all();
	COUNT(clock_nanosleep);
	return real_clock_nanosleep(clock, flags, t, rem);
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask)
{
	resolve_all();
	COUNT(ppoll);
	return real_ppoll(fds, n, t, mask);
}

EXPORT int select(int n, fd_set *restrict r, fd_set *restrict w, fd_set *restrict e,
		  struct timeval *restrict t)
{
	resolve_all();
	COUNT(select);
	return real_select(n, r, w, e, t);
}

EXPORT int pselect(int n, fd_set *restrict r, fd_set *restrict w, fd_set *restrict e,
		   const struct timespec *restrict t, const sigset_t *restrict mask)
{
	resolve_all();
	COUNT(pselect);
	return real_pselect(n, r, w, e, t, mask);
}

static bool open_needs_mode(int flags)
{
	return (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
}

EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (open_needs_mode(flags)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	resolve_all();
	COUNT(open);
	return real_open(path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (open_needs_mode(flags)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	resolve_all();
	COUNT(open64);
	return real_open64(path, flags, mode);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (open_needs_mode(flags)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	resolve_all();
	COUNT(openat);
	return real_openat(dirfd, path, flags, mode);
}

EXPORT int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	va_start(ap, request);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	resolve_all();
	COUNT(ioctl);
	return real_ioctl(fd, request, arg);
}

EXPORT int vprintf(const char *restrict fmt, va_list ap)
{
	resolve_all();
	COUNT(vprintf);
	return real_vprintf(fmt, ap);
}

EXPORT int vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap)
{
	resolve_all();
	COUNT(vfprintf);
	return real_vfprintf(f, fmt, ap);
}

EXPORT int printf(const char *restrict fmt, ...)
{
	resolve_all();
	COUNT(printf);
	va_list ap;
	va_start(ap, fmt);
	int ret = real_vprintf(fmt, ap);
	va_end(ap);
	return ret;
}

EXPORT int fprintf(FILE *restrict f, const char *restrict fmt, ...)
{
	resolve_all();
	COUNT(fprintf);
	va_list ap;
	va_start(ap, fmt);
	int ret = real_vfprintf(f, fmt, ap);
	va_end(ap);
	return ret;
}

EXPORT void syslog(int priority, const char *fmt, ...)
{
	resolve_all();
	COUNT(syslog);
	va_list ap;
	va_start(ap, fmt);
	real_vsyslog(priority, fmt, ap);
	va_end(ap);
}

EXPORT FILE *fopen64(const char *restrict path, const char *restrict mode)
{
	resolve_all();
	COUNT(fopen64);
	return real_fopen64(path, mode);
}

EXPORT void *mmap64(void *addr, size_t n, int prot, int flags, int fd, off64_t offset)
{
	resolve_all();
	COUNT(mmap64);
	return real_mmap64(addr, n, prot, flags, fd, offset);
}

/* The fortified entry points that libraries built with _FORTIFY_SOURCE call
 * instead of the plain names. */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buf_size);
int __printf_chk(int flag, const char *fmt, ...);
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap);
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fds_size);

EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buf_size)
{
	resolve_all();
	COUNT(__read_chk);
	return real___read_chk(fd, buf, n, buf_size);
}

EXPORT int __printf_chk(int flag, const char *fmt, ...)
{
	resolve_all();
	COUNT(__printf_chk);
	va_list ap;
	va_start(ap, fmt);
	int ret = real___vfprintf_chk(stdout, flag, fmt, ap);
	va_end(ap);
	return ret;
}

EXPORT int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	resolve_all();
	COUNT(__fprintf_chk);
	va_list ap;
	va_start(ap, fmt);
	int ret = real___vfprintf_chk(f, flag, fmt, ap);
	va_end(ap);
	return ret;
}

EXPORT int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
	resolve_all();
	COUNT(__vfprintf_chk);
	return real___vfprintf_chk(f, flag, fmt, ap);
}

EXPORT int __open_2(const char *path, int flags)
{
	resolve_all();
	COUNT(__open_2);
	return real___open_2(path, flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
	resolve_all();
	COUNT(__open64_2);
	return real___open64_2(path, flags);
}

EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fds_size)
{
	resolve_all();
	COUNT(__poll_chk);
	return real___poll_chk(fds, n, timeout, fds_size);
}

/* Renames: bump the generation so that every thread re-reads its name. */

EXPORT int pthread_setname_np(pthread_t thread, const char *name)
{
	resolve_all();
	int ret = real_pthread_setname_np(thread, name);
	/* relaxed: see name_generation. */
	atomic_fetch_add_explicit(&name_generation, 1, memory_order_relaxed);
	return ret;
}

EXPORT int prctl(int option, ...)
{
	va_list ap;
	va_start(ap, option);
	unsigned long a2 = va_arg(ap, unsigned long);
	unsigned long a3 = va_arg(ap, unsigned long);
	unsigned long a4 = va_arg(ap, unsigned long);
	unsigned long a5 = va_arg(ap, unsigned long);
	va_end(ap);
	long ret = syscall(SYS_prctl, option, a2, a3, a4, a5);
	/* relaxed: see name_generation. */
	if (option == PR_SET_NAME)
		atomic_fetch_add_explicit(&name_generation, 1, memory_order_relaxed);
	return (int)ret;
}
