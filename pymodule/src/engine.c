/* SPDX-License-Identifier: MIT */
/* flitzis_looper_rs._native: AudioEngine. */
#include "module-private.h"

/* ------------------------------------------------------------------------ */
/* AudioEngine                                                              */


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
	return raise_error(NULL, OP_ARG, -EINVAL, why, NULL);
}

PyObject *type_error(const char *what, const char *expected, PyObject *got)
{
	char why[160];
	snprintf(why, sizeof why, "%s must be %s, not %.60s", what, expected, Py_TYPE(got)->tp_name);
	return raise_error(NULL, OP_TYPE, 0, why, NULL);
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
				raise_error(NULL, OP_ARG, -EINVAL, range_msg, NULL);
			} else if (PyErr_ExceptionMatches(PyExc_TypeError)) {
				PyErr_Clear();
				type_error(what, "a float", obj);
			}
			return -1;
		}
	}
	/* Written so that NaN fails the test. */
	if (FLZ_UNLIKELY(!(v >= lo && v <= hi))) {
		raise_error(NULL, OP_ARG, -EINVAL, range_msg, NULL);
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * Bind vectorcall arguments to named parameters, the first n_required of
 * them required; an optional one not given is left NULL.
 * @return 0, or -1 with TypeError set
 */
static int bind_args_opt(const char *fname, PyObject *const *args, Py_ssize_t nargs,
			 PyObject *kwnames, const char *const *names, Py_ssize_t n_params,
			 Py_ssize_t n_required, PyObject **out)
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
		raise_error(NULL, OP_TYPE, 0, why, NULL);
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
			raise_error(NULL, OP_TYPE, 0, why, NULL);
			return -1;
		}
		if (out[i] != NULL) {
			snprintf(why, sizeof why, "%s() got multiple values for argument '%s'",
				 fname, names[i]);
			raise_error(NULL, OP_TYPE, 0, why, NULL);
			return -1;
		}
		out[i] = args[nargs + k];
	}
	for (Py_ssize_t i = 0; i < n_required; i++) {
		if (out[i] == NULL) {
			snprintf(why, sizeof why, "%s() missing required argument '%s'", fname,
				 names[i]);
			raise_error(NULL, OP_TYPE, 0, why, NULL);
			return -1;
		}
	}
	return 0;
}

/* bind_args_opt() with every parameter required. */
static int bind_args(const char *fname, PyObject *const *args, Py_ssize_t nargs,
		     PyObject *kwnames, const char *const *names, Py_ssize_t n_params,
		     PyObject **out)
{
	return bind_args_opt(fname, args, nargs, kwnames, names, n_params, n_params, out);
}

int engine_bind_args(const char *fname, PyObject *const *args, Py_ssize_t nargs,
		     PyObject *kwnames, const char *const *names, Py_ssize_t n_params,
		     Py_ssize_t n_required, PyObject **out)
{
	return bind_args_opt(fname, args, nargs, kwnames, names, n_params, n_required, out);
}

int engine_parse_slot(PyObject *obj, int32_t *out)
{
	return parse_slot(obj, out);
}

int engine_parse_real(PyObject *obj, const char *what, double lo, double hi,
		      const char *range_msg, double *out)
{
	return parse_real(obj, what, lo, hi, range_msg, out);
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
		raise_error(NULL, OP_ARG, -EINVAL, why, NULL);
		return -1;
	}
	*out = v;
	return 0;
}

/* --- lifecycle ------------------------------------------------------------ */

static PyObject *engine_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "device", "sample_rate", "channels", "period_frames",
				  "periods", "rt_priority", "_trace_commands", "load_workers", "meter_hz",
				  "key_lock_voices", NULL };
	PyObject *device = Py_None, *rate = NULL, *channels = NULL, *period = NULL,
		 *periods = NULL, *priority = NULL, *trace = NULL, *workers = NULL,
		 *meter_hz = NULL, *key_lock_voices = NULL;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$OOOOOOOOOO:AudioEngine", kwlist, &device,
					 &rate, &channels, &period, &periods, &priority, &trace,
					 &workers, &meter_hz, &key_lock_voices))
		return NULL;
	long load_workers = 2;
	if (workers && parse_config_int(workers, "load_workers", 1, FLZ_LOADPOOL_MAX_WORKERS,
					&load_workers) < 0)
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
	if (meter_hz && engine_parse_real(meter_hz, "meter_hz", 1.0, 200.0,
					  "meter_hz out of range", &cfg.meter_hz) < 0)
		return NULL;
	if (key_lock_voices) {
		if (parse_config_int(key_lock_voices, "key_lock_voices", 0, FLZ_MAX_VOICES, &v) < 0)
			return NULL;
		cfg.key_lock_voices = (uint32_t)v;
	}
	if (trace) {
		int t = PyObject_IsTrue(trace);
		if (t < 0)
			return NULL;
		cfg.trace_commands = t != 0;
	}

	const char *device_name;
	/* A record from list_devices() stands for its name. */
	struct module_state *st = PyType_GetModuleState(type);
	if (st == NULL)
		return NULL;
	if (st->device_type != NULL && Py_IS_TYPE(device, st->device_type))
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
			return raise_error(NULL, OP_ARG, -EINVAL,
					   "device must be a non-empty ALSA PCM name without NUL characters",
					   NULL);
		if (strcmp(device_name, "wav:") == 0)
			return raise_error(NULL, OP_ARG, -EINVAL,
					   "device 'wav:' needs a path: 'wav:PATH'", NULL);
	} else {
		return type_error("device", "a str, a Device or None", device);
	}

	struct engine_object *self = (struct engine_object *)type->tp_alloc(type, 0);
	if (self == NULL)
		return NULL;
	self->state = st;
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
		return raise_error(st, err == -EINVAL ? OP_ARG : OP_COMMAND, err,
				   err == -EINVAL ? "the engine refused this configuration" : NULL,
				   NULL);
	}
	self->rate_hz = cfg.rate_hz;
	self->n_channels = cfg.n_channels;
	self->period_frames = cfg.period_frames;
	self->n_periods = cfg.n_periods;
	self->rt_priority = cfg.rt_priority;
	self->trace_commands = cfg.trace_commands;
	self->load_workers = (uint32_t)load_workers;

	self->next = st->engines;
	if (st->engines != NULL)
		st->engines->prev = self;
	st->engines = self;
	return (PyObject *)self;
}

static void engine_dealloc(PyObject *obj)
{
	struct engine_object *self = (struct engine_object *)obj;
	if (self->weakreflist != NULL)
		PyObject_ClearWeakRefs(obj);
	if (self->prev != NULL)
		self->prev->next = self->next;
	else if (self->state != NULL && self->state->engines == self)
		self->state->engines = self->next;
	if (self->next != NULL)
		self->next->prev = self->prev;
	if (self->engine != NULL) {
		struct flz_engine *engine = self->engine;
		self->engine = NULL;
		struct flz_loadpool *pool = engine_detach_pool(self);
		/* Stopping joins the engine's threads: let other Python threads run. */
		Py_BEGIN_ALLOW_THREADS
		flz_loadpool_destroy(pool);
		flz_engine_destroy(engine);
		Py_END_ALLOW_THREADS
	}
	Py_CLEAR(self->async_paths);
	engine_forget_meters(self);
	if (self->logs != NULL) {
		pthread_mutex_destroy(&self->logs->lock);
		PyMem_RawFree(self->logs);
	}
	PyMem_RawFree(self->device);
	PyTypeObject *tp = Py_TYPE(obj);
	tp->tp_free(obj);
	Py_DECREF(tp); /* instances of heap types own a reference to their type */
}

