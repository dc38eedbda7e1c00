/* SPDX-License-Identifier: MIT */
/* flitzis_looper_rs._native: errors. */
#include "module-private.h"

/* ------------------------------------------------------------------------ */
/* Errors: the one mapping from (operation, code, detail) to an exception.  */

/* The module's own exceptions (in struct module_state) are all subclasses of
 * RuntimeError, so that code written against Part 1 of the API (except
 * RuntimeError) keeps working. */

/* One of the module's exceptions, or RuntimeError when there is no state
 * (a static method) or it was cleared (an engine outliving interpreter
 * teardown). */
static PyObject *own_exception(struct module_state *st, size_t offset)
{
	PyObject *exc = st ? *(PyObject **)((char *)st + offset) : NULL;
	return exc ? exc : PyExc_RuntimeError;
}
#define OWN(st, field) own_exception((st), offsetof(struct module_state, field))

/*
 * Set the Python exception for a failure and return NULL.
 *
 * @param st the module's state (its exceptions); may be NULL with OP_TYPE/OP_ARG
 * @param op what failed (decides the exception type for codes whose meaning
 *        depends on it, e.g. -EINVAL from ALSA at start is a device problem)
 * @param err a negative errno value from the engine, or 0 with OP_TYPE/OP_ARG
 * @param detail the exact reason, or NULL/"" for the code's standard text
 * @param filename OP_LOAD, OP_RECORD: the path, for the OSError's filename; may be NULL
 */
PyObject *raise_error(struct module_state *st, enum op op, int err, const char *detail,
		      PyObject *filename)
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
		if (op == OP_RECORD) {
			PyErr_SetString(PyExc_RuntimeError, "already recording");
			return NULL;
		}
		PyErr_SetString(PyExc_RuntimeError, "AudioEngine already running");
		return NULL;
	case ENOTCONN:
		PyErr_SetString(OWN(st, not_running_error), "Audio engine not initialized");
		return NULL;
	case EAGAIN:
		PyErr_SetString(OWN(st, queue_full_error),
				"command buffer is full: the audio thread is not keeping up");
		return NULL;
	case ENOMEM:
		PyErr_SetString(PyExc_MemoryError, text);
		return NULL;
	case ENODEV:
		if (op != OP_START) {
			PyErr_SetString(OWN(st, device_error),
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
	case OP_RECORD:
		switch (-err) {
		case ENOENT:
		case EACCES:
		case EPERM:
		case EISDIR:
		case ENOTDIR:
		case EROFS:
		case EIO: {
			/* OSError(errno, ...) makes its subclass: FileNotFoundError,
			 * PermissionError, IsADirectoryError, NotADirectoryError. */
			PyObject *exc = PyObject_CallFunction(PyExc_OSError, "isO", -err, text,
							      filename ? filename : Py_None);
			if (exc != NULL) {
				PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
				Py_DECREF(exc);
			}
			return NULL;
		}
		case EINVAL:
			PyErr_SetString(PyExc_ValueError, text);
			return NULL;
		default:
			PyErr_SetString(PyExc_RuntimeError, text);
			return NULL;
		}
	case OP_START:
		/* Everything run() reports past the cases above is the device's:
		 * it cannot be opened, or refuses the configuration. */
		PyErr_SetString(OWN(st, device_error), text);
		return NULL;
	default:
		PyErr_SetString(PyExc_RuntimeError, text);
		return NULL;
	}
}

/* Create one exception class deriving from RuntimeError and add it to the module. */
PyObject *add_exception(PyObject *module, const char *name, const char *doc)
{
	char qualified[96];
	snprintf(qualified, sizeof qualified, "flitzis_looper_rs.%s", name);
	PyObject *exc = PyErr_NewExceptionWithDoc(qualified, doc, PyExc_RuntimeError, NULL);
	if (exc == NULL)
		return NULL;
	/* One reference for the module (stolen on success), one for the state. */
	Py_INCREF(exc);
	if (PyModule_AddObject(module, name, exc) < 0) {
		Py_DECREF(exc);
		Py_DECREF(exc);
		return NULL;
	}
	return exc;
}
