/* SPDX-License-Identifier: MIT */
/**
 * @file flz/constants.h
 * Limits and defaults shared by every flitzis_looper_rs library.
 *
 * The values mirror the Python module's public constants (NUM_SAMPLES,
 * MAX_VOICES, SPEED_MIN, ...): changing one is an API change.
 */
#ifndef FLZ_CONSTANTS_H
#define FLZ_CONSTANTS_H

#ifdef __cplusplus
extern "C" {
#endif

/** Pad banks in the looper's layout. */
#define FLZ_NUM_BANKS 6
/** Pads in one bank. */
#define FLZ_PADS_PER_BANK 36
/** Sample slots: 6 banks x 36 pads. Valid slot ids are 0..FLZ_NUM_SAMPLES-1. */
#define FLZ_NUM_SAMPLES (FLZ_NUM_BANKS * FLZ_PADS_PER_BANK)
/** Voices that may play (not counting voices fading out after a stop or steal). */
#define FLZ_MAX_VOICES 32
/** Global playback speed range (varispeed: pitch follows speed). */
#define FLZ_SPEED_MIN 0.5
#define FLZ_SPEED_MAX 2.0
/** Per-pad playback speed range; it multiplies the global speed. */
#define FLZ_PAD_SPEED_MIN 0.5
#define FLZ_PAD_SPEED_MAX 2.0
/** A voice's overall rate range: global x pad speed (later x tempo ratio). */
#define FLZ_RATE_MIN 0.25
#define FLZ_RATE_MAX 4.0
/** Largest linear pad gain: +12 dB. */
#define FLZ_PAD_GAIN_MAX_LIN 3.98107171f
/** Linear gain range for voice and master volume. */
#define FLZ_VOLUME_MIN 0.0
#define FLZ_VOLUME_MAX 1.0
/** Commands the control side may queue ahead of the audio thread. */
#define FLZ_QUEUE_CAPACITY 1024
/** Largest channel count the libraries accept. */
#define FLZ_MAX_CHANNELS 8
/** Largest block one render call may produce. */
#define FLZ_MAX_BLOCK_FRAMES 8192
/** Sample rates the libraries accept. */
#define FLZ_RATE_MIN_HZ 8000
#define FLZ_RATE_MAX_HZ 384000

#ifdef __cplusplus
}
#endif

#endif /* FLZ_CONSTANTS_H */
