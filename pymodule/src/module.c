/* SPDX-License-Identifier: MIT */
/*
 * flitzis_looper_rs._native: the CPython face of the C engine (flz/engine.h).
 *
 * AudioEngine is a C type so that a trigger from Python costs one vectorcall,
 * two argument checks and one engine call: no Python-level wrapper, no
 * temporary objects. Everything that blocks (opening the device, decoding a
 * file, joining the audio thread) runs with the GIL released.
 *
 * Logging: the engine's log callback fires on its housekeeping thread (or on
 * a control thread inside flz_engine_start()/stop()/load_file(), while this
 * module has released the GIL). It never touches Python: it copies the line
 * into a small mutex-protected queue, and threads that hold the GIL drain the
 * queue into the "flitzis_looper_rs" logger (after run(), shut_down() and
 * load_sample(), and in receive_msg() and stats()). Taking the GIL in the callback instead would
 * deadlock shut_down(), which joins that thread with the GIL released.
 *
 * Every failure becomes a Python exception in exactly one place:
 * raise_error().
 */
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

/* ------------------------------------------------------------------------ */
/* Errors: the one mapping from (operation, code, detail) to an exception.  */

/* The module's own exceptions, all subclasses of RuntimeError so that code
 * written against Part 1 of the API (except RuntimeError) keeps working. */
static PyObject *g_queue_full_error; /* the command queue is full */
static PyObject *g_not_running_error; /* "Audio engine not initialized" */
static PyObject *g_device_error; /* the device cannot be opened or configured, or was lost */

enum op {
	OP_TYPE,    /* an argument has the wrong type */
	OP_ARG,     /* an argument has a bad value */
	OP_START,   /* run(): opening or configuring the device */
	OP_LOAD,    /* load_sample(): reading or decoding a file */
	OP_COMMAND, /* any other engine call */
};

/*
 * Set the Python exception for a failure and return NULL.
 *
 * @param op what failed (decides the exception type for codes whose meaning
 *        depends on it, e.g. -EINVAL from ALSA at start is a device problem)
 * @param err a negative errno value from the engine, or 0 with OP_TYPE/OP_ARG
 * @param detail the exact reason, or NULL/"" for the code's standard text
 * @param filename OP_LOAD: the path, for FileNotFoundError.filename; may be NULL
 */
static PyObject *raise_error(enum op op, int err, const char *detail, PyObject *filename)
{
	bool has_detail = detail != NULL && detail[0] != '\0';
	const char *text = has_detail ? detail : flz_strerror(err);

	switch (op) {
	case OP_TYPE:
		PyErr_SetString(PyExc_TypeError, text);
		return NULL;
	case OP_ARG:
		PyErr_SetString(PyExc_ValueError, text);
		return NULL;
	default:
		break;
	}

	/* Codes that mean the same whatever the operation. */
	switch (-err) {
	case EBUSY:
		/* At start with a detail, it is the device that is busy (opened by
		 * another program), not this engine. */
		if (op == OP_START && has_detail)
			break;
		PyErr_SetString(PyExc_RuntimeError, "AudioEngine already running");
		return NULL;
	case ENOTCONN:
		PyErr_SetString(g_not_running_error, "Audio engine not initialized");
		return NULL;
	case EAGAIN:
		PyErr_SetString(g_queue_full_error,
				"command buffer is full: the audio thread is not keeping up");
		return NULL;
	case ENOMEM:
		PyErr_SetString(PyExc_MemoryError, text);
		return NULL;
	case ENODEV:
		if (op != OP_START) {
			PyErr_SetString(g_device_error,
					"audio device lost: call shut_down() and run() again");
			return NULL;
		}
		break;
	default:
		break;
	}

	switch (op) {
	case OP_LOAD:
		if (err == -ENOENT) {
			PyObject *exc = PyObject_CallFunction(PyExc_FileNotFoundError, "isO", ENOENT,
							      text, filename ? filename : Py_None);
			if (exc != NULL) {
				PyErr_SetObject(PyExc_FileNotFoundError, exc);
				Py_DECREF(exc);
			}
			return NULL;
		}
		/* Unreadable, not audio, corrupt, unsupported encoding, too large. */
		PyErr_SetString(PyExc_ValueError, text);
		return NULL;
	case OP_COMMAND:
		if (err == -EINVAL) {
			PyErr_SetString(PyExc_ValueError, text);
			return NULL;
		}
		PyErr_SetString(PyExc_RuntimeError, text);
		return NULL;
	case OP_START:
		/* Everything run() reports past the cases above is the device's:
		 * it cannot be opened, or refuses the configuration. */
		PyErr_SetString(g_device_error, text);
		return NULL;
	default:
		PyErr_SetString(PyExc_RuntimeError, text);
		return NULL;
	}
}

/* Create one exception class deriving from RuntimeError and add it to the module. */
static PyObject *add_exception(PyObject *module, const char *name, const char *doc)
{
	char qualified[96];
	snprintf(qualified, sizeof qualified, "flitzis_looper_rs.%s", name);
	PyObject *exc = PyErr_NewExceptionWithDoc(qualified, doc, PyExc_RuntimeError, NULL);
	if (exc == NULL)
		return NULL;
	/* One reference for the module (stolen on success), one for the global. */
	Py_INCREF(exc);
	if (PyModule_AddObject(module, name, exc) < 0) {
		Py_DECREF(exc);
		Py_DECREF(exc);
		return NULL;
	}
	return exc;
}

/* ------------------------------------------------------------------------ */
/* The log queue between the engine's threads and Python's logging.        */

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

static PyObject *g_logger; /* logging.getLogger("flitzis_looper_rs") */

/* The engine's log callback. Thread: engine control/housekeeping threads,
 * never the audio thread; never touches Python. */
