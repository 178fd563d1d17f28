/*
 * The RNN part of an ONNX graph: its RNN nodes, the layout ops between
 * them, where X, initial_h and sequence_lens come from, and the weights.
 *
 * Every tensor between layers is followed back to the RNN node(s) whose Y
 * it is, tracking a "view": for each dimension of the tensor, the axes of
 * Y (T, B, D, H) it is made of, outermost first. A Transpose permutes the
 * dimensions, a Squeeze drops unit ones, a Reshape regroups the axes
 * without reordering them; the next layer must receive exactly
 * [T][B][D H] (or [B][T][D H] with layout 1), i.e. X[t, b, d*H + h] =
 * Y[t, d, b, h]. Anything that could move or change an element is refused.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "onnx_internal.h"

/* How deep a chain of ops is followed, and most RNN nodes in a graph. */
#define MAX_DEPTH 64
#define MAX_RNN 1024

enum { AX_T = 1, AX_B, AX_D, AX_H, AX_I0, AX_I1, AX_I2 };
#define VIEW_DIMS ELMAN_MAX_DIMS
#define GROUP_AXES 8

typedef struct vgroup {
    int n;
    unsigned char ax[GROUP_AXES];
} vgroup;

/* A tensor as a view of an RNN's Y (src: the node, or the forward and
 * reverse nodes a Concat joined) or of a graph input (input != NULL, axes
 * AX_I0..2). */
typedef struct view {
    int ndim;
    vgroup d[VIEW_DIMS];
    const char *input;
    int nsrc, src[2];
    size_t h; /* the static size of AX_H */
} view;

/* One RNN node's attributes and inputs. */
typedef struct rnn_node {
    const Onnx__NodeProto *p;
    int index;     /* in the graph */
    int dirs;      /* D of the node: 1 or 2 */
    int direction; /* 0 forward, 1 reverse, 2 bidirectional */
    int layout, act;
    double alpha, beta, clip;
    int64_t hidden; /* -1 if absent */
    view xv;        /* its X */
    int layer, half; /* its layer, and 0/1 for the halves of a pair */
} rnn_node;

typedef struct name_entry {
    const char *name;
    int kind;
    size_t a, b; /* node and output index, or initializer / input index */
} name_entry;

typedef struct ctx {
    const Onnx__GraphProto *g;
    name_entry *names;
    size_t nnames;
    elman_onnx *m;
    rnn_node *rnn;
    int nrnn;
    int first; /* the first layer's (forward) node */
    char *err;
    size_t err_size;
} ctx;

/* ---- the graph ---- */

/* The graph's names, sorted, so that every lookup is a binary search (a
 * hostile graph of many nodes must not make the walks quadratic). */
enum { NAME_OUTPUT, NAME_INITIALIZER, NAME_INPUT };

static int name_cmp(const void *pa, const void *pb)
{
    const name_entry *a = pa, *b = pb;
    int r = strcmp(a->name, b->name);
    if (r == 0)
        r = a->kind != b->kind ? a->kind - b->kind : (a->a > b->a) - (a->a < b->a);
    return r;
}

static int build_names(ctx *c)
{
    const Onnx__GraphProto *g = c->g;
    size_t n = g->n_initializer + g->n_input;
    for (size_t i = 0; i < g->n_node; i++)
        n += g->node[i]->n_output;
    c->names = malloc((n ? n : 1) * sizeof(name_entry));
    if (c->names == NULL)
        return io_fail(c->err, c->err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < g->n_node; i++)
        for (size_t j = 0; j < g->node[i]->n_output; j++)
            if (g->node[i]->output[j] != NULL && g->node[i]->output[j][0] != '\0')
                c->names[k++] = (name_entry){g->node[i]->output[j], NAME_OUTPUT, i, j};
    for (size_t i = 0; i < g->n_initializer; i++)
        if (g->initializer[i]->name != NULL)
            c->names[k++] = (name_entry){g->initializer[i]->name, NAME_INITIALIZER, i, 0};
    for (size_t i = 0; i < g->n_input; i++)
        if (g->input[i]->name != NULL)
            c->names[k++] = (name_entry){g->input[i]->name, NAME_INPUT, i, 0};
    qsort(c->names, k, sizeof(name_entry), name_cmp);
    c->nnames = k;
    return ELMAN_OK;
}

/* The first entry (in file order) of `kind` called `name`, or NULL. */
static const name_entry *lookup(const ctx *c, const char *name, int kind)
{
    if (name == NULL || name[0] == '\0')
        return NULL;
    size_t lo = 0, hi = c->nnames;
    const name_entry key = {name, kind, 0, 0};
    while (lo < hi) { /* the first entry not below key */
        size_t mid = lo + (hi - lo) / 2;
        if (name_cmp(&c->names[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->nnames && c->names[lo].kind == kind && strcmp(c->names[lo].name, name) == 0)
        return &c->names[lo];
    return NULL;
}

static int producer(const ctx *c, const char *name, size_t *out_index)
{
    const name_entry *e = lookup(c, name, NAME_OUTPUT);
    if (e != NULL && out_index != NULL)
        *out_index = e->b;
    return e != NULL ? (int)e->a : -1;
}

static const Onnx__TensorProto *initializer(const ctx *c, const char *name)
{
    const name_entry *e = lookup(c, name, NAME_INITIALIZER);
    return e != NULL ? c->g->initializer[e->a] : NULL;
}

static int is_graph_input(const ctx *c, const char *name)
{
    return lookup(c, name, NAME_INPUT) != NULL;
}

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name != NULL && strcmp(n->attribute[i]->name, name) == 0)
            return n->attribute[i];
    return NULL;
}

static const char *input_of(const Onnx__NodeProto *n, size_t k)
{
    return k < n->n_input && n->input[k] != NULL ? n->input[k] : "";
}

static int is_op(const Onnx__NodeProto *n, const char *op)
{
    const int std = n->domain == NULL || n->domain[0] == '\0' || strcmp(n->domain, "ai.onnx") == 0;
    return std && n->op_type != NULL && strcmp(n->op_type, op) == 0;
}

static const char *node_name(const ctx *c, int i, char *buf, size_t n)
{
    return onnx_esc(buf, n, c->g->node[i]->name);
}

static const char *op_name(const ctx *c, int i, char *buf, size_t n)
{
    return onnx_esc(buf, n, c->g->node[i]->op_type);
}

static void mark(const ctx *c, int i, int role)
{
    if (i >= 0 && c->m->nodes[i].role == ELMAN_ONNX_IGNORED)
        c->m->nodes[i].role = role;
}

/* The tensor called name if it is a constant: an initializer that is no
 * graph input, or a Constant node's value (marked with role). */
static const Onnx__TensorProto *constant(const ctx *c, const char *name, int role)
{
    int p = producer(c, name, NULL);
    if (p < 0)
        return is_graph_input(c, name) ? NULL : initializer(c, name);
    if (!is_op(c->g->node[p], "Constant"))
        return NULL;
    const Onnx__AttributeProto *a = attr(c->g->node[p], "value");
    if (role >= 0 && a != NULL && a->t != NULL)
        mark(c, p, role);
    return a != NULL ? a->t : NULL;
}

/* A constant list of integers: from input `k` of node n (a tensor), or its
 * attribute `aname` when the input is absent (older opsets). Returns 1 and
 * sets *count, 0 if there is none, -1 on error (message set). */
static int const_ints(const ctx *c, const Onnx__NodeProto *n, size_t k, const char *aname,
                      int64_t *out, size_t max, size_t *count)
{
    char e1[120];
    const char *in = input_of(n, k);
    if (in[0] != '\0') {
        const Onnx__TensorProto *t = constant(c, in, ELMAN_ONNX_LAYOUT);
        if (t == NULL) {
            io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE,
                    "input %zu of node %s (%s) is not a constant: elman cannot check it is a "
                    "pure layout change",
                    k, onnx_esc(e1, sizeof(e1), n->name), n->op_type);
            return -1;
        }
        return onnx_tensor_ints(t, "a constant", out, max, count, c->err, c->err_size) == 0 ? 1
                                                                                           : -1;
    }
    const Onnx__AttributeProto *a = aname != NULL ? attr(n, aname) : NULL;
    if (a == NULL)
        return 0;
    if (a->n_ints > max) {
        io_fail(c->err, c->err_size, ELMAN_ERR_UNSUPPORTED, "attribute %s of node %s is too long",
                aname, onnx_esc(e1, sizeof(e1), n->name));
        return -1;
    }
    memcpy(out, a->ints, a->n_ints * sizeof(int64_t));
    *count = a->n_ints;
    return 1;
}

