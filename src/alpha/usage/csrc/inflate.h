/* The Python type `Inflater`: gunzip with libdeflate, from the `deflate` wheel.

   libdeflate decompresses a whole gzip member into a buffer of known size faster than isal
   (benchmarks/README.md has the figures), and a delivered CloudTrail log is one member whose
   size its trailer gives. The `deflate` package's wheel links libdeflate into its extension
   module and exports its documented functions, so that module is opened here at run time
   (alpha/usage/native.py names the file: no build dependency, no system library);
   without it `gunzip` answers None and the caller uses isal. It answers None as well for
   anything but exactly one whole member whose output has the size its trailer says (several
   members, data after the member, damage): isal then reads the file as it always does, or
   names its problem. So a file never reads differently here.

   The trailer's size is the sender's word, and the output buffer is allocated from it: a size
   over the caller's limit is not allocated at all (None: isal then inflates with the same
   limit and stops at it, so a gzip bomb costs at most the limit, never what it claims). */
#ifndef ALPHA_NATIVE_INFLATE_H
#define ALPHA_NATIVE_INFLATE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>
#include <stddef.h>

/* libdeflate's documented interface (libdeflate.h), declared here to need no header. */
typedef void *(*AllocDecompressor)(void);
typedef void (*FreeDecompressor)(void *);
typedef int (*GzipDecompressEx)(void *, const void *, size_t, void *, size_t, size_t *, size_t *);
enum { LIBDEFLATE_SUCCESS = 0 };

/* A gzip member's output is at most 1032 times its input; a bigger trailer size is a lie. */
#define INFLATE_MAX_RATIO 1032
#define INFLATE_MAX_OUTPUT ((size_t)1 << 31)

typedef struct {
    PyObject_HEAD
    void *library;
    void *decompressor;
    FreeDecompressor free_decompressor;
    GzipDecompressEx decompress;
} Inflater;

/* Inflater(library): `library` is a shared object exporting libdeflate's functions, or None
   (then `gunzip` always answers None). */
static PyObject *Inflater_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *names[] = {"library", NULL};
    const char *library;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "z:Inflater", names, &library)) return NULL;
    Inflater *self = (Inflater *)type->tp_alloc(type, 0);
    if (self == NULL || library == NULL) return (PyObject *)self;
    self->library = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (self->library == NULL) return (PyObject *)self; /* no libdeflate: gunzip says None */
    AllocDecompressor alloc;
    *(void **)&alloc = dlsym(self->library, "libdeflate_alloc_decompressor");
    *(void **)&self->free_decompressor = dlsym(self->library, "libdeflate_free_decompressor");
    *(void **)&self->decompress = dlsym(self->library, "libdeflate_gzip_decompress_ex");
    if (alloc && self->free_decompressor && self->decompress) self->decompressor = alloc();
    if (self->decompressor == NULL) {
        dlclose(self->library);
        self->library = NULL;
    }
    return (PyObject *)self;
}

static void Inflater_dealloc(Inflater *self) {
    if (self->decompressor) self->free_decompressor(self->decompressor);
    if (self->library) dlclose(self->library);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* gunzip(data, limit) -> bytes, or None when libdeflate is absent, when this is not exactly
   one gzip member of the size its trailer says, or when that size is over `limit` bytes. */
static PyObject *Inflater_gunzip(Inflater *self, PyObject *args) {
    Py_buffer in;
    Py_ssize_t limit;
    if (!PyArg_ParseTuple(args, "y*n:gunzip", &in, &limit)) return NULL;
    PyObject *out = NULL;
    const unsigned char *p = in.buf;
    size_t n = (size_t)in.len;
    if (self->decompressor == NULL || n < 18 || limit <= 0) goto none;
    size_t size = (size_t)p[n - 4] | (size_t)p[n - 3] << 8 | (size_t)p[n - 2] << 16 |
                  (size_t)p[n - 1] << 24;
    if (size == 0 || size > (size_t)limit || size > INFLATE_MAX_OUTPUT ||
        size / INFLATE_MAX_RATIO > n)
        goto none;
    out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)size);
    if (out == NULL) goto done;
    size_t used = 0, made = 0;
    /* the GIL stays held: the one decompressor must never serve two threads at once */
    int result = self->decompress(self->decompressor, p, n, PyBytes_AS_STRING(out), size,
                                  &used, &made);
    if (result == LIBDEFLATE_SUCCESS && used == n && made == size) goto done;
    Py_CLEAR(out);
none:
    out = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&in);
    return out;
}

static PyObject *Inflater_available(Inflater *self, void *closure) {
    return PyBool_FromLong(self->decompressor != NULL);
}

static PyMethodDef Inflater_methods[] = {
    {"gunzip", (PyCFunction)Inflater_gunzip, METH_VARARGS,
     "gunzip(data, limit): one whole gzip member of at most `limit` bytes, decompressed; "
     "None when libdeflate cannot say."},
    {NULL},
};

static PyGetSetDef Inflater_getset[] = {
    {"available", (getter)Inflater_available, NULL, "Whether libdeflate was found.", NULL},
    {NULL},
};

static PyTypeObject InflaterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "alpha.usage._native.Inflater",
    .tp_basicsize = sizeof(Inflater),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "gunzip with libdeflate (one decompressor: one thread at a time).",
    .tp_new = Inflater_new,
    .tp_dealloc = (destructor)Inflater_dealloc,
    .tp_methods = Inflater_methods,
    .tp_getset = Inflater_getset,
};

#endif
