/* SPDX-License-Identifier: MIT */
/**
 * @file flz/loader.h
 * libloader: decode an audio file (anything libsndfile reads: WAV, AIFF,
 * FLAC, Ogg/Vorbis, Opus, MP3, ...) into a flz_sample of float32 frames at a
 * target rate and channel count.
 *
 * Sample-rate conversion uses libsoxr's SOXR_VHQ recipe (28-bit precision,
 * linear phase). Its figures, relative to the Nyquist frequency of the lower
 * of the two rates:
 *  - passband 0..91.1% (0..20.09 kHz for 44.1 kHz), flat within 0.01 dB
 *    (measured: -0.006 dB at 20 kHz, 44.1 -> 48 kHz);
 *  - transition band 91.1%..100%; stopband from 100% (no aliasing);
 *  - stopband attenuation: nominally 28 bits, about 169 dB; measured with
 *    float32 output 155 dB (a 23 kHz tone converted 48 -> 44.1 kHz), where
 *    float32 rounding, not the filter, sets the floor.
 * A 1 kHz sine converted 44.1 -> 48 kHz keeps its amplitude within 1e-5 dB and
 * its frequency within 1e-9 Hz, everything else 150 dB down. A source of
 * n frames gives round(n * rate_hz / source rate) frames (as libsoxr
 * delivers them); equal rates give exactly n frames, untouched.
 *
 * Integer PCM decodes to value / 2^(bits-1) (16-bit: x / 32768, exact);
 * float files decode bit-exact, without clipping: finite values beyond +-1
 * (a mixdown kept with headroom) are kept, the device output clips them.
 *
 * Non-finite values, which only float encodings can hold, are replaced as
 * they are decoded, before channel mapping and rate conversion (the filter
 * would spread one NaN over its whole length): NaN becomes 0, +Inf +1 and
 * -Inf -1. The replacements are counted (flz_loader_get_replaced()). A
 * finite source near the float range's end (|x| ~ 3e38) can overflow in
 * the rate conversion; such results are replaced the same way and counted
 * apart. A decoded sample therefore holds finite values only.
 *
 * Channel mapping, from the file's channels to the target's:
 *  - equal counts: copied;
 *  - mono to N: the mono signal on every channel;
 *  - N to mono: the average of all channels;
 *  - stereo to N > 2: left and right to channels 0 and 1, silence elsewhere;
 *  - M > 2 to N > 1 (M != N): channel k takes source channel k for k < min(M, N),
 *    the remaining target channels are silent, surplus source channels are dropped
 *    (for 5.1 in WAV order to stereo: front left and right).
 *
 * Decoding streams: the file is read in chunks that pass through the channel
 * map and the resampler straight into the final sample, which is allocated
 * once from the file's frame count. Peak memory is the final sample plus the
 * decoder's and resampler's state (1-2 MiB measured for a 66 MiB sample). MP3 and Ogg report estimated lengths; those are decoded to
 * their real end, and the output grows (one copy) if the estimate was short.
 *
 * A file whose header announces more audio data than the file holds (a
 * truncated copy, a header claiming huge sizes) is refused as corrupt rather
 * than silently shortened; the "unknown length" size 0xFFFFFFFF that
 * streaming writers use is accepted.
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

/** Values a load replaced because they were not finite (see above). */
struct flz_loader_replaced {
	/** NaN in the source, replaced by 0. */
	uint64_t n_nan;
	/** +Inf in the source, replaced by +1. */
	uint64_t n_pos_inf;
	/** -Inf in the source, replaced by -1. */
	uint64_t n_neg_inf;
	/** Results of the rate conversion beyond the float range (a finite
	 *  source near +-3e38 can overflow), replaced by +-1 (NaN by 0). */
	uint64_t n_overflow;
};

/**
 * Progress of a load: @p done source frames of @p total (-1 when the file
 * gives no reliable length; @p done may then pass an estimate) have been
 * decoded and converted. Called on the loader's thread after every chunk
 * (FLZ_LOADER_CHUNK_FRAMES = 4096 source frames), so often: keep it cheap.
 */
typedef void (*flz_loader_progress_fn)(void *userdata, int64_t done, int64_t total);

