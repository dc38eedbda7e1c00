/* SPDX-License-Identifier: MIT */
/*
 * flz-jack-rec: a JACK client that records what reaches its input ports.
 *
 *   flz-jack-rec [--name rec] [--channels 2] --out FILE [--times FILE]
 *
 * Registers <name>:in_1 .. in_N, prints "ready" on stdout once active, and
 * until SIGTERM/SIGINT (or the server going away) writes
 *   - FILE: every frame that arrived, interleaved FLOAT (host order),
 *   - the times file: one int64 CLOCK_MONOTONIC time (ns) per process cycle,
 *     taken at the entry of the process callback, i.e. the arrival time of
 *     that cycle's block.
 * In sync mode (jackd -S) every cycle's block is complete, so the capture is
 * bit-exact.
 *
 * The process callback does no I/O and never waits: it copies each cycle
 * into a preallocated SPSC ring; a writer thread drains the ring to the
 * files. A full ring is counted (the cycle is lost) and makes the exit
 * status 2, so a capture with a gap can never pass for a good one.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include <jack/jack.h>

#include <flz/ring.h>

#define REC_MAX_CHANNELS 8
/* One ring element carries up to this many frames; a longer cycle is split. */
#define REC_CHUNK_FRAMES 256
/* 8192 chunks: >= 11 s of cycles at 64 frames, 43 s at >= 256 frames. */
#define REC_RING_CAPACITY 8192

struct rec_chunk {
	int64_t time_ns;	/* cycle arrival time; valid when first_of_cycle */
	uint32_t n_frames;
	uint32_t first_of_cycle;
	float samples[REC_CHUNK_FRAMES * REC_MAX_CHANNELS];
};

struct rec {
	jack_client_t *client;
	jack_port_t *ports[REC_MAX_CHANNELS];
	unsigned n_channels;
	struct flz_ring ring;
	void *ring_storage;
	/* Written by the process callback only. */
	struct rec_chunk scratch;
	/* Counters read by the main thread at the end. relaxed everywhere: they
	 * are statistics, no other memory is published through them. */
	atomic_uint_fast64_t n_cycles;
	atomic_uint_fast64_t n_lost_cycles;
	atomic_uint_fast64_t n_xruns;
	/* Set by main after jack_deactivate(): no more producer pushes. release /
	 * acquire so the writer sees every chunk pushed before it. */
	atomic_bool producer_done;
	/* Set from the JACK shutdown callback; relaxed: a plain flag polled by main. */
	atomic_bool server_gone;
	FILE *out;
	FILE *times;
	uint64_t n_frames_written;
	int write_error;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int signum)
{
	(void)signum;
	stop_requested = 1;
}

static int64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Runs on JACK's real-time thread: no I/O, no allocation, no waiting. */
static int process(jack_nframes_t n_frames, void *arg)
{
	struct rec *rec = arg;
	int64_t now_ns = monotonic_ns();
	const float *in[REC_MAX_CHANNELS];
	bool lost = false;

	for (unsigned c = 0; c < rec->n_channels; c++)
		in[c] = jack_port_get_buffer(rec->ports[c], n_frames);

	struct rec_chunk *chunk = &rec->scratch;
	jack_nframes_t done = 0;
	do {
		jack_nframes_t n = n_frames - done;
		if (n > REC_CHUNK_FRAMES)
			n = REC_CHUNK_FRAMES;
		chunk->time_ns = now_ns;
		chunk->n_frames = n;
		chunk->first_of_cycle = done == 0;
		for (jack_nframes_t i = 0; i < n; i++)
			for (unsigned c = 0; c < rec->n_channels; c++)
				chunk->samples[i * rec->n_channels + c] = in[c][done + i];
		if (!flz_ring_push(&rec->ring, chunk))
			lost = true;
		done += n;
	} while (done < n_frames);

	atomic_fetch_add_explicit(&rec->n_cycles, 1, memory_order_relaxed);
	if (lost)
		atomic_fetch_add_explicit(&rec->n_lost_cycles, 1, memory_order_relaxed);
	return 0;
}

static int on_xrun(void *arg)
{
	struct rec *rec = arg;
	atomic_fetch_add_explicit(&rec->n_xruns, 1, memory_order_relaxed);
	return 0;
}

static void on_shutdown(void *arg)
{
	struct rec *rec = arg;
	atomic_store_explicit(&rec->server_gone, true, memory_order_relaxed);
}

static void write_chunk(struct rec *rec, const struct rec_chunk *chunk)
{
	size_t n_samples = (size_t)chunk->n_frames * rec->n_channels;
	if (chunk->first_of_cycle &&
	    fwrite(&chunk->time_ns, sizeof chunk->time_ns, 1, rec->times) != 1)
		rec->write_error = errno ? errno : EIO;
	if (fwrite(chunk->samples, sizeof(float), n_samples, rec->out) != n_samples)
		rec->write_error = errno ? errno : EIO;
	rec->n_frames_written += chunk->n_frames;
}

