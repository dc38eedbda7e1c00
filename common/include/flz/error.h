/* SPDX-License-Identifier: MIT */
/**
 * @file flz/error.h
 * The project's error convention and the one table of meanings.
 *
 * Functions return 0 on success and a negative errno value on failure (ALSA's
 * convention); counts are int64_t, negative for errors. ALSA's own codes pass
 * through unchanged. The project gives these codes a fixed meaning:
 *
 * | code       | meaning                                                 |
 * |------------|---------------------------------------------------------|
 * | -EINVAL    | bad argument (slot, gain, speed, size, format mismatch) |
 * | -ENOSPC    | no free slot or voice                                   |
 * | -EAGAIN    | queue full: the audio thread is not keeping up          |
 * | -ENOTSUP   | unsupported format or encoding                          |
 * | -EPIPE     | xrun (underrun)                                         |
 * | -ENODEV    | the audio device went away                              |
 * | -ENOENT    | file not found                                          |
 * | -EISDIR    | a directory where a file was expected                   |
 * | -EACCES    | permission denied                                       |
 * | -EFBIG     | file too large to hold in memory                        |
 * | -ENODATA   | file holds no audio frames                              |
 * | -EBADMSG   | not an audio file, or corrupt / truncated data          |
 * | -ENOMEM    | out of memory                                           |
 * | -EBUSY     | already running                                         |
 * | -ENOTCONN  | not running                                             |
 * | -EIO       | input/output error                                      |
 */
#ifndef FLZ_ERROR_H
#define FLZ_ERROR_H

#include <errno.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The project's meaning of an error code.
 *
 * @param err a negative (or positive) errno value
 * @return a static string; never NULL
 * Errors: none (an unknown code gives "unknown error").
 * Thread: any.
 * Ownership: the string is static.
 */
static inline const char *flz_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case 0: return "success";
	case EINVAL: return "invalid argument";
	case ENOSPC: return "no free slot or voice";
	case EAGAIN: return "command buffer is full";
	case ENOTSUP: return "unsupported format";
	case EPIPE: return "xrun (buffer underrun)";
	case ENODEV: return "audio device lost";
	case ENOENT: return "file not found";
	case EISDIR: return "is a directory";
	case EACCES: return "permission denied";
	case EFBIG: return "file too large";
	case ENODATA: return "no audio frames";
	case EBADMSG: return "not an audio file or corrupt data";
	case ENOMEM: return "out of memory";
	case EBUSY: return "already running";
	case ENOTCONN: return "not running";
	case EIO: return "input/output error";
	default: return "unknown error";
	}
}

#ifdef __cplusplus
}
#endif

#endif /* FLZ_ERROR_H */
