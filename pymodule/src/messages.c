/* SPDX-License-Identifier: MIT */
/* flitzis_looper_rs._native: AudioMessage and its kinds. */
#include "module-private.h"

/* ------------------------------------------------------------------------ */
/* AudioMessage and its kinds.                                              */

/*
 * The kinds, their fields, docs and conversion from struct flz_engine_msg
 * are generated from flz/vocabulary.h; Ping and the base class (enum
 * msg_type) are the only ones named here. The types live in the module's
 * state; a type's methods find it through the type.
 */
/* One member per distinct field name of the vocabulary: a field added there
 * under a new name fails to compile until it has its member here. */
struct message_object {
	PyObject_HEAD
	PyObject *id;     /* int or None (NULL reads as None) */
	PyObject *cmd;    /* str or None */
	PyObject *value;  /* float or None */
	PyObject *reason; /* str or None */
	unsigned long long seq;
	long long frame;
	int error;
	/* The load pool's messages (FLZ_LOAD_MSG_KINDS). */
	unsigned long long request;
	PyObject *fraction;   /* float or None */
	PyObject *stage;      /* str or None */
	PyObject *duration_s; /* float or None */
	PyObject *error_exc;  /* LoadFailed.error: an exception or None ("error"
			       * is DeviceLost's int, so the storage is named apart) */
};

/* The Python side of the vocabulary's field KINDs: how each is stored,
 * exposed, checked and converted. */
enum field_kind {
	FK_SLOT,
	FK_SEQ,
	FK_FRAME,
	FK_ERRNO,
	FK_ERRTEXT,
	FK_CMD,
	FK_CMDVALUE,
	FK_REQUEST,
	FK_FRACTION,
	FK_STAGE,
	FK_DURATION,
	FK_EXC,
};

#define FK_NAME_SLOT "SLOT"
#define FK_NAME_SEQ "SEQ"
#define FK_NAME_FRAME "FRAME"
#define FK_NAME_ERRNO "ERRNO"
#define FK_NAME_ERRTEXT "ERRTEXT"
#define FK_NAME_CMD "CMD"
#define FK_NAME_CMDVALUE "CMDVALUE"
#define FK_NAME_REQUEST "REQUEST"
#define FK_NAME_FRACTION "FRACTION"
#define FK_NAME_STAGE "STAGE"
#define FK_NAME_DURATION "DURATION"
#define FK_NAME_EXC "EXC"

/* PyMemberDef type of each kind, and the C type of its storage. */
#define FK_MEMBER_SLOT T_OBJECT
#define FK_MEMBER_SEQ T_ULONGLONG
#define FK_MEMBER_FRAME T_LONGLONG
#define FK_MEMBER_ERRNO T_INT
#define FK_MEMBER_ERRTEXT T_OBJECT
#define FK_MEMBER_CMD T_OBJECT
#define FK_MEMBER_CMDVALUE T_OBJECT
#define FK_MEMBER_REQUEST T_ULONGLONG
#define FK_MEMBER_FRACTION T_OBJECT
#define FK_MEMBER_STAGE T_OBJECT
#define FK_MEMBER_DURATION T_OBJECT
#define FK_MEMBER_EXC T_OBJECT
#define FK_CTYPE_SLOT PyObject *
#define FK_CTYPE_SEQ unsigned long long
#define FK_CTYPE_FRAME long long
#define FK_CTYPE_ERRNO int
#define FK_CTYPE_ERRTEXT PyObject *
#define FK_CTYPE_CMD PyObject *
#define FK_CTYPE_CMDVALUE PyObject *
#define FK_CTYPE_REQUEST unsigned long long
#define FK_CTYPE_FRACTION PyObject *
#define FK_CTYPE_STAGE PyObject *
#define FK_CTYPE_DURATION PyObject *
#define FK_CTYPE_EXC PyObject *
/* The member of struct message_object that stores a field: its name, but
 * for EXC (whose Python name, error, is DeviceLost's int elsewhere). */
