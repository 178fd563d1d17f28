/*
 * The ONNX loader's entry points and tensor decoding. The protobuf is
 * decoded by libprotobuf-c with code protoc-c generates at build time from
 * Debian's onnx.proto (cmake/ElmanOnnx.cmake); the graph is read in
 * onnx_graph.c.
 */
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "onnx_internal.h"

/* Bigger files are refused before decoding: protobuf-c holds the whole
 * message tree in memory. */
#define ONNX_MAX_FILE ((size_t)1 << 31)

const char *onnx_esc(char *buf, size_t n, const char *s)
{
    if (s == NULL)
        s = "";
    return io_escape(buf, n, s, strlen(s));
}

int onnx_dtype(int32_t t)
{
    switch (t) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return ELMAN_DTYPE_F32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: return ELMAN_DTYPE_F64;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: return ELMAN_DTYPE_F16;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16: return ELMAN_DTYPE_BF16;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return ELMAN_DTYPE_I32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return ELMAN_DTYPE_I64;
    default: return -1;
    }
}

/* The element count of t, checked: dims >= 0, no overflow. */
static int tensor_count(const Onnx__TensorProto *t, const char *what, size_t *count, char *err,
                        size_t err_size)
{
    size_t n = 1;
    if (t->n_dims > ELMAN_MAX_DIMS)
        return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED, "%s has %zu dimensions (at most %d)",
                       what, t->n_dims, ELMAN_MAX_DIMS);
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0)
            return io_fail(err, err_size, ELMAN_ERR_FORMAT, "%s has a negative dimension", what);
        if (!elman_mul_size(n, (size_t)t->dims[i], &n))
            return io_fail(err, err_size, ELMAN_ERR_SIZE_OVERFLOW, "%s: its size overflows",
                           what);
    }
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                       "%s is stored in an external file, which elman does not read (save the "
                       "model with its data inside)",
                       what);
    if (t->segment != NULL)
        return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED, "%s is split into segments", what);
    *count = n;
    return ELMAN_OK;
}

/* Checks that the typed field or raw_data holds exactly `count` values of
 * `esize` bytes, and says which holds them. */
static int data_source(const Onnx__TensorProto *t, const char *what, size_t count, size_t esize,
                       size_t typed, int *raw, char *err, size_t err_size)
{
    *raw = t->has_raw_data;
    if (*raw && typed != 0)
        return io_fail(err, err_size, ELMAN_ERR_FORMAT, "%s has both raw_data and typed data",
                       what);
    size_t have = *raw ? t->raw_data.len : typed;
    size_t want = *raw ? count * esize : count; /* count * esize fits: checked by the caller */
    if (have != want)
        return io_fail(err, err_size, ELMAN_ERR_FORMAT, "%s holds %zu %s, its shape needs %zu",
                       what, have, *raw ? "bytes" : "values", want);
    return ELMAN_OK;
}

