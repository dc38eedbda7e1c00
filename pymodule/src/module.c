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
 *
 * The module uses multi-phase initialisation: everything it owns (its
 * types, exceptions, logger and the registry of live engines) lives in its
 * state (struct module_state), made by module_exec() per module object, so
 * that each interpreter that imports it has its own.
 */
#include "module-private.h"

/* ------------------------------------------------------------------------ */
/* Module                                                                   */

struct module_state *module_state_of_type(PyTypeObject *tp)
{
#if PY_VERSION_HEX >= 0x030B0000
	PyObject *module = PyType_GetModuleByDef(tp, &module_def);
	return module ? PyModule_GetState(module) : NULL;
#else
	/* What PyType_GetModuleByDef() (3.11) does: the first type in the MRO
	 * that this module defined. */
	PyObject *mro = tp->tp_mro;
	for (Py_ssize_t i = 0; mro != NULL && i < PyTuple_GET_SIZE(mro); i++) {
		PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
		if (!PyType_HasFeature(base, Py_TPFLAGS_HEAPTYPE))
			continue;
		PyObject *module = PyType_GetModule(base);
		if (module == NULL) {
			PyErr_Clear();
			continue;
		}
		if (PyModule_GetDef(module) == &module_def)
			return PyModule_GetState(module);
	}
	PyErr_Format(PyExc_TypeError, "%.100s is not a type of flitzis_looper_rs", tp->tp_name);
	return NULL;
#endif
}

