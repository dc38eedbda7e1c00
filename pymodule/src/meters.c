/* SPDX-License-Identifier: MIT */
/* AudioEngine.meters() and its named tuples Meters and PadMeter. */
#include "module-private.h"

static const char *const meters_fields[][2] = {
	{ "frame", "The first output frame after the interval described (0: none yet)." },
	{ "master_peak", "Per output channel, max |x| over the interval after the master gain." },
	{ "master_clip", "True when some channel's peak reached 1.0." },
	{ "pads", "{slot: PadMeter} for each pad whose contribution was non-zero in the interval." },
};

static const char *const pad_meter_fields[][2] = {
	{ "peak", "Max |x| of the pad's contribution (after its gain and EQ) over the interval." },
	{ "position_s", "Its newest sounding voice's position in the sample, in seconds." },
};

int create_meter_types(PyObject *module, struct module_state *st)
{
	st->meters_type = (PyTypeObject *)module_make_namedtuple(
		"Meters", meters_fields, sizeof meters_fields / sizeof meters_fields[0],
		"Meters(frame, master_peak, master_clip, pads)\n\nWhat AudioEngine.meters() "
		"reports (a named tuple): one interval's exact peaks, as the audio thread "
		"published them.");
	if (st->meters_type == NULL)
		return -1;
	if (PyModule_AddObjectRef(module, "Meters", (PyObject *)st->meters_type) < 0)
		return -1;
	st->pad_meter_type = (PyTypeObject *)module_make_namedtuple(
		"PadMeter", pad_meter_fields, sizeof pad_meter_fields / sizeof pad_meter_fields[0],
		"PadMeter(peak, position_s)\n\nOne pad's entry in Meters.pads (a named tuple).");
	if (st->pad_meter_type == NULL)
		return -1;
	return PyModule_AddObjectRef(module, "PadMeter", (PyObject *)st->pad_meter_type);
}

PyObject *engine_meters(PyObject *obj, PyObject *unused)
{
	(void)unused;
	struct engine_object *self = (struct engine_object *)obj;
	/* About 2 KB of figures: on the heap of this (control) thread, not the
	 * audio thread's. */
	struct flz_engine_meters *m = PyMem_Malloc(sizeof *m);
	if (m == NULL)
		return PyErr_NoMemory();
	int err = flz_engine_get_meters(self->engine, m);
	if (err < 0) {
		PyMem_Free(m);
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	}
	PyObject *peaks = PyTuple_New(m->n_channels);
	PyObject *pads = PyDict_New();
	PyObject *result = NULL;
	if (peaks == NULL || pads == NULL)
		goto done;
	for (uint32_t c = 0; c < m->n_channels; c++) {
		PyObject *f = PyFloat_FromDouble((double)m->master_peak[c]);
		if (f == NULL)
			goto done;
		PyTuple_SET_ITEM(peaks, c, f);
	}
	for (uint32_t s = 0; s < FLZ_NUM_SAMPLES; s++) {
		if (!m->pads[s].sounded)
			continue;
		PyObject *key = PyLong_FromUnsignedLong(s);
		PyObject *pm = PyObject_CallFunction((PyObject *)self->state->pad_meter_type, "dd",
						     (double)m->pads[s].peak, m->pads[s].position_s);
		int rc = key && pm ? PyDict_SetItem(pads, key, pm) : -1;
		Py_XDECREF(key);
		Py_XDECREF(pm);
		if (rc < 0)
			goto done;
	}
	result = PyObject_CallFunction((PyObject *)self->state->meters_type, "LOOO",
				       (long long)m->frame, peaks,
				       m->master_clip ? Py_True : Py_False, pads);
done:
	Py_XDECREF(peaks);
	Py_XDECREF(pads);
	PyMem_Free(m);
	return result;
}