int onnx_tensor_reals(const Onnx__TensorProto *t, const char *what, double **out, size_t *count,
                      char *err, size_t err_size)
{
    *out = NULL;
    const int dt = t->has_data_type ? onnx_dtype(t->data_type) : -1;
    if (!io_dtype_is_real(dt))
        return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                       "%s has ONNX data type %d, expected float, double, float16 or bfloat16",
                       what, (int)t->data_type);
    size_t n, typed, bytes;
    int rc = tensor_count(t, what, &n, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    if (!elman_mul_size(n, sizeof(double), &bytes))
        return io_fail(err, err_size, ELMAN_ERR_SIZE_OVERFLOW, "%s: its size overflows", what);
    typed = dt == ELMAN_DTYPE_F32 ? t->n_float_data
            : dt == ELMAN_DTYPE_F64 ? t->n_double_data
                                    : t->n_int32_data; /* float16, bfloat16: one per int32 */
    int raw;
    if ((rc = data_source(t, what, n, elman_dtype_size(dt), typed, &raw, err, err_size)) != 0)
        return rc;
    *count = n;
    if (n == 0)
        return ELMAN_OK;
    double *d = malloc(bytes);
    if (d == NULL)
        return io_fail(err, err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory");
    for (size_t i = 0; i < n; i++) {
        unsigned char le[2];
        if (raw) {
            d[i] = io_load_real(dt, t->raw_data.data + i * elman_dtype_size(dt));
        } else if (dt == ELMAN_DTYPE_F32) {
            d[i] = t->float_data[i];
        } else if (dt == ELMAN_DTYPE_F64) {
            d[i] = t->double_data[i];
        } else {
            le[0] = (unsigned char)(t->int32_data[i] & 0xff);
            le[1] = (unsigned char)((t->int32_data[i] >> 8) & 0xff);
            d[i] = io_load_real(dt, le);
        }
    }
    *out = d;
    return ELMAN_OK;
}

int onnx_tensor_ints(const Onnx__TensorProto *t, const char *what, int64_t *out, size_t max,
                     size_t *count, char *err, size_t err_size)
{
    const int dt = t->has_data_type ? onnx_dtype(t->data_type) : -1;
    if (dt != ELMAN_DTYPE_I64 && dt != ELMAN_DTYPE_I32)
        return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                       "%s has ONNX data type %d, expected int64 or int32", what,
                       (int)t->data_type);
    size_t n;
    int rc = tensor_count(t, what, &n, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    if (n > max)
        return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED, "%s has %zu values (at most %zu)",
                       what, n, max);
    int raw;
    rc = data_source(t, what, n, elman_dtype_size(dt),
                     dt == ELMAN_DTYPE_I64 ? t->n_int64_data : t->n_int32_data, &raw, err,
                     err_size);
    if (rc != ELMAN_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (raw && dt == ELMAN_DTYPE_I64)
            out[i] = (int64_t)io_le64(t->raw_data.data + 8 * i);
        else if (raw)
            out[i] = (int32_t)io_le32(t->raw_data.data + 4 * i);
        else
            out[i] = dt == ELMAN_DTYPE_I64 ? t->int64_data[i] : t->int32_data[i];
    }
    *count = n;
    return ELMAN_OK;
}

/* Reads a varint at p[*pos] (before end). Returns 0 if malformed. */
static int wire_varint(const uint8_t *p, size_t end, size_t *pos, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= end)
            return 0;
        const uint8_t b = p[(*pos)++];
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 1;
    }
    return 0;
}

/* protobuf-c decodes nested messages by recursion, so a hostile file
 * nesting graphs in attributes in graphs could exhaust the stack: walk the
 * wire format first (iteratively, the schema telling which fields are
 * messages) and refuse a nesting deeper than ONNX_MAX_NESTING. Returns 1 if
 * the nesting is within bounds (malformed bytes are left to protobuf-c). */
#define ONNX_MAX_NESTING 64
static int nesting_ok(const uint8_t *p, size_t size)
{
    struct {
        size_t end;
        const ProtobufCMessageDescriptor *desc;
    } st[ONNX_MAX_NESTING];
    int depth = 0;
    size_t pos = 0;
    st[0].end = size;
    st[0].desc = &onnx__model_proto__descriptor;
    for (;;) {
        while (pos == st[depth].end) {
            if (depth-- == 0)
                return 1;
        }
        uint64_t tag, v;
        if (!wire_varint(p, st[depth].end, &pos, &tag))
            return 1;
        switch (tag & 7) {
        case 0:
            if (!wire_varint(p, st[depth].end, &pos, &v))
                return 1;
            continue;
        case 1:
        case 5:
            v = (tag & 7) == 1 ? 8 : 4;
            break;
        case 2:
            if (!wire_varint(p, st[depth].end, &pos, &v))
                return 1;
            break;
        default:
            return 1; /* groups: protobuf-c refuses them */
        }
        if (v > st[depth].end - pos)
            return 1;
        const ProtobufCFieldDescriptor *f =
            (tag >> 3) <= UINT32_MAX
                ? protobuf_c_message_descriptor_get_field(st[depth].desc, (unsigned)(tag >> 3))
                : NULL;
        if ((tag & 7) == 2 && f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE) {
            if (depth + 1 == ONNX_MAX_NESTING)
                return 0;
            depth++;
            st[depth].end = pos + v;
            st[depth].desc = f->descriptor;
            continue;
        }
        pos += v;
    }
}

