/* SPDX-License-Identifier: MIT */
/*
 * What the files of flitzis_looper_rs._native share: errors.c (the one
 * mapping from engine codes to exceptions), log.c (the engine's log lines to
 * Python's logging), messages.c (AudioMessage and its kinds, generated from
 * flz/vocabulary.h), engine.c (AudioEngine), devices.c (Device and
 * list_devices()), module.c (the module itself).
 */
#ifndef FLZ_PYMODULE_PRIVATE_H
#define FLZ_PYMODULE_PRIVATE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flz/constants.h>
#include <flz/engine.h>
#include <flz/error.h>
#include <flz/vocabulary.h>

#define DEFAULT_DEVICE "default"
#define DEVICE_ENV "FLITZIS_AUDIO_DEVICE"
#define WHY_BYTES 512

/* Limits of the constructor's keyword arguments. */
#define PERIOD_FRAMES_MIN 16
#define PERIODS_MIN 2
#define PERIODS_MAX 64
#define RT_PRIORITY_MAX 99

/* --- errors.c ------------------------------------------------------------ */

enum op {
	OP_TYPE,    /* an argument has the wrong type */
	OP_ARG,     /* an argument has a bad value */
	OP_START,   /* run(): opening or configuring the device */
	OP_LOAD,    /* load_sample(): reading or decoding a file */
	OP_COMMAND, /* any other engine call */
};

PyObject *raise_error(enum op op, int err, const char *detail, PyObject *filename);
PyObject *add_exception(PyObject *module, const char *name, const char *doc);

extern PyObject *g_queue_full_error;
extern PyObject *g_not_running_error;
extern PyObject *g_device_error;

/* --- log.c --------------------------------------------------------------- */

#define LOG_QUEUE_LEN 32
#define LOG_LINE_BYTES 256

struct log_entry {
	enum flz_log_level level;
	char text[LOG_LINE_BYTES];
};

struct log_queue {
	pthread_mutex_t lock;
	/* Lines queued; read without the lock as a cheap "anything to do?" test.
	 * relaxed: a stale zero only delays a line until the next drain; the
	 * lines themselves are read under the lock. */
	atomic_uint n_pending;
	unsigned head;
	uint64_t n_dropped;
	struct log_entry entries[LOG_QUEUE_LEN];
};

extern PyObject *g_logger;
void log_queue_push(void *userdata, enum flz_log_level level, const char *message);
void log_queue_drain(struct log_queue *q);

/* --- messages.c ---------------------------------------------------------- */

int create_message_types(PyObject *module);
PyObject *message_from_engine(const struct flz_engine_msg *em);
PyObject *module_vocabulary(PyObject *module, PyObject *unused);

/* --- engine.c ------------------------------------------------------------ */

struct engine_object {
	PyObject_HEAD
	struct flz_engine *engine;
	struct log_queue *logs;
	char *device;
	uint32_t rate_hz;
	uint32_t n_channels;
	uint32_t period_frames;
	uint32_t n_periods;
	int rt_priority;
	bool trace_commands;
	/* Registry of live engines for the interpreter-exit hook; guarded by the GIL. */
	struct engine_object *prev, *next;
	PyObject *weakreflist;
};

extern PyTypeObject engine_type;
extern struct engine_object *g_engines;
extern PyTypeObject *g_device_type;
PyObject *engine_shut_down(PyObject *obj, PyObject *unused);
PyObject *type_error(const char *what, const char *expected, PyObject *got);

/* --- devices.c ----------------------------------------------------------- */

extern PyStructSequence_Desc device_desc;
PyObject *engine_list_devices(PyObject *unused_self, PyObject *unused);

#endif /* FLZ_PYMODULE_PRIVATE_H */
