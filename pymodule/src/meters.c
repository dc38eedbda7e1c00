/* SPDX-License-Identifier: MIT */
/* AudioEngine.meters() and its named tuples Meters and PadMeter (immutable: the
 * same Meters is returned while the snapshot has not changed). */
#include "module-private.h"

static const char *const meters_fields[][2] = {
	{ "frame", "The first output frame after the interval described (0: none yet)." },
	{ "master_peak", "Per output channel, max |x| over the interval after the master gain." },
	{ "master_clip", "True when some channel's peak reached 1.0." },
	{ "pads", "A read-only mapping {slot: PadMeter} of each pad whose contribution was non-zero "
		  "in the interval." },
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

void engine_forget_meters(struct engine_object *self)
{
	Py_CLEAR(self->meters_last);
}

/* An instance of the named tuple type @p tp holding @p items (a tuple, whose
 * reference is stolen): tuple.__new__(tp, items), what the type's own
 * _make() does, without running its Python __new__. */
static PyObject *named(PyTypeObject *tp, PyObject *items)
{
	if (items == NULL)
		return NULL;
	PyObject *args = PyTuple_Pack(1, items);
	Py_DECREF(items);
	if (args == NULL)
		return NULL;
	PyObject *r = PyTuple_Type.tp_new(tp, args, NULL);
	Py_DECREF(args);
	return r;
}

PyObject *engine_meters(PyObject *obj, PyObject *unused)
{
	(void)unused;
	struct engine_object *self = (struct engine_object *)obj;
	/* The common case, a UI polling faster than meter_hz: no snapshot
	 * published and no stop since the one the last Meters was built from
	 * was read, so that Meters is still the answer, and being immutable it
	 * is returned itself. One atomic load (acquire, see
	 * flz_engine_meters_seq()), no lock, no allocation; meters_last and
	 * meters_last_seq are read and written under the GIL only. */
	uint64_t seq = flz_engine_meters_seq(self->engine);
	if (self->meters_last != NULL && seq == self->meters_last_seq) {
		Py_INCREF(self->meters_last);
		return self->meters_last;
	}
	/* About 2 KB of figures: on the heap of this (control) thread, not the
	 * audio thread's. */
	struct flz_engine_meters *m = PyMem_Malloc(sizeof *m);
	if (m == NULL)
		return PyErr_NoMemory();
	/* Read after seq: the snapshot is the one seq was raised for or a
	 * newer one (a newer one changes the count later: this is then built
	 * once more, never kept past its time). */
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
		PyObject *peak = PyFloat_FromDouble((double)m->pads[s].peak);
		PyObject *pos = PyFloat_FromDouble(m->pads[s].position_s);
		PyObject *pm = peak && pos ? named(self->state->pad_meter_type,
						   PyTuple_Pack(2, peak, pos))
					   : NULL;
		Py_XDECREF(peak);
		Py_XDECREF(pos);
		int rc = key && pm ? PyDict_SetItem(pads, key, pm) : -1;
		Py_XDECREF(key);
		Py_XDECREF(pm);
		if (rc < 0)
			goto done;
	}
	PyObject *frame_obj = PyLong_FromLongLong((long long)m->frame);
	if (frame_obj == NULL)
		goto done;
	/* The pads read-only (a mappingproxy over a dict nothing else holds):
	 * every part of the Meters is immutable, so the callers that get it
	 * again cannot change what the next one sees. */
	PyObject *pads_view = PyDictProxy_New(pads);
	if (pads_view == NULL) {
		Py_DECREF(frame_obj);
		goto done;
	}
	result = named(self->state->meters_type,
		       PyTuple_Pack(4, frame_obj, peaks, m->master_clip ? Py_True : Py_False,
				    pads_view));
	Py_DECREF(frame_obj);
	Py_DECREF(pads_view);
	if (result != NULL) {
		Py_INCREF(result);
		Py_XSETREF(self->meters_last, result);
		self->meters_last_seq = seq;
	}
done:
	Py_XDECREF(peaks);
	Py_XDECREF(pads);
	PyMem_Free(m);
	return result;
}
