/* SPDX-License-Identifier: MIT */
/*
 * The decoder front end: opens a file or a memory buffer with libsndfile,
 * classifies every failure into the project's error codes with an exact
 * message, and streams the decoded frames through the conversion pipeline.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "loader-private.h"

/* libsndfile format codes for MPEG audio (libsndfile >= 1.1), spelled out so
 * that the source also builds against older headers, which lack them. The
 * values are part of libsndfile's stable ABI. */
#define FLZ_SF_FORMAT_MPEG 0x230000
#define FLZ_SF_FORMAT_MPEG_LAYER_I 0x0080
#define FLZ_SF_FORMAT_MPEG_LAYER_III 0x0082

/* Data chunk sizes that streaming writers put in a header when they do not
 * know the length yet; a file claiming one of these is not truncated. */
#define FLZ_WAV_UNKNOWN_LENGTH UINT64_C(0xffffffff)

struct flz_loader {
	struct flz_loader_config config;
	/* The reason of the last failure, "" after a success. */
	char message[1024];
	/* What the last successful call replaced; zeros after a failure. */
	struct flz_loader_replaced replaced;
	/* The rate of the last successfully decoded file; 0 otherwise. */
	uint32_t source_rate_hz;
	/* flz_loader_set_progress(); NULL: none. */
	flz_loader_progress_fn progress;
	void *progress_userdata;
};

void flz_loader_set_progress(struct flz_loader *loader, flz_loader_progress_fn progress,
			     void *userdata)
{
	if (loader == NULL)
		return;
	loader->progress = progress;
	loader->progress_userdata = userdata;
}

void flz_loader_report_progress(struct flz_loader *loader, int64_t done, int64_t total)
{
	if (loader->progress != NULL)
		loader->progress(loader->progress_userdata, done, total);
}

struct flz_loader_config flz_loader_config_init(void)
{
	struct flz_loader_config config = {
		.rate_hz = 48000,
		.n_channels = 2,
		.max_bytes = UINT64_C(2) << 30,
	};
	return config;
}

void flz_loader_format(char *msg, size_t msg_size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, msg_size, fmt, ap);
	va_end(ap);
}

char *flz_loader_message_buffer(struct flz_loader *loader, size_t *msg_size)
{
	*msg_size = sizeof(loader->message);
	return loader->message;
}

struct flz_loader_replaced *flz_loader_replaced_counts(struct flz_loader *loader)
{
	return &loader->replaced;
}

void flz_loader_get_replaced(const struct flz_loader *loader, struct flz_loader_replaced *replaced)
{
	if (replaced == NULL)
		return;
	if (loader == NULL)
		memset(replaced, 0, sizeof(*replaced));
	else
		*replaced = loader->replaced;
}

uint32_t flz_loader_source_rate_hz(const struct flz_loader *loader)
{
	return loader != NULL ? loader->source_rate_hz : 0;
}

void flz_loader_forget_source(struct flz_loader *loader)
{
	loader->source_rate_hz = 0;
}

void flz_loader_set_source_rate(struct flz_loader *loader, uint32_t rate_hz)
{
	loader->source_rate_hz = rate_hz;
}

const struct flz_loader_config *flz_loader_get_config(const struct flz_loader *loader)
{
	return &loader->config;
}

int flz_loader_new(const struct flz_loader_config *config, struct flz_loader **out)
{
	struct flz_loader_config defaults = flz_loader_config_init();
	if (out == NULL)
		return -EINVAL;
	if (config == NULL)
		config = &defaults;
	if (config->rate_hz < FLZ_RATE_MIN_HZ || config->rate_hz > FLZ_RATE_MAX_HZ ||
	    config->n_channels < 1 || config->n_channels > FLZ_MAX_CHANNELS ||
	    config->max_bytes == 0)
		return -EINVAL;
	struct flz_loader *loader = calloc(1, sizeof(*loader));
	if (loader == NULL)
		return -ENOMEM;
	loader->config = *config;
	*out = loader;
	return 0;
}

void flz_loader_destroy(struct flz_loader *loader)
{
	free(loader);
}

const char *flz_loader_strerror(const struct flz_loader *loader)
{
	return loader != NULL ? loader->message : "";
}

/* Prefix the reason with the source's name: "name: reason". Every failure
 * passes here, so it also forgets the counts of the sample never handed out. */
