/* A program outside elman's source tree, built against an installed elman:
 * a 1-layer tanh RNN with input_size 1 and hidden_size 2 over three steps,
 * checked against the recurrence computed here by hand. Exits non-zero on
 * any mismatch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <elman.h>

int main(void)
{
    /* The header compiled against and the library linked must agree. */
    printf("elman %s (header %d.%d.%d)\n", elman_version_string(), ELMAN_VERSION_MAJOR,
           ELMAN_VERSION_MINOR, ELMAN_VERSION_PATCH);
    if (elman_version_number() != ELMAN_VERSION_NUMBER) {
        fprintf(stderr, "header and library versions differ\n");
        return 1;
    }

    enum { T = 3, H = 2 };
    const float w_ih[H] = {0.5f, -0.25f};                 /* (H, I) */
    const float w_hh[H * H] = {0.1f, 0.2f, -0.3f, 0.4f}; /* (H, H) */
    const float b_ih[H] = {0.01f, 0.02f}, b_hh[H] = {0.03f, -0.04f};
    const float x[T] = {1.0f, -0.5f, 2.0f}; /* (T, B=1, I=1) */

    elman_config cfg;
    elman_config_init(&cfg);
    cfg.input_size = 1;
    cfg.hidden_size = H;
    elman_rnn *rnn = NULL;
    int rc = elman_rnn_create(&cfg, &rnn);
    if (rc == ELMAN_OK)
        rc = elman_rnn_set_weights(rnn, 0, 0, w_ih, w_hh, b_ih, b_hh);
    float out[T * H], h_n[H];
    size_t ws_size = rc == ELMAN_OK ? elman_rnn_workspace_size(rnn, 1, T) : 0;
    size_t a = ELMAN_WORKSPACE_ALIGNMENT;
    void *ws = ws_size ? aligned_alloc(a, (ws_size + a - 1) / a * a) : NULL;
    if (rc == ELMAN_OK && ws == NULL)
        rc = ELMAN_ERR_OUT_OF_MEMORY;
    if (rc == ELMAN_OK)
        rc = elman_rnn_forward(rnn, 1, T, x, NULL, NULL, out, h_n, ws, ws_size);
    free(ws);
    elman_rnn_free(rnn);
    if (rc != ELMAN_OK) {
        fprintf(stderr, "elman: %s\n", elman_strerror(rc));
        return 1;
    }

    float h[H] = {0.0f, 0.0f};
    for (int t = 0; t < T; t++) {
        float next[H];
        for (int j = 0; j < H; j++)
            next[j] = tanhf(w_ih[j] * x[t] + b_ih[j] + w_hh[j * H] * h[0] +
                            w_hh[j * H + 1] * h[1] + b_hh[j]);
        for (int j = 0; j < H; j++) {
            h[j] = next[j];
            printf("h_%d[%d] = % .6f\n", t, j, (double)out[t * H + j]);
            if (fabsf(out[t * H + j] - h[j]) > 1e-5f) {
                fprintf(stderr, "output[%d, 0, %d] is %g, expected %g\n", t, j,
                        (double)out[t * H + j], (double)h[j]);
                return 1;
            }
        }
    }
    if (h_n[0] != out[(T - 1) * H] || h_n[1] != out[(T - 1) * H + 1]) {
        fprintf(stderr, "h_n differs from the last output\n");
        return 1;
    }
    printf("ok\n");
    return 0;
}
