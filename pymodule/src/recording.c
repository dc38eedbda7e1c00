/* SPDX-License-Identifier: MIT */
/*
 * flitzis_looper_rs._native: AudioEngine's recording (start_recording(),
 * stop_recording()): every frame the engine plays, written to a 32-bit
 * float WAV by the engine's recorder thread. Both calls release the GIL:
 * they create or finish a file and start or join a thread.
 */
#include "module-private.h"

PyObject *engine_start_recording(PyObject *obj, PyObject *const *args, Py_ssize_t nargs,
				 PyObject *kwnames)
{
	static const char *const names[] = { "path" };
	struct engine_object *self = (struct engine_object *)obj;
	PyObject *a[1];
	if (engine_bind_args("start_recording", args, nargs, kwnames, names, 1, 1, a) < 0)
		return NULL;
	if (!PyUnicode_Check(a[0]) && !PyBytes_Check(a[0]) &&
	    !PyObject_HasAttrString(a[0], "__fspath__")) {
		PyErr_Format(PyExc_TypeError, "path must be str, bytes or os.PathLike, not %.100s",
			     Py_TYPE(a[0])->tp_name);
		return NULL;
	}
	PyObject *encoded = NULL;
	if (!PyUnicode_FSConverter(a[0], &encoded))
		return NULL;
	const char *path = PyBytes_AS_STRING(encoded);
	if (path[0] == '\0') {
		Py_DECREF(encoded);
		return raise_error(NULL, OP_ARG, -EINVAL, "path must not be empty", NULL);
	}
	char why[WHY_BYTES] = "";
	int err;
	Py_BEGIN_ALLOW_THREADS
	err = flz_engine_start_recording(self->engine, path, why, sizeof why);
	Py_END_ALLOW_THREADS
	Py_DECREF(encoded);
	log_queue_drain(self->logs, self->state->logger);
	if (err < 0)
		return raise_error(self->state, OP_RECORD, err, why, a[0]);
	Py_RETURN_NONE;
}

PyObject *engine_stop_recording(PyObject *obj, PyObject *unused)
{
	(void)unused;
	struct engine_object *self = (struct engine_object *)obj;
	uint64_t written;
	Py_BEGIN_ALLOW_THREADS
	written = flz_engine_stop_recording(self->engine);
	Py_END_ALLOW_THREADS
	/* The writer's warnings (fell behind, a failed write) are queued by now. */
	log_queue_drain(self->logs, self->state->logger);
	return PyLong_FromUnsignedLongLong(written);
}