/* ---- views ---- */

static size_t axis_size(const view *v, int ax)
{
    return ax == AX_D ? 2 : ax == AX_H ? v->h : 0; /* 0: known only at run time */
}

static int same_group(const vgroup *a, const vgroup *b)
{
    return a->n == b->n && memcmp(a->ax, b->ax, (size_t)a->n) == 0;
}

static int not_layout(const ctx *c, int p, const char *why)
{
    char e1[120], e2[80];
    return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE,
                   "node %s (%s) on the way to an RNN layer's X is not a pure layout change (%s)",
                   node_name(c, p, e1, sizeof(e1)), op_name(c, p, e2, sizeof(e2)), why);
}

static int normalize_axis(int64_t a, int rank, int *out)
{
    if (a < -rank || a >= rank)
        return 0;
    *out = (int)(a < 0 ? a + rank : a);
    return 1;
}

static int view_transpose(const ctx *c, int p, view *v)
{
    int64_t perm[VIEW_DIMS];
    size_t n = 0;
    const Onnx__AttributeProto *a = attr(c->g->node[p], "perm");
    if (a != NULL && a->n_ints != (size_t)v->ndim)
        return not_layout(c, p, "perm does not match the rank");
    for (int i = 0; i < v->ndim; i++)
        perm[i] = a != NULL ? a->ints[i] : v->ndim - 1 - i;
    n = (size_t)v->ndim;
    view out = *v;
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (perm[i] < 0 || perm[i] >= v->ndim || (seen & (1 << perm[i])))
            return not_layout(c, p, "perm is not a permutation");
        seen |= 1 << perm[i];
        out.d[i] = v->d[perm[i]];
    }
    *v = out;
    return ELMAN_OK;
}

/* Squeeze (remove = 1) or Unsqueeze (remove = 0) of unit dimensions. */
static int view_squeeze(const ctx *c, int p, view *v, int remove)
{
    int64_t axes[VIEW_DIMS];
    size_t n = 0;
    int r = const_ints(c, c->g->node[p], 1, "axes", axes, VIEW_DIMS, &n);
    if (r < 0)
        return ELMAN_ERR_SHAPE;
    if (r == 0 || n == 0)
        return not_layout(c, p, "no axes: which dimensions go depends on the run's sizes");
    const int rank = remove ? v->ndim : v->ndim + (int)n;
    if (rank > VIEW_DIMS)
        return not_layout(c, p, "too many dimensions");
    int flag[VIEW_DIMS] = {0};
    for (size_t i = 0; i < n; i++) {
        int ax;
        if (!normalize_axis(axes[i], rank, &ax) || flag[ax])
            return not_layout(c, p, "bad axes");
        if (remove && v->d[ax].n != 0)
            return not_layout(c, p, "it squeezes a dimension that is not 1");
        flag[ax] = 1;
    }
    view out = *v;
    int k = 0;
    if (remove) {
        for (int i = 0; i < v->ndim; i++)
            if (!flag[i])
                out.d[k++] = v->d[i];
    } else {
        for (int i = 0, j = 0; i < rank; i++) {
            if (flag[i])
                out.d[k++].n = 0;
            else
                out.d[k++] = v->d[j++];
        }
    }
    out.ndim = k;
    *v = out;
    return ELMAN_OK;
}

/* Takes axes from seq[*pos] (step +1) or seq[*pos - 1] (step -1) until
 * their sizes multiply to want; all must be static. */
static int take_axes(const view *v, const unsigned char *seq, int lo, int hi, int *pos, int step,
                     int64_t want, vgroup *g)
{
    size_t prod = 1;
    g->n = 0;
    while ((int64_t)prod < want) {
        int at = step > 0 ? *pos : *pos - 1;
        if (at < lo || at >= hi || g->n == GROUP_AXES)
            return 0;
        size_t s = axis_size(v, seq[at]);
        if (s == 0 || prod > (size_t)INT64_MAX / s)
            return 0;
        prod *= s;
        if (step > 0) {
            g->ax[g->n++] = seq[at];
        } else {
            memmove(g->ax + 1, g->ax, (size_t)g->n);
            g->ax[0] = seq[at];
            g->n++;
        }
        *pos += step;
    }
    return (int64_t)prod == want;
}

/* Reshape: the same axes in the same order, grouped anew by `shape`. */
static int regroup(const view *v, const int64_t *shape, int n, view *out)
{
    unsigned char seq[VIEW_DIMS * GROUP_AXES];
    int start[VIEW_DIMS], len = 0, minus = -1;
    for (int i = 0; i < v->ndim; i++) {
        start[i] = len;
        memcpy(seq + len, v->d[i].ax, (size_t)v->d[i].n);
        len += v->d[i].n;
    }
    int pos = 0, rpos = len;
    for (int i = 0; i < n && minus < 0; i++) {
        if (shape[i] == -1) {
            minus = i;
        } else if (shape[i] == 0) {
            if (i >= v->ndim || pos != start[i])
                return 0;
            out->d[i] = v->d[i];
            pos += v->d[i].n;
        } else if (shape[i] < 0 || !take_axes(v, seq, pos, len, &pos, 1, shape[i], &out->d[i])) {
            return 0;
        }
    }
    for (int i = n - 1; minus >= 0 && i > minus; i--) {
        if (shape[i] == 0) {
            if (i >= v->ndim || start[i] + v->d[i].n != rpos)
                return 0;
            out->d[i] = v->d[i];
            rpos -= v->d[i].n;
        } else if (shape[i] < 0 || !take_axes(v, seq, pos, rpos, &rpos, -1, shape[i], &out->d[i])) {
            return 0;
        }
    }
    if (minus >= 0) {
        if (rpos < pos || rpos - pos > GROUP_AXES)
            return 0;
        out->d[minus].n = rpos - pos;
        memcpy(out->d[minus].ax, seq + pos, (size_t)(rpos - pos));
    } else if (pos != len) {
        return 0;
    }
    out->ndim = n;
    return 1;
}

