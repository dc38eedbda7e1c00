/* SPDX-License-Identifier: MIT */
/* flitzis_looper_rs._native: Device and AudioEngine.list_devices(). */
#include "module-private.h"

/* --- device listing ------------------------------------------------------ */

static PyStructSequence_Field device_fields[] = {
	{ "name", "The ALSA PCM name; pass it (or the record) as AudioEngine(device=...)." },
	{ "description", "ALSA's description (may span lines), or None when the PCM has none." },
	{ NULL, NULL },
};

PyStructSequence_Desc device_desc = {
	"flitzis_looper_rs.Device",
	"Device((name, description)) -- an ALSA PCM that can play, from\n"
	"AudioEngine.list_devices(). A named tuple: d.name, d.description.",
	device_fields,
	2,
};

static PyObject *text_or_none(const char *text)
{
	if (text == NULL)
		Py_RETURN_NONE;
	return PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
}

/* alsa-lib's messages during a listing: kept while the GIL is released,
 * logged once it is held again. Thread: the caller's, inside the listing. */
struct listing_log {
	unsigned n;
	struct log_entry entries[8];
};

static void listing_log_push(void *userdata, enum flz_log_level level, const char *message)
{
	struct listing_log *l = userdata;
	if (l->n < sizeof(l->entries) / sizeof(l->entries[0])) {
		l->entries[l->n].level = level;
		snprintf(l->entries[l->n].text, sizeof l->entries[0].text, "%s",
			 message ? message : "");
		l->n++;
	}
}

static PyObject *engine_list_devices(PyObject *module, PyObject *unused)
{
	struct module_state *st = PyModule_GetState(module);
	struct flz_device *devices = NULL;
	struct listing_log logged = { .n = 0 };
	int64_t n;
	/* ALSA reads its configuration and may probe cards: do not hold others up. */
	Py_BEGIN_ALLOW_THREADS
	n = flz_engine_list_devices_log(&devices, listing_log_push, &logged);
	Py_END_ALLOW_THREADS
	/* A configuration that does not parse: what alsa-lib said, to logging
	 * rather than stderr. */
	log_emit_entries(st->logger, logged.entries, logged.n);
	if (n < 0) {
		char why[160];
		snprintf(why, sizeof why, "cannot list the ALSA devices: %s", strerror((int)-n));
		return raise_error(st, OP_COMMAND, n == -ENOMEM ? -ENOMEM : -EIO, why, NULL);
	}
	PyObject *list = PyList_New((Py_ssize_t)n);
	for (int64_t i = 0; list != NULL && i < n; i++) {
		PyObject *rec = PyStructSequence_New(st->device_type);
		PyObject *name = rec ? text_or_none(devices[i].name) : NULL;
		PyObject *desc = name ? text_or_none(devices[i].description) : NULL;
		if (desc == NULL) {
			Py_XDECREF(name);
			Py_XDECREF(rec);
			Py_CLEAR(list);
			break;
		}
		PyStructSequence_SET_ITEM(rec, 0, name);
		PyStructSequence_SET_ITEM(rec, 1, desc);
		PyList_SET_ITEM(list, (Py_ssize_t)i, rec);
	}
	flz_engine_free_devices(devices, (size_t)n);
	return list;
}

PyMethodDef list_devices_def = {
	"list_devices", engine_list_devices, METH_NOARGS,
	  "list_devices()\n--\n\n"
	  "The ALSA PCMs that can play, as a list of Device(name, description) named\n"
	  "tuples in ALSA's order (its name hints; capture-only PCMs left out). Any\n"
	  "name, or the record itself, can be passed as AudioEngine(device=...).\n"
	  "Needs no running engine; releases the GIL while ALSA reads its configuration."
};