static PyObject *module_shutdown_all(PyObject *module, PyObject *unused)
{
	struct module_state *st = PyModule_GetState(module);
	/* Take references first: shut_down() releases the GIL, and an engine
	 * could otherwise be freed (and unlinked) under our feet. */
	PyObject *live = PyList_New(0);
	if (live == NULL)
		return NULL;
	for (struct engine_object *e = st->engines; e != NULL; e = e->next) {
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

/* Add obj to the module under name, keeping the caller's reference. */
static int add_ref(PyObject *module, const char *name, PyObject *obj)
{
	Py_INCREF(obj);
	if (PyModule_AddObject(module, name, obj) < 0) {
		Py_DECREF(obj);
		return -1;
	}
	return 0;
}

/* AudioEngine.list_devices: a static method whose function is bound to the
 * module, so that it finds the module's Device type without a lookup. */
static int add_list_devices(PyObject *module, PyTypeObject *engine_type)
{
	PyObject *name = PyModule_GetNameObject(module);
	PyObject *fn = name ? PyCFunction_NewEx(&list_devices_def, module, name) : NULL;
	PyObject *sm = fn ? PyStaticMethod_New(fn) : NULL;
	int rc = sm ? PyDict_SetItemString(engine_type->tp_dict, "list_devices", sm) : -1;
	Py_XDECREF(sm);
	Py_XDECREF(fn);
	Py_XDECREF(name);
	if (rc == 0)
		PyType_Modified(engine_type);
	return rc;
}

/* SampleInfo's fields, in order, with their docs. */
static const char *const sample_info_fields[][2] = {
	{ "n_frames", "Frames of the sample as it plays (at sample_rate)." },
	{ "channels", "Channels: the engine's (samples are mapped when loaded)." },
	{ "sample_rate", "The sample's rate in Hz: the engine's (converted when loaded)." },
	{ "duration_s", "n_frames / sample_rate, in seconds." },
	{ "source_sample_rate", "The rate of the file before conversion, in Hz." },
	{ "source", "The path the sample was loaded from, or '<memory>'." },
};

/* SampleInfo, Transport: collections.namedtuple types (what the API promises: a named tuple
 * a caller may unpack, index and _replace()), made here so that the type
 * lives in the module's state like the others. */
static PyObject *make_namedtuple(const char *type_name, const char *const (*fields)[2],
				 size_t n_fields, const char *type_doc)
{
	PyObject *collections = PyImport_ImportModule("collections");
	PyObject *names = PyTuple_New((Py_ssize_t)n_fields);
	PyObject *kwargs = Py_BuildValue("{s:s}", "module", "flitzis_looper_rs");
	PyObject *args = NULL, *namedtuple = NULL, *tp = NULL;
	if (collections == NULL || names == NULL || kwargs == NULL)
		goto done;
	for (size_t i = 0; i < n_fields; i++) {
		PyObject *name = PyUnicode_FromString(fields[i][0]);
		if (name == NULL)
			goto done;
		PyTuple_SET_ITEM(names, (Py_ssize_t)i, name);
	}
	namedtuple = PyObject_GetAttrString(collections, "namedtuple");
	args = Py_BuildValue("(sO)", type_name, names);
	if (namedtuple == NULL || args == NULL)
		goto done;
	tp = PyObject_Call(namedtuple, args, kwargs);
	if (tp == NULL)
		goto done;
	PyObject *doc = PyUnicode_FromString(type_doc);
	int rc = doc ? PyObject_SetAttrString(tp, "__doc__", doc) : -1;
	Py_XDECREF(doc);
	for (size_t i = 0; rc == 0 && i < n_fields; i++) {
		PyObject *field = PyObject_GetAttrString(tp, fields[i][0]);
		PyObject *fdoc = PyUnicode_FromString(fields[i][1]);
		rc = field && fdoc ? PyObject_SetAttrString(field, "__doc__", fdoc) : -1;
		Py_XDECREF(field);
		Py_XDECREF(fdoc);
	}
	if (rc < 0)
		Py_CLEAR(tp);
done:
	Py_XDECREF(collections);
	Py_XDECREF(names);
	Py_XDECREF(kwargs);
	Py_XDECREF(namedtuple);
	Py_XDECREF(args);
	return tp;
}

PyObject *module_make_namedtuple(const char *type_name, const char *const (*fields)[2],
				 size_t n_fields, const char *type_doc)
{
	return make_namedtuple(type_name, fields, n_fields, type_doc);
}

static PyObject *make_sample_info_type(void)
{
	return make_namedtuple(
		"SampleInfo", sample_info_fields,
		sizeof sample_info_fields / sizeof sample_info_fields[0],
		"SampleInfo(n_frames, channels, sample_rate, duration_s, source_sample_rate, "
		"source)\n\nWhat AudioEngine.sample_info() reports of a slot's sample (a named "
		"tuple).");
}

/* Transport's fields, in order, with their docs. */
static const char *const transport_fields[][2] = {
	{ "frame", "The output frame this describes: the end of the last block rendered." },
	{ "bpm", "The master tempo in beats per minute." },
	{ "beats_per_bar", "Beats per bar, 1..16." },
	{ "bar", "The bar at frame, counted from 0 at the downbeat (negative before it)." },
	{ "beat", "The beat within the bar at frame, a float in 0 <= beat < beats_per_bar." },
	{ "downbeat_frame", "The downbeat (bar 0, beat 0), rounded to a whole frame." },
};

static PyObject *make_transport_type(void)
{
	return make_namedtuple(
		"Transport", transport_fields, sizeof transport_fields / sizeof transport_fields[0],
		"Transport(frame, bpm, beats_per_bar, bar, beat, downbeat_frame)\n\nWhat "
		"AudioEngine.transport() reports (a named tuple), as the audio thread published "
		"it after its last block.");
}

static int module_exec(PyObject *m)
{
	struct module_state *st = PyModule_GetState(m);

	PyObject *tp = PyType_FromModuleAndSpec(m, &engine_spec, NULL);
	if (tp == NULL)
		return -1;
	st->engine_type = (PyTypeObject *)tp;
	if (add_list_devices(m, st->engine_type) < 0 || add_ref(m, "AudioEngine", tp) < 0)
		return -1;
	if (create_message_types(m, st) < 0)
		return -1;
	st->queue_full_error = add_exception(
		m, "QueueFullError",
		"A command could not be queued: the command buffer is full because the audio\n"
		"thread is not keeping up (e.g. the device stalled). Nothing was applied.");
	st->not_running_error = add_exception(
		m, "NotRunningError",
		"The call needs a running engine: call run() first (or again after shut_down()).");
	st->device_error = add_exception(
		m, "DeviceError",
		"The audio device cannot be opened or configured (raised by run(), naming the\n"
		"device and the reason), or it was lost while running.");
	if (st->queue_full_error == NULL || st->not_running_error == NULL ||
	    st->device_error == NULL)
		return -1;
	st->device_type = PyStructSequence_NewType(&device_desc);
	if (st->device_type == NULL || add_ref(m, "Device", (PyObject *)st->device_type) < 0)
		return -1;
	st->sample_info_type = (PyTypeObject *)make_sample_info_type();
	if (st->sample_info_type == NULL ||
	    add_ref(m, "SampleInfo", (PyObject *)st->sample_info_type) < 0)
		return -1;
	st->transport_type = (PyTypeObject *)make_transport_type();
	if (st->transport_type == NULL ||
	    add_ref(m, "Transport", (PyObject *)st->transport_type) < 0)
		return -1;
	if (create_meter_types(m, st) < 0)
		return -1;
	if (PyModule_AddIntConstant(m, "NUM_SAMPLES", FLZ_NUM_SAMPLES) < 0 ||
	    PyModule_AddIntConstant(m, "MAX_VOICES", FLZ_MAX_VOICES) < 0 ||
	    PyModule_AddObject(m, "SPEED_MIN", PyFloat_FromDouble(FLZ_SPEED_MIN)) < 0 ||
	    PyModule_AddObject(m, "SPEED_MAX", PyFloat_FromDouble(FLZ_SPEED_MAX)) < 0 ||
	    PyModule_AddObject(m, "VOLUME_MIN", PyFloat_FromDouble(FLZ_VOLUME_MIN)) < 0 ||
	    PyModule_AddObject(m, "VOLUME_MAX", PyFloat_FromDouble(FLZ_VOLUME_MAX)) < 0 ||
	    PyModule_AddIntConstant(m, "QUEUE_CAPACITY", FLZ_QUEUE_CAPACITY) < 0)
		return -1;

	PyObject *logging = PyImport_ImportModule("logging");
	if (logging == NULL)
		return -1;
	st->logger = PyObject_CallMethod(logging, "getLogger", "s", "flitzis_looper_rs");
	Py_DECREF(logging);
	return st->logger ? 0 : -1;
}

static int module_traverse(PyObject *m, visitproc visit, void *arg)
{
	struct module_state *st = PyModule_GetState(m);
	if (st == NULL)
		return 0;
	Py_VISIT(st->logger);
	Py_VISIT(st->queue_full_error);
	Py_VISIT(st->not_running_error);
	Py_VISIT(st->device_error);
	for (int k = 0; k < MSG_N_TYPES; k++)
		Py_VISIT(st->msg_types[k]);
	Py_VISIT(st->engine_type);
	Py_VISIT(st->device_type);
	Py_VISIT(st->sample_info_type);
	Py_VISIT(st->transport_type);
	Py_VISIT(st->meters_type);
	Py_VISIT(st->pad_meter_type);
	return 0;
}

static int module_clear(PyObject *m)
{
	struct module_state *st = PyModule_GetState(m);
	if (st == NULL)
		return 0;
	Py_CLEAR(st->logger);
	Py_CLEAR(st->queue_full_error);
	Py_CLEAR(st->not_running_error);
	Py_CLEAR(st->device_error);
	for (int k = 0; k < MSG_N_TYPES; k++)
		Py_CLEAR(st->msg_types[k]);
	Py_CLEAR(st->engine_type);
	Py_CLEAR(st->device_type);
	Py_CLEAR(st->sample_info_type);
	Py_CLEAR(st->transport_type);
	Py_CLEAR(st->meters_type);
	Py_CLEAR(st->pad_meter_type);
	/* st->engines holds no references; each engine keeps the module (and
	 * so this memory) alive through its type until it unlinks itself. */
	return 0;
}

static void module_free(void *m)
{
	module_clear((PyObject *)m);
}

static PyModuleDef_Slot module_slots[] = {
	{ Py_mod_exec, (void *)module_exec },
#ifdef Py_mod_multiple_interpreters
	/* Everything is per module object; the engine's own threads never
	 * touch Python. (A GIL per interpreter is not claimed: the C engine and
	 * ALSA are shared by the whole process.) */
	{ Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED },
#endif
	{ 0, NULL },
};

struct PyModuleDef module_def = {
	PyModuleDef_HEAD_INIT,
	.m_name = "flitzis_looper_rs._native",
	.m_doc = "The C implementation of flitzis_looper_rs (see the package for the API).",
	.m_size = sizeof(struct module_state),
	.m_methods = module_methods,
	.m_slots = module_slots,
	.m_traverse = module_traverse,
	.m_clear = module_clear,
	.m_free = module_free,
};

PyMODINIT_FUNC PyInit__native(void);

PyMODINIT_FUNC PyInit__native(void)
{
	return PyModuleDef_Init(&module_def);
}