static int view_reshape(const ctx *c, int p, view *v)
{
    int64_t shape[VIEW_DIMS];
    size_t n = 0;
    const Onnx__AttributeProto *az = attr(c->g->node[p], "allowzero");
    int r = const_ints(c, c->g->node[p], 1, "shape", shape, VIEW_DIMS, &n);
    if (r < 0)
        return ELMAN_ERR_SHAPE;
    if (r == 0)
        return not_layout(c, p, "no shape");
    for (size_t i = 0; az != NULL && az->i != 0 && i < n; i++)
        if (shape[i] == 0)
            return not_layout(c, p, "allowzero with a 0 in the shape");
    view out = *v;
    if (!regroup(v, shape, (int)n, &out))
        return not_layout(c, p, "its shape moves or splits the RNN's axes");
    *v = out;
    return ELMAN_OK;
}

/* Flags of trace(): mark the nodes passed (as ELMAN_ONNX_LAYOUT); inside
 * a Concat's input, where another Concat is refused (so that a hostile
 * graph of Concats of Concats cannot make the walk exponential). */
enum { TRACE_MARK = 1, TRACE_IN_CONCAT = 2 };

static int trace(const ctx *c, const char *name, int depth, int do_mark, view *v);

/* Concat of a forward and a reverse node's views: one bidirectional Y. */
static int view_concat(const ctx *c, int p, int depth, int do_mark, view *v)
{
    const Onnx__NodeProto *n = c->g->node[p];
    const Onnx__AttributeProto *a = attr(n, "axis");
    view b;
    if (n->n_input != 2 || a == NULL)
        return not_layout(c, p, "only a Concat of two RNN directions is one");
    int rc = trace(c, n->input[0], depth + 1, do_mark | TRACE_IN_CONCAT, v);
    if (rc == ELMAN_OK)
        rc = trace(c, n->input[1], depth + 1, do_mark | TRACE_IN_CONCAT, &b);
    if (rc != ELMAN_OK)
        return rc;
    int ax;
    if (v->input != NULL || b.input != NULL || v->nsrc != 1 || b.nsrc != 1 ||
        c->rnn[v->src[0]].direction != 0 || c->rnn[b.src[0]].direction != 1)
        return not_layout(c, p, "it does not join a forward node's Y and a reverse node's Y, in "
                                "this order");
    if (v->ndim != b.ndim || !normalize_axis(a->i, v->ndim, &ax))
        return not_layout(c, p, "the two inputs differ in rank");
    for (int i = 0; i < v->ndim; i++)
        if (!same_group(&v->d[i], &b.d[i]) || (i == ax && v->d[i].n == GROUP_AXES))
            return not_layout(c, p, "the two inputs are laid out differently");
    memmove(v->d[ax].ax + 1, v->d[ax].ax, (size_t)v->d[ax].n);
    v->d[ax].ax[0] = AX_D;
    v->d[ax].n++;
    v->nsrc = 2;
    v->src[1] = b.src[0];
    return ELMAN_OK;
}

static int rnn_of_node(const ctx *c, int p)
{
    for (int k = 0; k < c->nrnn; k++)
        if (c->rnn[k].index == p)
            return k;
    return -1;
}

/* The view of an RNN's Y: [T][D][B][H], or [B][T][D][H] with layout 1; D
 * is a unit dimension (no axis) for one direction. */
static void view_of_y(const rnn_node *r, int k, view *v)
{
    static const unsigned char order[2][4] = {{AX_T, AX_D, AX_B, AX_H}, {AX_B, AX_T, AX_D, AX_H}};
    memset(v, 0, sizeof(*v));
    v->ndim = 4;
    for (int i = 0; i < 4; i++) {
        v->d[i].ax[0] = order[r->layout][i];
        v->d[i].n = order[r->layout][i] != AX_D || r->dirs == 2;
    }
    v->nsrc = 1;
    v->src[0] = k;
    v->h = (size_t)r->hidden;
}

/* Follows tensor `name` back to the RNN node(s) or graph input it is a
 * layout change of. */
static int trace(const ctx *c, const char *name, int depth, int do_mark, view *v)
{
    char e1[120];
    size_t oi = 0;
    if (depth > MAX_DEPTH)
        return io_fail(c->err, c->err_size, ELMAN_ERR_UNSUPPORTED,
                       "the graph chains more than %d layout ops", MAX_DEPTH);
    int p = producer(c, name, &oi);
    if (p < 0) {
        if (!is_graph_input(c, name) || initializer(c, name) != NULL)
            return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE,
                           "the RNN's input %s is neither a graph input nor computed by a node",
                           onnx_esc(e1, sizeof(e1), name));
        memset(v, 0, sizeof(*v));
        v->ndim = 3;
        for (int i = 0; i < 3; i++) {
            v->d[i].n = 1;
            v->d[i].ax[0] = (unsigned char)(AX_I0 + i);
        }
        v->input = name;
        return ELMAN_OK;
    }
    const Onnx__NodeProto *n = c->g->node[p];
    int k = is_op(n, "RNN") ? rnn_of_node(c, p) : -1;
    if (k >= 0) {
        if (oi != 0)
            return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE,
                           "an RNN layer reads Y_h of node %s, not its Y",
                           node_name(c, p, e1, sizeof(e1)));
        view_of_y(&c->rnn[k], k, v);
        return ELMAN_OK;
    }
    if (do_mark & TRACE_MARK)
        mark(c, p, ELMAN_ONNX_LAYOUT);
    if (is_op(n, "Concat") && (do_mark & TRACE_IN_CONCAT))
        return not_layout(c, p, "a Concat inside a Concat");
    if (is_op(n, "Concat"))
        return view_concat(c, p, depth, do_mark, v);
    static const char *const unary[] = {"Identity", "Transpose", "Squeeze", "Unsqueeze",
                                        "Reshape"};
    int op = -1;
    for (int i = 0; i < 5; i++)
        if (is_op(n, unary[i]))
            op = i;
    if (op < 0)
        return not_layout(c, p, "not a layout op");
    int rc = trace(c, input_of(n, 0), depth + 1, do_mark, v);
    if (rc != ELMAN_OK || op == 0)
        return rc;
    if (v->input != NULL && op != 1)
        return not_layout(c, p, "only Transpose is accepted on the graph's input");
    return op == 1 ? view_transpose(c, p, v)
           : op == 4 ? view_reshape(c, p, v)
                     : view_squeeze(c, p, v, op == 2);
}

/* ---- one RNN node ---- */

static const struct {
    const char *name;
    int act, params;
    double alpha, beta; /* the definition's defaults */
} ACTS[] = {
    {"Tanh", ELMAN_TANH, 0, NAN, NAN},
    {"Relu", ELMAN_RELU, 0, NAN, NAN},
    {"Sigmoid", ELMAN_SIGMOID, 0, NAN, NAN},
    {"Affine", ELMAN_AFFINE, 2, 1.0, 0.0},
    {"LeakyRelu", ELMAN_LEAKY_RELU, 1, 0.01, NAN},
    {"ThresholdedRelu", ELMAN_THRESHOLDED_RELU, 1, 1.0, NAN},
    {"ScaledTanh", ELMAN_SCALED_TANH, 2, 1.0, 1.0},
    {"HardSigmoid", ELMAN_HARD_SIGMOID, 2, 0.2, 0.5},
    {"Elu", ELMAN_ELU, 1, 1.0, NAN},
    {"Softsign", ELMAN_SOFTSIGN, 0, NAN, NAN},
    {"Softplus", ELMAN_SOFTPLUS, 0, NAN, NAN},
};
#define N_ACTS (sizeof(ACTS) / sizeof(ACTS[0]))

