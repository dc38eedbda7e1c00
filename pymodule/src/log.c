/* SPDX-License-Identifier: MIT */
/* flitzis_looper_rs._native: the engine's log lines to Python's logging. */
#include "module-private.h"

/* ------------------------------------------------------------------------ */
/* The log queue between the engine's threads and Python's logging.        */

/* The engine's log callback. Thread: engine control/housekeeping threads,
 * never the audio thread; never touches Python. */
void log_queue_push(void *userdata, enum flz_log_level level, const char *message)
{
	struct log_queue *q = userdata;
	pthread_mutex_lock(&q->lock);
	unsigned n = atomic_load_explicit(&q->n_pending, memory_order_relaxed);
	if (n == LOG_QUEUE_LEN) {
		q->n_dropped++;
	} else {
		struct log_entry *e = &q->entries[(q->head + n) % LOG_QUEUE_LEN];
		e->level = level;
		snprintf(e->text, sizeof e->text, "%s", message ? message : "");
		atomic_store_explicit(&q->n_pending, n + 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&q->lock);
}

static int python_log_level(enum flz_log_level level)
{
	switch (level) {
	case FLZ_LOG_ERROR: return 40;
	case FLZ_LOG_WARNING: return 30;
	case FLZ_LOG_INFO: return 20;
	default: return 10;
	}
}

/* Send one line to the logger; never lets an exception escape. GIL held. */
static void emit_log(PyObject *logger, int py_level, const char *text)
{
	if (logger == NULL)
		return;
	PyObject *r = PyObject_CallMethod(logger, "log", "iss", py_level, "%s", text);
	if (r == NULL)
		PyErr_WriteUnraisable(logger);
	Py_XDECREF(r);
}

void log_emit_entries(PyObject *logger, const struct log_entry *entries, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		emit_log(logger, python_log_level(entries[i].level), entries[i].text);
}

/* Move queued lines to Python's logging. GIL held; keeps any pending exception. */
void log_queue_drain(struct log_queue *q, PyObject *logger)
{
	if (q == NULL || atomic_load_explicit(&q->n_pending, memory_order_relaxed) == 0)
		return;

	struct log_entry lines[LOG_QUEUE_LEN];
	unsigned n;
	uint64_t n_dropped;
	pthread_mutex_lock(&q->lock);
	n = atomic_load_explicit(&q->n_pending, memory_order_relaxed);
	for (unsigned i = 0; i < n; i++)
		lines[i] = q->entries[(q->head + i) % LOG_QUEUE_LEN];
	q->head = (q->head + n) % LOG_QUEUE_LEN;
	atomic_store_explicit(&q->n_pending, 0, memory_order_relaxed);
	n_dropped = q->n_dropped;
	q->n_dropped = 0;
	pthread_mutex_unlock(&q->lock);

#if PY_VERSION_HEX >= 0x030C0000
	PyObject *pending = PyErr_GetRaisedException();
#else
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
#endif
	log_emit_entries(logger, lines, n);
	if (n_dropped > 0) {
		char text[96];
		snprintf(text, sizeof text, "%llu engine log messages were dropped",
			 (unsigned long long)n_dropped);
		emit_log(logger, 30, text);
	}
#if PY_VERSION_HEX >= 0x030C0000
	PyErr_SetRaisedException(pending);
#else
	PyErr_Restore(type, value, tb);
#endif
}