static PyObject *engine_run(PyObject *obj, PyObject *unused)
{
	struct engine_object *self = (struct engine_object *)obj;
	char why[WHY_BYTES] = "";
	int err;
	Py_BEGIN_ALLOW_THREADS
	err = flz_engine_start(self->engine, why, sizeof why);
	Py_END_ALLOW_THREADS
	log_queue_drain(self->logs, self->state->logger);
	if (err < 0) {
		/* The engine's own "already running" comes without a why; a busy
		 * device always names itself. (Asking is_running() instead would
		 * race with another thread's run() succeeding meanwhile, and
		 * report a busy device as "already running".) */
		if (err == -ENOMEM || (err == -EBUSY && why[0] == '\0'))
			return raise_error(self->state, OP_START, err, NULL, NULL);
		char text[WHY_BYTES + 160];
		if (why[0] != '\0' && strstr(why, self->device) != NULL)
			snprintf(text, sizeof text, "%s", why);
		else
			snprintf(text, sizeof text, "cannot open audio device '%s': %s", self->device,
				 why[0] != '\0' ? why : flz_strerror(err));
		return raise_error(self->state, OP_START, err, text, NULL);
	}
	/* A refused SCHED_FIFO arrives as the engine's warning, drained above. */
	engine_forget_meters(self); /* frames count from 0 again */
	if (engine_attach_pool(self) < 0) {
		Py_BEGIN_ALLOW_THREADS
		flz_engine_stop(self->engine);
		Py_END_ALLOW_THREADS
		return NULL;
	}
	Py_RETURN_NONE;
}

PyObject *engine_shut_down(PyObject *obj, PyObject *unused)
{
	struct engine_object *self = (struct engine_object *)obj;
	struct flz_loadpool *pool = engine_detach_pool(self);
	Py_BEGIN_ALLOW_THREADS
	flz_loadpool_destroy(pool);
	flz_engine_stop(self->engine);
	Py_END_ALLOW_THREADS
	engine_forget_meters(self);
	log_queue_drain(self->logs, self->state->logger);
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
	log_queue_drain(self->logs, self->state->logger);
	if (err < 0) {
		raise_error(self->state, OP_LOAD, err, why, fs_path);
		Py_DECREF(fs_path);
		return NULL;
	}
	Py_DECREF(fs_path);
	Py_RETURN_NONE;
}

/* An int argument in lo..hi: TypeError for anything but an int (bool and
 * float included), ValueError("<what> out of range (...)") outside. */
static int parse_int64(PyObject *obj, const char *what, long long lo, long long hi,
		       long long *out)
{
	if (PyBool_Check(obj) || PyFloat_Check(obj) || !PyIndex_Check(obj)) {
		type_error(what, "an int", obj);
		return -1;
	}
	PyObject *index = PyNumber_Index(obj);
	if (index == NULL)
		return -1;
	int overflow;
	long long v = PyLong_AsLongLongAndOverflow(index, &overflow);
	if (v == -1 && PyErr_Occurred()) {
		Py_DECREF(index);
		return -1;
	}
	if (overflow || v < lo || v > hi) {
		char why[160];
		PyObject *text = PyObject_Str(index);
		const char *t = text ? PyUnicode_AsUTF8(text) : NULL;
		if (t == NULL) {
			Py_XDECREF(text);
			Py_DECREF(index);
			return -1;
		}
		snprintf(why, sizeof why, "%s out of range (expected %lld..%lld, got %.40s)", what, lo,
			 hi, t);
		Py_DECREF(text);
		Py_DECREF(index);
		raise_error(NULL, OP_ARG, -EINVAL, why, NULL);
		return -1;
	}
	Py_DECREF(index);
	*out = v;
	return 0;
}

int engine_parse_int64(PyObject *obj, const char *what, long long lo, long long hi, long long *out)
{
	return parse_int64(obj, what, lo, hi, out);
}

/* A quantisation mode name: TypeError for a non-str, ValueError naming the
 * argument and the unknown name. */
static int parse_quantize(PyObject *obj, const char *what, enum flz_quantize *out)
{
	if (!PyUnicode_Check(obj)) {
		type_error(what, "a str", obj);
		return -1;
	}
	const char *name = PyUnicode_AsUTF8(obj);
	if (name == NULL)
		return -1;
	if (flz_quantize_parse(name, out) < 0) {
		PyObject *r = PyObject_Repr(obj);
		const char *rt = r ? PyUnicode_AsUTF8(r) : NULL;
		if (rt == NULL) {
			Py_XDECREF(r);
			return -1;
		}
		char why[256];
		snprintf(why, sizeof why,
			 "%s out of range (unknown quantization mode %.40s; expected 'off', '1/64', "
			 "'1/32', '1/16', '1/8', '1/4', '1/2' or 'bar')",
			 what, rt);
		Py_DECREF(r);
		raise_error(NULL, OP_ARG, -EINVAL, why, NULL);
		return -1;
	}
	return 0;
}

/* play_sample(id, volume=1.0, *, at_frame=None, quantize=None) and
 * play_sample_exclusive(id, volume=1.0). */