static int find_act(const ProtobufCBinaryData *s)
{
    for (size_t i = 0; i < N_ACTS; i++) {
        size_t len = strlen(ACTS[i].name), k = 0;
        while (k < len && k < s->len && tolower(s->data[k]) == tolower((unsigned char)ACTS[i].name[k]))
            k++;
        if (k == len && s->len == len)
            return (int)i;
    }
    return -1;
}

static int bad_attr(const ctx *c, const rnn_node *r, int code, const char *what)
{
    char e1[120];
    return io_fail(c->err, c->err_size, code, "RNN node %s: %s",
                   onnx_esc(e1, sizeof(e1), r->p->name), what);
}

/* activations with activation_alpha/beta, consumed in order by the
 * activations that take them; both directions must agree. */
static int read_activations(const ctx *c, rnn_node *r)
{
    const Onnx__AttributeProto *acts = attr(r->p, "activations");
    const Onnx__AttributeProto *al = attr(r->p, "activation_alpha");
    const Onnx__AttributeProto *be = attr(r->p, "activation_beta");
    const size_t n = acts != NULL ? acts->n_strings : 0;
    if (n > (size_t)r->dirs)
        return bad_attr(c, r, ELMAN_ERR_INVALID_CONFIG, "more activations than directions");
    size_t ia = 0, ib = 0;
    int act[2] = {0, 0}, given_a[2] = {0, 0}, given_b[2] = {0, 0};
    float alpha[2] = {NAN, NAN}, beta[2] = {NAN, NAN}; /* attributes are floats */
    for (size_t d = 0; d < n; d++) {
        char e1[80], msg[160];
        int i = find_act(&acts->strings[d]);
        if (i < 0) {
            io_escape(e1, sizeof(e1), (const char *)acts->strings[d].data, acts->strings[d].len);
            snprintf(msg, sizeof(msg), "unknown activation \"%s\"", e1);
            return bad_attr(c, r, ELMAN_ERR_INVALID_CONFIG, msg);
        }
        act[d] = i;
        alpha[d] = (float)ACTS[i].alpha;
        beta[d] = (float)ACTS[i].beta;
        if ((given_a[d] = ACTS[i].params >= 1 && al != NULL && ia < al->n_floats) != 0)
            alpha[d] = al->floats[ia++];
        if ((given_b[d] = ACTS[i].params >= 2 && be != NULL && ib < be->n_floats) != 0)
            beta[d] = be->floats[ib++];
    }
    if (n == 1 && r->dirs == 2) { /* one name for both directions */
        act[1] = act[0];
        alpha[1] = alpha[0];
        beta[1] = beta[0];
        given_a[1] = given_a[0];
        given_b[1] = given_b[0];
    }
    if ((al != NULL && ia < al->n_floats) || (be != NULL && ib < be->n_floats))
        return bad_attr(c, r, ELMAN_ERR_INVALID_CONFIG,
                        "more activation_alpha or activation_beta values than its activations "
                        "take");
    if (r->dirs == 2 && (act[0] != act[1] || memcmp(&alpha[0], &alpha[1], sizeof(float)) != 0 ||
                         memcmp(&beta[0], &beta[1], sizeof(float)) != 0))
        return bad_attr(c, r, ELMAN_ERR_UNSUPPORTED,
                        "the two directions have different activations or alpha/beta, but "
                        "elman applies one activation to both");
    r->act = ACTS[act[0]].act;
    /* elman takes NAN as the definition's default, in double precision:
     * NAN when the file gave no value (in both directions), else the value. */
    r->alpha = given_a[0] || given_a[1] ? (double)alpha[0] : NAN;
    r->beta = given_b[0] || given_b[1] ? (double)beta[0] : NAN;
    if ((given_a[0] || given_a[1]) && !isfinite(alpha[0]))
        return bad_attr(c, r, ELMAN_ERR_INVALID_CONFIG, "activation_alpha is not finite");
    if ((given_b[0] || given_b[1]) && !isfinite(beta[0]))
        return bad_attr(c, r, ELMAN_ERR_INVALID_CONFIG, "activation_beta is not finite");
    return ELMAN_OK;
}

static int string_attr_is(const Onnx__AttributeProto *a, const char *s)
{
    return a->s.len == strlen(s) && memcmp(a->s.data, s, a->s.len) == 0;
}

static int read_attributes(const ctx *c, rnn_node *r)
{
    static const char *const known[] = {"activation_alpha", "activation_beta", "activations",
                                        "clip", "direction", "hidden_size", "layout"};
    for (size_t i = 0; i < r->p->n_attribute; i++) {
        int ok = 0;
        for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
            ok |= r->p->attribute[i]->name != NULL && strcmp(r->p->attribute[i]->name, known[k]) == 0;
        if (!ok)
            return bad_attr(c, r, ELMAN_ERR_UNSUPPORTED, "an attribute ONNX's RNN does not have");
    }
    const Onnx__AttributeProto *a = attr(r->p, "direction");
    r->direction = 0;
    if (a != NULL) {
        if (string_attr_is(a, "reverse"))
            r->direction = 1;
        else if (string_attr_is(a, "bidirectional"))
            r->direction = 2;
        else if (!string_attr_is(a, "forward"))
            return bad_attr(c, r, ELMAN_ERR_INVALID_CONFIG,
                            "direction is not forward, reverse or bidirectional");
    }
    r->dirs = r->direction == 2 ? 2 : 1;
    a = attr(r->p, "layout");
    r->layout = a != NULL ? (int)a->i : 0;
    if (a != NULL && a->i != 0 && a->i != 1)
        return bad_attr(c, r, ELMAN_ERR_INVALID_CONFIG, "layout is not 0 or 1");
    a = attr(r->p, "hidden_size");
    r->hidden = a != NULL ? a->i : -1;
    if (a != NULL && (a->i <= 0 || a->i > (INT32_MAX - 64) / 2))
        return bad_attr(c, r, ELMAN_ERR_INVALID_CONFIG, "hidden_size out of range");
    a = attr(r->p, "clip");
    r->clip = a != NULL ? a->f : 0.0;
    if (a != NULL && !(a->f > 0 && isfinite(a->f)))
        return bad_attr(c, r, ELMAN_ERR_INVALID_CONFIG, "clip is not a positive number");
    return read_activations(c, r);
}

/* W, R or B of a node as a tensor stored in the file. */
static int weight(const ctx *c, const rnn_node *r, size_t k, const Onnx__TensorProto **t)
{
    static const char *const what[] = {"X", "W", "R", "B"};
    char e1[120], e2[120], e3[80];
    const char *name = input_of(r->p, k);
    *t = NULL;
    if (name[0] == '\0') {
        if (k == 3)
            return ELMAN_OK;
        return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE, "RNN node %s has no %s",
                       onnx_esc(e1, sizeof(e1), r->p->name), what[k]);
    }
    int p = producer(c, name, NULL);
    if (p < 0 && initializer(c, name) != NULL) {
        *t = initializer(c, name);
        return ELMAN_OK;
    }
    if (p < 0 && is_graph_input(c, name))
        return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE,
                       "%s of RNN node %s (%s) is a graph input without an initializer: elman "
                       "needs the weights in the file",
                       what[k], onnx_esc(e1, sizeof(e1), r->p->name),
                       onnx_esc(e2, sizeof(e2), name));
    if (p >= 0 && (*t = constant(c, name, ELMAN_ONNX_WEIGHTS)) != NULL)
        return ELMAN_OK;
    if (p >= 0)
        return io_fail(c->err, c->err_size, ELMAN_ERR_UNSUPPORTED,
                       "%s of RNN node %s is computed by node %s (%s), not stored in the file",
                       what[k], onnx_esc(e1, sizeof(e1), r->p->name),
                       node_name(c, p, e2, sizeof(e2)), op_name(c, p, e3, sizeof(e3)));
    return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE, "%s of RNN node %s (%s) is missing",
                   what[k], onnx_esc(e1, sizeof(e1), r->p->name), onnx_esc(e2, sizeof(e2), name));
}

