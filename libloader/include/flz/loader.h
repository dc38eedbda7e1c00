/* SPDX-License-Identifier: MIT */
/**
 * @file flz/loader.h
 * libloader: decode an audio file (anything libsndfile reads: WAV, AIFF,
 * FLAC, Ogg/Vorbis, Opus, MP3, ...) into a flz_sample of float32 frames at a
 * target rate and channel count.
 *
 * Sample-rate conversion uses libsoxr at its "very high quality" recipe
 * (passband to 95% of the lower Nyquist frequency, stopband attenuation
 * about 175 dB: transparent). Channel mapping, from the file's channels to
 * the target's:
 *  - equal counts: copied;
 *  - mono to N: the mono signal on every channel;
 *  - N to mono: the average of all channels;
 *  - stereo to N > 2: left and right to channels 0 and 1, silence elsewhere;
 *  - M > 2 to N > 1 (M != N): channel k takes source channel k for k < min(M, N),
 *    the remaining target channels are silent, surplus source channels are dropped.
 *
 * A loader is an opaque handle that keeps the exact reason of its last
 * failure (flz_loader_strerror()). It is not thread-safe; use one per thread.
 * Nothing here runs on the audio thread.
 */
#ifndef FLZ_LOADER_H
#define FLZ_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include <flz/constants.h>
#include <flz/error.h>
#include <flz/rt.h>
#include <flz/sample.h>

#ifdef __cplusplus
extern "C" {
#endif

struct flz_loader;

struct flz_loader_config {
	/** Rate of the decoded sample. Default 48000. */
	uint32_t rate_hz;
	/** Channels of the decoded sample, 1..FLZ_MAX_CHANNELS. Default 2. */
	uint32_t n_channels;
	/** Refuse files whose decoded result would exceed this many bytes
	 *  (-EFBIG). Default 2 GiB. */
	uint64_t max_bytes;
};

/** Defaults as documented on each field. Thread: any. */
struct flz_loader_config flz_loader_config_init(void);

/**
 * Create a loader.
 * @return 0, -EINVAL (rate or channels out of range), -ENOMEM
 * Thread: control. Ownership: free it with flz_loader_destroy().
 */
FLZ_WARN_UNUSED int flz_loader_new(const struct flz_loader_config *config,
				   struct flz_loader **out);

/** Free a loader. NULL is accepted. Thread: the loader's thread. */
void flz_loader_destroy(struct flz_loader *loader);

/**
 * Decode a file.
 *
 * @param path file name
 * @param[out] out on success a new sample with one reference (the caller's);
 *             untouched on failure
 * @return 0, or:
 *   -ENOENT  no such file;
 *   -EISDIR  path is a directory;
 *   -EACCES  permission denied;
 *   -ENODATA the file decodes to zero frames (an empty file is -EBADMSG);
 *   -EBADMSG not an audio file libsndfile recognises, or truncated/corrupt data;
 *   -ENOTSUP a recognised container with an encoding that cannot be decoded;
 *   -EFBIG   the decoded sample would exceed max_bytes;
 *   -ENOMEM  out of memory;
 *   -EIO     read error.
 *   On failure flz_loader_strerror() gives the exact reason.
 * Thread: the loader's thread (control; blocks on I/O).
 * Ownership: the caller owns *out and drops it with flz_sample_unref().
 */
FLZ_WARN_UNUSED int flz_loader_load_file(struct flz_loader *loader, const char *path,
					 struct flz_sample **out);

/**
 * Decode a file held in memory (for embedding and fuzzing). Same results
 * as flz_loader_load_file() but for the file-system codes.
 *
 * @param data the file's bytes; only read, not kept after return
 * @param n_bytes length of @p data
 * Thread and ownership as flz_loader_load_file().
 */
FLZ_WARN_UNUSED int flz_loader_load_memory(struct flz_loader *loader, const void *data,
					   size_t n_bytes, struct flz_sample **out);

/**
 * The exact reason of the last failure, e.g.
 * "truncated.wav: truncated or corrupt audio data (read 1200 of 48000 frames)".
 * @return a string owned by the loader, valid until its next call; "" after a success.
 * Thread: the loader's thread.
 */
const char *flz_loader_strerror(const struct flz_loader *loader);

/**
 * Convert interleaved float frames between rates and channel counts with the
 * loader's resampler and channel rules. Exposed for tests and embedding.
 *
 * @param in source frames (rate @p in_rate_hz)
 * @param[out] out a new sample at the loader's rate and channels
 * @return 0, -EINVAL, -EFBIG, -ENOMEM
 * Thread and ownership as flz_loader_load_file().
 */
FLZ_WARN_UNUSED int flz_loader_convert(struct flz_loader *loader, struct flz_frames in,
				       uint32_t in_rate_hz, struct flz_sample **out);

#ifdef __cplusplus
}
#endif

#endif /* FLZ_LOADER_H */