struct flz_loader_config {
	/** Rate of the decoded sample. Default 48000. */
	uint32_t rate_hz;
	/** Channels of the decoded sample, 1..FLZ_MAX_CHANNELS. Default 2. */
	uint32_t n_channels;
	/** Refuse files whose decoded result would exceed this many bytes
	 *  (-EFBIG). Default 2 GiB. */
	uint64_t max_bytes;
};

/**
 * Defaults as documented on each field.
 *
 * @return the defaults, by value
 * Errors: none.
 * Thread: any.
 * Ownership: a plain value; nothing to free.
 */
struct flz_loader_config flz_loader_config_init(void);

/**
 * Create a loader.
 * @param config rate, channels and size limit; NULL for the defaults
 * @param[out] out the new loader; untouched on failure
 * @return 0 on success, a negative errno otherwise
 * Errors: -EINVAL rate outside FLZ_RATE_MIN_HZ..FLZ_RATE_MAX_HZ, channels
 *         outside 1..FLZ_MAX_CHANNELS, max_bytes 0, or out NULL;
 *         -ENOMEM an allocation failed.
 * Thread: control.
 * Ownership: free it with flz_loader_destroy().
 */
FLZ_WARN_UNUSED int flz_loader_new(const struct flz_loader_config *config,
				   struct flz_loader **out);

/**
 * Free a loader.
 *
 * @param loader the loader, or NULL (nothing happens)
 * Errors: none.
 * Thread: the loader's thread.
 * Ownership: frees the loader and its message; samples it made are the
 *         callers' and stay valid.
 */
void flz_loader_destroy(struct flz_loader *loader);

/**
 * Have the loader's next loads (file, memory, PCM, convert) report their
 * progress to @p progress.
 * @param progress the callback, or NULL for none (the default)
 * @param userdata passed to it as is
 * Errors: none (a NULL @p loader is ignored).
 * Thread: the loader's thread; the callback runs there, inside the load.
 * Ownership: @p userdata stays the caller's.
 */
void flz_loader_set_progress(struct flz_loader *loader, flz_loader_progress_fn progress,
			     void *userdata);

/**
 * Decode a file.
 *
 * @param path file name
 * @param[out] out on success a new sample with one reference (the caller's);
 *             untouched on failure
 * @return 0 on success, a negative errno otherwise
 * Errors:
 *   -EINVAL  path or out is NULL;
 *   -ENOENT  no such file;
 *   -EISDIR  path is a directory;
 *   -EACCES  permission denied;
 *   -ENODATA the file decodes to zero frames (an empty file is -EBADMSG);
 *   -EBADMSG an empty file, a file that is not audio (nothing libsndfile
 *            recognises), not a regular file, a truncated or corrupt file;
 *   -ENOTSUP a recognised container with an encoding libsndfile cannot decode,
 *            or a rate ratio the resampler refuses;
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
 * Decodes through libsndfile's virtual I/O over the caller's bytes; no global
 * state, so it is safe to fuzz. The message names the source "memory buffer".
 *
 * @param data the file's bytes; only read, not kept after return
 * @param n_bytes length of @p data; 0 is an empty file (-EBADMSG)
 * @return 0 on success, a negative errno otherwise
 * Errors: as flz_loader_load_file(), with -EINVAL for data NULL (n_bytes > 0)
 *         and no -ENOENT, -EISDIR or -EACCES.
 * Thread: the loader's thread (control).
 * Ownership: the caller owns *out and drops it with flz_sample_unref();
 *         @p data stays the caller's.
 */
FLZ_WARN_UNUSED int flz_loader_load_memory(struct flz_loader *loader, const void *data,
					   size_t n_bytes, struct flz_sample **out);

/**
 * The exact reason of the last failure, e.g.
 * "truncated.wav: truncated or corrupt audio data (read 1200 of 48000 frames)".
 * @return the message; "" after a success
 * Errors: none.
 * Thread: the loader's thread.
 * Ownership: the string is the loader's, valid until its next call.
 */
const char *flz_loader_strerror(const struct flz_loader *loader);

