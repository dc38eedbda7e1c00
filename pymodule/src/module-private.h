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
#include <float.h>
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
	OP_RECORD,  /* start_recording(): creating the file */
};

struct module_state;
PyObject *raise_error(struct module_state *st, enum op op, int err, const char *detail,
		      PyObject *filename);
PyObject *add_exception(PyObject *module, const char *name, const char *doc);

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

void log_queue_push(void *userdata, enum flz_log_level level, const char *message);
void log_queue_drain(struct log_queue *q, PyObject *logger);
/** Send n lines to the logger, in order. GIL held. */
void log_emit_entries(PyObject *logger, const struct log_entry *entries, unsigned n);

/* --- messages.c ---------------------------------------------------------- */

/* Ping (a kind Python constructs, that the engine never sends) and the base
 * class, then the vocabulary's kinds. */
enum msg_type {
	MSG_BASE,
	MSG_PING,
#define MSG_TYPE_ENUM(suffix, number, name, fields, doc) MSG_##suffix,
	FLZ_MSG_KINDS(MSG_TYPE_ENUM)
	FLZ_LOAD_MSG_KINDS(MSG_TYPE_ENUM)
#undef MSG_TYPE_ENUM
	MSG_N_TYPES,
};

int create_message_types(PyObject *module, struct module_state *st);
PyObject *message_from_engine(struct module_state *st, const struct flz_engine_msg *em);
PyObject *module_vocabulary(PyObject *module, PyObject *unused);
/* A load pool event as its AudioMessage; @p exc (borrowed) is LoadFailed's
 * error, NULL for the other kinds. */
PyObject *message_from_load_event(struct module_state *st, const struct flz_load_event *ev,
				  PyObject *exc);

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
	/* Loader threads (load_sample_async()): the pool lives from run() to
	 * shut_down(), created and detached with the GIL held, so that every
	 * other use (all with the GIL held, none releasing it) sees it whole. */
	uint32_t load_workers;
	struct flz_loadpool *pool;
	/* {request: path} of file requests not ended, for FileNotFoundError's
	 * filename; requests beyond it get their next id from the pool. */
	PyObject *async_paths;
	/* Python's request ids run on over runs: the pool's (1, 2, ... per run)
	 * plus request_base, the last id given before this run. */
	uint64_t request_base;
	uint64_t max_request;
	/* meters(): the last Meters built (immutable: its pads a read-only
	 * mapping) and the engine's meters count
	 * (flz_engine_meters_seq()) read before that snapshot: returned itself
	 * while the count is the same; cleared by run() and shut_down(). Under
	 * the GIL. */
	PyObject *meters_last;
	uint64_t meters_last_seq;
	/* The module's state, alive as long as this engine: the engine holds
	 * its type, the type its module. Read on every call that may raise. */
	struct module_state *state;
	/* Registry of live engines for the interpreter-exit hook; guarded by the GIL. */
	struct engine_object *prev, *next;
	PyObject *weakreflist;
};

extern PyType_Spec engine_spec;
PyObject *engine_shut_down(PyObject *obj, PyObject *unused);
PyObject *type_error(const char *what, const char *expected, PyObject *got);

/* --- devices.c ----------------------------------------------------------- */

extern PyStructSequence_Desc device_desc;
/* list_devices() as a function bound to the module (the static method of
 * AudioEngine wraps it), so that it finds the Device type. */
extern PyMethodDef list_devices_def;

/* --- module.c ------------------------------------------------------------ */

/* Everything the module owns, per module object (per interpreter): no
 * process globals, so that the module can be imported into several
 * interpreters and torn down with them. */
/* Argument helpers of engine.c for the methods defined in other files. */
int engine_bind_args(const char *fname, PyObject *const *args, Py_ssize_t nargs,
		     PyObject *kwnames, const char *const *names, Py_ssize_t n_params,
		     Py_ssize_t n_required, PyObject **out);
int engine_parse_slot(PyObject *obj, int32_t *out);
/* An int argument in lo..hi: TypeError for anything but an int (bool and
 * float included), ValueError("<what> out of range (expected lo..hi, got
 * v)") outside. */
int engine_parse_int64(PyObject *obj, const char *what, long long lo, long long hi,
		       long long *out);
int engine_parse_real(PyObject *obj, const char *what, double lo, double hi,
		      const char *range_msg, double *out);

/* --- loading.c ----------------------------------------------------------- */

PyObject *engine_load_sample_data(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				  PyObject *kwnames);
PyObject *engine_load_sample_array(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				   PyObject *kwnames);
PyObject *engine_load_sample_async(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				   PyObject *kwnames);
PyObject *engine_cancel_load(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
			     PyObject *kwnames);
PyObject *engine_pause_loads(PyObject *obj, PyObject *arg);
/* The next load message (None when there is none). GIL held. */
PyObject *engine_receive_load_msg(struct engine_object *self);
/* run(): start the engine's loader threads; -1 with an exception set. */
int engine_attach_pool(struct engine_object *self);
/* shut_down(): take the pool away (GIL held); the caller destroys it
 * without the GIL. NULL when there is none. */
struct flz_loadpool *engine_detach_pool(struct engine_object *self);
PyObject *engine_waveform(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
			  PyObject *kwnames);

/* --- recording.c --------------------------------------------------------- */

PyObject *engine_start_recording(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				 PyObject *kwnames);
PyObject *engine_stop_recording(PyObject *obj, PyObject *unused);

/* --- meters.c ------------------------------------------------------------ */

PyObject *engine_meters(PyObject *obj, PyObject *unused);
void engine_forget_meters(struct engine_object *self);
/* Meters and PadMeter, added to the module and kept in its state. */
int create_meter_types(PyObject *module, struct module_state *st);
/* A namedtuple type from (name, doc) field pairs (module.c). */
PyObject *module_make_namedtuple(const char *type_name, const char *const (*fields)[2],
				 size_t n_fields, const char *type_doc);

struct module_state {
	PyObject *logger; /* logging.getLogger("flitzis_looper_rs") */
	PyObject *queue_full_error; /* the command queue is full */
	PyObject *not_running_error; /* "Audio engine not initialized" */
	PyObject *device_error; /* the device cannot be opened or configured, or was lost */
	PyTypeObject *msg_types[MSG_N_TYPES];
	PyTypeObject *engine_type;
	PyTypeObject *device_type; /* a named tuple (name, description) per ALSA PCM */
	PyTypeObject *sample_info_type; /* SampleInfo, a collections.namedtuple */
	PyTypeObject *transport_type; /* Transport, a collections.namedtuple */
	PyTypeObject *meters_type; /* Meters, a collections.namedtuple */
	PyTypeObject *pad_meter_type; /* PadMeter, a collections.namedtuple */
	/* Live engines, for _shutdown_all() at interpreter exit; guarded by the
	 * GIL. Not references: an engine unlinks itself when it is freed. */
	struct engine_object *engines;
};

extern struct PyModuleDef module_def;

/* The state of the module that defined tp or one of its bases (a user may
 * subclass the message types); NULL with TypeError set when there is none. */
struct module_state *module_state_of_type(PyTypeObject *tp);

#endif /* FLZ_PYMODULE_PRIVATE_H */