int elman_onnx_supported(void)
{
    return 1;
}

void elman_onnx_free(elman_onnx *m)
{
    if (m == NULL)
        return;
    const size_t n = (size_t)m->num_layers * (size_t)m->num_directions;
    double **arrays[4] = {m->w_ih, m->w_hh, m->b_ih, m->b_hh};
    for (int k = 0; k < 4; k++) {
        for (size_t i = 0; arrays[k] != NULL && i < n; i++)
            free(arrays[k][i]);
        free(arrays[k]);
    }
    free(m->nodes);
    if (m->model != NULL)
        onnx__model_proto__free_unpacked(m->model, NULL);
    free(m);
}

int elman_onnx_parse(const void *data, size_t size, elman_onnx **out, char *err, size_t err_size)
{
    if (out != NULL)
        *out = NULL;
    if (out == NULL || (data == NULL && size > 0))
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");
    if (size == 0)
        return io_fail(err, err_size, ELMAN_ERR_FORMAT, "not an ONNX model: the file is empty");
    if (size > ONNX_MAX_FILE)
        return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                       "the ONNX file is larger than 2 GiB (protobuf's limit)");
    elman_onnx *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return io_fail(err, err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory");
    int rc;
    if (!nesting_ok(data, size)) {
        elman_onnx_free(m);
        return io_fail(err, err_size, ELMAN_ERR_UNSUPPORTED,
                       "the ONNX model nests messages more than %d deep", ONNX_MAX_NESTING);
    }
    m->model = onnx__model_proto__unpack(NULL, size, data);
    if (m->model == NULL)
        rc = io_fail(err, err_size, ELMAN_ERR_FORMAT,
                     "not an ONNX model: the protobuf is malformed or truncated (%zu bytes)",
                     size);
    else if (m->model->graph == NULL)
        rc = io_fail(err, err_size, ELMAN_ERR_FORMAT, "the ONNX model has no graph");
    else
        rc = onnx_analyse(m, err, err_size);
    if (rc != ELMAN_OK) {
        elman_onnx_free(m);
        return rc;
    }
    io_ok(err, err_size);
    *out = m;
    return ELMAN_OK;
}