static int check_dims(const ctx *c, const rnn_node *r, const Onnx__TensorProto *t, const char *w,
                      int64_t d0, int64_t d1, int64_t d2, int ndim)
{
    char e1[120], got[96];
    const int64_t want[3] = {d0, d1, d2};
    int ok = t->n_dims == (size_t)ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = t->dims[i] == want[i];
    if (ok)
        return ELMAN_OK;
    size_t shape[ELMAN_MAX_DIMS];
    for (size_t i = 0; i < t->n_dims && i < ELMAN_MAX_DIMS; i++)
        shape[i] = t->dims[i] < 0 ? 0 : (size_t)t->dims[i];
    io_shape_str(got, sizeof(got), shape, t->n_dims < ELMAN_MAX_DIMS ? (int)t->n_dims : 8);
    if (ndim == 3)
        return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE,
                       "%s of RNN node %s has shape %s, expected [%lld, %lld, %lld] (direction "
                       "and hidden_size %lld)",
                       w, onnx_esc(e1, sizeof(e1), r->p->name), got, (long long)d0, (long long)d1,
                       (long long)d2, (long long)d1);
    return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE,
                   "%s of RNN node %s has shape %s, expected [%lld, %lld]", w,
                   onnx_esc(e1, sizeof(e1), r->p->name), got, (long long)d0, (long long)d1);
}

/* Copies node r's weights (its `dirs` directions) into m at slot k0.. */
static int load_weights(const ctx *c, const rnn_node *r, int64_t in, size_t k0)
{
    const Onnx__TensorProto *w, *rr, *b;
    int rc = weight(c, r, 1, &w);
    if (rc == ELMAN_OK)
        rc = weight(c, r, 2, &rr);
    if (rc == ELMAN_OK)
        rc = weight(c, r, 3, &b);
    if (rc != ELMAN_OK)
        return rc;
    const int64_t D = r->dirs, H = r->hidden;
    if ((rc = check_dims(c, r, w, "W", D, H, in, 3)) != 0 ||
        (rc = check_dims(c, r, rr, "R", D, H, H, 3)) != 0 ||
        (b != NULL && (rc = check_dims(c, r, b, "B", D, 2 * H, 0, 2)) != 0))
        return rc;
    double *vals[3] = {NULL, NULL, NULL};
    size_t n;
    const Onnx__TensorProto *ts[3] = {w, rr, b};
    for (int i = 0; i < 3 && rc == ELMAN_OK; i++)
        if (ts[i] != NULL)
            rc = onnx_tensor_reals(ts[i], i == 0 ? "W" : i == 1 ? "R" : "B", &vals[i], &n, c->err,
                                   c->err_size);
    elman_onnx *m = c->m;
    const size_t h = (size_t)H, ins = (size_t)in;
    for (size_t d = 0; d < (size_t)D && rc == ELMAN_OK; d++) {
        const size_t k = k0 + d;
        m->w_ih[k] = malloc(h * ins * sizeof(double));
        m->w_hh[k] = malloc(h * h * sizeof(double));
        if (b != NULL) {
            m->b_ih[k] = malloc(h * sizeof(double));
            m->b_hh[k] = malloc(h * sizeof(double));
        }
        if (m->w_ih[k] == NULL || m->w_hh[k] == NULL ||
            (b != NULL && (m->b_ih[k] == NULL || m->b_hh[k] == NULL))) {
            rc = io_fail(c->err, c->err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory");
            break;
        }
        memcpy(m->w_ih[k], vals[0] + d * h * ins, h * ins * sizeof(double));
        memcpy(m->w_hh[k], vals[1] + d * h * h, h * h * sizeof(double));
        if (b != NULL) {
            memcpy(m->b_ih[k], vals[2] + d * 2 * h, h * sizeof(double));
            memcpy(m->b_hh[k], vals[2] + d * 2 * h + h, h * sizeof(double));
        }
    }
    for (int i = 0; i < 3; i++)
        free(vals[i]);
    if (rc == ELMAN_OK) {
        m->info.num_parameters += (size_t)D * h * (ins + h + (b != NULL ? 2 : 0));
        int dt = onnx_dtype(w->data_type);
        if (onnx_dtype(rr->data_type) != dt || (b != NULL && onnx_dtype(b->data_type) != dt) ||
            (m->info.dtype != -2 && m->info.dtype != dt))
            dt = -1;
        m->info.dtype = dt;
    }
    return rc;
}

/* ---- layers ---- */

static int onnx_chain(ctx *c);
static int onnx_inputs(ctx *c);

static int collect(ctx *c)
{
    char e1[120];
    for (size_t i = 0; i < c->g->n_node; i++) {
        const Onnx__NodeProto *n = c->g->node[i];
        c->m->nodes[i].name = n->name != NULL ? n->name : "";
        c->m->nodes[i].op_type = n->op_type != NULL ? n->op_type : "";
        c->m->nodes[i].layer = -1;
        if (!is_op(n, "RNN"))
            continue;
        if (c->nrnn == MAX_RNN)
            return io_fail(c->err, c->err_size, ELMAN_ERR_UNSUPPORTED,
                           "the graph has more than %d RNN nodes", MAX_RNN);
        rnn_node *r = &c->rnn[c->nrnn++];
        memset(r, 0, sizeof(*r));
        r->p = n;
        r->index = (int)i;
        r->layer = -1;
        int rc = read_attributes(c, r);
        if (rc != ELMAN_OK)
            return rc;
        const Onnx__TensorProto *t;
        if ((rc = weight(c, r, 1, &t)) != ELMAN_OK)
            return rc;
        char got[96];
        size_t shape[ELMAN_MAX_DIMS];
        for (size_t k = 0; k < t->n_dims && k < ELMAN_MAX_DIMS; k++)
            shape[k] = t->dims[k] < 0 ? 0 : (size_t)t->dims[k];
        io_shape_str(got, sizeof(got), shape, t->n_dims < ELMAN_MAX_DIMS ? (int)t->n_dims : 8);
        if (t->n_dims != 3 || t->dims[1] <= 0 || t->dims[1] > (INT32_MAX - 64) / 2)
            return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE,
                           "W of RNN node %s has shape %s, expected [directions, hidden_size, "
                           "input_size]",
                           onnx_esc(e1, sizeof(e1), n->name), got);
        if (r->hidden >= 0 && r->hidden != t->dims[1])
            return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE,
                           "W of RNN node %s has shape %s, but hidden_size is %lld",
                           onnx_esc(e1, sizeof(e1), n->name), got, (long long)r->hidden);
        r->hidden = t->dims[1];
    }
    if (c->nrnn == 0)
        return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE, "the graph has no RNN node");
    return ELMAN_OK;
}