static void log_queue_push(void *userdata, enum flz_log_level level, const char *message)
{
	struct log_queue *q = userdata;
	pthread_mutex_lock(&q->lock);
	unsigned n = atomic_load_explicit(&q->n_pending, memory_order_relaxed);
	if (n == LOG_QUEUE_LEN) {
		q->n_dropped++;
	} else {
		struct log_entry *e = &q->entries[(q->head + n) % LOG_QUEUE_LEN];
		e->level = level;
		snprintf(e->text, sizeof e->text, "%s", message ? message : "");
		atomic_store_explicit(&q->n_pending, n + 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&q->lock);
}

static int python_log_level(enum flz_log_level level)
{
	switch (level) {
	case FLZ_LOG_ERROR: return 40;
	case FLZ_LOG_WARNING: return 30;
	case FLZ_LOG_INFO: return 20;
	default: return 10;
	}
}

/* Send one line to the logger; never lets an exception escape. GIL held. */
static void emit_log(int py_level, const char *text)
{
	if (g_logger == NULL)
		return;
	PyObject *r = PyObject_CallMethod(g_logger, "log", "iss", py_level, "%s", text);
	if (r == NULL)
		PyErr_WriteUnraisable(g_logger);
	Py_XDECREF(r);
}

/* Move queued lines to Python's logging. GIL held; keeps any pending exception. */
static void log_queue_drain(struct log_queue *q)
{
	if (q == NULL || atomic_load_explicit(&q->n_pending, memory_order_relaxed) == 0)
		return;

	struct log_entry lines[LOG_QUEUE_LEN];
	unsigned n;
	uint64_t n_dropped;
	pthread_mutex_lock(&q->lock);
	n = atomic_load_explicit(&q->n_pending, memory_order_relaxed);
	for (unsigned i = 0; i < n; i++)
		lines[i] = q->entries[(q->head + i) % LOG_QUEUE_LEN];
	q->head = (q->head + n) % LOG_QUEUE_LEN;
	atomic_store_explicit(&q->n_pending, 0, memory_order_relaxed);
	n_dropped = q->n_dropped;
	q->n_dropped = 0;
	pthread_mutex_unlock(&q->lock);

#if PY_VERSION_HEX >= 0x030C0000
	PyObject *pending = PyErr_GetRaisedException();
#else
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
#endif
	for (unsigned i = 0; i < n; i++)
		emit_log(python_log_level(lines[i].level), lines[i].text);
	if (n_dropped > 0) {
		char text[96];
		snprintf(text, sizeof text, "%llu engine log messages were dropped",
			 (unsigned long long)n_dropped);
		emit_log(30, text);
	}
#if PY_VERSION_HEX >= 0x030C0000
	PyErr_SetRaisedException(pending);
#else
	PyErr_Restore(type, value, tb);
#endif
}

/* ------------------------------------------------------------------------ */
/* AudioMessage and its kinds.                                              */

/*
 * The kinds, their fields, docs and conversion from struct flz_engine_msg
 * are generated from flz/vocabulary.h; Ping (a kind Python constructs, that
 * the engine never sends) and the base class are the only ones named here.
 */
enum msg_type {
	MSG_BASE,
	MSG_PING,
#define MSG_TYPE_ENUM(suffix, number, name, fields, doc) MSG_##suffix,
	FLZ_MSG_KINDS(MSG_TYPE_ENUM)
#undef MSG_TYPE_ENUM
	MSG_N_TYPES,
};

/* One member per distinct field name of the vocabulary: a field added there
 * under a new name fails to compile until it has its member here. */
struct message_object {
	PyObject_HEAD
	PyObject *id;     /* int or None (NULL reads as None) */
	PyObject *cmd;    /* str or None */
	PyObject *value;  /* float or None */
	PyObject *reason; /* str or None */
	unsigned long long seq;
	long long frame;
	int error;
};

/* The Python side of the vocabulary's field KINDs: how each is stored,
 * exposed, checked and converted. */
enum field_kind { FK_SLOT, FK_SEQ, FK_FRAME, FK_ERRNO, FK_ERRTEXT, FK_CMD, FK_CMDVALUE };

#define FK_NAME_SLOT "SLOT"
#define FK_NAME_SEQ "SEQ"
#define FK_NAME_FRAME "FRAME"
#define FK_NAME_ERRNO "ERRNO"
#define FK_NAME_ERRTEXT "ERRTEXT"
#define FK_NAME_CMD "CMD"
#define FK_NAME_CMDVALUE "CMDVALUE"

/* PyMemberDef type of each kind, and the C type of its storage. */
#define FK_MEMBER_SLOT T_OBJECT
#define FK_MEMBER_SEQ T_ULONGLONG
#define FK_MEMBER_FRAME T_LONGLONG
#define FK_MEMBER_ERRNO T_INT
#define FK_MEMBER_ERRTEXT T_OBJECT
#define FK_MEMBER_CMD T_OBJECT
#define FK_MEMBER_CMDVALUE T_OBJECT
#define FK_CTYPE_SLOT PyObject *
#define FK_CTYPE_SEQ unsigned long long
#define FK_CTYPE_FRAME long long
#define FK_CTYPE_ERRNO int
#define FK_CTYPE_ERRTEXT PyObject *
#define FK_CTYPE_CMD PyObject *
#define FK_CTYPE_CMDVALUE PyObject *

struct field_def {
	const char *name;
	enum field_kind kind;
	Py_ssize_t offset; /* of its storage in struct message_object */
	const char *doc;
};

#define FIELD_DEF(name, c_field, kind, doc) \
	{ #name, FK_##kind, offsetof(struct message_object, name), doc },
#define FIELD_MEMBER(name, c_field, kind, doc) \
	{ #name, FK_MEMBER_##kind, offsetof(struct message_object, name), READONLY, doc },
/* The storage of a field has its kind's C type. */
#define FIELD_CHECK(name, c_field, kind, doc)                                           \
	_Static_assert(_Generic(((struct message_object *)0)->name, FK_CTYPE_##kind: 1,   \
				default: 0),                                              \
		       "struct message_object." #name " does not hold a " #kind);
#define KIND_TABLES(suffix, number, pyname, fields, doc)                              \
	static const struct field_def fields_##suffix[] = { fields(FIELD_DEF){ NULL } }; \
	static PyMemberDef members_##suffix[] = { fields(FIELD_MEMBER){ NULL } };        \
	fields(FIELD_CHECK)
FLZ_MSG_KINDS(KIND_TABLES)
#undef KIND_TABLES
#undef FIELD_CHECK
#undef FIELD_MEMBER
#undef FIELD_DEF

static const struct field_def no_fields[] = { { NULL } };

/* Everything about one message type. */
struct msg_def {
	const char *name;                 /* AudioMessage.<name> */
	int engine_kind;                  /* enum flz_msg_kind; 0: never sent by the engine */
	const struct field_def *fields;   /* constructor and repr order */
	PyMemberDef *members;             /* NULL: none */
	const char *doc;
};

static const struct msg_def msg_defs[MSG_N_TYPES] = {
	[MSG_BASE] = { "AudioMessage", 0, no_fields, NULL,
		       "A message from the audio thread, returned by AudioEngine.receive_msg().\n\n"
		       "Test a message's kind with isinstance(msg, AudioMessage.Pong) etc." },
	[MSG_PING] = { "Ping", 0, no_fields, NULL,
		       "Ping() -- a ping; the engine answers ping() with a Pong." },
#define MSG_DEF(suffix, number, pyname, fields, doc) \
	[MSG_##suffix] = { pyname, FLZ_MSG_##suffix, fields_##suffix, members_##suffix, doc },
	FLZ_MSG_KINDS(MSG_DEF)
#undef MSG_DEF
};

static PyTypeObject *g_msg_types[MSG_N_TYPES];

/* The most derived known kind of a (possibly user-subclassed) message type. */
static enum msg_type message_kind(PyTypeObject *tp)
{
	for (int k = MSG_N_TYPES - 1; k > MSG_BASE; k--)
		if (g_msg_types[k] != NULL && PyType_IsSubtype(tp, g_msg_types[k]))
			return (enum msg_type)k;
	return MSG_BASE;
}

static void message_dealloc(PyObject *self)
{
	struct message_object *m = (struct message_object *)self;
	PyTypeObject *tp = Py_TYPE(self);
	Py_CLEAR(m->id);
	Py_CLEAR(m->cmd);
	Py_CLEAR(m->value);
	Py_CLEAR(m->reason);
	tp->tp_free(self);
	Py_DECREF(tp); /* instances of heap types own a reference to their type */
}

#define FIELD_AT(m, f, ctype) ((ctype *)((char *)(m) + (f)->offset))

static PyObject *field_value(struct message_object *m, const struct field_def *f)
{
	PyObject *o;
	switch (f->kind) {
	case FK_SEQ:
		return PyLong_FromUnsignedLongLong(*FIELD_AT(m, f, unsigned long long));
	case FK_FRAME:
		return PyLong_FromLongLong(*FIELD_AT(m, f, long long));
	case FK_ERRNO:
		return PyLong_FromLong(*FIELD_AT(m, f, int));
	default:
		o = *FIELD_AT(m, f, PyObject *);
		if (o == NULL)
			o = Py_None;
		Py_INCREF(o);
		return o;
	}
}

/* Store one constructor argument; checks its type. */
static int field_store(struct message_object *m, const struct field_def *f, PyObject *v)
{
	switch (f->kind) {
	case FK_SEQ: {
		unsigned long long x = PyLong_AsUnsignedLongLong(v);
		if (x == (unsigned long long)-1 && PyErr_Occurred())
			return -1;
		*FIELD_AT(m, f, unsigned long long) = x;
		return 0;
	}
	case FK_FRAME: {
		long long x = PyLong_AsLongLong(v);
		if (x == -1 && PyErr_Occurred())
			return -1;
		*FIELD_AT(m, f, long long) = x;
		return 0;
	}
	case FK_ERRNO: {
		long x = PyLong_AsLong(v);
		if (x == -1 && PyErr_Occurred())
			return -1;
		if (x < INT_MIN || x > INT_MAX) {
			PyErr_SetString(PyExc_OverflowError, "error code out of range");
			return -1;
		}
		*FIELD_AT(m, f, int) = (int)x;
		return 0;
	}
	case FK_CMDVALUE: {
		PyObject *x = v == Py_None ? (Py_INCREF(v), v) : PyNumber_Float(v);
		if (x == NULL)
			return -1;
		Py_XSETREF(*FIELD_AT(m, f, PyObject *), x);
		return 0;
	}
	case FK_SLOT:
		if (v != Py_None && (!PyLong_Check(v) || PyBool_Check(v)))
			goto type_error;
		break;
	case FK_ERRTEXT:
	case FK_CMD:
		if (v != Py_None && !PyUnicode_Check(v))
			goto type_error;
		break;
	}
	Py_INCREF(v);
	Py_XSETREF(*FIELD_AT(m, f, PyObject *), v);
	return 0;
type_error:
	PyErr_Format(PyExc_TypeError, "%s: unexpected type %.80s for field '%s'",
		     Py_TYPE(m)->tp_name, Py_TYPE(v)->tp_name, f->name);
	return -1;
}

static int message_init(PyObject *self, PyObject *args, PyObject *kwds)
{
	struct message_object *m = (struct message_object *)self;
	const struct field_def *fields = msg_defs[message_kind(Py_TYPE(self))].fields;
	if (PyTuple_GET_SIZE(args) != 0) {
		PyErr_Format(PyExc_TypeError, "%s takes keyword arguments only",
			     Py_TYPE(self)->tp_name);
		return -1;
	}
	if (kwds == NULL)
		return 0;
	PyObject *key, *v;
	Py_ssize_t pos = 0;
	while (PyDict_Next(kwds, &pos, &key, &v)) {
		const char *name = PyUnicode_AsUTF8(key);
		if (name == NULL)
			return -1;
		const struct field_def *field = NULL;
		for (const struct field_def *f = fields; f->name != NULL; f++)
			if (strcmp(f->name, name) == 0)
				field = f;
		if (field == NULL) {
			PyErr_Format(PyExc_TypeError, "%s got an unexpected keyword argument '%s'",
				     Py_TYPE(self)->tp_name, name);
			return -1;
		}
		if (field_store(m, field, v) < 0)
			return -1;
	}
	return 0;
}

static PyObject *message_repr(PyObject *self)
{
	struct message_object *m = (struct message_object *)self;
	const struct field_def *fields = msg_defs[message_kind(Py_TYPE(self))].fields;
	PyObject *parts = PyList_New(0);
	if (parts == NULL)
		return NULL;
	for (const struct field_def *f = fields; f->name != NULL; f++) {
		PyObject *v = field_value(m, f);
		PyObject *s = v ? PyUnicode_FromFormat("%s=%R", f->name, v) : NULL;
		Py_XDECREF(v);
		if (s == NULL || PyList_Append(parts, s) < 0) {
			Py_XDECREF(s);
			Py_DECREF(parts);
			return NULL;
		}
		Py_DECREF(s);
	}
	PyObject *sep = PyUnicode_FromString(", ");
	PyObject *joined = sep ? PyUnicode_Join(sep, parts) : NULL;
	Py_XDECREF(sep);
	Py_DECREF(parts);
	if (joined == NULL)
		return NULL;
	PyObject *qualname = PyObject_GetAttrString((PyObject *)Py_TYPE(self), "__qualname__");
	PyObject *r = qualname ? PyUnicode_FromFormat("%U(%U)", qualname, joined) : NULL;
	Py_XDECREF(qualname);
	Py_DECREF(joined);
	return r;
}

/* Messages compare equal when they are of the same type with equal fields. */
static PyObject *message_richcompare(PyObject *a, PyObject *b, int op)
{
	if ((op != Py_EQ && op != Py_NE) || Py_TYPE(a) != Py_TYPE(b))
		Py_RETURN_NOTIMPLEMENTED;
	const struct field_def *fields = msg_defs[message_kind(Py_TYPE(a))].fields;
	int equal = 1;
	for (const struct field_def *f = fields; equal == 1 && f->name != NULL; f++) {
		PyObject *va = field_value((struct message_object *)a, f);
		PyObject *vb = field_value((struct message_object *)b, f);
		equal = (va && vb) ? PyObject_RichCompareBool(va, vb, Py_EQ) : -1;
		Py_XDECREF(va);
		Py_XDECREF(vb);
	}
	if (equal < 0)
		return NULL;
	return PyBool_FromLong(op == Py_EQ ? equal : !equal);
}

/* (type, field values...): the identity of a message for hashing. */
static PyObject *message_hash_fields(PyObject *self)
{
	const struct field_def *fields = msg_defs[message_kind(Py_TYPE(self))].fields;
	Py_ssize_t n_fields = 0;
	while (fields[n_fields].name != NULL)
		n_fields++;
	PyObject *t = PyTuple_New(n_fields + 1);
	if (t == NULL)
		return NULL;
	Py_INCREF(Py_TYPE(self));
	PyTuple_SET_ITEM(t, 0, (PyObject *)Py_TYPE(self));
	for (Py_ssize_t i = 0; i < n_fields; i++) {
		PyObject *v = field_value((struct message_object *)self, &fields[i]);
		if (v == NULL) {
			Py_DECREF(t);
			return NULL;
		}
		PyTuple_SET_ITEM(t, i + 1, v);
	}
	return t;
}

static Py_hash_t message_hash(PyObject *self)
{
	PyObject *t = message_hash_fields(self);
	if (t == NULL)
		return -1;
	Py_hash_t h = PyObject_Hash(t);
	Py_DECREF(t);
	return h;
}

static int create_message_types(PyObject *module)
{
	char qualname[64], tp_name[80];
	for (int k = 0; k < MSG_N_TYPES; k++) {
		const struct msg_def *def = &msg_defs[k];
		PyType_Slot slots[] = {
			{ Py_tp_dealloc, (void *)message_dealloc },
			{ Py_tp_init, (void *)message_init },
			{ Py_tp_new, (void *)PyType_GenericNew },
			{ Py_tp_repr, (void *)message_repr },
			{ Py_tp_richcompare, (void *)message_richcompare },
			{ Py_tp_hash, (void *)message_hash },
			{ Py_tp_doc, (void *)def->doc },
			{ def->members ? Py_tp_members : 0, (void *)def->members },
			{ 0, NULL },
		};
		snprintf(tp_name, sizeof tp_name, "flitzis_looper_rs.%s", def->name);
		PyType_Spec spec = {
			.name = tp_name,
			.basicsize = sizeof(struct message_object),
			.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
			.slots = slots,
		};
		PyObject *bases = NULL;
		if (k != MSG_BASE) {
			bases = PyTuple_Pack(1, (PyObject *)g_msg_types[MSG_BASE]);
			if (bases == NULL)
				return -1;
		}
		PyObject *tp = PyType_FromSpecWithBases(&spec, bases);
		Py_XDECREF(bases);
		if (tp == NULL)
			return -1;
		g_msg_types[k] = (PyTypeObject *)tp;
		if (k != MSG_BASE) {
			snprintf(qualname, sizeof qualname, "AudioMessage.%s", def->name);
			PyObject *q = PyUnicode_FromString(qualname);
			int rc = q ? PyObject_SetAttrString(tp, "__qualname__", q) : -1;
			Py_XDECREF(q);
			if (rc < 0 ||
			    PyObject_SetAttrString((PyObject *)g_msg_types[MSG_BASE], def->name, tp) < 0)
				return -1;
		}
	}
	Py_INCREF(g_msg_types[MSG_BASE]);
	if (PyModule_AddObject(module, "AudioMessage", (PyObject *)g_msg_types[MSG_BASE]) < 0) {
		Py_DECREF(g_msg_types[MSG_BASE]);
		return -1;
	}
	return 0;
}

/* A new message of a kind; fields default to None/0. */
static struct message_object *message_new(enum msg_type kind)
{
	PyTypeObject *tp = g_msg_types[kind];
	return (struct message_object *)tp->tp_alloc(tp, 0);
}

/* Conversions from a struct flz_engine_msg field, one per field KIND:
 * @return 0, or -1 with an exception set */
static int convert_SLOT(PyObject **out, int32_t slot, const struct flz_engine_msg *em)
{
	(void)em;
	if (slot < 0)
		return 0;
	*out = PyLong_FromLong(slot);
	return *out ? 0 : -1;
}

static int convert_SEQ(unsigned long long *out, uint32_t seq, const struct flz_engine_msg *em)
{
	(void)em;
	*out = seq;
	return 0;
}

static int convert_FRAME(long long *out, int64_t frame, const struct flz_engine_msg *em)
{
	(void)em;
	*out = frame;
	return 0;
}

static int convert_ERRNO(int *out, int error, const struct flz_engine_msg *em)
{
	(void)em;
	*out = error;
	return 0;
}

static int convert_ERRTEXT(PyObject **out, int error, const struct flz_engine_msg *em)
{
	(void)em;
	*out = PyUnicode_DecodeLocale(strerror(error < 0 ? -error : error), "surrogateescape");
	return *out ? 0 : -1;
}

static int convert_CMD(PyObject **out, enum flz_cmd_kind cmd, const struct flz_engine_msg *em)
{
	(void)em;
	const char *name = flz_cmd_name((int)cmd);
	if (name == NULL)
		return 0;
	*out = PyUnicode_FromString(name);
	return *out ? 0 : -1;
}

static int convert_CMDVALUE(PyObject **out, double value, const struct flz_engine_msg *em)
{
	if (!flz_cmd_has_value((int)em->cmd))
		return 0;
	*out = PyFloat_FromDouble(value);
	return *out ? 0 : -1;
}

static PyObject *message_from_engine(const struct flz_engine_msg *em)
{
	enum msg_type kind;
	switch (em->kind) {
#define KIND_CASE(suffix, number, pyname, fields, doc) \
	case FLZ_MSG_##suffix:                         \
		kind = MSG_##suffix;                   \
		break;
		FLZ_MSG_KINDS(KIND_CASE)
#undef KIND_CASE
	default:
		/* A kind newer than this module: the base class, no fields. */
		kind = MSG_BASE;
		break;
	}
	struct message_object *m = message_new(kind);
	if (m == NULL)
		return NULL;
	switch (em->kind) {
#define CONVERT_FIELD(name, c_field, fkind, doc)             \
	if (convert_##fkind(&m->name, em->c_field, em) < 0) \
		goto fail;
#define CONVERT_KIND(suffix, number, pyname, fields, doc) \
	case FLZ_MSG_##suffix:                            \
		fields(CONVERT_FIELD) break;
		FLZ_MSG_KINDS(CONVERT_KIND)
#undef CONVERT_KIND
#undef CONVERT_FIELD
	default:
		break;
	}
	return (PyObject *)m;
fail:
	Py_DECREF(m);
	return NULL;
}

/* The vocabulary as data, for tests that must agree with it:
 * {"commands": ((number, name, has_value, doc), ...),
 *  "messages": ((number, name, ((field, KIND, doc), ...), doc), ...)}. */
static PyObject *module_vocabulary(PyObject *module, PyObject *unused)
{
	static const struct {
		int number;
		const char *name;
		int has_value;
		const char *doc;
	} cmds[] = {
#define CMD_ROW(suffix, number, name, has_value, doc) { number, name, has_value, doc },
		FLZ_CMD_KINDS(CMD_ROW)
#undef CMD_ROW
	};
	size_t n_cmds = sizeof cmds / sizeof cmds[0];
	PyObject *commands = PyTuple_New((Py_ssize_t)n_cmds);
	PyObject *messages = PyList_New(0);
	PyObject *r = NULL;
	if (commands == NULL || messages == NULL)
		goto done;
	for (size_t i = 0; i < n_cmds; i++) {
		PyObject *row = Py_BuildValue("(isOs)", cmds[i].number, cmds[i].name,
					      cmds[i].has_value ? Py_True : Py_False, cmds[i].doc);
		if (row == NULL)
			goto done;
		PyTuple_SET_ITEM(commands, (Py_ssize_t)i, row);
	}
	for (int k = 0; k < MSG_N_TYPES; k++) {
		const struct msg_def *def = &msg_defs[k];
		if (def->engine_kind == 0)
			continue;
		PyObject *fields = PyList_New(0);
		if (fields == NULL)
			goto done;
		for (const struct field_def *f = def->fields; f->name != NULL; f++) {
			static const char *const kind_names[] = {
				[FK_SLOT] = FK_NAME_SLOT,	[FK_SEQ] = FK_NAME_SEQ,
				[FK_FRAME] = FK_NAME_FRAME,	[FK_ERRNO] = FK_NAME_ERRNO,
				[FK_ERRTEXT] = FK_NAME_ERRTEXT, [FK_CMD] = FK_NAME_CMD,
				[FK_CMDVALUE] = FK_NAME_CMDVALUE,
			};
			PyObject *row = Py_BuildValue("(sss)", f->name, kind_names[f->kind], f->doc);
			if (row == NULL || PyList_Append(fields, row) < 0) {
				Py_XDECREF(row);
				Py_DECREF(fields);
				goto done;
			}
			Py_DECREF(row);
		}
		PyObject *row = Py_BuildValue("(isNs)", def->engine_kind, def->name,
					      PyList_AsTuple(fields), def->doc);
		Py_DECREF(fields);
		if (row == NULL || PyList_Append(messages, row) < 0) {
			Py_XDECREF(row);
			goto done;
		}
		Py_DECREF(row);
	}
	r = Py_BuildValue("{s:O,s:N}", "commands", commands, "messages", PyList_AsTuple(messages));
done:
	Py_XDECREF(commands);
	Py_XDECREF(messages);
	return r;
}

/* ------------------------------------------------------------------------ */
/* AudioEngine                                                              */

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

static PyTypeObject engine_type;
static struct engine_object *g_engines;
/* flitzis_looper_rs.Device: a named tuple (name, description) per ALSA PCM. */
static PyTypeObject *g_device_type;

/* --- argument conversion ------------------------------------------------ */

static PyObject *slot_range_error(PyObject *index)
{
	char why[160];
	PyObject *s = PyObject_Str(index);
	const char *text = s ? PyUnicode_AsUTF8(s) : NULL;
	if (text == NULL) {
		Py_XDECREF(s);
		return NULL;
	}
	snprintf(why, sizeof why, "id out of range (expected 0..%d, got %s)", FLZ_NUM_SAMPLES - 1,
		 text);
	Py_DECREF(s);
	return raise_error(OP_ARG, -EINVAL, why, NULL);
}

static PyObject *type_error(const char *what, const char *expected, PyObject *got)
{
	char why[160];
	snprintf(why, sizeof why, "%s must be %s, not %.60s", what, expected, Py_TYPE(got)->tp_name);
	return raise_error(OP_TYPE, 0, why, NULL);
}

static int parse_slot_slow(PyObject *obj, int32_t *out)
{
	/* bool is an int subclass, but a slot given as True is a bug. */
	if (PyBool_Check(obj) || PyFloat_Check(obj) || !PyIndex_Check(obj)) {
		type_error("id", "an int", obj);
		return -1;
	}
	PyObject *index = PyNumber_Index(obj);
	if (index == NULL)
		return -1;
	int overflow;
	long v = PyLong_AsLongAndOverflow(index, &overflow);
	if (v == -1 && PyErr_Occurred()) {
		Py_DECREF(index);
		return -1;
	}
	if (overflow || v < 0 || v >= FLZ_NUM_SAMPLES) {
		slot_range_error(index);
		Py_DECREF(index);
		return -1;
	}
	Py_DECREF(index);
	*out = (int32_t)v;
	return 0;
}

/* A slot id: an int (or __index__ object), not bool or float, 0..215. */
static inline int parse_slot(PyObject *obj, int32_t *out)
{
	if (FLZ_LIKELY(PyLong_CheckExact(obj))) {
		int overflow;
		long v = PyLong_AsLongAndOverflow(obj, &overflow);
		if (FLZ_LIKELY(!overflow && v >= 0 && v < FLZ_NUM_SAMPLES)) {
			*out = (int32_t)v;
			return 0;
		}
		slot_range_error(obj);
		return -1;
	}
	return parse_slot_slow(obj, out);
}

/* A real number in lo..hi (NaN and infinities refused); range_msg on failure. */
static inline int parse_real(PyObject *obj, const char *what, double lo, double hi,
			     const char *range_msg, double *out)
{
	double v;
	if (FLZ_LIKELY(PyFloat_CheckExact(obj))) {
		v = PyFloat_AS_DOUBLE(obj);
	} else {
		if (PyBool_Check(obj) || PyUnicode_Check(obj) || PyBytes_Check(obj) ||
		    !(PyFloat_Check(obj) || PyLong_Check(obj) || PyIndex_Check(obj) ||
		      Py_TYPE(obj)->tp_as_number != NULL)) {
			type_error(what, "a float", obj);
			return -1;
		}
		v = PyFloat_AsDouble(obj);
		if (v == -1.0 && PyErr_Occurred()) {
			if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
				PyErr_Clear();
				raise_error(OP_ARG, -EINVAL, range_msg, NULL);
			} else if (PyErr_ExceptionMatches(PyExc_TypeError)) {
				PyErr_Clear();
				type_error(what, "a float", obj);
			}
			return -1;
		}
	}
	/* Written so that NaN fails the test. */
	if (FLZ_UNLIKELY(!(v >= lo && v <= hi))) {
		raise_error(OP_ARG, -EINVAL, range_msg, NULL);
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * Bind vectorcall arguments to named parameters (all required).
 * @return 0, or -1 with TypeError set
 */
static int bind_args(const char *fname, PyObject *const *args, Py_ssize_t nargs,
		     PyObject *kwnames, const char *const *names, Py_ssize_t n_params,
		     PyObject **out)
{
	if (kwnames == NULL && nargs == n_params) {
		for (Py_ssize_t i = 0; i < n_params; i++)
			out[i] = args[i];
		return 0;
	}
	char why[160];
	if (nargs > n_params) {
		snprintf(why, sizeof why, "%s() takes %zd positional argument%s but %zd were given",
			 fname, n_params, n_params == 1 ? "" : "s", nargs);
		raise_error(OP_TYPE, 0, why, NULL);
		return -1;
	}
	for (Py_ssize_t i = 0; i < n_params; i++)
		out[i] = i < nargs ? args[i] : NULL;
	Py_ssize_t n_kw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
	for (Py_ssize_t k = 0; k < n_kw; k++) {
		const char *name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, k));
		if (name == NULL)
			return -1;
		Py_ssize_t i;
		for (i = 0; i < n_params; i++)
			if (strcmp(name, names[i]) == 0)
				break;
		if (i == n_params) {
			snprintf(why, sizeof why, "%s() got an unexpected keyword argument '%.40s'",
				 fname, name);
			raise_error(OP_TYPE, 0, why, NULL);
			return -1;
		}
		if (out[i] != NULL) {
			snprintf(why, sizeof why, "%s() got multiple values for argument '%s'",
				 fname, names[i]);
			raise_error(OP_TYPE, 0, why, NULL);
			return -1;
		}
		out[i] = args[nargs + k];
	}
	for (Py_ssize_t i = 0; i < n_params; i++) {
		if (out[i] == NULL) {
			snprintf(why, sizeof why, "%s() missing required argument '%s'", fname,
				 names[i]);
			raise_error(OP_TYPE, 0, why, NULL);
			return -1;
		}
	}
	return 0;
}

/* An int keyword argument of the constructor in lo..hi. */
static int parse_config_int(PyObject *obj, const char *name, long lo, long hi, long *out)
{
	if (PyBool_Check(obj) || !PyLong_Check(obj)) {
		type_error(name, "an int", obj);
		return -1;
	}
	int overflow;
	long v = PyLong_AsLongAndOverflow(obj, &overflow);
	if (v == -1 && PyErr_Occurred())
		return -1;
	if (overflow || v < lo || v > hi) {
		char why[160];
		PyObject *s = PyObject_Str(obj);
		const char *text = s ? PyUnicode_AsUTF8(s) : NULL;
		if (text == NULL) {
			Py_XDECREF(s);
			return -1;
		}
		snprintf(why, sizeof why, "%s out of range (expected %ld..%ld, got %.40s)", name, lo,
			 hi, text);
		Py_DECREF(s);
		raise_error(OP_ARG, -EINVAL, why, NULL);
		return -1;
	}
	*out = v;
	return 0;
}

/* --- lifecycle ------------------------------------------------------------ */

static PyObject *engine_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "device", "sample_rate", "channels", "period_frames",
				  "periods", "rt_priority", "_trace_commands", NULL };
	PyObject *device = Py_None, *rate = NULL, *channels = NULL, *period = NULL,
		 *periods = NULL, *priority = NULL, *trace = NULL;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$OOOOOOO:AudioEngine", kwlist, &device,
					 &rate, &channels, &period, &periods, &priority, &trace))
		return NULL;

	struct flz_engine_config cfg = flz_engine_config_init();
	long v;
	if (rate) {
		if (parse_config_int(rate, "sample_rate", FLZ_RATE_MIN_HZ, FLZ_RATE_MAX_HZ, &v) < 0)
			return NULL;
		cfg.rate_hz = (uint32_t)v;
	}
	if (channels) {
		if (parse_config_int(channels, "channels", 1, FLZ_MAX_CHANNELS, &v) < 0)
			return NULL;
		cfg.n_channels = (uint32_t)v;
	}
	if (period) {
		if (parse_config_int(period, "period_frames", PERIOD_FRAMES_MIN,
				     FLZ_MAX_BLOCK_FRAMES, &v) < 0)
			return NULL;
		cfg.period_frames = (uint32_t)v;
	}
	if (periods) {
		if (parse_config_int(periods, "periods", PERIODS_MIN, PERIODS_MAX, &v) < 0)
			return NULL;
		cfg.n_periods = (uint32_t)v;
	}
	if (priority) {
		if (parse_config_int(priority, "rt_priority", 0, RT_PRIORITY_MAX, &v) < 0)
			return NULL;
		cfg.rt_priority = (int)v;
	}
	if (trace) {
		int t = PyObject_IsTrue(trace);
		if (t < 0)
			return NULL;
		cfg.trace_commands = t != 0;
	}

	const char *device_name;
	/* A record from list_devices() stands for its name. */
	if (g_device_type != NULL && Py_IS_TYPE(device, g_device_type))
		device = PyStructSequence_GET_ITEM(device, 0);
	if (device == Py_None) {
		const char *env = getenv(DEVICE_ENV);
		device_name = (env != NULL && env[0] != '\0') ? env : DEFAULT_DEVICE;
	} else if (PyUnicode_Check(device)) {
		Py_ssize_t n_bytes;
		device_name = PyUnicode_AsUTF8AndSize(device, &n_bytes);
		if (device_name == NULL)
			return NULL;
		if (n_bytes == 0 || strlen(device_name) != (size_t)n_bytes)
			return raise_error(OP_ARG, -EINVAL,
					   "device must be a non-empty ALSA PCM name without NUL characters",
					   NULL);
	} else {
		return type_error("device", "a str, a Device or None", device);
	}

	struct engine_object *self = (struct engine_object *)type->tp_alloc(type, 0);
	if (self == NULL)
		return NULL;
	self->device = PyMem_RawMalloc(strlen(device_name) + 1);
	self->logs = PyMem_RawCalloc(1, sizeof *self->logs);
	if (self->device == NULL || self->logs == NULL) {
		PyMem_RawFree(self->device);
		PyMem_RawFree(self->logs);
		self->device = NULL;
		self->logs = NULL;
		Py_DECREF(self);
		return PyErr_NoMemory();
	}
	strcpy(self->device, device_name);
	pthread_mutex_init(&self->logs->lock, NULL);
	atomic_init(&self->logs->n_pending, 0);

	cfg.device = self->device;
	cfg.log = log_queue_push;
	cfg.log_userdata = self->logs;
	int err = flz_engine_new(&cfg, &self->engine);
	if (err < 0) {
		Py_DECREF(self);
		return raise_error(err == -EINVAL ? OP_ARG : OP_COMMAND, err,
				   err == -EINVAL ? "the engine refused this configuration" : NULL,
				   NULL);
	}
	self->rate_hz = cfg.rate_hz;
	self->n_channels = cfg.n_channels;
	self->period_frames = cfg.period_frames;
	self->n_periods = cfg.n_periods;
	self->rt_priority = cfg.rt_priority;
	self->trace_commands = cfg.trace_commands;

	self->next = g_engines;
	if (g_engines != NULL)
		g_engines->prev = self;
	g_engines = self;
	return (PyObject *)self;
}

static void engine_dealloc(PyObject *obj)
{
	struct engine_object *self = (struct engine_object *)obj;
	if (self->weakreflist != NULL)
		PyObject_ClearWeakRefs(obj);
	if (self->prev != NULL)
		self->prev->next = self->next;
	else if (g_engines == self)
		g_engines = self->next;
	if (self->next != NULL)
		self->next->prev = self->prev;
	if (self->engine != NULL) {
		struct flz_engine *engine = self->engine;
		self->engine = NULL;
		/* Stopping joins the engine's threads: let other Python threads run. */
		Py_BEGIN_ALLOW_THREADS
		flz_engine_destroy(engine);
		Py_END_ALLOW_THREADS
	}
	if (self->logs != NULL) {
		pthread_mutex_destroy(&self->logs->lock);
		PyMem_RawFree(self->logs);
	}
	PyMem_RawFree(self->device);
	Py_TYPE(obj)->tp_free(obj);
}

static PyObject *engine_run(PyObject *obj, PyObject *unused)
{
	struct engine_object *self = (struct engine_object *)obj;
	char why[WHY_BYTES] = "";
	int err;
	Py_BEGIN_ALLOW_THREADS
	err = flz_engine_start(self->engine, why, sizeof why);
	Py_END_ALLOW_THREADS
	log_queue_drain(self->logs);
	if (err < 0) {
		/* The engine's own "already running" comes without a why; a busy
		 * device always names itself. (Asking is_running() instead would
		 * race with another thread's run() succeeding meanwhile, and
		 * report a busy device as "already running".) */
		if (err == -ENOMEM || (err == -EBUSY && why[0] == '\0'))
			return raise_error(OP_START, err, NULL, NULL);
		char text[WHY_BYTES + 160];
		if (why[0] != '\0' && strstr(why, self->device) != NULL)
			snprintf(text, sizeof text, "%s", why);
		else
			snprintf(text, sizeof text, "cannot open audio device '%s': %s", self->device,
				 why[0] != '\0' ? why : flz_strerror(err));
		return raise_error(OP_START, err, text, NULL);
	}
	/* A refused SCHED_FIFO arrives as the engine's warning, drained above. */
	Py_RETURN_NONE;
}

static PyObject *engine_shut_down(PyObject *obj, PyObject *unused)
{
	struct engine_object *self = (struct engine_object *)obj;
	Py_BEGIN_ALLOW_THREADS
	flz_engine_stop(self->engine);
	Py_END_ALLOW_THREADS
	log_queue_drain(self->logs);
	Py_RETURN_NONE;
}

static PyObject *engine_enter(PyObject *obj, PyObject *unused)
{
	PyObject *r = engine_run(obj, NULL);
	if (r == NULL)
		return NULL;
	Py_DECREF(r);
	Py_INCREF(obj);
	return obj;
}

static PyObject *engine_exit(PyObject *obj, PyObject *const *args, Py_ssize_t nargs)
{
	PyObject *r = engine_shut_down(obj, NULL);
	if (r == NULL)
		return NULL;
	Py_DECREF(r);
	Py_RETURN_FALSE; /* never swallow the exception */
}

/* --- commands ----------------------------------------------------------- */

static PyObject *engine_load_sample(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				    PyObject *kwnames)
{
	static const char *const names[] = { "id", "path" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[2];
	int32_t slot;
	if (bind_args("load_sample", args, nargs, kwnames, names, 2, a) < 0 ||
	    parse_slot(a[0], &slot) < 0)
		return NULL;
	if (!PyUnicode_Check(a[1]) && !PyBytes_Check(a[1]) &&
	    PyObject_HasAttrString(a[1], "__fspath__") == 0)
		return type_error("path", "a str, bytes or os.PathLike", a[1]);
	PyObject *fs_path = PyOS_FSPath(a[1]);
	if (fs_path == NULL)
		return NULL;
	PyObject *encoded = NULL;
	if (!PyUnicode_FSConverter(fs_path, &encoded)) {
		Py_DECREF(fs_path);
		return NULL;
	}
	char why[WHY_BYTES] = "";
	int err;
	const char *path = PyBytes_AS_STRING(encoded);
	Py_BEGIN_ALLOW_THREADS
	err = flz_engine_load_file(self->engine, slot, path, why, sizeof why);
	Py_END_ALLOW_THREADS
	Py_DECREF(encoded);
	/* A load that replaced bad values says so before it returns. */
	log_queue_drain(self->logs);
	if (err < 0) {
		raise_error(OP_LOAD, err, why, fs_path);
		Py_DECREF(fs_path);
		return NULL;
	}
	Py_DECREF(fs_path);
	Py_RETURN_NONE;
}

static PyObject *engine_play_sample(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				    PyObject *kwnames)
{
	static const char *const names[] = { "id", "volume" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[2];
	int32_t slot;
	double gain;
	if (FLZ_LIKELY(kwnames == NULL && nargs == 2)) {
		a[0] = args[0];
		a[1] = args[1];
	} else if (bind_args("play_sample", args, nargs, kwnames, names, 2, a) < 0) {
		return NULL;
	}
	if (parse_slot(a[0], &slot) < 0 ||
	    parse_real(a[1], "volume", FLZ_VOLUME_MIN, FLZ_VOLUME_MAX, "volume out of range",
		       &gain) < 0)
		return NULL;
	int err = flz_engine_play(self->engine, slot, (float)gain);
	if (FLZ_UNLIKELY(err < 0))
		return raise_error(OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

/* stop_sample(id) and unload_sample(id). */
static PyObject *slot_command(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
			     PyObject *kwnames, const char *fname,
			     int (*fn)(struct flz_engine *, int32_t))
{
	static const char *const names[] = { "id" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[1];
	int32_t slot;
	if (bind_args(fname, args, nargs, kwnames, names, 1, a) < 0 || parse_slot(a[0], &slot) < 0)
		return NULL;
	int err = fn(self->engine, slot);
	if (err < 0)
		return raise_error(OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_stop_sample(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				    PyObject *kwnames)
{
	return slot_command(obj, args, nargs, kwnames, "stop_sample", flz_engine_stop_slot);
}

static PyObject *engine_unload_sample(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				      PyObject *kwnames)
{
	return slot_command(obj, args, nargs, kwnames, "unload_sample", flz_engine_unload);
}

static PyObject *engine_stop_all(PyObject *obj, PyObject *unused)
{
	int err = flz_engine_stop_all(((struct engine_object *)obj)->engine);
	if (err < 0)
		return raise_error(OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_set_volume(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				   PyObject *kwnames)
{
	static const char *const names[] = { "volume" };
	PyObject *a[1];
	double gain;
	if (bind_args("set_volume", args, nargs, kwnames, names, 1, a) < 0 ||
	    parse_real(a[0], "volume", FLZ_VOLUME_MIN, FLZ_VOLUME_MAX, "volume out of range",
		       &gain) < 0)
		return NULL;
	int err = flz_engine_set_volume(((struct engine_object *)obj)->engine, (float)gain);
	if (err < 0)
		return raise_error(OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_set_speed(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				  PyObject *kwnames)
{
	static const char *const names[] = { "speed" };
	PyObject *a[1];
	double speed;
	if (bind_args("set_speed", args, nargs, kwnames, names, 1, a) < 0 ||
	    parse_real(a[0], "speed", FLZ_SPEED_MIN, FLZ_SPEED_MAX, "speed out of range", &speed) <
		    0)
		return NULL;
	int err = flz_engine_set_speed(((struct engine_object *)obj)->engine, speed);
	if (err < 0)
		return raise_error(OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_ping(PyObject *obj, PyObject *unused)
{
	int err = flz_engine_ping(((struct engine_object *)obj)->engine);
	if (err < 0)
		return raise_error(OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_receive_msg(PyObject *obj, PyObject *unused)
{
	struct engine_object *self = (struct engine_object *)obj;
	struct flz_engine_msg msg;
	log_queue_drain(self->logs);
	int rc = flz_engine_poll_message(self->engine, &msg);
	if (rc < 0)
		return raise_error(OP_COMMAND, rc, NULL, NULL);
	if (rc == 0)
		Py_RETURN_NONE;
	return message_from_engine(&msg);
}

static PyObject *engine_stats(PyObject *obj, PyObject *unused)
{
	struct engine_object *self = (struct engine_object *)obj;
	struct flz_engine_stats st;
	log_queue_drain(self->logs);
	flz_engine_get_stats(self->engine, &st);
	return Py_BuildValue("{s:I,s:I,s:s,s:I,s:I,s:I,s:d,s:K,s:i,s:i,s:I,s:d,s:L,s:K,s:O,s:O,s:s}",
			     "sample_rate", st.rate_hz, "channels", st.n_channels, "format",
			     flz_device_format_name(st.format), "period_frames", st.period_frames,
			     "periods", st.n_periods, "latency_frames", st.latency_frames,
			     "latency_ms", st.latency_ms, "xruns", (unsigned long long)st.xruns,
			     "rt_priority", st.rt_priority, "rt_error", st.rt_error,
			     "voices_playing", st.voices_playing, "load", st.load, "frames",
			     (long long)st.frames, "messages_dropped",
			     (unsigned long long)st.messages_dropped, "device_lost",
			     st.device_lost ? Py_True : Py_False, "running",
			     st.running ? Py_True : Py_False, "device", self->device);
}

static PyObject *engine_repr(PyObject *obj)
{
	struct engine_object *self = (struct engine_object *)obj;
	struct flz_engine_stats st;
	flz_engine_get_stats(self->engine, &st);
	if (!st.running)
		return PyUnicode_FromFormat(
			"<AudioEngine device='%s' sample_rate=%u channels=%u period_frames=%u "
			"periods=%u: stopped>",
			self->device, self->rate_hz, self->n_channels, self->period_frames,
			self->n_periods);
	return PyUnicode_FromFormat(
		"<AudioEngine device='%s' sample_rate=%u channels=%u period_frames=%u periods=%u: "
		"running %s, %u voice%s, %llu xrun%s%s>",
		self->device, st.rate_hz, st.n_channels, st.period_frames, st.n_periods,
		flz_device_format_name(st.format), st.voices_playing,
		st.voices_playing == 1 ? "" : "s", (unsigned long long)st.xruns,
		st.xruns == 1 ? "" : "s", st.device_lost ? ", device lost" : "");
}

/* --- device listing ------------------------------------------------------ */

static PyStructSequence_Field device_fields[] = {
	{ "name", "The ALSA PCM name; pass it (or the record) as AudioEngine(device=...)." },
	{ "description", "ALSA's description (may span lines), or None when the PCM has none." },
	{ NULL, NULL },
};

static PyStructSequence_Desc device_desc = {
	"flitzis_looper_rs.Device",
	"Device((name, description)) -- an ALSA PCM that can play, from\n"
	"AudioEngine.list_devices(). A named tuple: d.name, d.description.",
	device_fields,
	2,
};

static PyObject *text_or_none(const char *text)
{
	if (text == NULL)
		Py_RETURN_NONE;
	return PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
}

static PyObject *engine_list_devices(PyObject *unused_self, PyObject *unused)
{
	struct flz_device *devices = NULL;
	int64_t n;
	/* ALSA reads its configuration and may probe cards: do not hold others up. */
	Py_BEGIN_ALLOW_THREADS
	n = flz_engine_list_devices(&devices);
	Py_END_ALLOW_THREADS
	if (n < 0) {
		char why[160];
		snprintf(why, sizeof why, "cannot list the ALSA devices: %s", strerror((int)-n));
		return raise_error(OP_COMMAND, n == -ENOMEM ? -ENOMEM : -EIO, why, NULL);
	}
	PyObject *list = PyList_New((Py_ssize_t)n);
	for (int64_t i = 0; list != NULL && i < n; i++) {
		PyObject *rec = PyStructSequence_New(g_device_type);
		PyObject *name = rec ? text_or_none(devices[i].name) : NULL;
		PyObject *desc = name ? text_or_none(devices[i].description) : NULL;
		if (desc == NULL) {
			Py_XDECREF(name);
			Py_XDECREF(rec);
			Py_CLEAR(list);
			break;
		}
		PyStructSequence_SET_ITEM(rec, 0, name);
		PyStructSequence_SET_ITEM(rec, 1, desc);
		PyList_SET_ITEM(list, (Py_ssize_t)i, rec);
	}
	flz_engine_free_devices(devices, (size_t)n);
	return list;
}

/* --- properties --------------------------------------------------------- */

static PyObject *get_device(PyObject *obj, void *c)
{
	return PyUnicode_FromString(((struct engine_object *)obj)->device);
}

static PyObject *get_running(PyObject *obj, void *c)
{
	return PyBool_FromLong(flz_engine_is_running(((struct engine_object *)obj)->engine));
}

static PyObject *get_config_int(PyObject *obj, void *which)
{
	struct engine_object *self = (struct engine_object *)obj;
	switch ((intptr_t)which) {
	case 0: return PyLong_FromUnsignedLong(self->rate_hz);
	case 1: return PyLong_FromUnsignedLong(self->n_channels);
	case 2: return PyLong_FromUnsignedLong(self->period_frames);
	case 3: return PyLong_FromUnsignedLong(self->n_periods);
	default: return PyLong_FromLong(self->rt_priority);
	}
}

static PyGetSetDef engine_getset[] = {
	{ "device", get_device, NULL, "The ALSA PCM name the engine opens (str).", NULL },
	{ "running", get_running, NULL,
	  "True between a successful run() and shut_down() (also after the device was lost).",
	  NULL },
	{ "sample_rate", get_config_int, NULL,
	  "The requested sample rate in Hz (stats() has the granted one).", (void *)0 },
	{ "channels", get_config_int, NULL, "The requested channel count.", (void *)1 },
	{ "period_frames", get_config_int, NULL, "The requested frames per ALSA period.",
	  (void *)2 },
	{ "periods", get_config_int, NULL, "The requested periods in the ALSA buffer.", (void *)3 },
	{ "rt_priority", get_config_int, NULL,
	  "The SCHED_FIFO priority asked for (0: normal priority).", (void *)4 },
	{ NULL },
};

#define METH_FAST_KW (METH_FASTCALL | METH_KEYWORDS)

static PyMethodDef engine_methods[] = {
	{ "run", engine_run, METH_NOARGS,
	  "run($self)\n--\n\n"
	  "Open the device for interleaved mmap playback and start the audio thread\n"
	  "(SCHED_FIFO where permitted; otherwise normal priority and a warning on the\n"
	  "'flitzis_looper_rs' logger). Raises RuntimeError('AudioEngine already running')\n"
	  "when running, and RuntimeError naming the device and ALSA's reason when the\n"
	  "device cannot be opened or configured. Releases the GIL while it blocks." },
	{ "shut_down", engine_shut_down, METH_NOARGS,
	  "shut_down($self)\n--\n\n"
	  "Stop the audio thread, close the device and free every sample. Idempotent;\n"
	  "run() may be called again afterwards. Releases the GIL while it blocks." },
	{ "load_sample", (PyCFunction)(void (*)(void))engine_load_sample, METH_FAST_KW,
	  "load_sample($self, id, path)\n--\n\n"
	  "Decode a file (anything libsndfile reads) with the GIL released, convert it\n"
	  "to the device's rate and channels and publish it to slot id. Raises\n"
	  "FileNotFoundError for a missing file and ValueError with the reason for an\n"
	  "unreadable or undecodable one; on any error the slot is unchanged. Voices\n"
	  "playing an older sample of the slot keep playing it until stopped." },
	{ "play_sample", (PyCFunction)(void (*)(void))engine_play_sample, METH_FAST_KW,
	  "play_sample($self, id, volume)\n--\n\n"
	  "Start a new looping voice on slot id's sample, from its first frame, with\n"
	  "gain volume in 0.0..1.0. An empty slot is ignored. When MAX_VOICES voices\n"
	  "already play, the oldest voice is stolen (faded out) for the new one." },
	{ "stop_sample", (PyCFunction)(void (*)(void))engine_stop_sample, METH_FAST_KW,
	  "stop_sample($self, id)\n--\n\n"
	  "Stop every voice of slot id. A Stopped message follows when at least one\n"
	  "voice was playing, once they have gone silent." },
	{ "stop_all", engine_stop_all, METH_NOARGS,
	  "stop_all($self)\n--\n\n"
	  "Stop every voice. Safe when nothing plays (then no Stopped message is sent)." },
	{ "unload_sample", (PyCFunction)(void (*)(void))engine_unload_sample, METH_FAST_KW,
	  "unload_sample($self, id)\n--\n\n"
	  "Stop the slot's voices and empty the slot." },
	{ "set_volume", (PyCFunction)(void (*)(void))engine_set_volume, METH_FAST_KW,
	  "set_volume($self, volume)\n--\n\n"
	  "Set the master gain, 0.0..1.0. Never refused for a full queue; the latest\n"
	  "value always takes effect." },
	{ "set_speed", (PyCFunction)(void (*)(void))engine_set_speed, METH_FAST_KW,
	  "set_speed($self, speed)\n--\n\n"
	  "Set the global playback speed, 0.5..2.0, as varispeed (pitch follows speed).\n"
	  "Never refused for a full queue; the latest value always takes effect." },
	{ "ping", engine_ping, METH_NOARGS,
	  "ping($self)\n--\n\nAsk the audio thread for an AudioMessage.Pong." },
	{ "receive_msg", engine_receive_msg, METH_NOARGS,
	  "receive_msg($self)\n--\n\n"
	  "Return the next AudioMessage from the audio thread, or None at once when\n"
	  "there is none. Never blocks." },
	{ "stats", engine_stats, METH_NOARGS,
	  "stats($self)\n--\n\n"
	  "A dict describing the engine: sample_rate, channels, format, period_frames,\n"
	  "periods, latency_frames, latency_ms, xruns, rt_priority, rt_error (errno of a\n"
	  "refused SCHED_FIFO, else 0), voices_playing, load (0..1), frames,\n"
	  "messages_dropped, device_lost, running, device. Works when stopped too." },
	{ "list_devices", engine_list_devices, METH_NOARGS | METH_STATIC,
	  "list_devices()\n--\n\n"
	  "The ALSA PCMs that can play, as a list of Device(name, description) named\n"
	  "tuples in ALSA's order (its name hints; capture-only PCMs left out). Any\n"
	  "name, or the record itself, can be passed as AudioEngine(device=...).\n"
	  "Needs no running engine; releases the GIL while ALSA reads its configuration." },
	{ "__enter__", engine_enter, METH_NOARGS, "Run the engine; return it." },
	{ "__exit__", (PyCFunction)(void (*)(void))engine_exit, METH_FASTCALL,
	  "Shut the engine down." },
	{ NULL },
};

static PyTypeObject engine_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "flitzis_looper_rs.AudioEngine",
	.tp_basicsize = sizeof(struct engine_object),
	.tp_dealloc = engine_dealloc,
	.tp_repr = engine_repr,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "AudioEngine(*, device=None, sample_rate=48000, channels=2, period_frames=128, "
		  "periods=2, rt_priority=70, _trace_commands=False)\n"
		  "--\n\n"
		  "A real-time sample player: up to MAX_VOICES looping voices over NUM_SAMPLES\n"
		  "slots, mixed and played by a direct ALSA mmap thread.\n\n"
		  "device is an ALSA PCM name; None means $FLITZIS_AUDIO_DEVICE, else\n"
		  "'default'. The arguments are checked here (TypeError, ValueError naming\n"
		  "the argument); constructing opens nothing and starts no thread. run()\n"
		  "starts playback; 'with AudioEngine() as engine:' runs it and shuts it down.\n"
		  "Every method may be called from any Python thread.\n\n"
		  "Slot ids are ints 0..NUM_SAMPLES-1; bool and float ids raise TypeError.",
	.tp_methods = engine_methods,
	.tp_getset = engine_getset,
	.tp_new = engine_new,
	.tp_weaklistoffset = offsetof(struct engine_object, weakreflist),
};

/* ------------------------------------------------------------------------ */
/* Module                                                                   */

static PyObject *module_shutdown_all(PyObject *module, PyObject *unused)
{
	/* Take references first: shut_down() releases the GIL, and an engine
	 * could otherwise be freed (and unlinked) under our feet. */
	PyObject *live = PyList_New(0);
	if (live == NULL)
		return NULL;
	for (struct engine_object *e = g_engines; e != NULL; e = e->next) {
		if (PyList_Append(live, (PyObject *)e) < 0) {
			Py_DECREF(live);
			return NULL;
		}
	}
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(live); i++) {
		PyObject *r = engine_shut_down(PyList_GET_ITEM(live, i), NULL);
		Py_XDECREF(r);
	}
	Py_DECREF(live);
	Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
	{ "_shutdown_all", module_shutdown_all, METH_NOARGS,
	  "Shut down every engine still running (registered with atexit)." },
	{ "_vocabulary", module_vocabulary, METH_NOARGS,
	  "The command and message kinds of flz/vocabulary.h, as data (for tests)." },
	{ NULL },
};

static struct PyModuleDef module_def = {
	PyModuleDef_HEAD_INIT,
	.m_name = "flitzis_looper_rs._native",
	.m_doc = "The C implementation of flitzis_looper_rs (see the package for the API).",
	.m_size = -1,
	.m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__native(void);

PyMODINIT_FUNC PyInit__native(void)
{
	PyObject *m = PyModule_Create(&module_def);
	if (m == NULL)
		return NULL;
	if (PyType_Ready(&engine_type) < 0)
		goto fail;
	Py_INCREF(&engine_type);
	if (PyModule_AddObject(m, "AudioEngine", (PyObject *)&engine_type) < 0) {
		Py_DECREF(&engine_type);
		goto fail;
	}
	if (create_message_types(m) < 0)
		goto fail;
	g_queue_full_error = add_exception(
		m, "QueueFullError",
		"A command could not be queued: the command buffer is full because the audio\n"
		"thread is not keeping up (e.g. the device stalled). Nothing was applied.");
	g_not_running_error = add_exception(
		m, "NotRunningError",
		"The call needs a running engine: call run() first (or again after shut_down()).");
	g_device_error = add_exception(
		m, "DeviceError",
		"The audio device cannot be opened or configured (raised by run(), naming the\n"
		"device and the reason), or it was lost while running.");
	if (g_queue_full_error == NULL || g_not_running_error == NULL || g_device_error == NULL)
		goto fail;
	g_device_type = PyStructSequence_NewType(&device_desc);
	if (g_device_type == NULL)
		goto fail;
	Py_INCREF(g_device_type);
	if (PyModule_AddObject(m, "Device", (PyObject *)g_device_type) < 0) {
		Py_DECREF(g_device_type);
		goto fail;
	}
	if (PyModule_AddIntConstant(m, "NUM_SAMPLES", FLZ_NUM_SAMPLES) < 0 ||
	    PyModule_AddIntConstant(m, "MAX_VOICES", FLZ_MAX_VOICES) < 0 ||
	    PyModule_AddObject(m, "SPEED_MIN", PyFloat_FromDouble(FLZ_SPEED_MIN)) < 0 ||
	    PyModule_AddObject(m, "SPEED_MAX", PyFloat_FromDouble(FLZ_SPEED_MAX)) < 0 ||
	    PyModule_AddObject(m, "VOLUME_MIN", PyFloat_FromDouble(FLZ_VOLUME_MIN)) < 0 ||
	    PyModule_AddObject(m, "VOLUME_MAX", PyFloat_FromDouble(FLZ_VOLUME_MAX)) < 0 ||
	    PyModule_AddIntConstant(m, "QUEUE_CAPACITY", FLZ_QUEUE_CAPACITY) < 0)
		goto fail;

	PyObject *logging = PyImport_ImportModule("logging");
	if (logging == NULL)
		goto fail;
	g_logger = PyObject_CallMethod(logging, "getLogger", "s", "flitzis_looper_rs");
	Py_DECREF(logging);
	if (g_logger == NULL)
		goto fail;
	return m;
fail:
	Py_DECREF(m);
	return NULL;
}
