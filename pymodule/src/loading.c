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
	if (PyObject_GetBuffer(a[1], &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
		/* numpy refuses with ValueError, memoryview with BufferError. */
		if (!PyErr_ExceptionMatches(PyExc_BufferError) &&
		    !PyErr_ExceptionMatches(PyExc_ValueError))
			return NULL;
		PyErr_Clear();
		return value_error("array must be C-contiguous (use numpy.ascontiguousarray)");
	}
	enum flz_pcm_format format;
	int64_t n_frames = 0;
	uint32_t n_channels = 1;
	PyObject *result = NULL;
	if (pcm_format(&view, &format) < 0)
		goto out;
	if (view.ndim == 1) {
		n_frames = view.shape[0];
	} else if (view.ndim == 2) {
		n_frames = view.shape[0];
		if (view.shape[1] < 1 || view.shape[1] > FLZ_MAX_CHANNELS) {
			value_error("array has %zd channels (expected 1..%d)", view.shape[1],
				    FLZ_MAX_CHANNELS);
			goto out;
		}
		n_channels = (uint32_t)view.shape[1];
	} else {
		value_error("array must have shape (frames,) or (frames, channels), not %d "
			    "dimensions",
			    view.ndim);
		goto out;
	}
	if (n_frames < 1) {
		value_error("array is empty (no frames)");
		goto out;
	}
	if (format == FLZ_PCM_FLOAT32) {
		Py_ssize_t bad;
		Py_BEGIN_ALLOW_THREADS
		bad = first_nonfinite(view.buf, (Py_ssize_t)n_frames * (Py_ssize_t)n_channels);
		Py_END_ALLOW_THREADS
		if (bad >= 0) {
			float v = ((const float *)view.buf)[bad];
			value_error("array contains %s at frame %zd, channel %u",
				    isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf", bad / (Py_ssize_t)n_channels,
				    (unsigned)(bad % (Py_ssize_t)n_channels));
			goto out;
		}
	}
	char why[WHY_BYTES] = "";
	int err;
	/* The export pins the array's memory (numpy refuses to resize it). */
	Py_BEGIN_ALLOW_THREADS
	err = flz_engine_load_pcm(self->engine, slot, view.buf, format, n_frames, n_channels,
				  rate_hz, why, sizeof why);
	Py_END_ALLOW_THREADS
	result = load_result(self, err, why);
out:
	PyBuffer_Release(&view);
	return result;
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
