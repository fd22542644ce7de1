/* alpha.usage._native: the ingest's per-event loop in C.

   `Scanner.scan` walks one `{"Records": [...]}` document in place and tallies every record it
   takes into a native `Tally`. What an event means is never decided here: the scanner extracts
   the fields and groups the records by every field their meaning reads, asks its Python
   resolver once per group what the group means, and keeps the answers (scanner.h). Every
   record it does not take is handed back to Python, in order, through the `fallback`
   callback, and Python counts it into the same tally. See `alpha/usage/native.py` and
   `alpha/usage/fast_tally.py`, and the tests that hold both paths to the same counts.
   `Inflater` gunzips with libdeflate (inflate.h).

   Each header includes what it uses and compiles alone (tests/usage/test_native.py checks). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "alloc.h"
#include "inflate.h"
#include "scan.h"
#include "scanner.h"
#include "tally_type.h"

#ifdef ALPHA_NATIVE_FAULTS
/* _fail_allocations(skip, count): see alloc.h. */
static PyObject *fail_allocations(PyObject *module, PyObject *args) {
    long long skip, count;
    if (!PyArg_ParseTuple(args, "LL:_fail_allocations", &skip, &count)) return NULL;
    fault_skip = skip < 0 ? -1 : skip;
    fault_count = count;
    fault_asked = fault_made = 0;
    Py_RETURN_NONE;
}

static PyObject *allocations(PyObject *module, PyObject *unused) {
    return Py_BuildValue("LL", fault_asked, fault_made);
}

static PyMethodDef native_methods[] = {
    {"_fail_allocations", fail_allocations, METH_VARARGS,
     "Test builds: let `skip` allocations through, then fail `count` (all when < 0)."},
    {"_allocations", allocations, METH_NOARGS,
     "Test builds: (allocations asked for, of which failed) since _fail_allocations."},
    {NULL},
};
#else
static PyMethodDef native_methods[] = {{NULL}};
#endif

static PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT, "alpha.usage._native",
    "The ingest's per-event loop in C (see alpha/usage/native.py).", -1, native_methods,
};

PyMODINIT_FUNC PyInit__native(void) {
    if (PyType_Ready(&TallyType) < 0 || PyType_Ready(&ScannerType) < 0 ||
        PyType_Ready(&InflaterType) < 0)
        return NULL;
    if (FinishedType == NULL && (FinishedType = PyStructSequence_NewType(&finished_desc)) == NULL)
        return NULL;
    PyObject *m = PyModule_Create(&native_module);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "Finished", (PyObject *)FinishedType) < 0 ||
        PyModule_AddObjectRef(m, "Tally", (PyObject *)&TallyType) < 0 ||
        PyModule_AddObjectRef(m, "Scanner", (PyObject *)&ScannerType) < 0 ||
        PyModule_AddObjectRef(m, "Inflater", (PyObject *)&InflaterType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
