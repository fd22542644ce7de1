/* alpha.usage._native: the ingest's per-event loop in C.

   `Scanner.scan` walks one `{"Records": [...]}` document in place and tallies every record
   that takes the common path of `alpha.usage.fast_tally.FastTally` into a native `Tally`. What an
   event means is never decided here: the scanner asks its Python resolver once per distinct
   (eventType, source, name), identity, error code and (action, resource type), and keeps
   the answers. Every record off the common path is handed back to Python, in order, through
   the `fallback` callback, and Python counts it into the same tally. See
   `alpha/usage/native.py`, and the tests that hold both paths to the same counts.
   `Inflater` gunzips with the system's libdeflate when there is one (inflate.h). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include "inflate.h"
#include "json.h"
#include "record.h"
#include "table.h"
#include "tally.h"

#include "tally_type.h"
#include "scanner.h"

static PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT, "alpha.usage._native",
    "The ingest's per-event loop in C (see alpha/usage/native.py).", -1, NULL,
};

PyMODINIT_FUNC PyInit__native(void) {
    if (PyType_Ready(&TallyType) < 0 || PyType_Ready(&ScannerType) < 0 ||
        PyType_Ready(&InflaterType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&native_module);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "Tally", (PyObject *)&TallyType) < 0 ||
        PyModule_AddObjectRef(m, "Scanner", (PyObject *)&ScannerType) < 0 ||
        PyModule_AddObjectRef(m, "Inflater", (PyObject *)&InflaterType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