int elman_onnx_read(const char *path, elman_onnx **out, char *err, size_t err_size)
{
    if (out != NULL)
        *out = NULL;
    if (path == NULL || out == NULL)
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");
    unsigned char *data;
    size_t size;
    int rc = io_read_file(path, &data, &size, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    rc = elman_onnx_parse(data, size, out, err, err_size);
    free(data);
    return rc == ELMAN_OK ? rc : io_context(err, err_size, rc, path);
}

size_t elman_onnx_node_count(const elman_onnx *m)
{
    return m != NULL ? m->num_nodes : 0;
}

const elman_onnx_node *elman_onnx_node_at(const elman_onnx *m, size_t index)
{
    return m != NULL && index < m->num_nodes ? &m->nodes[index] : NULL;
}

int elman_onnx_inputs(const elman_onnx *m, const char **x, const char **initial_h,
                      const char **sequence_lens)
{
    if (m == NULL)
        return ELMAN_ERR_NULL_ARGUMENT;
    if (x != NULL)
        *x = m->x;
    if (initial_h != NULL)
        *initial_h = m->initial_h;
    if (sequence_lens != NULL)
        *sequence_lens = m->sequence_lens;
    return ELMAN_OK;
}

int elman_rnn_info_from_onnx(const elman_onnx *m, elman_rnn_info *info, char *err,
                             size_t err_size)
{
    if (m == NULL || info == NULL)
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");
    *info = m->info;
    io_ok(err, err_size);
    return ELMAN_OK;
}

/* Sets every layer and direction's weights, converted to the model's
 * dtype; a layer without B gets zero biases when others have them. */
static int set_weights(const elman_onnx *m, elman_rnn *rnn, int f64, char *err, size_t err_size)
{
    const elman_config *c = &m->info.config;
    const size_t H = (size_t)c->hidden_size, D = (size_t)m->num_directions;
    const size_t in_max = (size_t)c->input_size > D * H ? (size_t)c->input_size : D * H;
    const size_t n = H * in_max + H * H + 2 * H; /* fits: the model holds as much */
    double *zero = calloc(H, sizeof(double));
    float *buf = f64 ? NULL : malloc(n * sizeof(float));
    int rc = zero == NULL || (!f64 && buf == NULL) ? ELMAN_ERR_OUT_OF_MEMORY : ELMAN_OK;
    for (int l = 0; l < m->num_layers && rc == ELMAN_OK; l++) {
        const size_t in = l == 0 ? (size_t)c->input_size : D * H;
        for (size_t d = 0; d < D && rc == ELMAN_OK; d++) {
            const size_t k = (size_t)l * D + d;
            const int bias = c->bias != ELMAN_BIAS_NONE;
            const double *bi = m->b_ih[k] != NULL ? m->b_ih[k] : zero;
            const double *bh = m->b_hh[k] != NULL ? m->b_hh[k] : zero;
            if (f64) {
                rc = elman_rnn_set_weights_f64(rnn, l, (int)d, m->w_ih[k], m->w_hh[k],
                                               bias ? bi : NULL, bias ? bh : NULL);
                continue;
            }
            float *wi = buf, *wh = wi + H * in, *fbi = wh + H * H, *fbh = fbi + H;
            for (size_t i = 0; i < H * in; i++)
                wi[i] = (float)m->w_ih[k][i];
            for (size_t i = 0; i < H * H; i++)
                wh[i] = (float)m->w_hh[k][i];
            for (size_t i = 0; i < H; i++) {
                fbi[i] = (float)bi[i];
                fbh[i] = (float)bh[i];
            }
            rc = elman_rnn_set_weights(rnn, l, (int)d, wi, wh, bias ? fbi : NULL,
                                       bias ? fbh : NULL);
        }
    }
    free(zero);
    free(buf);
    return rc == ELMAN_OK ? rc : io_fail(err, err_size, rc, "cannot set the weights: %s",
                                         elman_strerror(rc));
}

int elman_rnn_from_onnx(const elman_onnx *m, const elman_rnn_info *info, elman_rnn **out,
                        char *err, size_t err_size)
{
    if (out != NULL)
        *out = NULL;
    if (m == NULL || info == NULL || out == NULL)
        return io_fail(err, err_size, ELMAN_ERR_NULL_ARGUMENT, "a required pointer is NULL");
    const elman_config *a = &info->config;
    int rc = io_same_shape(a, &m->info.config, err, err_size);
    if (rc != ELMAN_OK)
        return rc;
    elman_rnn *rnn;
    rc = elman_rnn_create(a, &rnn);
    if (rc != ELMAN_OK)
        return io_fail(err, err_size, rc, "cannot create the model: %s", elman_strerror(rc));
    rc = set_weights(m, rnn, a->dtype == ELMAN_FLOAT64, err, err_size);
    if (rc != ELMAN_OK) {
        elman_rnn_free(rnn);
        return rc;
    }
    io_ok(err, err_size);
    *out = rnn;
    return ELMAN_OK;
}