/**
 * What the last load or conversion replaced, counted in samples (one
 * channel of one frame) of the source, before channel mapping.
 *
 * @param[out] replaced the counts of the last successful
 *             flz_loader_load_file(), flz_loader_load_memory(),
 *             flz_loader_load_pcm() or flz_loader_convert(); all zero before the first and after a
 *             failed call (the failed sample was never handed out)
 * Errors: none; a NULL @p loader gives zeros, a NULL @p replaced is ignored.
 * Thread: the loader's thread.
 * Ownership: the caller's struct, filled by value.
 */
void flz_loader_get_replaced(const struct flz_loader *loader, struct flz_loader_replaced *replaced);

/**
 * The sample rate of the file the last successful flz_loader_load_file() or
 * flz_loader_load_memory() decoded, before rate conversion (what the engine
 * reports as a sample's source rate).
 *
 * @return the rate in Hz (for flz_loader_load_pcm(), the rate it was given);
 *         0 before the first load, after a failed one and after
 *         flz_loader_convert() (which decodes no file)
 * Errors: none (a NULL @p loader gives 0).
 * Thread: the loader's thread.
 * Ownership: reads only the loader.
 */
uint32_t flz_loader_source_rate_hz(const struct flz_loader *loader);

/**
 * Convert interleaved float frames between rates and channel counts with the
 * loader's resampler and channel rules, replacing non-finite values as a
 * load does (the caller's frames are not modified). Exposed for tests and
 * embedding.
 *
 * @param in source frames (rate @p in_rate_hz), n_frames >= 1, n_channels
 *           1..FLZ_MAX_CHANNELS
 * @param in_rate_hz the source's rate, >= 1
 * @param[out] out a new sample at the loader's rate and channels; untouched on failure
 * @return 0 on success, a negative errno otherwise
 * Errors: -EINVAL bad view or rate; -EFBIG over max_bytes; -ENOMEM out of
 *         memory; -ENOTSUP a ratio the resampler refuses.
 * Thread: the loader's thread (control).
 * Ownership: the caller owns *out and drops it with flz_sample_unref();
 *         @p in stays the caller's.
 */
FLZ_WARN_UNUSED int flz_loader_convert(struct flz_loader *loader, struct flz_frames in,
				       uint32_t in_rate_hz, struct flz_sample **out);

/** Sample formats flz_loader_load_pcm() takes. */
enum flz_pcm_format {
	/** 32-bit float, native byte order; values beyond +-1 are kept. */
	FLZ_PCM_FLOAT32 = 1,
	/** 16-bit signed integer, native byte order: x / 32768, as a 16-bit file decodes. */
	FLZ_PCM_INT16 = 2,
};

/**
 * Convert interleaved PCM held by the caller exactly as a decoded file of the
 * same frames would be: the same chunked pipeline (so the same rate
 * conversion, channel map and non-finite replacement, counted by
 * flz_loader_get_replaced()). A float32 buffer gives bit for bit the sample
 * that a 32-bit float WAV of the same frames gives; an int16 buffer the one
 * of a 16-bit WAV.
 *
 * @param data n_frames * n_channels values of @p format, interleaved
 * @param n_frames >= 1
 * @param n_channels 1..FLZ_MAX_CHANNELS
 * @param rate_hz the frames' rate, >= 1 (flz_loader_source_rate_hz() reports it)
 * @param[out] out a new sample at the loader's rate and channels; untouched on failure
 * @return 0 on success, a negative errno otherwise
 * Errors: -EINVAL loader, data or out NULL, n_frames < 1, channels or rate
 *         out of range, an unknown format; -EFBIG over max_bytes; -ENOMEM;
 *         -ENOTSUP a ratio the resampler refuses. The message names the problem.
 * Thread: the loader's thread (control).
 * Ownership: the caller owns *out and drops it with flz_sample_unref();
 *         @p data stays the caller's and is only read.
 */
FLZ_WARN_UNUSED int flz_loader_load_pcm(struct flz_loader *loader, const void *data,
					enum flz_pcm_format format, int64_t n_frames,
					uint32_t n_channels, uint32_t rate_hz,
					struct flz_sample **out);

#ifdef __cplusplus
}
#endif

#endif /* FLZ_LOADER_H */
