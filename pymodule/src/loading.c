/* SPDX-License-Identifier: MIT */
/*
 * flitzis_looper_rs._native: AudioEngine's loading from memory
 * (load_sample_data(), load_sample_array()) and its waveform summaries
 * (waveform()). Buffers are read through the buffer protocol, so numpy's C
 * API is not needed; numpy itself is imported only to make waveform()'s
 * result.
 */
#include <math.h>

#include <flz/summary.h>

#include "module-private.h"

static PyObject *value_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static PyObject *value_error(const char *fmt, ...)
{
	char why[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return raise_error(NULL, OP_ARG, -EINVAL, why, NULL);
}

/* After a load: log what it replaced, raise its error or return None. */
static PyObject *load_result(struct engine_object *self, int err, const char *why)
{
	/* A load that replaced bad values says so before it returns. */
	log_queue_drain(self->logs, self->state->logger);
	if (err < 0)
		return raise_error(self->state, OP_LOAD, err, why, NULL);
	Py_RETURN_NONE;
}

PyObject *engine_load_sample_data(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				  PyObject *kwnames)
{
	static const char *const names[] = { "id", "data" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[2];
	int32_t slot;
	if (engine_bind_args("load_sample_data", args, nargs, kwnames, names, 2, 2, a) < 0 ||
	    engine_parse_slot(a[0], &slot) < 0)
		return NULL;
	/* A str has no buffer; one that is not contiguous cannot be decoded in place. */
	if (!PyObject_CheckBuffer(a[1]) || PyUnicode_Check(a[1]))
		return type_error("data", "bytes, bytearray or memoryview", a[1]);
	Py_buffer view;
	if (PyObject_GetBuffer(a[1], &view, PyBUF_SIMPLE) < 0) {
		if (!PyErr_ExceptionMatches(PyExc_BufferError) &&
		    !PyErr_ExceptionMatches(PyExc_ValueError))
			return NULL;
		PyErr_Clear();
		return value_error("data must be a contiguous buffer");
	}
	char why[WHY_BYTES] = "";
	int err;
	/* The exported view pins the bytes: a bytearray cannot be resized
	 * while it is held, so decoding without the GIL is safe. */
	Py_BEGIN_ALLOW_THREADS
	err = flz_engine_load_memory(self->engine, slot, view.buf ? view.buf : "",
				     (size_t)view.len, why, sizeof why);
	Py_END_ALLOW_THREADS
	PyBuffer_Release(&view);
	return load_result(self, err, why);
}

/* The buffer's item format as PCM: native-order float32 or int16. */
static int pcm_format(const Py_buffer *view, enum flz_pcm_format *format)
{
	const char *f = view->format ? view->format : "B";
	/* '@' and '=' are native order; '<' is native on little-endian hosts,
	 * the only ones the project builds for (numpy writes "<f"). */
	if (*f == '@' || *f == '=' || *f == '<')
		f++;
	if (strcmp(f, "f") == 0 && view->itemsize == 4) {
		*format = FLZ_PCM_FLOAT32;
		return 0;
	}
	if (strcmp(f, "h") == 0 && view->itemsize == 2) {
		*format = FLZ_PCM_INT16;
		return 0;
	}
	value_error("array dtype must be float32 or int16 (got buffer format '%.20s')",
		    view->format ? view->format : "B");
	return -1;
}

/* Index of the first NaN or infinity among @p n floats, or -1. An array
 * with one is a bug in the caller's own data (a file's are someone else's,
 * and are replaced and counted instead), so load_sample_array refuses it. */
static Py_ssize_t first_nonfinite(const float *x, Py_ssize_t n)
{
	for (Py_ssize_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return i;
	return -1;
}

/* sample_rate: an int in FLZ_RATE_MIN_HZ..FLZ_RATE_MAX_HZ. */
static int parse_rate(PyObject *obj, uint32_t *out)
{
	long long v;
	if (engine_parse_int64(obj, "sample_rate", FLZ_RATE_MIN_HZ, FLZ_RATE_MAX_HZ, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* An array argument as PCM: type and shape checked, the view held (the
 * caller releases it) on success; on failure an exception and no view. */
static int array_pcm(PyObject *array, Py_buffer *view, enum flz_pcm_format *format,
		     int64_t *n_frames, uint32_t *n_channels)
{
	if (!PyObject_CheckBuffer(array) || PyUnicode_Check(array) || PyBytes_Check(array) ||
	    PyByteArray_Check(array)) {
		type_error("array", "a numpy array of float32 or int16", array);
		return -1;
	}
	if (PyObject_GetBuffer(array, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
		/* numpy refuses with ValueError, memoryview with BufferError. */
		if (!PyErr_ExceptionMatches(PyExc_BufferError) &&
		    !PyErr_ExceptionMatches(PyExc_ValueError))
			return -1;
		PyErr_Clear();
		value_error("array must be C-contiguous (use numpy.ascontiguousarray)");
		return -1;
	}
	*n_frames = 0;
	*n_channels = 1;
	if (pcm_format(view, format) < 0)
		goto fail;
	if (view->ndim == 1) {
		*n_frames = view->shape[0];
	} else if (view->ndim == 2) {
		*n_frames = view->shape[0];
		if (view->shape[1] < 1 || view->shape[1] > FLZ_MAX_CHANNELS) {
			value_error("array has %zd channels (expected 1..%d)", view->shape[1],
				    FLZ_MAX_CHANNELS);
			goto fail;
		}
		*n_channels = (uint32_t)view->shape[1];
	} else {
		value_error("array must have shape (frames,) or (frames, channels), not %d "
			    "dimensions",
			    view->ndim);
		goto fail;
	}
	if (*n_frames < 1) {
		value_error("array is empty (no frames)");
		goto fail;
	}
	if (*format == FLZ_PCM_FLOAT32) {
		Py_ssize_t bad;
		Py_ssize_t n = (Py_ssize_t)*n_frames * (Py_ssize_t)*n_channels;
		Py_BEGIN_ALLOW_THREADS
		bad = first_nonfinite(view->buf, n);
		Py_END_ALLOW_THREADS
		if (bad >= 0) {
			float v = ((const float *)view->buf)[bad];
			value_error("array contains %s at frame %zd, channel %u",
				    isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf",
				    bad / (Py_ssize_t)*n_channels,
				    (unsigned)(bad % (Py_ssize_t)*n_channels));
			goto fail;
		}
	}
	return 0;
fail:
	PyBuffer_Release(view);
	return -1;
}

PyObject *engine_load_sample_array(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				   PyObject *kwnames)
{
	static const char *const names[] = { "id", "array", "sample_rate" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[3];
	int32_t slot;
	uint32_t rate_hz;
	if (engine_bind_args("load_sample_array", args, nargs, kwnames, names, 3, 3, a) < 0 ||
	    engine_parse_slot(a[0], &slot) < 0)
		return NULL;
	if (!PyObject_CheckBuffer(a[1]) || PyUnicode_Check(a[1]) || PyBytes_Check(a[1]) ||
	    PyByteArray_Check(a[1]))
		return type_error("array", "a numpy array of float32 or int16", a[1]);
	if (parse_rate(a[2], &rate_hz) < 0)
		return NULL;
	Py_buffer view;
	enum flz_pcm_format format;
	int64_t n_frames;
	uint32_t n_channels;
	if (array_pcm(a[1], &view, &format, &n_frames, &n_channels) < 0)
		return NULL;
	char why[WHY_BYTES] = "";
	int err;
	/* The export pins the array's memory (numpy refuses to resize it). */
	Py_BEGIN_ALLOW_THREADS
	err = flz_engine_load_pcm(self->engine, slot, view.buf, format, n_frames, n_channels,
				  rate_hz, why, sizeof why);
	Py_END_ALLOW_THREADS
	PyBuffer_Release(&view);
	return load_result(self, err, why);
}

/* Seconds (finite, >= 0) to frames: round(s * rate), as the loop region does. */
static int64_t seconds_to_frames(double seconds, uint32_t rate_hz)
{
	double frames = seconds * (double)rate_hz;
	return frames >= 0x1p62 ? INT64_MAX : (int64_t)llround(frames);
}

PyObject *engine_waveform(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
			  PyObject *kwnames)
{
	static const char *const names[] = { "id", "width", "start_s", "end_s" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[4];
	int32_t slot;
	if (engine_bind_args("waveform", args, nargs, kwnames, names, 4, 2, a) < 0 ||
	    engine_parse_slot(a[0], &slot) < 0)
		return NULL;
	if (PyBool_Check(a[1]) || PyFloat_Check(a[1]) || !PyIndex_Check(a[1]))
		return type_error("width", "an int", a[1]);
	Py_ssize_t width = PyNumber_AsSsize_t(a[1], NULL); /* clamps on overflow */
	if (width == -1 && PyErr_Occurred())
		return NULL;
	if (width < 1 || width > (Py_ssize_t)FLZ_SUMMARY_MAX_WIDTH)
		return value_error("width out of range (expected 1..%u, got %zd)",
				   FLZ_SUMMARY_MAX_WIDTH, width);
	double start_s = 0.0, end_s = 0.0;
	if (a[2] != NULL && a[2] != Py_None &&
	    engine_parse_real(a[2], "start_s", 0.0, DBL_MAX, "start_s out of range", &start_s) < 0)
		return NULL;
	bool to_end = a[3] == NULL || a[3] == Py_None;
	if (!to_end &&
	    engine_parse_real(a[3], "end_s", 0.0, DBL_MAX, "end_s out of range", &end_s) < 0)
		return NULL;

	struct flz_engine_sample_info info;
	int rc = flz_engine_sample_info(self->engine, slot, &info, NULL, 0);
	if (rc < 0)
		return raise_error(self->state, OP_COMMAND, rc, NULL, NULL);
	if (rc == 0)
		return value_error("slot %d is empty", (int)slot);
	int64_t start = seconds_to_frames(start_s, info.rate_hz);
	int64_t end = to_end ? info.n_frames : seconds_to_frames(end_s, info.rate_hz);
	if (start >= info.n_frames)
		return value_error("start_s out of range (the sample lasts %lld frames)",
				   (long long)info.n_frames);
	if (end <= start || end > info.n_frames)
		return value_error("end_s out of range (frames %lld..%lld, the sample lasts %lld)",
				   (long long)start, (long long)end, (long long)info.n_frames);

	PyObject *numpy = PyImport_ImportModule("numpy");
	if (numpy == NULL)
		return NULL;
	PyObject *array = PyObject_CallMethod(numpy, "empty", "((ni)s)", width, 2, "float32");
	Py_DECREF(numpy);
	if (array == NULL)
		return NULL;
	Py_buffer view;
	if (PyObject_GetBuffer(array, &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
		Py_DECREF(array);
		return NULL;
	}
	if (view.len != (Py_ssize_t)(width * 2 * (Py_ssize_t)sizeof(float))) {
		PyBuffer_Release(&view);
		Py_DECREF(array);
		PyErr_SetString(PyExc_RuntimeError, "numpy.empty gave a buffer of another size");
		return NULL;
	}
	int err;
	Py_BEGIN_ALLOW_THREADS
	err = flz_engine_waveform(self->engine, slot, start, end, (uint32_t)width, view.buf);
	Py_END_ALLOW_THREADS
	PyBuffer_Release(&view);
	if (err < 0) {
		Py_DECREF(array);
		/* The slot changed since sample_info (another thread loaded or unloaded it). */
		if (err == -ENOENT)
			return value_error("slot %d is empty", (int)slot);
		if (err == -EINVAL)
			return value_error("end_s out of range (the sample changed)");
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	}
	return array;
}

/* --- asynchronous loading ------------------------------------------------ */

int engine_attach_pool(struct engine_object *self)
{
	if (self->pool != NULL)
		return 0;
	if (self->async_paths == NULL && (self->async_paths = PyDict_New()) == NULL)
		return -1;
	struct flz_loadpool *pool = NULL;
	int err = flz_loadpool_new(self->engine, self->load_workers, &pool);
	if (err < 0) {
		raise_error(self->state, OP_COMMAND, err, NULL, NULL);
		return -1;
	}
	self->pool = pool;
	self->request_base = self->max_request;
	return 0;
}

struct flz_loadpool *engine_detach_pool(struct engine_object *self)
{
	struct flz_loadpool *pool = self->pool;
	self->pool = NULL;
	/* The pool's pending requests end with it, unreported: forget their paths. */
	if (self->async_paths != NULL)
		PyDict_Clear(self->async_paths);
	return pool;
}

/* The exception a failed request carries: what load_sample() would have
 * raised, or RuntimeError for a request that was superseded or cancelled.
 * NULL with an exception set only when building it failed. */
static PyObject *load_error(struct engine_object *self, const struct flz_load_event *ev,
			    PyObject *filename)
{
	if (ev->error == -ECANCELED)
		PyErr_SetString(PyExc_RuntimeError, ev->reason);
	else
		raise_error(self->state, OP_LOAD, ev->error, ev->reason, filename);
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	Py_XDECREF(type);
	Py_XDECREF(tb);
	return value;
}

PyObject *engine_receive_load_msg(struct engine_object *self)
{
	if (self->pool == NULL)
		Py_RETURN_NONE;
	struct flz_load_event ev;
	if (flz_loadpool_poll(self->pool, &ev) != 1)
		Py_RETURN_NONE;
	ev.request += self->request_base;
	if (ev.kind == FLZ_LOAD_PROGRESS)
		return message_from_load_event(self->state, &ev, NULL);
	/* The request's end: its path is no longer needed. */
	PyObject *key = PyLong_FromUnsignedLongLong(ev.request);
	if (key == NULL)
		return NULL;
	PyObject *filename = PyDict_GetItemWithError(self->async_paths, key);
	Py_XINCREF(filename);
	if (filename != NULL && PyDict_DelItem(self->async_paths, key) < 0) {
		Py_DECREF(key);
		Py_DECREF(filename);
		return NULL;
	}
	Py_DECREF(key);
	if (PyErr_Occurred()) {
		Py_XDECREF(filename);
		return NULL;
	}
	PyObject *exc = NULL;
	if (ev.kind == FLZ_LOAD_FAILED && (exc = load_error(self, &ev, filename)) == NULL) {
		Py_XDECREF(filename);
		return NULL;
	}
	Py_XDECREF(filename);
	PyObject *msg = message_from_load_event(self->state, &ev, exc);
	Py_XDECREF(exc);
	return msg;
}

/* Queue @p src for @p slot; the request id as an int, or NULL. GIL held
 * throughout: the submit copies the source and never waits on a decode. */
static PyObject *submit(struct engine_object *self, int32_t slot,
			const struct flz_load_source *src, PyObject *filename)
{
	if (self->pool == NULL)
		return raise_error(self->state, OP_COMMAND, -ENOTCONN, NULL, NULL);
	uint64_t request = 0;
	int err = flz_loadpool_submit(self->pool, slot, src, &request);
	if (err == -EAGAIN) {
		PyErr_Format(self->state->queue_full_error,
			     "load request buffer is full: %d requests whose LoadDone or LoadFailed has "
			     "not been received (call receive_msg())",
			     FLZ_LOADPOOL_MAX_UNREAD);
		return NULL;
	}
	if (err < 0)
		return raise_error(self->state, err == -EINVAL ? OP_ARG : OP_COMMAND, err, NULL,
				   NULL);
	request += self->request_base;
	self->max_request = request;
	PyObject *id = PyLong_FromUnsignedLongLong(request);
	if (id != NULL && filename != NULL && PyDict_SetItem(self->async_paths, id, filename) < 0)
		Py_CLEAR(id); /* the request runs on; only its filename is lost */
	return id;
}

PyObject *engine_load_sample_async(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				   PyObject *kwnames)
{
	static const char *const names[] = { "id", "source", "sample_rate" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[3] = { NULL, NULL, NULL };
	int32_t slot;
	/* sample_rate is keyword-only: a third positional is most likely a
	 * rate meant for an array, or a mistake; say so rather than guess. */
	if (nargs > 2) {
		PyErr_Format(PyExc_TypeError,
			     "load_sample_async() takes 2 positional arguments but %zd were given "
			     "(sample_rate is keyword-only)",
			     nargs);
		return NULL;
	}
	if (engine_bind_args("load_sample_async", args, nargs, kwnames, names, 3, 2, a) < 0 ||
	    engine_parse_slot(a[0], &slot) < 0)
		return NULL;
	PyObject *source = a[1];
	bool has_rate = a[2] != NULL && a[2] != Py_None;
	struct flz_load_source src = { 0 };

	if (has_rate) {
		uint32_t rate_hz;
		if (!PyObject_CheckBuffer(source) || PyUnicode_Check(source) ||
		    PyBytes_Check(source) || PyByteArray_Check(source))
			return type_error("array", "a numpy array of float32 or int16", source);
		if (parse_rate(a[2], &rate_hz) < 0)
			return NULL;
		Py_buffer view;
		if (array_pcm(source, &view, &src.pcm_format, &src.pcm_frames,
			      &src.pcm_channels) < 0)
			return NULL;
		src.pcm_data = view.buf;
		src.pcm_rate_hz = rate_hz;
		PyObject *r = submit(self, slot, &src, NULL);
		PyBuffer_Release(&view);
		return r;
	}
	if (PyUnicode_Check(source) || PyObject_HasAttrString(source, "__fspath__")) {
		PyObject *fs_path = PyOS_FSPath(source);
		if (fs_path == NULL)
			return NULL;
		PyObject *encoded = NULL;
		if (!PyUnicode_FSConverter(fs_path, &encoded)) {
			Py_DECREF(fs_path);
			return NULL;
		}
		src.path = PyBytes_AS_STRING(encoded);
		PyObject *r = submit(self, slot, &src, fs_path);
		Py_DECREF(encoded);
		Py_DECREF(fs_path);
		return r;
	}
	if (PyBytes_Check(source) || PyByteArray_Check(source) || PyMemoryView_Check(source)) {
		Py_buffer view;
		if (PyObject_GetBuffer(source, &view, PyBUF_SIMPLE) < 0) {
			if (!PyErr_ExceptionMatches(PyExc_BufferError) &&
			    !PyErr_ExceptionMatches(PyExc_ValueError))
				return NULL;
			PyErr_Clear();
			return value_error("data must be a contiguous buffer");
		}
		src.data = view.buf ? view.buf : "";
		src.n_bytes = (size_t)view.len;
		PyObject *r = submit(self, slot, &src, NULL);
		PyBuffer_Release(&view);
		return r;
	}
	if (PyObject_CheckBuffer(source))
		return value_error("an array source needs sample_rate");
	return type_error("source", "a path, bytes, bytearray, memoryview or a numpy array",
			  source);
}

PyObject *engine_cancel_load(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
			     PyObject *kwnames)
{
	static const char *const names[] = { "request" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[1];
	long long request;
	if (engine_bind_args("cancel_load", args, nargs, kwnames, names, 1, 1, a) < 0 ||
	    engine_parse_int64(a[0], "request", 1, LLONG_MAX, &request) < 0)
		return NULL;
	if ((uint64_t)request > self->max_request)
		return value_error("no such load request: %lld", request);
	if (self->pool == NULL || (uint64_t)request <= self->request_base)
		Py_RETURN_FALSE; /* a request of an earlier run: ended with it */
	int err = flz_loadpool_cancel(self->pool, (uint64_t)request - self->request_base);
	if (err == 0)
		Py_RETURN_TRUE;
	Py_RETURN_FALSE; /* -ENOENT ended, -EALREADY publishing */
}

/* Tests (not in the stubs): pause or resume the load pool's workers. */
PyObject *engine_pause_loads(PyObject *obj, PyObject *arg)
{
	struct engine_object *self = (struct engine_object *)obj;
	int paused = PyObject_IsTrue(arg);
	if (paused < 0)
		return NULL;
	if (self->pool == NULL)
		return raise_error(self->state, OP_COMMAND, -ENOTCONN, NULL, NULL);
	flz_loadpool_pause(self->pool, paused != 0);
	Py_RETURN_NONE;
}
