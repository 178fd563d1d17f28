/* A program outside elman's source tree that uses the installed elman_io:
 * writes a model it builds here into a safetensors file by hand (the format
 * is 8 bytes of header length, a JSON header, the data), loads it with
 * elman_rnn_load(), runs it on an input written and read back through
 * elman_npy_write() / elman_npy_read(), and checks the result against the
 * recurrence computed here. Exits non-zero on any mismatch.
 *
 * Usage: consumer_io <scratch directory> */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <elman.h>
#include <elman_io.h>

enum { T = 3, H = 2 };

static int write_model(const char *path, const float *w_ih, const float *w_hh)
{
    /* weight_ih_l0 (H, 1) and weight_hh_l0 (H, H), no biases */
    const char *json = "{\"weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[2,1],"
                       "\"data_offsets\":[0,8]},"
                       "\"weight_hh_l0\":{\"dtype\":\"F32\",\"shape\":[2,2],"
                       "\"data_offsets\":[8,24]}}";
    const uint64_t n = strlen(json);
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(n >> (8 * i));
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return 1;
    int bad = fwrite(len, 1, 8, f) != 8 || fwrite(json, 1, n, f) != n ||
              fwrite(w_ih, sizeof(float), H, f) != H || fwrite(w_hh, sizeof(float), H * H, f) != H * H;
    bad |= fclose(f) != 0;
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: consumer_io <scratch directory>\n");
        return 2;
    }
    char model[4096], input[4096], err[256];
    snprintf(model, sizeof(model), "%s/consumer_io.safetensors", argv[1]);
    snprintf(input, sizeof(input), "%s/consumer_io.x.npy", argv[1]);

    const float w_ih[H] = {0.5f, -0.25f};                 /* (H, I) */
    const float w_hh[H * H] = {0.1f, 0.2f, -0.3f, 0.4f}; /* (H, H) */
    const float x[T] = {1.0f, -0.5f, 2.0f};               /* (T, I=1), unbatched */
    if (write_model(model, w_ih, w_hh) != 0) {
        fprintf(stderr, "cannot write %s\n", model);
        return 1;
    }
    const size_t shape[2] = {T, 1};
    if (elman_npy_write(input, ELMAN_DTYPE_F32, 2, shape, x, err, sizeof(err)) != ELMAN_OK) {
        fprintf(stderr, "elman_npy_write: %s\n", err);
        return 1;
    }
    elman_array a;
    if (elman_npy_read(input, &a, err, sizeof(err)) != ELMAN_OK) {
        fprintf(stderr, "elman_npy_read: %s\n", err);
        return 1;
    }
    elman_rnn *rnn;
    elman_rnn_info info;
    if (elman_rnn_load(model, NULL, &rnn, &info, err, sizeof(err)) != ELMAN_OK) {
        fprintf(stderr, "elman_rnn_load: %s\n", err);
        elman_array_free(&a);
        return 1;
    }
    float out[T * H], h_n[H];
    const int rc = elman_rnn_forward(rnn, 1, T, a.data, NULL, NULL, out, h_n, NULL, 0);
    elman_rnn_free(rnn);
    elman_array_free(&a);
    if (rc != ELMAN_OK) {
        fprintf(stderr, "forward: %s\n", elman_strerror(rc));
        return 1;
    }
    double h[H] = {0, 0};
    for (int t = 0; t < T; t++) {
        double nh[H];
        for (int i = 0; i < H; i++)
            nh[i] = tanh(w_ih[i] * x[t] + w_hh[i * H] * h[0] + w_hh[i * H + 1] * h[1]);
        for (int i = 0; i < H; i++) {
            h[i] = nh[i];
            if (fabs(out[t * H + i] - h[i]) > 1e-5) {
                fprintf(stderr, "output[%d][%d] = %g, expected %g\n", t, i, out[t * H + i], h[i]);
                return 1;
            }
        }
    }
    printf("consumer_io: a safetensors model and .npy input through elman_io %s: ok\n",
           elman_version_string());
    return 0;
}