static int fail(struct flz_loader *loader, const char *name, int err)
{
	memset(&loader->replaced, 0, sizeof(loader->replaced));
	loader->source_rate_hz = 0;
	char reason[sizeof(loader->message)];
	memcpy(reason, loader->message, sizeof(reason));
	reason[sizeof(reason) - 1] = '\0';
	flz_loader_format(loader->message, sizeof(loader->message), "%s: %s", name, reason);
	return err;
}

static int set_reason(struct flz_loader *loader, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int set_reason(struct flz_loader *loader, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(loader->message, sizeof(loader->message), fmt, ap);
	va_end(ap);
	return err;
}

/* MP3 lengths come from a header that may be missing (then libsndfile
 * estimates from the file size); Ogg lengths from the last page's granule
 * position. Those are read to the end instead of trusted. */
static bool length_is_estimate(const SF_INFO *info)
{
	int major = info->format & SF_FORMAT_TYPEMASK;
	int sub = info->format & SF_FORMAT_SUBMASK;
	return major == FLZ_SF_FORMAT_MPEG || major == SF_FORMAT_OGG ||
	       (sub >= FLZ_SF_FORMAT_MPEG_LAYER_I && sub <= FLZ_SF_FORMAT_MPEG_LAYER_III) ||
	       info->frames < 0 || info->frames == SF_COUNT_MAX;
}

/* libsndfile opens a file whose header announces more data than the file
 * holds (a truncated download, a header claiming a huge size) and silently
 * plays what is there, noting the mismatch in its parse log as
 * "data : <announced> (should be <present>)" (SSND for AIFF; for W64 only
 * the outer "riff" size is checked). WAV's outer RIFF size is not used: many
 * writers get it slightly wrong in files that are otherwise fine. Such a file is
 * corrupt; refuse it instead of returning a silently shortened sample. */
static int check_header_length(struct flz_loader *loader, SNDFILE *sf)
{
	char log[4096];
	log[0] = '\0';
	sf_command(sf, SFC_GET_LOG_INFO, log, sizeof(log));
	log[sizeof(log) - 1] = '\0';
	for (char *line = log; line != NULL && *line != '\0';) {
		char *next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		char tag[16];
		uint64_t announced, present;
		if (sscanf(line, " %15[^ :] : %" SCNu64 " (should be %" SCNu64 ")", tag, &announced,
			   &present) == 3 &&
		    (strcmp(tag, "data") == 0 || strcmp(tag, "SSND") == 0 ||
		     strcmp(tag, "riff") == 0) &&
		    announced > present &&
		    announced != FLZ_WAV_UNKNOWN_LENGTH)
			return set_reason(loader, -EBADMSG,
					  "truncated or corrupt file: the header announces %" PRIu64
					  " bytes of '%s', the file holds %" PRIu64,
					  announced, tag, present);
		line = next;
	}
	return 0;
}

/* Why sf_open*() refused: libsndfile's public codes plus its message for the
 * many internal ones, which name unsupported encodings in words. */
static int open_error(struct flz_loader *loader, int sf_err)
{
	const char *text = sf_error_number(sf_err);
	if (sf_err == SF_ERR_UNSUPPORTED_ENCODING || strcasestr(text, "unsupported") != NULL ||
	    strcasestr(text, "unimplemented") != NULL || strcasestr(text, "not supported") != NULL)
		return set_reason(loader, -ENOTSUP, "unsupported encoding (%s)", text);
	if (sf_err == SF_ERR_SYSTEM)
		return set_reason(loader, -EIO, "read error (%s)", text);
	if (sf_err == SF_ERR_UNRECOGNISED_FORMAT)
		return set_reason(loader, -EBADMSG,
				  "not an audio file (no format libsndfile reads was recognised)");
	return set_reason(loader, -EBADMSG, "corrupt audio file (%s)", text);
}

/* Decode an open file into a new sample; the reason of a failure is left in
 * loader->message without the source's name. */
static int decode(struct flz_loader *loader, SNDFILE *sf, const SF_INFO *info,
		  struct flz_sample **out)
{
	if (info->channels < 1 || info->samplerate < 1)
		return set_reason(loader, -EBADMSG, "corrupt header (%d channels at %d Hz)",
				  info->channels, info->samplerate);
	int ret = check_header_length(loader, sf);
	if (ret < 0)
		return ret;
	bool estimate = length_is_estimate(info);
	if (!estimate && info->frames == 0)
		return set_reason(loader, -ENODATA, "no audio frames (the file holds a header only)");

	/* An estimate sizes the output; it grows if the estimate is short. */
	int64_t n_frames_hint =
		info->frames > 0 && info->frames != SF_COUNT_MAX ? (int64_t)info->frames : -1;
	struct flz_pipeline p;
	ret = flz_pipeline_init(&p, &loader->config, (uint32_t)info->samplerate,
				(uint32_t)info->channels, n_frames_hint, !estimate, &loader->replaced,
				loader->message, sizeof(loader->message));
	if (ret < 0)
		return ret;

	bool passthrough = flz_pipeline_is_passthrough(&p);
	float *chunk = NULL;
	if (!passthrough) {
		chunk = malloc((size_t)FLZ_LOADER_CHUNK_FRAMES * (size_t)info->channels *
			       sizeof(float));
		if (chunk == NULL) {
			flz_pipeline_deinit(&p);
			return set_reason(loader, -ENOMEM, "out of memory for decoding buffers");
		}
	}

	int64_t n_read = 0;
	for (;;) {
		sf_count_t n_want = FLZ_LOADER_CHUNK_FRAMES;
		if (!estimate) {
			if (n_read >= info->frames)
				break;
			if (info->frames - n_read < n_want)
				n_want = info->frames - n_read;
		}
		float *dst = chunk;
		if (passthrough) {
			ret = flz_pipeline_window(&p, n_want, &dst);
			if (ret < 0)
				break;
		}
		sf_count_t n_got = sf_readf_float(sf, dst, n_want);
		if (n_got <= 0)
			break;
		/* Here, before mapping and resampling: both would spread a NaN or
		 * an Inf over its neighbours (an average, a filter's length). */
		flz_sanitize_source(dst, (size_t)n_got * (size_t)info->channels,
				    &loader->replaced);
		if (passthrough)
			flz_pipeline_commit(&p, n_got);
		else
			ret = flz_pipeline_push(&p, chunk, n_got);
		if (ret < 0)
			break;
		n_read += n_got;
		flz_loader_report_progress(loader, n_read, n_frames_hint);
	}
	free(chunk);

	if (ret == 0 && sf_error(sf) != SF_ERR_NO_ERROR)
		ret = set_reason(loader, -EBADMSG,
				 "truncated or corrupt audio data after frame %" PRId64 " (%s)", n_read,
				 sf_strerror(sf));
	if (ret == 0 && !estimate && n_read < info->frames)
		ret = set_reason(loader, -EBADMSG,
				 "truncated or corrupt audio data (read %" PRId64 " of %" PRId64
				 " frames)",
				 n_read, (int64_t)info->frames);
	if (ret == 0 && n_read == 0)
		ret = set_reason(loader, -ENODATA, "no audio frames");
	if (ret == 0)
		ret = flz_pipeline_finish(&p, out);
	flz_pipeline_deinit(&p);
	if (ret == 0)
		loader->source_rate_hz = (uint32_t)info->samplerate;
	return ret;
}

int flz_loader_load_file(struct flz_loader *loader, const char *path, struct flz_sample **out)
{
	if (loader == NULL)
		return -EINVAL;
	memset(&loader->replaced, 0, sizeof(loader->replaced));
	loader->source_rate_hz = 0;
	if (path == NULL || out == NULL)
		return set_reason(loader, -EINVAL, "no path or no result pointer");

	/* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused
	 * below as not a regular file. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		switch (e) {
		case ENOENT:
		case ENOTDIR:
			set_reason(loader, -ENOENT, "no such file");
			return fail(loader, path, -ENOENT);
		case EACCES:
		case EPERM:
			set_reason(loader, -EACCES, "permission denied");
			return fail(loader, path, -EACCES);
		case EISDIR:
			set_reason(loader, -EISDIR, "is a directory, not a file");
			return fail(loader, path, -EISDIR);
		case ENOMEM:
			set_reason(loader, -ENOMEM, "out of memory");
			return fail(loader, path, -ENOMEM);
		default:
			set_reason(loader, -EIO, "cannot open (%s)", strerror(e));
			return fail(loader, path, -EIO);
		}
	}
	struct stat st;
	int ret = 0;
	if (fstat(fd, &st) < 0)
		ret = set_reason(loader, -EIO, "cannot stat (%s)", strerror(errno));
	else if (S_ISDIR(st.st_mode))
		ret = set_reason(loader, -EISDIR, "is a directory, not a file");
	else if (!S_ISREG(st.st_mode))
		ret = set_reason(loader, -EBADMSG, "not a regular file");
	else if (st.st_size == 0)
		ret = set_reason(loader, -EBADMSG, "empty file (0 bytes)");
	else if (fcntl(fd, F_SETFL, 0) < 0)
		ret = set_reason(loader, -EIO, "cannot read (%s)", strerror(errno));
	if (ret < 0) {
		close(fd);
		return fail(loader, path, ret);
	}

	SF_INFO info;
	memset(&info, 0, sizeof(info));
	/* close_desc false: the descriptor is ours to close on every path. */
	SNDFILE *sf = sf_open_fd(fd, SFM_READ, &info, SF_FALSE);
	if (sf == NULL) {
		ret = open_error(loader, sf_error(NULL));
		close(fd);
		return fail(loader, path, ret);
	}
	ret = decode(loader, sf, &info, out);
	sf_close(sf);
	close(fd);
	if (ret < 0)
		return fail(loader, path, ret);
	loader->message[0] = '\0';
	return 0;
}

/* Virtual I/O over the caller's bytes: a read-only cursor. */
struct memory_source {
	const unsigned char *bytes;
	sf_count_t n_bytes;
	sf_count_t position;
};

static sf_count_t memory_get_length(void *user)
{
	const struct memory_source *m = user;
	return m->n_bytes;
}

static sf_count_t memory_seek(sf_count_t offset, int whence, void *user)
{
	struct memory_source *m = user;
	sf_count_t base;
	switch (whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = m->position; break;
	case SEEK_END: base = m->n_bytes; break;
	default: return -1;
	}
	/* Refuse positions before the start or past any sane end, without
	 * overflowing on a hostile offset. */
	if ((offset < 0 && base + offset < 0) || (offset > 0 && offset > SF_COUNT_MAX - base))
		return -1;
	m->position = base + offset;
	return m->position;
}

static sf_count_t memory_read(void *dst, sf_count_t n_bytes, void *user)
{
	struct memory_source *m = user;
	if (n_bytes <= 0 || m->position >= m->n_bytes)
		return 0;
	sf_count_t n_left = m->n_bytes - m->position;
	if (n_bytes > n_left)
		n_bytes = n_left;
	memcpy(dst, m->bytes + m->position, (size_t)n_bytes);
	m->position += n_bytes;
	return n_bytes;
}

static sf_count_t memory_write(const void *src, sf_count_t n_bytes, void *user)
{
	return 0; /* read-only */
}

static sf_count_t memory_tell(void *user)
{
	const struct memory_source *m = user;
	return m->position;
}

int flz_loader_load_memory(struct flz_loader *loader, const void *data, size_t n_bytes,
			   struct flz_sample **out)
{
	static const char name[] = "memory buffer";
	if (loader == NULL)
		return -EINVAL;
	memset(&loader->replaced, 0, sizeof(loader->replaced));
	loader->source_rate_hz = 0;
	if ((data == NULL && n_bytes > 0) || out == NULL) {
		set_reason(loader, -EINVAL, "no data or no result pointer");
		return fail(loader, name, -EINVAL);
	}
	if (n_bytes == 0) {
		set_reason(loader, -EBADMSG, "empty file (0 bytes)");
		return fail(loader, name, -EBADMSG);
	}
	if ((uint64_t)n_bytes > (uint64_t)SF_COUNT_MAX) {
		set_reason(loader, -EFBIG, "%zu bytes are more than libsndfile can address",
			   n_bytes);
		return fail(loader, name, -EFBIG);
	}

	struct memory_source source = {
		.bytes = data,
		.n_bytes = (sf_count_t)n_bytes,
		.position = 0,
	};
	SF_VIRTUAL_IO io = {
		.get_filelen = memory_get_length,
		.seek = memory_seek,
		.read = memory_read,
		.write = memory_write,
		.tell = memory_tell,
	};
	SF_INFO info;
	memset(&info, 0, sizeof(info));
	SNDFILE *sf = sf_open_virtual(&io, SFM_READ, &info, &source);
	if (sf == NULL)
		return fail(loader, name, open_error(loader, sf_error(NULL)));
	int ret = decode(loader, sf, &info, out);
	sf_close(sf);
	if (ret < 0)
		return fail(loader, name, ret);
	loader->message[0] = '\0';
	return 0;
}
