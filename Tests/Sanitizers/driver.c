/* Sanitizer driver for a library written by `sparrowc compile --sanitize thread|address`
 * (run_sanitized.py builds it with `cc -fsanitize=thread` or `-fsanitize=address,undefined`,
 * one binary per model):
 *
 *   ./driver THREADS OUT_PREFIX INPUT0.bin [INPUT1.bin ...]
 *
 * Runs the model with THREADS threads (`_run`), then twice at once from two caller
 * threads with separate workspaces, each through its own context (`_run_context`, a
 * persistent pool of THREADS threads) three times in a row. Every run must give the same
 * bytes; the first run's outputs are written to OUT_PREFIX<i>.bin.
 *
 * Controls (run_sanitized.py checks that the sanitizer reports them, so a silent run means
 * no error, not uninstrumented code): SHARE_WORKSPACE=1, the two concurrent runs share one
 * workspace (a data race inside generated code); SHORT_INPUT=1, the first input is
 * allocated 4 bytes short (its last element is read past the end by generated code).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include MODEL_HEADER

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define API(f) CAT(MODEL_PREFIX, f)

static size_t byte_size(const sparrow_tensor_info *t) {
  size_t n = 1;
  for (int32_t d = 0; d < t->rank; d++) n *= (size_t)t->shape[d];
  switch (t->dtype) {
    case 7: case 11: case 13: return n * 8;
    case 1: case 6: case 12: return n * 4;
    case 4: case 5: case 10: case 16: return n * 2;
    default: return n;
  }
}

struct run {
  const void **in;
  void **out;
  void *workspace;
  int threads, code, with_context;
};

static void *run_model(void *arg) {
  struct run *r = arg;
  if (!r->with_context) {
    r->code = API(_run)(r->in, r->out, r->workspace, r->threads);
    return NULL;
  }
  API(_context) *ctx = API(_context_create)(r->threads);
  for (int i = 0; i < 3 && (i == 0 || r->code == 0); i++) r->code = API(_run_context)(ctx, r->in, r->out, r->workspace);
  API(_context_destroy)(ctx);
  return NULL;
}

static struct run make_run(const void **in, int threads) {
  int32_t outputs = API(_num_outputs)();
  struct run r = {in, calloc((size_t)outputs, sizeof(void *)), NULL, threads, -1, 1};
  for (int32_t i = 0; i < outputs; i++) r.out[i] = malloc(byte_size(API(_output_info)(i)));
  r.workspace = aligned_alloc(64, (API(_workspace_size)() + 63) / 64 * 64 + 64);
  return r;
}

static int flag(const char *name) {
  const char *value = getenv(name);
  return value && strcmp(value, "1") == 0;
}

static int same_outputs(const struct run *a, const struct run *b) {
  for (int32_t i = 0; i < API(_num_outputs)(); i++)
    if (memcmp(a->out[i], b->out[i], byte_size(API(_output_info)(i))) != 0) return 0;
  return 1;
}

int main(int argc, char **argv) {
  int32_t inputs = API(_num_inputs)(), outputs = API(_num_outputs)();
  if (argc != 3 + inputs) {
    fprintf(stderr, "usage: %s THREADS OUT_PREFIX INPUT0.bin ...\n", argv[0]);
    return 2;
  }
  int threads = atoi(argv[1]);
  const void **in = calloc((size_t)inputs, sizeof *in);
  for (int32_t i = 0; i < inputs; i++) {
    size_t size = byte_size(API(_input_info)(i));
    if (i == 0 && flag("SHORT_INPUT")) size -= 4;
    void *buffer = malloc(size);
    FILE *f = fopen(argv[3 + i], "rb");
    if (!f || fread(buffer, 1, size, f) != size) {
      fprintf(stderr, "%s: expected %zu bytes\n", argv[3 + i], size);
      return 1;
    }
    fclose(f);
    in[i] = buffer;
  }
  struct run first = make_run(in, threads);
  first.with_context = 0;
  run_model(&first);
  struct run second = make_run(in, threads), third = make_run(in, threads);
  if (flag("SHARE_WORKSPACE")) third.workspace = second.workspace;
  pthread_t t2, t3;
  if (pthread_create(&t2, NULL, run_model, &second) || pthread_create(&t3, NULL, run_model, &third)) {
    fprintf(stderr, "pthread_create failed\n");
    return 1;
  }
  pthread_join(t2, NULL);
  pthread_join(t3, NULL);
  if (first.code || second.code || third.code) {
    fprintf(stderr, "run failed: %s\n", API(_strerror)(first.code ? first.code : second.code ? second.code : third.code));
    return 1;
  }
  if (!same_outputs(&first, &second) || !same_outputs(&first, &third)) {
    fprintf(stderr, "concurrent runs gave different outputs\n");
    return 1;
  }
  for (int32_t i = 0; i < outputs; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s%d.bin", argv[2], (int)i);
    FILE *f = fopen(path, "wb");
    size_t size = byte_size(API(_output_info)(i));
    if (!f || fwrite(first.out[i], 1, size, f) != size) {
      fprintf(stderr, "%s: cannot write\n", path);
      return 1;
    }
    fclose(f);
  }
  return 0;
}
