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
#include "module-private.h"

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
