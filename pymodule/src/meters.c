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

/* A Meters like @p last with a fresh pads dict (the caller may change the
 * dict it got; the PadMeters and the rest are immutable and shared). */
static PyObject *copy_meters(struct engine_object *self, PyObject *last)
{
	PyObject *pads = PyDict_Copy(PyTuple_GET_ITEM(last, 3));
	if (pads == NULL)
		return NULL;
	PyObject *items = PyTuple_Pack(4, PyTuple_GET_ITEM(last, 0), PyTuple_GET_ITEM(last, 1),
				       PyTuple_GET_ITEM(last, 2), pads);
	Py_DECREF(pads); /* the tuple holds it now (or nothing does) */
	return named(self->state->meters_type, items);
}

PyObject *engine_meters(PyObject *obj, PyObject *unused)
{
	(void)unused;
	struct engine_object *self = (struct engine_object *)obj;
	int64_t frame = 0;
	int err = flz_engine_meters_frame(self->engine, &frame);
	if (err < 0)
		return raise_error(self->state, OP_COMMAND, err, NULL, NULL);
	if (self->meters_last != NULL && frame == self->meters_last_frame)
		return copy_meters(self, self->meters_last);
	/* About 2 KB of figures: on the heap of this (control) thread, not the
	 * audio thread's. */
	struct flz_engine_meters *m = PyMem_Malloc(sizeof *m);
	if (m == NULL)
		return PyErr_NoMemory();
	err = flz_engine_get_meters(self->engine, m);
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
	result = named(self->state->meters_type,
		       PyTuple_Pack(4, frame_obj, peaks, m->master_clip ? Py_True : Py_False, pads));
	Py_DECREF(frame_obj);
	if (result != NULL) {
		/* Kept with a dict of its own: the one returned is the caller's. */
		PyObject *kept = copy_meters(self, result);
		if (kept == NULL) {
			Py_CLEAR(result);
			goto done;
		}
		Py_XSETREF(self->meters_last, kept);
		self->meters_last_frame = m->frame;
	}
done:
	Py_XDECREF(peaks);
	Py_XDECREF(pads);
	PyMem_Free(m);
	return result;
}