int onnx_analyse(elman_onnx *m, char *err, size_t err_size)
{
    const Onnx__GraphProto *g = m->model->graph;
    ctx c = {g, NULL, 0, m, NULL, 0, -1, err, err_size};
    elman_config_init(&m->info.config);
    m->num_nodes = g->n_node;
    m->nodes = calloc(g->n_node ? g->n_node : 1, sizeof(*m->nodes));
    c.rnn = calloc(g->n_node < MAX_RNN ? (g->n_node ? g->n_node : 1) : MAX_RNN, sizeof(rnn_node));
    int rc = m->nodes == NULL || c.rnn == NULL
                 ? io_fail(err, err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory")
                 : build_names(&c);
    if (rc == ELMAN_OK)
        rc = collect(&c);
    for (int k = 0; k < c.nrnn && rc == ELMAN_OK; k++)
        rc = trace(&c, input_of(c.rnn[k].p, 0), 0, 0, &c.rnn[k].xv);
    if (rc == ELMAN_OK)
        rc = onnx_chain(&c);
    if (rc == ELMAN_OK)
        rc = onnx_inputs(&c);
    free(c.rnn);
    free(c.names);
    return rc;
}

/* ---- the chain ---- */

/* Whether node k's X comes from the layer made of nodes a (and b >= 0). */
static int reads_layer(const rnn_node *r, int a, int b)
{
    if (r->xv.input != NULL)
        return 0;
    if (b < 0)
        return r->xv.nsrc == 1 && r->xv.src[0] == a;
    return r->xv.nsrc == 2 && r->xv.src[0] == a && r->xv.src[1] == b;
}

/* Whether some Concat of the graph joins nodes a and b (a last layer of
 * two nodes). */
static int joined(const ctx *c, int a, int b)
{
    ctx quiet = *c; /* a failed trace is no error here */
    quiet.err = NULL;
    quiet.err_size = 0;
    for (size_t i = 0; i < c->g->n_node; i++) {
        const Onnx__NodeProto *n = c->g->node[i];
        view v;
        if (!is_op(n, "Concat") || n->n_output < 1)
            continue;
        if (trace(&quiet, n->output[0], 0, 0, &v) == ELMAN_OK && v.nsrc == 2 && v.src[0] == a &&
            v.src[1] == b) {
            trace(&quiet, n->output[0], 0, TRACE_MARK, &v);
            return 1;
        }
    }
    return 0;
}

/* The nodes reading what `a`/`b` wrote (the first layer: a graph input),
 * as the next layer's one node or forward/reverse pair. */
static int next_layer(const ctx *c, int a, int b, int *na, int *nb)
{
    char e1[120], e2[120];
    int found[3], n = 0;
    for (int k = 0; k < c->nrnn; k++) {
        const rnn_node *r = &c->rnn[k];
        int hit = a < 0 ? r->xv.input != NULL : reads_layer(r, a, b);
        if (hit && n < 3)
            found[n++] = k;
    }
    *na = *nb = -1;
    if (n == 0)
        return ELMAN_OK;
    if (n == 1) {
        *na = found[0];
        return ELMAN_OK;
    }
    const rnn_node *f = &c->rnn[found[0]], *r = &c->rnn[found[1]];
    if (n == 2 && r->direction == 0 && f->direction == 1) {
        const rnn_node *t = f;
        f = r;
        r = t;
        int x = found[0];
        found[0] = found[1];
        found[1] = x;
    }
    if (n == 2 && f->direction == 0 && r->direction == 1 &&
        (f->xv.input == NULL || strcmp(f->xv.input, r->xv.input) == 0)) {
        *na = found[0];
        *nb = found[1];
        return ELMAN_OK;
    }
    return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE,
                   "the graph holds two RNN chains (nodes %s and %s read the same input but "
                   "are not one forward and one reverse direction)",
                   onnx_esc(e1, sizeof(e1), f->p->name), onnx_esc(e2, sizeof(e2), r->p->name));
}

/* Checks node k's X is its source's Y as [T][B][D H] (or [B][T][D H]),
 * or the graph input as [T][B][I] / [B][T][I] (which sets batch_first). */
static int check_x(const ctx *c, int k, int first)
{
    char e1[120];
    const rnn_node *r = &c->rnn[k];
    const view *v = &r->xv;
    int ok = v->ndim == 3;
    if (ok && first) {
        int ts = v->d[0].n == 1 && v->d[1].n == 1 && v->d[0].ax[0] == AX_I1 &&
                 v->d[1].ax[0] == AX_I0;
        ok = v->d[2].n == 1 && v->d[2].ax[0] == AX_I2 &&
             (ts || (v->d[0].n == 1 && v->d[1].n == 1 && v->d[0].ax[0] == AX_I0 &&
                     v->d[1].ax[0] == AX_I1));
        c->m->info.config.batch_first = ts != (r->layout == 1);
    } else if (ok) {
        const int dirs = v->nsrc == 2 ? 2 : c->rnn[v->src[0]].dirs;
        const vgroup want = {dirs == 2 ? 2 : 1, {dirs == 2 ? AX_D : AX_H, AX_H}};
        const unsigned char t0 = r->layout == 0 ? AX_T : AX_B, t1 = r->layout == 0 ? AX_B : AX_T;
        ok = v->d[0].n == 1 && v->d[0].ax[0] == t0 && v->d[1].n == 1 && v->d[1].ax[0] == t1 &&
             same_group(&v->d[2], &want);
    }
    if (!ok)
        return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE,
                       "X of RNN node %s is %s reordered, not as [%s, %s, %s]",
                       onnx_esc(e1, sizeof(e1), r->p->name),
                       first ? "the graph input" : "the previous layer's Y",
                       r->layout ? "batch" : "seq", r->layout ? "seq" : "batch",
                       first ? "input" : "directions * hidden");
    return ELMAN_OK;
}

/* Checks that a layer's node agrees with the first layer on what elman
 * sets once per model. */
static int same_config(const ctx *c, const rnn_node *first, const rnn_node *r)
{
    char e1[120], e2[120];
    const char *what = NULL;
    if (r->hidden != first->hidden)
        what = "hidden_size";
    else if (r->act != first->act || memcmp(&r->alpha, &first->alpha, sizeof(double)) != 0 ||
             memcmp(&r->beta, &first->beta, sizeof(double)) != 0)
        what = "activation";
    else if (r->clip != first->clip)
        what = "clip";
    if (what == NULL)
        return ELMAN_OK;
    return io_fail(c->err, c->err_size, ELMAN_ERR_UNSUPPORTED,
                   "RNN nodes %s and %s differ in %s, which elman sets once for every layer",
                   onnx_esc(e1, sizeof(e1), first->p->name), onnx_esc(e2, sizeof(e2), r->p->name),
                   what);
}

static int alloc_weights(elman_onnx *m, size_t n, char *err, size_t err_size)
{
    m->w_ih = calloc(n, sizeof(double *));
    m->w_hh = calloc(n, sizeof(double *));
    m->b_ih = calloc(n, sizeof(double *));
    m->b_hh = calloc(n, sizeof(double *));
    if (m->w_ih == NULL || m->w_hh == NULL || m->b_ih == NULL || m->b_hh == NULL)
        return io_fail(err, err_size, ELMAN_ERR_OUT_OF_MEMORY, "out of memory");
    return ELMAN_OK;
}

/* The input size of node k (the first layer): W's last dimension, checked
 * by load_weights(). */
static int64_t in_first(const ctx *c, int k)
{
    const Onnx__TensorProto *w;
    return weight(c, &c->rnn[k], 1, &w) == ELMAN_OK ? w->dims[2] : 0;
}