#define FK_STORE_SLOT(name) name
#define FK_STORE_SEQ(name) name
#define FK_STORE_FRAME(name) name
#define FK_STORE_ERRNO(name) name
#define FK_STORE_ERRTEXT(name) name
#define FK_STORE_CMD(name) name
#define FK_STORE_CMDVALUE(name) name
#define FK_STORE_REQUEST(name) name
#define FK_STORE_FRACTION(name) name
#define FK_STORE_STAGE(name) name
#define FK_STORE_DURATION(name) name
#define FK_STORE_EXC(name) error_exc

struct field_def {
	const char *name;
	enum field_kind kind;
	Py_ssize_t offset; /* of its storage in struct message_object */
	const char *doc;
};

#define FIELD_DEF(name, c_field, kind, doc) \
	{ #name, FK_##kind, offsetof(struct message_object, FK_STORE_##kind(name)), doc },
#define FIELD_MEMBER(name, c_field, kind, doc) \
	{ #name, FK_MEMBER_##kind, offsetof(struct message_object, FK_STORE_##kind(name)), \
	  READONLY, doc },
/* The storage of a field has its kind's C type. */
#define FIELD_CHECK(name, c_field, kind, doc)                                           \
	_Static_assert(_Generic(((struct message_object *)0)->FK_STORE_##kind(name),      \
				FK_CTYPE_##kind: 1,                                       \
				default: 0),                                              \
		       "struct message_object." #name " does not hold a " #kind);
#define KIND_TABLES(suffix, number, pyname, fields, doc)                              \
	static const struct field_def fields_##suffix[] = { fields(FIELD_DEF){ NULL } }; \
	static PyMemberDef members_##suffix[] = { fields(FIELD_MEMBER){ NULL } };        \
	fields(FIELD_CHECK)
FLZ_MSG_KINDS(KIND_TABLES)
FLZ_LOAD_MSG_KINDS(KIND_TABLES)
#undef KIND_TABLES
#undef FIELD_CHECK
#undef FIELD_MEMBER
#undef FIELD_DEF

static const struct field_def no_fields[] = { { NULL } };

/* Everything about one message type. */
struct msg_def {
	const char *name;                 /* AudioMessage.<name> */
	int engine_kind;                  /* enum flz_msg_kind; 0: never sent by the engine */
	const struct field_def *fields;   /* constructor and repr order */
	PyMemberDef *members;             /* NULL: none */
	const char *doc;
};

static const struct msg_def msg_defs[MSG_N_TYPES] = {
	[MSG_BASE] = { "AudioMessage", 0, no_fields, NULL,
		       "A message from the audio thread, returned by AudioEngine.receive_msg().\n\n"
		       "Test a message's kind with isinstance(msg, AudioMessage.Pong) etc." },
	[MSG_PING] = { "Ping", 0, no_fields, NULL,
		       "Ping() -- a ping; the engine answers ping() with a Pong." },
#define MSG_DEF(suffix, number, pyname, fields, doc) \
	[MSG_##suffix] = { pyname, FLZ_MSG_##suffix, fields_##suffix, members_##suffix, doc },
	FLZ_MSG_KINDS(MSG_DEF)
#undef MSG_DEF
#define MSG_DEF(suffix, number, pyname, fields, doc) \
	[MSG_##suffix] = { pyname, number, fields_##suffix, members_##suffix, doc },
	FLZ_LOAD_MSG_KINDS(MSG_DEF)
#undef MSG_DEF
};

/* The fields of the most derived known kind of a (possibly user-subclassed)
 * message type; NULL with an exception set when tp is none of ours. */
static const struct field_def *message_fields(PyTypeObject *tp)
{
	struct module_state *st = module_state_of_type(tp);
	if (st == NULL)
		return NULL;
	for (int k = MSG_N_TYPES - 1; k > MSG_BASE; k--)
		if (st->msg_types[k] != NULL && PyType_IsSubtype(tp, st->msg_types[k]))
			return msg_defs[k].fields;
	return msg_defs[MSG_BASE].fields;
}

static void message_dealloc(PyObject *self)
{
	struct message_object *m = (struct message_object *)self;
	PyTypeObject *tp = Py_TYPE(self);
	Py_CLEAR(m->id);
	Py_CLEAR(m->cmd);
	Py_CLEAR(m->value);
	Py_CLEAR(m->reason);
	Py_CLEAR(m->fraction);
	Py_CLEAR(m->stage);
	Py_CLEAR(m->duration_s);
	Py_CLEAR(m->error_exc);
	tp->tp_free(self);
	Py_DECREF(tp); /* instances of heap types own a reference to their type */
}

#define FIELD_AT(m, f, ctype) ((ctype *)((char *)(m) + (f)->offset))

static PyObject *field_value(struct message_object *m, const struct field_def *f)
{
	PyObject *o;
	switch (f->kind) {
	case FK_SEQ:
	case FK_REQUEST:
		return PyLong_FromUnsignedLongLong(*FIELD_AT(m, f, unsigned long long));
	case FK_FRAME:
		return PyLong_FromLongLong(*FIELD_AT(m, f, long long));
	case FK_ERRNO:
		return PyLong_FromLong(*FIELD_AT(m, f, int));
	default:
		o = *FIELD_AT(m, f, PyObject *);
		if (o == NULL)
			o = Py_None;
		Py_INCREF(o);
		return o;
	}
}

/* Store one constructor argument; checks its type. */
static int field_store(struct message_object *m, const struct field_def *f, PyObject *v)
{
	switch (f->kind) {
	case FK_SEQ:
	case FK_REQUEST: {
		unsigned long long x = PyLong_AsUnsignedLongLong(v);
		if (x == (unsigned long long)-1 && PyErr_Occurred())
			return -1;
		*FIELD_AT(m, f, unsigned long long) = x;
		return 0;
	}
	case FK_FRAME: {
		long long x = PyLong_AsLongLong(v);
		if (x == -1 && PyErr_Occurred())
			return -1;
		*FIELD_AT(m, f, long long) = x;
		return 0;
	}
	case FK_ERRNO: {
		long x = PyLong_AsLong(v);
		if (x == -1 && PyErr_Occurred())
			return -1;
		if (x < INT_MIN || x > INT_MAX) {
			PyErr_SetString(PyExc_OverflowError, "error code out of range");
			return -1;
		}
		*FIELD_AT(m, f, int) = (int)x;
		return 0;
	}
	case FK_CMDVALUE:
	case FK_FRACTION:
	case FK_DURATION: {
		PyObject *x = v == Py_None ? (Py_INCREF(v), v) : PyNumber_Float(v);
		if (x == NULL)
			return -1;
		Py_XSETREF(*FIELD_AT(m, f, PyObject *), x);
		return 0;
	}
	case FK_SLOT:
		if (v != Py_None && (!PyLong_Check(v) || PyBool_Check(v)))
			goto type_error;
		break;
	case FK_ERRTEXT:
	case FK_CMD:
	case FK_STAGE:
		if (v != Py_None && !PyUnicode_Check(v))
			goto type_error;
		break;
	case FK_EXC:
		if (v != Py_None && !PyExceptionInstance_Check(v))
			goto type_error;
		break;
	}
	Py_INCREF(v);
	Py_XSETREF(*FIELD_AT(m, f, PyObject *), v);
	return 0;
type_error:
	PyErr_Format(PyExc_TypeError, "%s: unexpected type %.80s for field '%s'",
		     Py_TYPE(m)->tp_name, Py_TYPE(v)->tp_name, f->name);
	return -1;
}

static int message_init(PyObject *self, PyObject *args, PyObject *kwds)
{
	struct message_object *m = (struct message_object *)self;
	const struct field_def *fields = message_fields(Py_TYPE(self));
	if (fields == NULL)
		return -1;
	if (PyTuple_GET_SIZE(args) != 0) {
		PyErr_Format(PyExc_TypeError, "%s takes keyword arguments only",
			     Py_TYPE(self)->tp_name);
		return -1;
	}
	if (kwds == NULL)
		return 0;
	PyObject *key, *v;
	Py_ssize_t pos = 0;
	while (PyDict_Next(kwds, &pos, &key, &v)) {
		const char *name = PyUnicode_AsUTF8(key);
		if (name == NULL)
			return -1;
		const struct field_def *field = NULL;
		for (const struct field_def *f = fields; f->name != NULL; f++)
			if (strcmp(f->name, name) == 0)
				field = f;
		if (field == NULL) {
			PyErr_Format(PyExc_TypeError, "%s got an unexpected keyword argument '%s'",
				     Py_TYPE(self)->tp_name, name);
			return -1;
		}
		if (field_store(m, field, v) < 0)
			return -1;
	}
	return 0;
}

static PyObject *message_repr(PyObject *self)
{
	struct message_object *m = (struct message_object *)self;
	const struct field_def *fields = message_fields(Py_TYPE(self));
	if (fields == NULL)
		return NULL;
	PyObject *parts = PyList_New(0);
	if (parts == NULL)
		return NULL;
	for (const struct field_def *f = fields; f->name != NULL; f++) {
		PyObject *v = field_value(m, f);
		PyObject *s = v ? PyUnicode_FromFormat("%s=%R", f->name, v) : NULL;
		Py_XDECREF(v);
		if (s == NULL || PyList_Append(parts, s) < 0) {
			Py_XDECREF(s);
			Py_DECREF(parts);
			return NULL;
		}
		Py_DECREF(s);
	}
	PyObject *sep = PyUnicode_FromString(", ");
	PyObject *joined = sep ? PyUnicode_Join(sep, parts) : NULL;
	Py_XDECREF(sep);
	Py_DECREF(parts);
	if (joined == NULL)
		return NULL;
	PyObject *qualname = PyObject_GetAttrString((PyObject *)Py_TYPE(self), "__qualname__");
	PyObject *r = qualname ? PyUnicode_FromFormat("%U(%U)", qualname, joined) : NULL;
	Py_XDECREF(qualname);
	Py_DECREF(joined);
	return r;
}

/* Messages compare equal when they are of the same type with equal fields. */
static PyObject *message_richcompare(PyObject *a, PyObject *b, int op)
{
	if ((op != Py_EQ && op != Py_NE) || Py_TYPE(a) != Py_TYPE(b))
		Py_RETURN_NOTIMPLEMENTED;
	const struct field_def *fields = message_fields(Py_TYPE(a));
	if (fields == NULL)
		return NULL;
	int equal = 1;
	for (const struct field_def *f = fields; equal == 1 && f->name != NULL; f++) {
		PyObject *va = field_value((struct message_object *)a, f);
		PyObject *vb = field_value((struct message_object *)b, f);
		equal = (va && vb) ? PyObject_RichCompareBool(va, vb, Py_EQ) : -1;
		Py_XDECREF(va);
		Py_XDECREF(vb);
	}
	if (equal < 0)
		return NULL;
	return PyBool_FromLong(op == Py_EQ ? equal : !equal);
}

/* (type, field values...): the identity of a message for hashing. */
static PyObject *message_hash_fields(PyObject *self)
{
	const struct field_def *fields = message_fields(Py_TYPE(self));
	if (fields == NULL)
		return NULL;
	Py_ssize_t n_fields = 0;
	while (fields[n_fields].name != NULL)
		n_fields++;
	PyObject *t = PyTuple_New(n_fields + 1);
	if (t == NULL)
		return NULL;
	Py_INCREF(Py_TYPE(self));
	PyTuple_SET_ITEM(t, 0, (PyObject *)Py_TYPE(self));
	for (Py_ssize_t i = 0; i < n_fields; i++) {
		PyObject *v = field_value((struct message_object *)self, &fields[i]);
		if (v == NULL) {
			Py_DECREF(t);
			return NULL;
		}
		PyTuple_SET_ITEM(t, i + 1, v);
	}
	return t;
}

static Py_hash_t message_hash(PyObject *self)
{
	PyObject *t = message_hash_fields(self);
	if (t == NULL)
		return -1;
	Py_hash_t h = PyObject_Hash(t);
	Py_DECREF(t);
	return h;
}

int create_message_types(PyObject *module, struct module_state *st)
{
	char qualname[64], tp_name[80];
	for (int k = 0; k < MSG_N_TYPES; k++) {
		const struct msg_def *def = &msg_defs[k];
		PyType_Slot slots[] = {
			{ Py_tp_dealloc, (void *)message_dealloc },
			{ Py_tp_init, (void *)message_init },
			{ Py_tp_new, (void *)PyType_GenericNew },
			{ Py_tp_repr, (void *)message_repr },
			{ Py_tp_richcompare, (void *)message_richcompare },
			{ Py_tp_hash, (void *)message_hash },
			{ Py_tp_doc, (void *)def->doc },
			{ def->members ? Py_tp_members : 0, (void *)def->members },
			{ 0, NULL },
		};
		snprintf(tp_name, sizeof tp_name, "flitzis_looper_rs.%s", def->name);
		PyType_Spec spec = {
			.name = tp_name,
			.basicsize = sizeof(struct message_object),
			.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
			.slots = slots,
		};
		PyObject *bases = NULL;
		if (k != MSG_BASE) {
			bases = PyTuple_Pack(1, (PyObject *)st->msg_types[MSG_BASE]);
			if (bases == NULL)
				return -1;
		}
		PyObject *tp = PyType_FromModuleAndSpec(module, &spec, bases);
		Py_XDECREF(bases);
		if (tp == NULL)
			return -1;
		st->msg_types[k] = (PyTypeObject *)tp; /* the state's reference */
		if (k != MSG_BASE) {
			snprintf(qualname, sizeof qualname, "AudioMessage.%s", def->name);
			PyObject *q = PyUnicode_FromString(qualname);
			int rc = q ? PyObject_SetAttrString(tp, "__qualname__", q) : -1;
			Py_XDECREF(q);
			if (rc < 0 ||
			    PyObject_SetAttrString((PyObject *)st->msg_types[MSG_BASE], def->name, tp) < 0)
				return -1;
		}
	}
	Py_INCREF(st->msg_types[MSG_BASE]);
	if (PyModule_AddObject(module, "AudioMessage", (PyObject *)st->msg_types[MSG_BASE]) < 0) {
		Py_DECREF(st->msg_types[MSG_BASE]);
		return -1;
	}
	return 0;
}

/* A new message of a kind; fields default to None/0. */
static struct message_object *message_new(struct module_state *st, enum msg_type kind)
{
	PyTypeObject *tp = st->msg_types[kind];
	return (struct message_object *)tp->tp_alloc(tp, 0);
}

/* Conversions from a struct flz_engine_msg field, one per field KIND:
 * @return 0, or -1 with an exception set */
static int convert_SLOT(PyObject **out, int32_t slot, const struct flz_engine_msg *em)
{
	(void)em;
	if (slot < 0)
		return 0;
	*out = PyLong_FromLong(slot);
	return *out ? 0 : -1;
}

static int convert_SEQ(unsigned long long *out, uint32_t seq, const struct flz_engine_msg *em)
{
	(void)em;
	*out = seq;
	return 0;
}

static int convert_FRAME(long long *out, int64_t frame, const struct flz_engine_msg *em)
{
	(void)em;
	*out = frame;
	return 0;
}

static int convert_ERRNO(int *out, int error, const struct flz_engine_msg *em)
{
	(void)em;
	*out = error;
	return 0;
}

static int convert_ERRTEXT(PyObject **out, int error, const struct flz_engine_msg *em)
{
	(void)em;
	*out = PyUnicode_DecodeLocale(strerror(error < 0 ? -error : error), "surrogateescape");
	return *out ? 0 : -1;
}

static int convert_CMD(PyObject **out, enum flz_cmd_kind cmd, const struct flz_engine_msg *em)
{
	(void)em;
	const char *name = flz_cmd_name((int)cmd);
	if (name == NULL)
		return 0;
	*out = PyUnicode_FromString(name);
	return *out ? 0 : -1;
}

static int convert_CMDVALUE(PyObject **out, double value, const struct flz_engine_msg *em)
{
	if (!flz_cmd_has_value((int)em->cmd))
		return 0;
	*out = PyFloat_FromDouble(value);
	return *out ? 0 : -1;
}

PyObject *message_from_engine(struct module_state *st, const struct flz_engine_msg *em)
{
	enum msg_type kind;
	switch (em->kind) {
#define KIND_CASE(suffix, number, pyname, fields, doc) \
	case FLZ_MSG_##suffix:                         \
		kind = MSG_##suffix;                   \
		break;
		FLZ_MSG_KINDS(KIND_CASE)
#undef KIND_CASE
	default:
		/* A kind newer than this module: the base class, no fields. */
		kind = MSG_BASE;
		break;
	}
	struct message_object *m = message_new(st, kind);
	if (m == NULL)
		return NULL;
	switch (em->kind) {
#define CONVERT_FIELD(name, c_field, fkind, doc)             \
	if (convert_##fkind(&m->name, em->c_field, em) < 0) \
		goto fail;
#define CONVERT_KIND(suffix, number, pyname, fields, doc) \
	case FLZ_MSG_##suffix:                            \
		fields(CONVERT_FIELD) break;
		FLZ_MSG_KINDS(CONVERT_KIND)
#undef CONVERT_KIND
#undef CONVERT_FIELD
	default:
		break;
	}
	return (PyObject *)m;
fail:
	Py_DECREF(m);
	return NULL;
}

/* Conversions from a struct flz_load_event field, one per field KIND of
 * FLZ_LOAD_MSG_KINDS; EXC takes the exception the caller built.
 * @return 0, or -1 with an exception set */
static int lconvert_REQUEST(unsigned long long *out, uint64_t request, PyObject *exc)
{
	(void)exc;
	*out = request;
	return 0;
}

static int lconvert_SLOT(PyObject **out, int32_t slot, PyObject *exc)
{
	(void)exc;
	return convert_SLOT(out, slot, NULL);
}

static int lconvert_FRACTION(PyObject **out, double x, PyObject *exc)
{
	(void)exc;
	*out = PyFloat_FromDouble(x);
	return *out ? 0 : -1;
}

static int lconvert_DURATION(PyObject **out, double x, PyObject *exc)
{
	return lconvert_FRACTION(out, x, exc);
}

static int lconvert_STAGE(PyObject **out, const char *stage, PyObject *exc)
{
	(void)exc;
	if (stage == NULL)
		return 0;
	*out = PyUnicode_FromString(stage);
	return *out ? 0 : -1;
}

static int lconvert_EXC(PyObject **out, const char *reason, PyObject *exc)
{
	(void)reason;
	Py_XINCREF(exc);
	*out = exc;
	return 0;
}

PyObject *message_from_load_event(struct module_state *st, const struct flz_load_event *ev,
				  PyObject *exc)
{
	enum msg_type kind;
	switch (ev->kind) {
	case FLZ_LOAD_PROGRESS:
		kind = MSG_LOAD_PROGRESS;
		break;
	case FLZ_LOAD_DONE:
		kind = MSG_LOAD_DONE;
		break;
	default:
		kind = MSG_LOAD_FAILED;
		break;
	}
	struct message_object *m = message_new(st, kind);
	if (m == NULL)
		return NULL;
	switch (kind) {
#define CONVERT_FIELD(name, c_field, fkind, doc)                                 \
	if (lconvert_##fkind(&m->FK_STORE_##fkind(name), ev->c_field, exc) < 0) \
		goto fail;
#define CONVERT_KIND(suffix, number, pyname, fields, doc) \
	case MSG_##suffix:                                \
		fields(CONVERT_FIELD) break;
		FLZ_LOAD_MSG_KINDS(CONVERT_KIND)
#undef CONVERT_KIND
#undef CONVERT_FIELD
	default:
		break;
	}
	return (PyObject *)m;
fail:
	Py_DECREF(m);
	return NULL;
}

/* The vocabulary as data, for tests that must agree with it:
 * {"commands": ((number, name, has_value, doc), ...),
 *  "messages": ((number, name, ((field, KIND, doc), ...), doc), ...)}. */
PyObject *module_vocabulary(PyObject *module, PyObject *unused)
{
	static const struct {
		int number;
		const char *name;
		int has_value;
		const char *doc;
	} cmds[] = {
#define CMD_ROW(suffix, number, name, has_value, doc) { number, name, has_value, doc },
		FLZ_CMD_KINDS(CMD_ROW)
#undef CMD_ROW
	};
	size_t n_cmds = sizeof cmds / sizeof cmds[0];
	PyObject *commands = PyTuple_New((Py_ssize_t)n_cmds);
	PyObject *messages = PyList_New(0);
	PyObject *r = NULL;
	if (commands == NULL || messages == NULL)
		goto done;
	for (size_t i = 0; i < n_cmds; i++) {
		PyObject *row = Py_BuildValue("(isOs)", cmds[i].number, cmds[i].name,
					      cmds[i].has_value ? Py_True : Py_False, cmds[i].doc);
		if (row == NULL)
			goto done;
		PyTuple_SET_ITEM(commands, (Py_ssize_t)i, row);
	}
	for (int k = 0; k < MSG_N_TYPES; k++) {
		const struct msg_def *def = &msg_defs[k];
		if (def->engine_kind == 0)
			continue;
		PyObject *fields = PyList_New(0);
		if (fields == NULL)
			goto done;
		for (const struct field_def *f = def->fields; f->name != NULL; f++) {
			static const char *const kind_names[] = {
				[FK_SLOT] = FK_NAME_SLOT,	[FK_SEQ] = FK_NAME_SEQ,
				[FK_FRAME] = FK_NAME_FRAME,	[FK_ERRNO] = FK_NAME_ERRNO,
				[FK_ERRTEXT] = FK_NAME_ERRTEXT, [FK_CMD] = FK_NAME_CMD,
				[FK_CMDVALUE] = FK_NAME_CMDVALUE, [FK_REQUEST] = FK_NAME_REQUEST,
				[FK_FRACTION] = FK_NAME_FRACTION, [FK_STAGE] = FK_NAME_STAGE,
				[FK_DURATION] = FK_NAME_DURATION, [FK_EXC] = FK_NAME_EXC,
			};
			PyObject *row = Py_BuildValue("(sss)", f->name, kind_names[f->kind], f->doc);
			if (row == NULL || PyList_Append(fields, row) < 0) {
				Py_XDECREF(row);
				Py_DECREF(fields);
				goto done;
			}
			Py_DECREF(row);
		}
		PyObject *row = Py_BuildValue("(isNs)", def->engine_kind, def->name,
					      PyList_AsTuple(fields), def->doc);
		Py_DECREF(fields);
		if (row == NULL || PyList_Append(messages, row) < 0) {
			Py_XDECREF(row);
			goto done;
		}
		Py_DECREF(row);
	}
	r = Py_BuildValue("{s:O,s:N}", "commands", commands, "messages", PyList_AsTuple(messages));
done:
	Py_XDECREF(commands);
	Py_XDECREF(messages);
	return r;
}