static void *writer_main(void *arg)
{
	struct rec *rec = arg;
	struct rec_chunk *chunk = malloc(sizeof *chunk);
	if (!chunk) {
		rec->write_error = ENOMEM;
		return NULL;
	}
	for (;;) {
		/* acquire: pairs with main's release store, made after the last
		 * possible push, so an empty ring after seeing it means done. */
		bool done = atomic_load_explicit(&rec->producer_done, memory_order_acquire);
		bool any = false;
		while (flz_ring_pop(&rec->ring, chunk)) {
			write_chunk(rec, chunk);
			any = true;
		}
		if (done)
			break;
		if (any) {
			/* Readers may look at the files while recording goes on
			 * (a test inside the rig): hand each batch to the kernel. */
			fflush(rec->out);
			fflush(rec->times);
		} else {
			struct timespec ts = { 0, 2 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	free(chunk);
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: flz-jack-rec [--name CLIENT] [--channels N] --out FILE "
		   "[--times FILE]\n");
}

int main(int argc, char **argv)
{
	const char *name = "rec";
	const char *out_path = NULL;
	const char *times_path = NULL;
	unsigned n_channels = 2;
	static const struct option options[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "channels", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "times", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "n:c:o:t:h", options, NULL)) != -1) {
		switch (opt) {
		case 'n': name = optarg; break;
		case 'c': n_channels = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'o': out_path = optarg; break;
		case 't': times_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 64;
		}
	}
	if (!out_path || n_channels < 1 || n_channels > REC_MAX_CHANNELS) {
		usage(stderr);
		return 64;
	}

	static struct rec rec;
	char default_times[4096];
	if (!times_path) {
		snprintf(default_times, sizeof default_times, "%s.ns", out_path);
		times_path = default_times;
	}
	rec.n_channels = n_channels;
	rec.out = fopen(out_path, "wb");
	rec.times = fopen(times_path, "wb");
	if (!rec.out || !rec.times) {
		fprintf(stderr, "flz-jack-rec: cannot create %s: %s\n",
			rec.out ? times_path : out_path, strerror(errno));
		return 73;
	}

	/* All memory the callback touches is allocated and touched here, so the
	 * first cycles do not take page faults. */
	size_t ring_bytes = sizeof(struct rec_chunk) * REC_RING_CAPACITY;
	rec.ring_storage = malloc(ring_bytes);
	if (!rec.ring_storage) {
		fprintf(stderr, "flz-jack-rec: out of memory\n");
		return 71;
	}
	memset(rec.ring_storage, 0, ring_bytes);
	memset(&rec.scratch, 0, sizeof rec.scratch);
	if (flz_ring_init(&rec.ring, rec.ring_storage, sizeof(struct rec_chunk),
			  REC_RING_CAPACITY) != 0)
		return 70;
	atomic_init(&rec.n_cycles, 0);
	atomic_init(&rec.n_lost_cycles, 0);
	atomic_init(&rec.n_xruns, 0);
	atomic_init(&rec.producer_done, false);
	atomic_init(&rec.server_gone, false);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	jack_status_t status;
	rec.client = jack_client_open(name, JackNoStartServer | JackUseExactName, &status);
	if (!rec.client) {
		fprintf(stderr, "flz-jack-rec: cannot connect to the JACK server "
				"(status 0x%x)\n", (unsigned)status);
		return 69;
	}
	for (unsigned c = 0; c < n_channels; c++) {
		char port_name[32];
		snprintf(port_name, sizeof port_name, "in_%u", c + 1);
		rec.ports[c] = jack_port_register(rec.client, port_name, JACK_DEFAULT_AUDIO_TYPE,
						  JackPortIsInput, 0);
		if (!rec.ports[c]) {
			fprintf(stderr, "flz-jack-rec: cannot register port %s\n", port_name);
			jack_client_close(rec.client);
			return 69;
		}
	}
	jack_set_process_callback(rec.client, process, &rec);
	jack_set_xrun_callback(rec.client, on_xrun, &rec);
	jack_on_shutdown(rec.client, on_shutdown, &rec);

	pthread_t writer;
	if (pthread_create(&writer, NULL, writer_main, &rec) != 0) {
		fprintf(stderr, "flz-jack-rec: cannot start the writer thread\n");
		jack_client_close(rec.client);
		return 71;
	}
	if (jack_activate(rec.client) != 0) {
		fprintf(stderr, "flz-jack-rec: cannot activate the client\n");
		jack_client_close(rec.client);
		return 69;
	}
	printf("ready\n");
	fflush(stdout);

	while (!stop_requested &&
	       !atomic_load_explicit(&rec.server_gone, memory_order_relaxed)) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}

	jack_deactivate(rec.client);
	jack_client_close(rec.client);
	/* release: every push happened before this store (the callback can no
	 * longer run after jack_client_close). */
	atomic_store_explicit(&rec.producer_done, true, memory_order_release);
	pthread_join(writer, NULL);

	if (fclose(rec.out) != 0 && !rec.write_error)
		rec.write_error = errno;
	if (fclose(rec.times) != 0 && !rec.write_error)
		rec.write_error = errno;
	free(rec.ring_storage);

	uint64_t n_cycles = atomic_load_explicit(&rec.n_cycles, memory_order_relaxed);
	uint64_t n_lost = atomic_load_explicit(&rec.n_lost_cycles, memory_order_relaxed);
	uint64_t n_xruns = atomic_load_explicit(&rec.n_xruns, memory_order_relaxed);
	fprintf(stderr, "flz-jack-rec: %llu cycles, %llu frames written, %llu cycles lost, "
			"%llu server xruns\n",
		(unsigned long long)n_cycles, (unsigned long long)rec.n_frames_written,
		(unsigned long long)n_lost, (unsigned long long)n_xruns);
	if (rec.write_error) {
		fprintf(stderr, "flz-jack-rec: write error: %s\n", strerror(rec.write_error));
		return 74;
	}
	return n_lost ? 2 : 0;
}