static inline PyObject *play_command(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				     PyObject *kwnames, const char *fname, bool exclusive)
{
	static const char *const names[] = { "id", "volume", "at_frame", "quantize" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[4] = { NULL, NULL, NULL, NULL };
	struct flz_engine_play play = flz_engine_play_init(0);
	play.exclusive = exclusive;
	double gain = 1.0;
	const Py_ssize_t n_params = exclusive ? 2 : 4;
	if (FLZ_LIKELY(kwnames == NULL && nargs == 2)) {
		a[0] = args[0];
		a[1] = args[1];
	} else {
		if (nargs > 2) {
			char why[96];
			snprintf(why, sizeof why,
				 "%s() takes at most 2 positional arguments but %zd were given", fname,
				 nargs);
			return raise_error(NULL, OP_TYPE, 0, why, NULL);
		}
		if (bind_args_opt(fname, args, nargs, kwnames, names, n_params, 1, a) < 0)
			return NULL;
	}
	if (parse_slot(a[0], &play.slot) < 0 ||
	    (a[1] != NULL && parse_real(a[1], "volume", FLZ_VOLUME_MIN, FLZ_VOLUME_MAX,
					"volume out of range", &gain) < 0))
		return NULL;
	bool has_at = a[2] != NULL && a[2] != Py_None;
	bool has_quantize = a[3] != NULL && a[3] != Py_None;
	if (has_at) {
		long long at;
		if (parse_int64(a[2], "at_frame", 0, FLZ_TRANSPORT_FRAME_MAX, &at) < 0)
			return NULL;
		play.start = FLZ_ENGINE_START_AT_FRAME;
		play.at_frame = at;
	}
	if (has_quantize) {
		if (parse_quantize(a[3], "quantize", &play.quantize) < 0)
			return NULL;
		if (has_at)
			return raise_error(NULL, OP_ARG, -EINVAL,
					   "at_frame and quantize cannot both be given", NULL);
		play.start = FLZ_ENGINE_START_QUANTIZED;
	}
	play.gain = (float)gain;
	int err = flz_engine_play_ex(self->engine, &play);
	if (FLZ_UNLIKELY(err < 0)) {
		struct flz_engine_transport tp;
		if (err == -EAGAIN && flz_engine_transport(self->engine, &tp) == 0 &&
		    tp.n_pending >= FLZ_SCHEDULE_CAPACITY) {
			PyErr_Format(self->state->queue_full_error,
				     "command buffer is full: %d starts are pending (the most "
				     "there can be)",
				     FLZ_SCHEDULE_CAPACITY);
			return NULL;
		}
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	}
	Py_RETURN_NONE;
}

static PyObject *engine_set_trigger_quantization(PyObject *obj, PyObject *const *args,
						 Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const names[] = { "mode" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[1];
	enum flz_quantize mode;
	if (bind_args("set_trigger_quantization", args, nargs, kwnames, names, 1, a) < 0 ||
	    parse_quantize(a[0], "mode", &mode) < 0)
		return NULL;
	int err = flz_engine_set_trigger_quantization(self->engine, mode);
	if (err < 0)
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_set_master_bpm(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				       PyObject *kwnames)
{
	static const char *const names[] = { "bpm" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[1];
	double bpm;
	if (bind_args("set_master_bpm", args, nargs, kwnames, names, 1, a) < 0 ||
	    parse_real(a[0], "bpm", FLZ_TRANSPORT_BPM_MIN, FLZ_TRANSPORT_BPM_MAX,
		       "bpm out of range", &bpm) < 0)
		return NULL;
	int err = flz_engine_set_master_bpm(self->engine, bpm);
	if (err < 0)
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_set_beats_per_bar(PyObject *obj, PyObject *const *args,
					  Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const names[] = { "n" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[1];
	long long n;
	if (bind_args("set_beats_per_bar", args, nargs, kwnames, names, 1, a) < 0 ||
	    parse_int64(a[0], "beats_per_bar", FLZ_TRANSPORT_BEATS_PER_BAR_MIN,
			FLZ_TRANSPORT_BEATS_PER_BAR_MAX, &n) < 0)
		return NULL;
	int err = flz_engine_set_beats_per_bar(self->engine, (uint32_t)n);
	if (err < 0)
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_anchor_transport(PyObject *obj, PyObject *const *args,
					 Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const names[] = { "frame" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[1] = { NULL };
	long long frame = FLZ_ENGINE_ANCHOR_NOW;
	if (bind_args_opt("anchor_transport", args, nargs, kwnames, names, 1, 0, a) < 0)
		return NULL;
	if (a[0] != NULL && a[0] != Py_None &&
	    parse_int64(a[0], "frame", 0, FLZ_TRANSPORT_FRAME_MAX, &frame) < 0)
		return NULL;
	int err = flz_engine_anchor_transport(self->engine, frame);
	if (err < 0)
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_transport(PyObject *obj, PyObject *unused)
{
	struct engine_object *self = (struct engine_object *)obj;
	struct flz_engine_transport tp;
	int err = flz_engine_transport(self->engine, &tp);
	if (err < 0)
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	return PyObject_CallFunction((PyObject *)self->state->transport_type, "LdILdL",
				     (long long)tp.frame, tp.bpm, tp.beats_per_bar,
				     (long long)tp.bar, tp.beat, (long long)tp.downbeat_frame);
}

static PyObject *engine_play_sample(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				    PyObject *kwnames)
{
	return play_command(obj, args, nargs, kwnames, "play_sample", false);
}

static PyObject *engine_play_sample_exclusive(PyObject *obj, PyObject *const *args,
					      Py_ssize_t nargs, PyObject *kwnames)
{
	return play_command(obj, args, nargs, kwnames, "play_sample_exclusive", true);
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
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
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

static PyObject *engine_pause_sample(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				     PyObject *kwnames)
{
	return slot_command(obj, args, nargs, kwnames, "pause_sample", flz_engine_pause);
}

static PyObject *engine_resume_sample(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				      PyObject *kwnames)
{
	return slot_command(obj, args, nargs, kwnames, "resume_sample", flz_engine_resume);
}

/* A value error naming the argument, with what made it so. */
static PyObject *range_error(const char *range_msg, const char *detail)
{
	char why[160];
	snprintf(why, sizeof why, "%s (%s)", range_msg, detail);
	return raise_error(NULL, OP_ARG, -EINVAL, why, NULL);
}

/*
 * The slot's sample rate for a conversion of seconds, or 0 with an exception
 * set: NotRunningError when stopped, ValueError(range_msg) for an empty slot
 * (no position lies in a sample that is not there).
 */
static uint32_t slot_rate(struct engine_object *self, int32_t slot, const char *range_msg,
			  int64_t *n_frames)
{
	struct flz_engine_sample_info info;
	int rc = flz_engine_sample_info(self->engine, slot, &info, NULL, 0);
	if (rc < 0) {
		raise_error(self->state, OP_COMMAND, rc, NULL, NULL);
		return 0;
	}
	if (rc == 0) {
		char detail[48];
		snprintf(detail, sizeof detail, "slot %d is empty", (int)slot);
		range_error(range_msg, detail);
		return 0;
	}
	*n_frames = info.n_frames;
	return info.rate_hz;
}

/* Seconds (already checked finite and >= 0) to frames: round(s * rate).
 * Beyond any sample's length the result is only needed to be out of range. */
static int64_t seconds_to_frames(double seconds, uint32_t rate_hz)
{
	double frames = seconds * (double)rate_hz;
	return frames >= 0x1p62 ? INT64_MAX : (int64_t)llround(frames);
}

/* The engine's refusal of frames checked against the slot's sample. */
static PyObject *frames_error(struct engine_object *self, int err, const char *range_msg,
			      int32_t slot)
{
	if (err == -ENOENT) {
		char detail[48];
		snprintf(detail, sizeof detail, "slot %d is empty", (int)slot);
		return range_error(range_msg, detail);
	}
	if (err == -EINVAL)
		return raise_error(NULL, OP_ARG, err, range_msg, NULL);
	return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
}

static PyObject *engine_seek_sample(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				    PyObject *kwnames)
{
	static const char *const names[] = { "id", "position_s" };
	static const char range_msg[] = "position_s out of range";
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[2];
	int32_t slot;
	double position_s;
	if (bind_args("seek_sample", args, nargs, kwnames, names, 2, a) < 0 ||
	    parse_slot(a[0], &slot) < 0 ||
	    parse_real(a[1], "position_s", 0.0, DBL_MAX, range_msg, &position_s) < 0)
		return NULL;
	int64_t n_frames;
	uint32_t rate_hz = slot_rate(self, slot, range_msg, &n_frames);
	if (rate_hz == 0)
		return NULL;
	int64_t frame = seconds_to_frames(position_s, rate_hz);
	if (frame >= n_frames) {
		char detail[96];
		snprintf(detail, sizeof detail, "the sample lasts %.6f s",
			 (double)n_frames / rate_hz);
		return range_error(range_msg, detail);
	}
	int err = flz_engine_seek(self->engine, slot, frame);
	if (err < 0)
		return frames_error(self, err, range_msg, slot);
	Py_RETURN_NONE;
}

static PyObject *engine_set_pad_loop_region(PyObject *obj, PyObject *const *args,
					    Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const names[] = { "id", "start_s", "end_s" };
	static const char range_msg[] = "loop region out of range";
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[3];
	int32_t slot;
	double start_s, end_s = -1.0;
	if (bind_args_opt("set_pad_loop_region", args, nargs, kwnames, names, 3, 2, a) < 0 ||
	    parse_slot(a[0], &slot) < 0 ||
	    parse_real(a[1], "start_s", 0.0, DBL_MAX, range_msg, &start_s) < 0 ||
	    (a[2] != NULL && a[2] != Py_None &&
	     parse_real(a[2], "end_s", 0.0, DBL_MAX, range_msg, &end_s) < 0))
		return NULL;
	int64_t n_frames;
	uint32_t rate_hz = slot_rate(self, slot, range_msg, &n_frames);
	if (rate_hz == 0)
		return NULL;
	int64_t start = seconds_to_frames(start_s, rate_hz);
	int64_t end = end_s < 0.0 ? -1 : seconds_to_frames(end_s, rate_hz);
	int64_t end_frames = end == -1 ? n_frames : end;
	if (end_frames > n_frames || start >= n_frames) {
		char detail[96];
		snprintf(detail, sizeof detail, "the sample lasts %.6f s",
			 (double)n_frames / rate_hz);
		return range_error(range_msg, detail);
	}
	if (start >= end_frames)
		return range_error(range_msg, "the start must come before the end");
	int err = flz_engine_set_loop_region(self->engine, slot, start, end);
	if (err < 0)
		return frames_error(self, err, range_msg, slot);
	Py_RETURN_NONE;
}

static PyObject *engine_set_pad_bpm(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				    PyObject *kwnames)
{
	static const char *const names[] = { "id", "bpm" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[2];
	int32_t slot;
	double bpm = 0.0;
	if (bind_args("set_pad_bpm", args, nargs, kwnames, names, 2, a) < 0 ||
	    parse_slot(a[0], &slot) < 0 ||
	    (a[1] != Py_None && parse_real(a[1], "bpm", FLZ_TRANSPORT_BPM_MIN,
					   FLZ_TRANSPORT_BPM_MAX, "bpm out of range", &bpm) < 0))
		return NULL;
	/* None clears: the engine's 0. */
	int err = flz_engine_set_pad_bpm(self->engine, slot, bpm);
	if (err < 0)
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_set_pad_downbeat(PyObject *obj, PyObject *const *args,
					 Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const names[] = { "id", "offset_s" };
	static const char range_msg[] = "offset_s out of range";
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[2];
	int32_t slot;
	double offset_s;
	if (bind_args("set_pad_downbeat", args, nargs, kwnames, names, 2, a) < 0 ||
	    parse_slot(a[0], &slot) < 0 ||
	    parse_real(a[1], "offset_s", 0.0, DBL_MAX, range_msg, &offset_s) < 0)
		return NULL;
	int64_t n_frames;
	uint32_t rate_hz = slot_rate(self, slot, range_msg, &n_frames);
	if (rate_hz == 0)
		return NULL;
	int64_t frame = seconds_to_frames(offset_s, rate_hz);
	if (frame >= n_frames) {
		char detail[96];
		snprintf(detail, sizeof detail, "the sample lasts %.6f s",
			 (double)n_frames / rate_hz);
		return range_error(range_msg, detail);
	}
	int err = flz_engine_set_pad_downbeat(self->engine, slot, frame);
	if (err < 0)
		return frames_error(self, err, range_msg, slot);
	Py_RETURN_NONE;
}

static PyObject *engine_set_bpm_lock(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				     PyObject *kwnames)
{
	static const char *const names[] = { "enabled" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[1];
	if (bind_args("set_bpm_lock", args, nargs, kwnames, names, 1, a) < 0)
		return NULL;
	/* A bool only: 0.5 or "yes" would be a guess. */
	if (!PyBool_Check(a[0])) {
		type_error("enabled", "a bool", a[0]);
		return NULL;
	}
	int err = flz_engine_set_bpm_lock(self->engine, a[0] == Py_True);
	if (err < 0)
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

/* Key lock's commands without the stretch feature (-ENOTSUP). */
#define KEY_LOCK_MISSING \
	"key lock needs a build with the stretch feature (Rubber Band; meson -Dstretch=enabled)"

static PyObject *engine_set_key_lock(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				     PyObject *kwnames)
{
	static const char *const names[] = { "enabled" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[1];
	if (bind_args("set_key_lock", args, nargs, kwnames, names, 1, a) < 0)
		return NULL;
	if (!PyBool_Check(a[0])) {
		type_error("enabled", "a bool", a[0]);
		return NULL;
	}
	int err = flz_engine_set_key_lock(self->engine, a[0] == Py_True);
	if (err < 0)
		return raise_error(self->state, OP_COMMAND, err,
				   err == -ENOTSUP ? KEY_LOCK_MISSING : NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_set_pad_key_lock(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
					 PyObject *kwnames)
{
	static const char *const names[] = { "id", "enabled" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[2];
	int32_t slot;
	if (bind_args("set_pad_key_lock", args, nargs, kwnames, names, 2, a) < 0 ||
	    parse_slot(a[0], &slot) < 0)
		return NULL;
	/* True, False or None (follows the global setting): nothing else. */
	if (a[1] != Py_None && !PyBool_Check(a[1])) {
		type_error("enabled", "a bool or None", a[1]);
		return NULL;
	}
	const int mode = a[1] == Py_None ? -1 : a[1] == Py_True ? 1 : 0;
	int err = flz_engine_set_pad_key_lock(self->engine, slot, mode);
	if (err < 0)
		return raise_error(self->state, OP_COMMAND, err,
				   err == -ENOTSUP ? KEY_LOCK_MISSING : NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_set_pad_gain(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				     PyObject *kwnames)
{
	static const char *const names[] = { "id", "gain_db" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[2];
	int32_t slot;
	double gain_db;
	if (bind_args("set_pad_gain", args, nargs, kwnames, names, 2, a) < 0 ||
	    parse_slot(a[0], &slot) < 0 ||
	    parse_real(a[1], "gain_db", FLZ_PAD_GAIN_DB_MIN, FLZ_PAD_GAIN_DB_MAX,
		       "gain_db out of range", &gain_db) < 0)
		return NULL;
	int err = flz_engine_set_pad_gain(self->engine, slot, gain_db);
	if (err < 0)
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_set_pad_eq(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				   PyObject *kwnames)
{
	static const char *const names[] = { "id", "low_db", "mid_db", "high_db" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[4];
	int32_t slot;
	double db[3];
	if (bind_args("set_pad_eq", args, nargs, kwnames, names, 4, a) < 0 ||
	    parse_slot(a[0], &slot) < 0 ||
	    parse_real(a[1], "low_db", FLZ_PAD_EQ_DB_MIN, FLZ_PAD_EQ_DB_MAX, "low_db out of range",
		       &db[0]) < 0 ||
	    parse_real(a[2], "mid_db", FLZ_PAD_EQ_DB_MIN, FLZ_PAD_EQ_DB_MAX, "mid_db out of range",
		       &db[1]) < 0 ||
	    parse_real(a[3], "high_db", FLZ_PAD_EQ_DB_MIN, FLZ_PAD_EQ_DB_MAX,
		       "high_db out of range", &db[2]) < 0)
		return NULL;
	int err = flz_engine_set_pad_eq(self->engine, slot, db[0], db[1], db[2]);
	if (err == -ENOTSUP)
		return raise_error(self->state, OP_COMMAND, err,
				   "the EQ needs a device of 8000..192000 Hz and at most 8 channels",
				   NULL);
	if (err < 0)
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_set_pad_speed(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				      PyObject *kwnames)
{
	static const char *const names[] = { "id", "speed" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[2];
	int32_t slot;
	double speed;
	if (bind_args("set_pad_speed", args, nargs, kwnames, names, 2, a) < 0 ||
	    parse_slot(a[0], &slot) < 0 ||
	    parse_real(a[1], "speed", FLZ_PAD_SPEED_MIN, FLZ_PAD_SPEED_MAX, "speed out of range",
		       &speed) < 0)
		return NULL;
	int err = flz_engine_set_pad_speed(self->engine, slot, speed);
	if (err < 0)
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_sample_info(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				    PyObject *kwnames)
{
	static const char *const names[] = { "id" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[1];
	int32_t slot;
	if (bind_args("sample_info", args, nargs, kwnames, names, 1, a) < 0 ||
	    parse_slot(a[0], &slot) < 0)
		return NULL;
	struct flz_engine_sample_info info;
	char small[512];
	char *source = small;
	size_t source_size = sizeof small;
	int rc;
	/* Again with room for the whole name when it was longer than the first
	 * buffer (a path may be); the slot may change meanwhile, so loop. */
	for (;;) {
		rc = flz_engine_sample_info(self->engine, slot, &info, source, source_size);
		if (rc <= 0 || info.source_len < source_size)
			break;
		if (source != small)
			PyMem_Free(source);
		source_size = info.source_len + 1;
		source = PyMem_Malloc(source_size);
		if (source == NULL)
			return PyErr_NoMemory();
	}
	PyObject *r = NULL;
	if (rc < 0) {
		raise_error(self->state, OP_COMMAND, rc, NULL, NULL);
	} else if (rc == 0) {
		Py_INCREF(Py_None);
		r = Py_None;
	} else {
		PyObject *name = PyUnicode_DecodeFSDefault(source);
		if (name != NULL)
			r = PyObject_CallFunction((PyObject *)self->state->sample_info_type,
						  "LIIdIN", (long long)info.n_frames,
						  info.n_channels, info.rate_hz,
						  (double)info.n_frames / info.rate_hz,
						  info.source_rate_hz, name);
	}
	if (source != small)
		PyMem_Free(source);
	return r;
}

static PyObject *engine_stop_all(PyObject *obj, PyObject *unused)
{
	struct engine_object *self = (struct engine_object *)obj;
	int err = flz_engine_stop_all(self->engine);
	if (err < 0)
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_set_volume(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				   PyObject *kwnames)
{
	struct engine_object *self = (struct engine_object *)obj;
	static const char *const names[] = { "volume" };
	PyObject *a[1];
	double gain;
	if (bind_args("set_volume", args, nargs, kwnames, names, 1, a) < 0 ||
	    parse_real(a[0], "volume", FLZ_VOLUME_MIN, FLZ_VOLUME_MAX, "volume out of range",
		       &gain) < 0)
		return NULL;
	int err = flz_engine_set_volume(self->engine, (float)gain);
	if (err < 0)
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_set_speed(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				  PyObject *kwnames)
{
	struct engine_object *self = (struct engine_object *)obj;
	static const char *const names[] = { "speed" };
	PyObject *a[1];
	double speed;
	if (bind_args("set_speed", args, nargs, kwnames, names, 1, a) < 0 ||
	    parse_real(a[0], "speed", FLZ_SPEED_MIN, FLZ_SPEED_MAX, "speed out of range", &speed) <
		    0)
		return NULL;
	int err = flz_engine_set_speed(self->engine, speed);
	if (err < 0)
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_ping(PyObject *obj, PyObject *unused)
{
	struct engine_object *self = (struct engine_object *)obj;
	int err = flz_engine_ping(self->engine);
	if (err < 0)
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	Py_RETURN_NONE;
}

static PyObject *engine_receive_msg(PyObject *obj, PyObject *unused)
{
	struct engine_object *self = (struct engine_object *)obj;
	struct flz_engine_msg msg;
	log_queue_drain(self->logs, self->state->logger);
	int rc = flz_engine_poll_message(self->engine, &msg);
	if (rc < 0)
		return raise_error(self->state, OP_COMMAND, rc, NULL, NULL);
	if (rc == 0)
		return engine_receive_load_msg(self);
	return message_from_engine(self->state, &msg);
}

/* render(n_frames) on an offline engine: a new (n_frames, channels) float32
 * numpy array, rendered into with the GIL released. numpy is imported when
 * first used, through its Python API (no build dependency on its C API). */
static PyObject *engine_render(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
			       PyObject *kwnames)
{
	static const char *const names[] = { "n_frames" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[1];
	if (bind_args("render", args, nargs, kwnames, names, 1, a) < 0)
		return NULL;
	long long n;
	if (parse_int64(a[0], "n_frames", 1, (long long)FLZ_ENGINE_MAX_RENDER_FRAMES, &n) < 0)
		return NULL;
	if (strcmp(self->device, "offline") != 0) {
		PyErr_Format(PyExc_RuntimeError,
			     "render() needs AudioEngine(device=\"offline\"); this engine plays on '%s'",
			     self->device);
		return NULL;
	}
	struct flz_engine_stats st;
	flz_engine_get_stats(self->engine, &st);
	if (!st.running)
		return raise_error(self->state, OP_COMMAND, -ENOTCONN, NULL, NULL);

	PyObject *numpy = PyImport_ImportModule("numpy");
	if (numpy == NULL)
		return NULL;
	PyObject *array = PyObject_CallMethod(numpy, "empty", "((LI)s)", n, st.n_channels,
					      "float32");
	Py_DECREF(numpy);
	if (array == NULL)
		return NULL;
	Py_buffer view;
	if (PyObject_GetBuffer(array, &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
		Py_DECREF(array);
		return NULL;
	}
	if (view.len != (Py_ssize_t)(n * st.n_channels * (long long)sizeof(float))) {
		PyBuffer_Release(&view);
		Py_DECREF(array);
		PyErr_SetString(PyExc_RuntimeError, "numpy.empty gave a buffer of another size");
		return NULL;
	}
	int err;
	Py_BEGIN_ALLOW_THREADS
	err = flz_engine_render(self->engine, view.buf, (uint32_t)n);
	Py_END_ALLOW_THREADS
	PyBuffer_Release(&view);
	log_queue_drain(self->logs, self->state->logger);
	if (err < 0) {
		Py_DECREF(array);
		/* -ENOTCONN: stopped by another thread meanwhile. */
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	}
	return array;
}

static PyObject *engine_stats(PyObject *obj, PyObject *unused)
{
	struct engine_object *self = (struct engine_object *)obj;
	struct flz_engine_stats st;
	log_queue_drain(self->logs, self->state->logger);
	flz_engine_get_stats(self->engine, &st);
	return Py_BuildValue("{s:I,s:I,s:s,s:I,s:I,s:I,s:d,s:K,s:K,s:i,s:i,s:I,s:d,s:L,s:K,s:O,s:O,s:s,s:O,"
			     "s:K,s:K,s:K,s:O,s:K,s:K,s:K,s:K,s:K}",
			     "sample_rate", st.rate_hz, "channels", st.n_channels, "format",
			     flz_device_format_name(st.format), "period_frames", st.period_frames,
			     "periods", st.n_periods, "latency_frames", st.latency_frames,
			     "latency_ms", st.latency_ms, "xruns", (unsigned long long)st.xruns,
			     "xruns_stalled", (unsigned long long)st.xruns_stalled,
			     "rt_priority", st.rt_priority, "rt_error", st.rt_error,
			     "voices_playing", st.voices_playing, "load", st.load, "frames",
			     (long long)st.frames, "messages_dropped",
			     (unsigned long long)st.messages_dropped, "device_lost",
			     st.device_lost ? Py_True : Py_False, "running",
			     st.running ? Py_True : Py_False, "device", self->device,
			     "memory_locked", st.memory_locked ? Py_True : Py_False, "locked_bytes",
			     (unsigned long long)st.locked_bytes, "file_dropped_frames",
			     (unsigned long long)st.file_dropped_frames, "file_write_errors",
			     (unsigned long long)st.file_write_errors, "recording",
			     st.recording ? Py_True : Py_False, "record_dropped",
			     (unsigned long long)st.record_dropped, "record_write_errors",
			     (unsigned long long)st.record_write_errors, "key_lock_refused",
			     (unsigned long long)st.key_lock_refused, "key_lock_deferred",
			     (unsigned long long)st.key_lock_deferred, "key_lock_deferred_frames",
			     (unsigned long long)st.key_lock_deferred_frames);
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

/* --- properties --------------------------------------------------------- */

static PyObject *get_device(PyObject *obj, void *c)
{
	return PyUnicode_FromString(((struct engine_object *)obj)->device);
}

static PyObject *get_running(PyObject *obj, void *c)
{
	return PyBool_FromLong(flz_engine_is_running(((struct engine_object *)obj)->engine));
}

static PyObject *get_frame(PyObject *obj, void *c)
{
	struct engine_object *self = (struct engine_object *)obj;
	int64_t frame = flz_engine_frame(self->engine);
	if (frame < 0)
		return raise_error(self->state, OP_COMMAND, (int)frame, NULL, NULL);
	return PyLong_FromLongLong(frame);
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
	{ "frame", get_frame, NULL,
	  "Output frames rendered since run() (int): the transport clock, advanced by\n"
	  "the audio thread once per block. Raises NotRunningError when not running.",
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
	{ "load_sample_data", (PyCFunction)(void (*)(void))engine_load_sample_data, METH_FAST_KW,
	  "load_sample_data($self, id, data)\n--\n\n"
	  "As load_sample(), from an encoded file held in memory (bytes, bytearray or\n"
	  "memoryview of WAV, FLAC, Ogg, MP3...), decoded with the GIL released.\n"
	  "Raises ValueError with the reason for bytes that do not decode (or are\n"
	  "empty or not contiguous), TypeError for anything but a buffer; on any\n"
	  "error the slot is unchanged." },
	{ "load_sample_array", (PyCFunction)(void (*)(void))engine_load_sample_array,
	  METH_FAST_KW,
	  "load_sample_array($self, id, array, sample_rate)\n--\n\n"
	  "As load_sample(), from PCM: a C-contiguous numpy array of float32 or int16\n"
	  "(int16 x means x / 32768), shape (frames,) or (frames, channels), at\n"
	  "sample_rate Hz. Converted with the GIL released exactly as a WAV file of the\n"
	  "same frames would be: rate conversion, channel mapping, and non-finite\n"
	  "values replaced (NaN by 0, +-inf by +-1) with a warning on the logger.\n"
	  "Raises ValueError naming the problem for another dtype, shape, no frames, a\n"
	  "non-contiguous array or sample_rate out of range; on any error the slot is\n"
	  "unchanged." },
	{ "load_sample_async", (PyCFunction)(void (*)(void))engine_load_sample_async,
	  METH_FAST_KW,
	  "load_sample_async($self, id, source, *, sample_rate=None)\n--\n\n"
	  "Start loading pad id on the engine's loader threads (AudioEngine(load_workers=N))\n"
	  "and return the request id (an int) at once, never waiting on a decode. source\n"
	  "is a path (str, bytes, os.PathLike), encoded bytes (bytes, bytearray,\n"
	  "memoryview), or a numpy array of float32 or int16 with sample_rate. The\n"
	  "source is copied. receive_msg() then yields, for this request and in this\n"
	  "order, AudioMessage.LoadProgress messages (fraction rising), then one\n"
	  "LoadDone or LoadFailed (its error the exception load_sample() would have\n"
	  "raised). A later load or unload of the pad supersedes the request: it is\n"
	  "never published and fails with RuntimeError('superseded: ...'). Bad\n"
	  "arguments raise as load_sample_data()/load_sample_array() do. At most 256\n"
	  "requests whose LoadDone/LoadFailed has not been received are held; one\n"
	  "more raises QueueFullError and changes nothing." },
	{ "cancel_load", (PyCFunction)(void (*)(void))engine_cancel_load, METH_FAST_KW,
	  "cancel_load($self, request)\n--\n\n"
	  "Cancel a load_sample_async() request: it ends with LoadFailed\n"
	  "(RuntimeError('cancelled')) and is never published. Returns True, or False\n"
	  "when the request has already ended or is being published (it then ends on\n"
	  "its own). ValueError for a request id that was never given." },
	{ "_pause_loads", engine_pause_loads, METH_O,
	  "_pause_loads($self, paused, /)\n--\n\n"
	  "Tests: while paused, the load workers start no request." },
	{ "play_sample", (PyCFunction)(void (*)(void))engine_play_sample, METH_FAST_KW,
	  "play_sample($self, id, volume=1.0, *, at_frame=None, quantize=None)\n--\n\n"
	  "Start a new looping voice on slot id's sample, from the start of its loop\n"
	  "region (its first frame by default), with gain volume in 0.0..1.0. An empty\n"
	  "slot is ignored. When MAX_VOICES voices already play, the oldest voice is\n"
	  "stolen (faded out) for the new one. AudioMessage.Started follows when the\n"
	  "voice sounds its first frame.\n\n"
	  "When it starts: at_frame=N starts it exactly at output frame N (0..2**53; a\n"
	  "frame already past starts at once); quantize=mode (a set_trigger_quantization()\n"
	  "mode) on the first grid frame of that mode at or after the frame at which\n"
	  "the command reaches the audio thread; neither: as set_trigger_quantization()\n"
	  "says (default 'off': at once). Not both. A pending start is cancelled by\n"
	  "stop_sample(id), unload_sample(id), stop_all() or play_sample_exclusive()\n"
	  "issued before it sounds. At most 256 starts are pending; one more raises\n"
	  "QueueFullError and changes nothing." },
	{ "play_sample_exclusive", (PyCFunction)(void (*)(void))engine_play_sample_exclusive,
	  METH_FAST_KW,
	  "play_sample_exclusive($self, id, volume=1.0)\n--\n\n"
	  "In one block: every voice fades out (as stop_all(), with its Stopped\n"
	  "message) and a new voice starts on slot id, as play_sample(). On an empty\n"
	  "slot nothing at all happens." },
	{ "pause_sample", (PyCFunction)(void (*)(void))engine_pause_sample, METH_FAST_KW,
	  "pause_sample($self, id)\n--\n\n"
	  "Hold every voice of pad id at its position (a 5 ms fade out); a tempo-\n"
	  "locked voice runs on silently at its lock. Pausing a paused pad does\n"
	  "nothing. A paused voice counts against MAX_VOICES." },
	{ "resume_sample", (PyCFunction)(void (*)(void))engine_resume_sample, METH_FAST_KW,
	  "resume_sample($self, id)\n--\n\n"
	  "Continue pad id's paused voices from where they held (a 5 ms fade in);\n"
	  "a tempo-locked one from where its lock has it now, in phase.\n"
	  "Resuming a playing pad does nothing." },
	{ "seek_sample", (PyCFunction)(void (*)(void))engine_seek_sample, METH_FAST_KW,
	  "seek_sample($self, id, position_s)\n--\n\n"
	  "Move every voice of pad id to position_s seconds into its sample (frame\n"
	  "round(position_s * sample_rate)), crossfaded over 5 ms. A position outside\n"
	  "the sample (or an empty slot) raises ValueError('position_s out of range').\n"
	  "A position outside the loop region plays on until it reaches the region." },
	{ "set_pad_gain", (PyCFunction)(void (*)(void))engine_set_pad_gain, METH_FAST_KW,
	  "set_pad_gain($self, id, gain_db)\n--\n\n"
	  "Set pad id's gain, -60..+12 dB (-60 mutes: gain 0; else 10**(gain_db/20)),\n"
	  "multiplying its voices' volume. Playing voices glide to it over 10 ms; it\n"
	  "stays for later plays. Default 0 dB." },
	{ "set_pad_eq", (PyCFunction)(void (*)(void))engine_set_pad_eq, METH_FAST_KW,
	  "set_pad_eq($self, id, low_db, mid_db, high_db)\n--\n\n"
	  "Set pad id's 3-band DJ isolator: crossovers at 250 Hz and 4 kHz (4th-order\n"
	  "Linkwitz-Riley, the bands sum flat), each band -60..+6 dB (-60 kills it).\n"
	  "Playing voices glide to it over 10 ms; it stays for later plays. Default\n"
	  "0, 0, 0: an exact bypass (bit-identical to no EQ)." },
	{ "set_pad_speed", (PyCFunction)(void (*)(void))engine_set_pad_speed, METH_FAST_KW,
	  "set_pad_speed($self, id, speed)\n--\n\n"
	  "Set pad id's speed, 0.5..2.0, multiplying the global speed for its voices\n"
	  "(varispeed: pitch follows). Default 1.0." },
	{ "set_pad_loop_region", (PyCFunction)(void (*)(void))engine_set_pad_loop_region,
	  METH_FAST_KW,
	  "set_pad_loop_region($self, id, start_s, end_s=None)\n--\n\n"
	  "Loop pad id's voices over [start_s, end_s) of its sample (frames\n"
	  "round(seconds * sample_rate); end_s None is the sample's end). Later plays\n"
	  "start at start_s; a playing voice past the new end wraps to the new start\n"
	  "at once, click-free. load_sample() and unload_sample() reset it to the\n"
	  "whole sample. start >= end, beyond the sample or an empty slot raise\n"
	  "ValueError('loop region out of range')." },
	{ "waveform", (PyCFunction)(void (*)(void))engine_waveform, METH_FAST_KW,
	  "waveform($self, id, width, start_s=0.0, end_s=None)\n--\n\n"
	  "Min and max of the slot's mono mix (the channels' mean) per column, as a\n"
	  "(width, 2) float32 array, over [start_s, end_s) (None: the sample's end;\n"
	  "frames = round(seconds * sample_rate)). Column i covers frames\n"
	  "start + i * n // width up to start + (i + 1) * n // width (at least one\n"
	  "frame). Exact, from the summary built at load: the cost grows with width,\n"
	  "not with the span. ValueError for width outside 1..2**20, a range outside\n"
	  "the sample (\"start_s out of range\", \"end_s out of range\") or an empty slot." },
	{ "sample_info", (PyCFunction)(void (*)(void))engine_sample_info, METH_FAST_KW,
	  "sample_info($self, id)\n--\n\n"
	  "SampleInfo(n_frames, channels, sample_rate, duration_s, source_sample_rate,\n"
	  "source) of the sample last loaded into slot id (in call order: a load that\n"
	  "returned is reported), or None for an empty slot." },
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
	{ "render", (PyCFunction)(void (*)(void))engine_render, METH_FAST_KW,
	  "render($self, n_frames)\n--\n\n"
	  "Offline engines only (device=\"offline\"): apply every queued command and\n"
	  "render the next n_frames on the calling thread (GIL released), through the\n"
	  "same mixer and commands as a device. Returns a new (n_frames, channels)\n"
	  "float32 numpy array; the same calls give bit-identical output. Raises\n"
	  "ValueError('n_frames out of range') unless 1 <= n_frames <= 2**24,\n"
	  "NotRunningError before run(), RuntimeError on any other device." },
	{ "set_master_bpm", (PyCFunction)(void (*)(void))engine_set_master_bpm, METH_FAST_KW,
	  "set_master_bpm($self, bpm)\n--\n\n"
	  "Set the transport's tempo, 20..300 BPM (else ValueError('bpm out of range')),\n"
	  "from the frame at which the command reaches the audio thread, keeping the\n"
	  "position within the bar there. Pending starts keep their frames. 120 at run()." },
	{ "set_pad_bpm", (PyCFunction)(void (*)(void))engine_set_pad_bpm, METH_FAST_KW,
	  "set_pad_bpm($self, id, bpm)\n--\n\n"
	  "Set pad id's tempo, 20..300 BPM (else ValueError('bpm out of range')), or\n"
	  "None for none. With set_bpm_lock(True) the pad plays at master_bpm / bpm\n"
	  "(the pad's tempo doubled or halved until that lies in 0.25..4.0; global\n"
	  "and pad speed do not apply), phase locked: its position is a pure\n"
	  "function of the output frame and its start, and its downbeat\n"
	  "(set_pad_downbeat()) falls on the transport's bar downbeats. Playing voices\n"
	  "follow at once. Default None." },
	{ "set_pad_downbeat", (PyCFunction)(void (*)(void))engine_set_pad_downbeat, METH_FAST_KW,
	  "set_pad_downbeat($self, id, offset_s)\n--\n\n"
	  "Where pad id's first downbeat lies in its sample, in seconds (frame\n"
	  "round(offset_s * sample_rate)); locked plays put it on the transport's\n"
	  "downbeats. Outside the sample (or an empty slot): ValueError('offset_s out\n"
	  "of range'). Playing voices keep their phase. Default 0." },
	{ "set_bpm_lock", (PyCFunction)(void (*)(void))engine_set_bpm_lock, METH_FAST_KW,
	  "set_bpm_lock($self, enabled)\n--\n\n"
	  "Turn the tempo lock on or off (a bool) for every pad with a tempo\n"
	  "(set_pad_bpm()). A tempo change (set_master_bpm()) glides a locked pad's\n"
	  "rate over 20 ms and keeps its phase. Pads without a tempo, or with the\n"
	  "lock off, play at the global speed as before. Off at run()." },
	{ "set_key_lock", (PyCFunction)(void (*)(void))engine_set_key_lock, METH_FAST_KW,
	  "set_key_lock($self, enabled)\n--\n\n"
	  "Key lock (a bool) for every pad that follows it (set_pad_key_lock(id, None)):\n"
	  "a key-locked voice keeps its pitch while its speed (global x pad speed)\n"
	  "changes, time-stretched by Rubber Band, and starts on the same output frame\n"
	  "as an unlocked one. Playing voices switch too, with a 10 ms crossfade.\n"
	  "Beyond the key_lock_voices processors a key-locked play (or switch) plays\n"
	  "unlocked and stats()['key_lock_refused'] counts it. A key-locked voice of\n"
	  "a tempo-locked pad keeps its pitch and its phase lock. Off at run(). In a\n"
	  "build without the stretch feature set_key_lock(True) raises RuntimeError." },
	{ "set_pad_key_lock", (PyCFunction)(void (*)(void))engine_set_pad_key_lock, METH_FAST_KW,
	  "set_pad_key_lock($self, id, enabled)\n--\n\n"
	  "Pad id's own key lock: True or False overrides set_key_lock(), None (the\n"
	  "default) follows it; the pad's playing voices switch too. In a build\n"
	  "without the stretch feature True raises RuntimeError." },
	{ "set_beats_per_bar", (PyCFunction)(void (*)(void))engine_set_beats_per_bar,
	  METH_FAST_KW,
	  "set_beats_per_bar($self, n)\n--\n\n"
	  "Set the beats per bar, an int 1..16 (else ValueError('beats_per_bar out of\n"
	  "range')). The downbeat stays; bars count from it with the new length. 4 at run()." },
	{ "anchor_transport", (PyCFunction)(void (*)(void))engine_anchor_transport, METH_FAST_KW,
	  "anchor_transport($self, frame=None)\n--\n\n"
	  "Make output frame frame (an int 0..2**53; None: the frame at which the\n"
	  "command reaches the audio thread) a downbeat: bar 0, beat 0. 0 at run()." },
	{ "transport", engine_transport, METH_NOARGS,
	  "transport($self)\n--\n\n"
	  "Transport(frame, bpm, beats_per_bar, bar, beat, downbeat_frame) as the audio\n"
	  "thread published it after its last block (never waits for it): a change\n"
	  "shows once a block was rendered after it." },
	{ "set_trigger_quantization", (PyCFunction)(void (*)(void))engine_set_trigger_quantization,
	  METH_FAST_KW,
	  "set_trigger_quantization($self, mode)\n--\n\n"
	  "How play_sample() without at_frame or quantize starts: 'off' (at once, the\n"
	  "default at run()), '1/64', '1/32', '1/16', '1/8', '1/4' (one beat), '1/2' or\n"
	  "'bar': on the first grid frame of that step at or after the frame at which\n"
	  "the command reaches the audio thread. Anything else raises ValueError naming\n"
	  "it; a non-str TypeError. Applies to plays made after the call." },
	{ "meters", engine_meters, METH_NOARGS,
	  "meters($self)\n--\n\n"
	  "Meters(frame, master_peak, master_clip, pads): the latest snapshot the audio\n"
	  "thread published (never waits for it). The output is cut into intervals of\n"
	  "round(sample_rate / meter_hz) frames from frame 0; a snapshot describes the\n"
	  "interval that ends just before output frame frame. master_peak: per channel,\n"
	  "the exact max |x| of the output after the master gain; master_clip: some\n"
	  "channel reached 1.0; pads: a read-only mapping {slot: PadMeter(peak,\n"
	  "position_s)} of each pad whose contribution (after its gain and EQ) was\n"
	  "non-zero in the interval. Before the first interval ends: frame 0, zeros,\n"
	  "False, {}. Immutable: while no newer snapshot is published a call returns\n"
	  "the same object (one atomic load, no lock)." },
	{ "stats", engine_stats, METH_NOARGS,
	  "stats($self)\n--\n\n"
	  "A dict describing the engine: sample_rate, channels, format, period_frames,\n"
	  "periods, latency_frames, latency_ms, xruns, rt_priority, rt_error (errno of a\n"
	  "refused SCHED_FIFO, else 0), voices_playing, load (0..1), frames,\n"
	  "messages_dropped, device_lost, running, device, memory_locked (the audio\n"
	  "thread's memory is locked in RAM), locked_bytes, file_dropped_frames and\n"
	  "file_write_errors (device 'wav:PATH': frames the file writer fell behind on,\n"
	  "failed writes; 0 elsewhere), recording (start_recording() is recording),\n"
	  "record_dropped and record_write_errors (the current or last recording's\n"
	  "frames its writer fell behind on, failed writes). Works when stopped too." },
	{ "start_recording", (PyCFunction)(void (*)(void))engine_start_recording,
	  METH_FASTCALL | METH_KEYWORDS,
	  "start_recording($self, path)\n--\n\n"
	  "Write every frame the engine plays from now on to path (str, bytes or\n"
	  "os.PathLike; created or truncated), a 32-bit float WAV at the device's rate\n"
	  "and channels: the mix as a float device gets it (clipped to -1..1), before\n"
	  "conversion to the device's format, on every device (on 'offline', render()\n"
	  "feeds it). A writer thread writes the file; the audio thread never waits for\n"
	  "it: frames it falls behind on are counted in stats()['record_dropped'] and\n"
	  "logged, failed writes in stats()['record_write_errors'] and logged. Raises\n"
	  "EngineNotRunning when stopped, RuntimeError('already recording'), an OSError\n"
	  "(FileNotFoundError, PermissionError, IsADirectoryError...) when the file\n"
	  "cannot be created, ValueError for an empty path. Releases the GIL." },
	{ "stop_recording", engine_stop_recording, METH_NOARGS,
	  "stop_recording($self)\n--\n\n"
	  "End the recording, finalise the file's header, and return the frames\n"
	  "written to it; 0 when not recording (shut_down() ends a recording too).\n"
	  "Releases the GIL." },
	{ "__enter__", engine_enter, METH_NOARGS, "Run the engine; return it." },
	{ "__exit__", (PyCFunction)(void (*)(void))engine_exit, METH_FASTCALL,
	  "Shut the engine down." },
	{ NULL },
};

static PyMemberDef engine_members[] = {
	/* A type from a spec declares its weak-reference slot as a member. */
	{ "__weaklistoffset__", T_PYSSIZET, offsetof(struct engine_object, weakreflist), READONLY,
	  NULL },
	{ NULL },
};

static PyType_Slot engine_slots[] = {
	{ Py_tp_dealloc, (void *)engine_dealloc },
	{ Py_tp_repr, (void *)engine_repr },
	{ Py_tp_doc, (void *)"AudioEngine(*, device=None, sample_rate=48000, channels=2, period_frames=128, "
				  "periods=2, rt_priority=70, _trace_commands=False, load_workers=2, "
				  "meter_hz=30.0, key_lock_voices=8)\n"
				  "--\n\n"
				  "A real-time sample player: up to MAX_VOICES looping voices over NUM_SAMPLES\n"
				  "slots, mixed and played by a direct ALSA mmap thread.\n\n"
				  "device is an ALSA PCM name, 'offline' (render() on the calling thread)\n"
				  "or 'wav:PATH' (real time, paced by the clock, every frame played written\n"
				  "to PATH as a 32-bit float WAV); None means $FLITZIS_AUDIO_DEVICE, else\n"
				  "'default'. The arguments are checked here (TypeError, ValueError naming\n"
				  "the argument); constructing opens nothing and starts no thread. run()\n"
				  "starts playback; 'with AudioEngine() as engine:' runs it and shuts it down.\n"
				  "Every method may be called from any Python thread.\n"
				  "load_workers (1..16) loader threads serve load_sample_async() from run()\n"
				  "to shut_down(). key_lock_voices (0..MAX_VOICES) key-lock processors are\n"
				  "made at run() (in a build with the stretch feature; see set_key_lock()).\n\n"
				  "Slot ids are ints 0..NUM_SAMPLES-1; bool and float ids raise TypeError." },
	{ Py_tp_methods, engine_methods },
	{ Py_tp_getset, engine_getset },
	{ Py_tp_members, engine_members },
	{ Py_tp_new, (void *)engine_new },
	{ 0, NULL },
};

/* A heap type per module object. Not subclassable, and (where Python has
 * the flag) as immutable as the static type it replaces. Not a GC type: an
 * engine holds no Python object. */
PyType_Spec engine_spec = {
	.name = "flitzis_looper_rs.AudioEngine",
	.basicsize = sizeof(struct engine_object),
#ifdef Py_TPFLAGS_IMMUTABLETYPE
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
#else
	.flags = Py_TPFLAGS_DEFAULT,
#endif
	.slots = engine_slots,
};