/* Checks node r, half h of layer l (pair: 2 if the layer is a forward/
 * reverse pair, else 0), against the first layer and loads its weights. */
static int load_node(const ctx *c, rnn_node *r, int l, int h, int pair, const rnn_node *first)
{
    char e1[120], e2[120];
    elman_onnx *m = c->m;
    const int D = m->num_directions, dl = pair ? 2 : r->dirs;
    if (dl != D || (D == 1 && r->direction != first->direction))
        return io_fail(c->err, c->err_size, ELMAN_ERR_UNSUPPORTED,
                       "RNN node %s runs in another direction than the first layer; elman runs "
                       "every layer the same way",
                       onnx_esc(e1, sizeof(e1), r->p->name));
    int rc = same_config(c, first, r);
    if (rc != ELMAN_OK)
        return rc;
    int64_t in = (int64_t)D * first->hidden;
    if (l == 0) {
        const Onnx__TensorProto *w;
        if ((rc = weight(c, r, 1, &w)) != ELMAN_OK)
            return rc;
        if (w->n_dims != 3 || w->dims[2] <= 0 || w->dims[2] > (INT32_MAX - 64) / 2)
            return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE,
                           "W of RNN node %s is not [D, H, input_size]",
                           onnx_esc(e1, sizeof(e1), r->p->name));
        in = w->dims[2];
        const int64_t in0 = r == first ? in : in_first(c, (int)(first - c->rnn));
        if (in != in0)
            return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE,
                           "W of RNN node %s reads %lld inputs, but node %s, the other direction "
                           "of layer 0, reads %lld",
                           onnx_esc(e1, sizeof(e1), r->p->name), (long long)in,
                           onnx_esc(e2, sizeof(e2), first->p->name), (long long)in0);
    }
    m->nodes[r->index].role = ELMAN_ONNX_LAYER;
    m->nodes[r->index].layer = l;
    rc = load_weights(c, r, in, (size_t)l * (size_t)D + (size_t)h);
    if (rc == ELMAN_OK)
        rc = trace(c, input_of(r->p, 0), 0, TRACE_MARK, &r->xv);
    return rc;
}

/* Orders the RNN nodes into layers, checks them and loads their weights. */
static int onnx_chain(ctx *c)
{
    char e1[120];
    int layers[MAX_RNN][2], L = 0, a = -1, b = -1, used = 0;
    for (;;) {
        int na, nb;
        int rc = next_layer(c, a, b, &na, &nb);
        if (rc != ELMAN_OK)
            return rc;
        if (na < 0)
            break;
        if (c->rnn[na].layer >= 0)
            return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE, "the RNN nodes form a cycle");
        if ((rc = check_x(c, na, L == 0)) != 0 || (nb >= 0 && (rc = check_x(c, nb, L == 0)) != 0))
            return rc;
        c->rnn[na].layer = L;
        if (nb >= 0) {
            c->rnn[nb].layer = L;
            c->rnn[nb].half = 1;
        }
        layers[L][0] = na;
        layers[L][1] = nb;
        used += nb >= 0 ? 2 : 1;
        L++;
        a = na;
        b = nb;
    }
    if (L == 0)
        return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE,
                       "no RNN node reads a graph input (through layout ops) as its X");
    for (int k = 0; k < c->nrnn; k++)
        if (c->rnn[k].layer < 0)
            return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE,
                           "the graph holds two RNN chains: node %s is not part of the one "
                           "that reads the graph input",
                           onnx_esc(e1, sizeof(e1), c->rnn[k].p->name));
    if (used != c->nrnn)
        return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE, "the graph holds two RNN chains");
    if (b >= 0 && !joined(c, a, b))
        return io_fail(c->err, c->err_size, ELMAN_ERR_SHAPE,
                       "the last layer's forward and reverse nodes are not joined by a Concat");

    const rnn_node *first = &c->rnn[layers[0][0]];
    const int D = layers[0][1] >= 0 ? 2 : first->dirs;
    elman_onnx *m = c->m;
    m->num_layers = L;
    m->num_directions = D;
    m->info.dtype = -2; /* none yet */
    int rc = alloc_weights(m, (size_t)L * (size_t)D, c->err, c->err_size);
    for (int l = 0; l < L && rc == ELMAN_OK; l++)
        for (int h = 0; h < 2 && rc == ELMAN_OK; h++)
            if (layers[l][h] >= 0)
                rc = load_node(c, &c->rnn[layers[l][h]], l, h, layers[l][1] >= 0 ? 2 : 0, first);
    if (rc != ELMAN_OK)
        return rc;
    int any_bias = 0;
    for (int k = 0; k < L * D; k++)
        any_bias |= m->b_ih[k] != NULL;
    elman_config *cfg = &m->info.config; /* batch_first: set by check_x() */
    cfg->input_size = (int)in_first(c, layers[0][0]);
    cfg->hidden_size = (int)first->hidden;
    cfg->num_layers = L;
    cfg->bias = any_bias ? ELMAN_BIAS_BOTH : ELMAN_BIAS_NONE;
    cfg->bidirectional = D == 2;
    cfg->reverse = D == 1 && first->direction == 1;
    cfg->nonlinearity = first->act;
    cfg->activation_alpha = first->alpha;
    cfg->activation_beta = first->beta;
    cfg->clip = first->clip;
    c->first = layers[0][0];
    return ELMAN_OK;
}

/* ---- the run's inputs: initial_h and sequence_lens ---- */

static int all_zero(const Onnx__TensorProto *t)
{
    double *v;
    size_t n;
    if (onnx_tensor_reals(t, "", &v, &n, NULL, 0) != ELMAN_OK)
        return 0;
    int zero = 1;
    for (size_t i = 0; i < n; i++)
        zero &= v[i] == 0;
    free(v);
    return zero;
}

/* Whether tensor `name` is all zeros: a zero constant, or one expanded,
 * sliced, reshaped or cast (torch.onnx.export's zero initial_h). */
static int is_zero(const ctx *c, const char *name, int depth)
{
    static const char *const pass[] = {"Expand", "Slice", "Reshape", "Transpose", "Squeeze",
                                       "Unsqueeze", "Identity", "Cast", "Tile"};
    if (depth > MAX_DEPTH)
        return 0;
    const int p = producer(c, name, NULL);
    if (p < 0)
        return !is_graph_input(c, name) && initializer(c, name) != NULL &&
               all_zero(initializer(c, name));
    const Onnx__NodeProto *n = c->g->node[p];
    if (is_op(n, "ConstantOfShape")) {
        const Onnx__AttributeProto *a = attr(n, "value");
        return a == NULL || a->t == NULL || all_zero(a->t);
    }
    if (is_op(n, "Constant")) {
        const Onnx__TensorProto *t = constant(c, name, -1);
        return t != NULL && all_zero(t);
    }
    for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++)
        if (is_op(n, pass[i]))
            return is_zero(c, input_of(n, 0), depth + 1);
    return 0;
}

/* Gives `role` to the nodes computing tensor `name` (not yet given one). */
static void mark_upstream(const ctx *c, const char *name, int role, int depth)
{
    const int p = producer(c, name, NULL);
    if (p < 0 || depth > MAX_DEPTH || c->m->nodes[p].role != ELMAN_ONNX_IGNORED)
        return;
    mark(c, p, role);
    for (size_t i = 0; i < c->g->node[p]->n_input; i++)
        mark_upstream(c, input_of(c->g->node[p], i), role, depth + 1);
}

typedef struct state_src {
    const char *input; /* NULL: no state (absent or zeros) */
    int sliced, axis;
    int64_t start, end;
} state_src;

static int state_slice(const ctx *c, const Onnx__NodeProto *n, state_src *s)
{
    int64_t v[4][2] = {{0}};
    size_t cnt[4] = {0, 0, 0, 0};
    static const char *const names[4] = {"starts", "ends", "axes", "steps"};
    for (int i = 0; i < 4; i++) {
        int r = const_ints(c, n, (size_t)i + 1, names[i], v[i], 2, &cnt[i]);
        if (r < 0)
            return ELMAN_ERR_SHAPE;
        if (r > 0 && cnt[i] != 1)
            cnt[i] = 9; /* not one axis */
    }
    if (cnt[0] != 1 || cnt[1] != 1 || cnt[2] > 1 || cnt[3] > 1 || (cnt[3] == 1 && v[3][0] != 1) ||
        (cnt[2] == 1 && !normalize_axis(v[2][0], 3, &s->axis)))
        return io_fail(c->err, c->err_size, ELMAN_ERR_UNSUPPORTED,
                       "initial_h is sliced in a way elman does not take (one axis, step 1)");
    if (cnt[2] == 0)
        s->axis = 0;
    s->sliced = 1;
    s->start = v[0][0];
    s->end = v[1][0];
    return ELMAN_OK;
}

/* Where node r's initial_h comes from. */
static int trace_state(const ctx *c, const rnn_node *r, state_src *s)
{
    char e1[120], e2[120], e3[80];
    const char *name = input_of(r->p, 5);
    memset(s, 0, sizeof(*s));
    if (name[0] != '\0')
        mark_upstream(c, name, ELMAN_ONNX_STATE, 0);
    if (name[0] == '\0' || is_zero(c, name, 0))
        return ELMAN_OK;
    for (int depth = 0; depth <= MAX_DEPTH; depth++) {
        const int p = producer(c, name, NULL);
        if (p < 0 && is_graph_input(c, name)) {
            s->input = name;
            return ELMAN_OK;
        }
        if (p < 0)
            return io_fail(c->err, c->err_size, ELMAN_ERR_UNSUPPORTED,
                           "initial_h of RNN node %s is a constant that is not zero: elman takes "
                           "the initial state at run time",
                           onnx_esc(e1, sizeof(e1), r->p->name));
        const Onnx__NodeProto *n = c->g->node[p];
        if (is_op(n, "Slice") && !s->sliced) {
            int rc = state_slice(c, n, s);
            if (rc != ELMAN_OK)
                return rc;
        } else if (!is_op(n, "Identity")) {
            return io_fail(c->err, c->err_size, ELMAN_ERR_UNSUPPORTED,
                           "initial_h of RNN node %s comes from node %s (%s): elman takes it "
                           "from a graph input at run time",
                           onnx_esc(e1, sizeof(e1), r->p->name), node_name(c, p, e2, sizeof(e2)),
                           op_name(c, p, e3, sizeof(e3)));
        }
        name = input_of(n, 0);
    }
    return io_fail(c->err, c->err_size, ELMAN_ERR_UNSUPPORTED, "initial_h: too deep");
}

/* Checks node r reads its rows [start, start + dirs) of the one h0. */
static int check_state(const ctx *c, const rnn_node *r, const state_src *s, int64_t start,
                       int64_t total)
{
    char e1[120];
    const int64_t end = start + r->dirs;
    const int ok = s->sliced ? s->axis == (r->layout == 0 ? 0 : 1) && s->start == start &&
                                   (s->end == end || (end == total && s->end >= total))
                             : start == 0 && end == total;
    if (ok)
        return ELMAN_OK;
    return io_fail(c->err, c->err_size, ELMAN_ERR_UNSUPPORTED,
                   "initial_h of RNN node %s is not rows [%lld, %lld) of the graph input %s "
                   "(elman takes one initial state for every layer, [layers * directions, "
                   "batch, hidden])",
                   onnx_esc(e1, sizeof(e1), r->p->name), (long long)start, (long long)end,
                   r->layout ? "along axis 1" : "along axis 0");
}

/* Where node r's sequence_lens come from: a graph input (maybe through
 * Cast), or none. */
static int trace_lengths(const ctx *c, const rnn_node *r, const char **out)
{
    char e1[120], e2[120];
    const char *name = input_of(r->p, 4);
    *out = NULL;
    if (name[0] != '\0')
        mark_upstream(c, name, ELMAN_ONNX_LENGTHS, 0);
    for (int depth = 0; name[0] != '\0' && depth <= MAX_DEPTH; depth++) {
        const int p = producer(c, name, NULL);
        if (p < 0 && is_graph_input(c, name)) {
            *out = name;
            return ELMAN_OK;
        }
        if (p < 0 || !(is_op(c->g->node[p], "Cast") || is_op(c->g->node[p], "Identity")))
            return io_fail(c->err, c->err_size, ELMAN_ERR_UNSUPPORTED,
                           "sequence_lens of RNN node %s %s%s%s: elman takes the lengths at run "
                           "time from a graph input",
                           onnx_esc(e1, sizeof(e1), r->p->name),
                           p < 0 ? "is a constant" : "comes from node ",
                           p < 0 ? "" : node_name(c, p, e2, sizeof(e2)),
                           p < 0 ? "" : "");
        name = input_of(c->g->node[p], 0);
    }
    return ELMAN_OK;
}

static int onnx_inputs(ctx *c)
{
    elman_onnx *m = c->m;
    const rnn_node *first = &c->rnn[c->first];
    const int64_t D = m->num_directions, total = (int64_t)m->num_layers * D;
    state_src s0 = {0};
    const char *len0 = NULL;
    for (int k = 0; k < c->nrnn; k++) {
        const rnn_node *r = &c->rnn[k];
        state_src s;
        const char *len;
        int rc = trace_state(c, r, &s);
        if (rc == ELMAN_OK)
            rc = trace_lengths(c, r, &len);
        if (rc != ELMAN_OK)
            return rc;
        if (k == 0) {
            s0 = s;
            len0 = len;
        }
        if ((s.input == NULL) != (s0.input == NULL) ||
            (s.input != NULL && strcmp(s.input, s0.input) != 0))
            return io_fail(c->err, c->err_size, ELMAN_ERR_UNSUPPORTED,
                           "the layers take initial_h from different places (some from a graph "
                           "input, some none): elman takes one initial state for all");
        if ((len == NULL) != (len0 == NULL) || (len != NULL && strcmp(len, len0) != 0))
            return io_fail(c->err, c->err_size, ELMAN_ERR_UNSUPPORTED,
                           "the layers take sequence_lens from different places: elman takes "
                           "one set of lengths for all");
        if (s.input != NULL && r->layout != first->layout)
            return io_fail(c->err, c->err_size, ELMAN_ERR_UNSUPPORTED,
                           "the layers differ in layout and take initial_h from one input");
        if (s.input != NULL && (rc = check_state(c, r, &s, r->layer * D + r->half, total)) != 0)
            return rc;
    }
    m->x = first->xv.input;
    m->initial_h = s0.input;
    m->sequence_lens = len0;
    m->info.config.state_batch_first = first->layout;
    m->info.nonlinearity_from_metadata = 1;
    m->info.batch_first_from_metadata = 1;
    m->info.format = ELMAN_FORMAT_ONNX;
    m->info.prefix[0] = '\0';
    return ELMAN_OK;
}
